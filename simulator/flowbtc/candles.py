"""Candles of the simulated FlowBTC price path (`rest.mid_price`), as GetTickerHistory rows.

Sampling the same path as the REST simulator is what makes the gateway's candles, its book and
the REST ticker agree. A finished candle never changes, so it is computed once; the current one
runs up to the moment asked.
"""

from __future__ import annotations

import math
from datetime import datetime
from functools import lru_cache
from typing import Any

from simulator.flowbtc.rest import HOUR, PRODUCTS, STEP, Product, hourly_volume, mid_price

SAMPLES = 8  # points of the path read per candle: its open, its close and some between
HALF_SPREAD = 0.001


def product_for(symbol: str) -> Product:
    """The REST simulator's product, or a plain one for an instrument it does not list."""
    return PRODUCTS.get(symbol) or Product(symbol, 100.0, 0.0, 2, 8, 1.0)


def volume(seed: str, product: Product, start: float, end: float) -> float:
    """Base coin traded in [start, end): each hour's simulated volume, pro rata."""
    total, t = 0.0, start
    while t < end:
        hour = int(t // HOUR)
        stop = min(end, (hour + 1) * HOUR)
        total += hourly_volume(seed, product, hour) * (stop - t) / HOUR
        t = stop
    return total


def candle(seed: str, symbol: str, interval: int, start: int,
           end: float) -> tuple[float, float, float, float, float]:
    """(high, low, open, close, volume) of the path over [start, end)."""
    product = product_for(symbol)
    count = max(1, min(SAMPLES, interval // STEP))
    span = end - start
    times = [start + span * k / count for k in range(count)] + [end - 0.001]
    prices = [mid_price(seed, product, t) for t in times]
    places = product.price_places
    return (round(max(prices), places), round(min(prices), places), round(prices[0], places),
            round(prices[-1], places), round(volume(seed, product, start, end),
                                            product.quantity_places))


@lru_cache(maxsize=100_000)
def finished_candle(seed: str, symbol: str, interval: int,
                    start: int) -> tuple[float, float, float, float, float]:
    return candle(seed, symbol, interval, start, start + interval)


def candle_rows(seed: str, symbol: str, instrument_id: int, interval: int, *,
                start: datetime, end: datetime) -> list[list[Any]]:
    """`[time, High, Low, Open, Close, Volume, Bid, Ask, InstrumentId, candle start]` rows
    (times in ms) of the candles that begin in [start, end), the last one cut at `end`."""
    first = int(start.timestamp())
    first -= first % interval
    stop = end.timestamp()
    places = product_for(symbol).price_places
    rows = []
    for t in range(first, math.ceil(stop), interval):
        if t + interval <= stop:
            high, low, opened, close, traded = finished_candle(seed, symbol, interval, t)
            at = float(t + interval)
        else:
            high, low, opened, close, traded = candle(seed, symbol, interval, t, stop)
            at = stop
        bid = round(close * (1 - HALF_SPREAD), places)
        ask = round(close * (1 + HALF_SPREAD), places)
        rows.append([int(at * 1000), high, low, opened, close, traded, bid, ask, instrument_id,
                     t * 1000])
    return rows
