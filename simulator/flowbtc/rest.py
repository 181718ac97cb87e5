"""FlowBTC's public REST API as documented in seeds/flowbtc-api.txt: book and ticker per product.

Each product has a mid price that drifts slowly and waves over hours, read at STEP-second
steps so requests within a step agree. The book holds BOOK_LEVELS levels a side around the
mid with a spread that breathes; the ticker's bid and offer are the book's best levels, the
last trade sits between them, and the 24-hour high, low and volume come from hourly samples
of the same price path. Numbers are JSON numbers, as in the documented examples.

Answers come in the documented `{status, data, message}` envelope; an unknown product or a
bad depth is refused in that envelope with HTTP 404 or 400.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from simulator.core import (
    Request,
    Response,
    SimulatedApi,
    between,
    route,
    unit_randoms,
    wave,
)

STEP = 15  # seconds between price updates
HOUR, DAY = 3600, 86400
BOOK_LEVELS = 20
DEFAULT_DEPTH = 10
# Days since the epoch at which each product sits at its base price.
ANCHOR_DAY = 20_770


@dataclass(frozen=True)
class Product:
    name: str
    base_price: float
    yearly_drift: float
    price_places: int
    quantity_places: int
    lot: float  # a typical order's quantity, in the base coin


PRODUCTS = {p.name: p for p in (
    Product("BTCBRL", 340_000.0, 0.25, 2, 8, 0.05),
    Product("ETHBRL", 13_000.0, 0.15, 2, 8, 0.8),
    Product("ETHBTC", 0.037, -0.10, 8, 8, 0.8),
    Product("LTCBRL", 480.0, 0.05, 2, 8, 12.0),
    Product("BCHBRL", 2_400.0, 0.08, 2, 8, 3.0),
    Product("XRPBRL", 12.5, 0.20, 4, 2, 900.0),
)}


def mid_price(seed: str, product: Product, t: float) -> float:
    """The product's fair price at time t: a drift, waves of hours and days, and per-step noise."""
    step = int(t // STEP)
    years = (t / DAY - ANCHOR_DAY) / 365
    swing = (0.04 * wave(t, 5 * DAY, seed, product.name, "days")
             + 0.012 * wave(t, 7 * HOUR, seed, product.name, "hours")
             + between(-0.0008, 0.0008, seed, product.name, "noise", step))
    return product.base_price * math.exp(product.yearly_drift * years) * (1 + swing)


@dataclass(frozen=True)
class Market:
    """One product's book and last trade at one step."""

    bids: list[tuple[float, float]]  # best first
    asks: list[tuple[float, float]]
    last: float
    last_quantity: float
    last_ms: int
    order_ms: list[int]  # ActionDateTime of each bid, then each ask


def market(seed: str, product: Product, t: float) -> Market:
    step = int(t // STEP)
    mid = mid_price(seed, product, t)
    half = mid * between(0.0008, 0.003, seed, product.name, "spread", step)
    sides: dict[str, list[tuple[float, float]]] = {}
    times: list[int] = []
    for side, sign in (("bids", -1), ("asks", 1)):
        price, rows = mid + sign * half, []
        for level in range(BOOK_LEVELS):
            gap, size, age = unit_randoms(3, seed, product.name, side, level, step)
            price += sign * mid * 0.0015 * gap * (level > 0)
            rows.append((round(price, product.price_places),
                         round(product.lot * (0.02 + 3 * size**2), product.quantity_places)))
            times.append(int((step * STEP - age * 2 * HOUR) * 1000))
        sides[side] = rows
    where, size, ago = unit_randoms(3, seed, product.name, "trade", step)
    bid, ask = sides["bids"][0][0], sides["asks"][0][0]
    return Market(
        bids=sides["bids"], asks=sides["asks"],
        last=round(bid + (ask - bid) * where, product.price_places),
        last_quantity=round(product.lot * (0.05 + size), product.quantity_places),
        last_ms=int((step * STEP - ago * STEP) * 1000), order_ms=times,
    )


def hourly_volume(seed: str, product: Product, hour: int) -> float:
    return product.lot * between(4, 40, seed, product.name, "volume", hour)


def hourly_trades(seed: str, product: Product, hour: int) -> int:
    return int(between(2, 30, seed, product.name, "trades", hour))


class FlowBtcApi(SimulatedApi):
    prefix = "flowbtc"
    envelope_keys = frozenset({"status", "data", "message"})

    def describe(self) -> str:
        return f"products {', '.join(PRODUCTS)} (no credentials)"

    # The real base URL ends in /v1, so a base URL with or without it both reach the API.
    @route("GET", "/book/{product}")
    @route("GET", "/v1/book/{product}")
    def book(self, request: Request) -> Response:
        product = PRODUCTS.get(request.path_params["product"].upper())
        if product is None:
            return self._unknown(request)
        raw = request.query.get("depth", "")
        depth = int(raw) if raw.isdigit() else (DEFAULT_DEPTH if raw == "" else 0)
        if depth < 1:
            return _envelope(None, status=400, message="depth deve ser um número inteiro positivo")
        now = market(self.seed, product, request.now.timestamp())
        times = iter(now.order_ms)
        return _envelope({
            side: [_level(price, quantity, next(times), now.last) for price, quantity in rows][:depth]
            for side, rows in (("bids", now.bids), ("asks", now.asks))
        })

    @route("GET", "/ticker/{product}")
    @route("GET", "/v1/ticker/{product}")
    def ticker(self, request: Request) -> Response:
        product = PRODUCTS.get(request.path_params["product"].upper())
        if product is None:
            return self._unknown(request)
        return _envelope(self._ticker(product, request.now.timestamp()))

    def _ticker(self, product: Product, t: float) -> dict[str, Any]:
        now = market(self.seed, product, t)
        hour = int(t // HOUR)
        day_start_hour = int(t // DAY) * 24
        samples = [mid_price(self.seed, product, h * HOUR) for h in range(hour - 23, hour + 1)]
        opened = round(mid_price(self.seed, product, t - DAY), product.price_places)
        day_open = mid_price(self.seed, product, day_start_hour * HOUR)
        # The current hour counts in proportion to how much of it has passed.
        share = (t - hour * HOUR) / HOUR
        rolling = (sum(hourly_volume(self.seed, product, h) for h in range(hour - 23, hour))
                   + hourly_volume(self.seed, product, hour) * share
                   + hourly_volume(self.seed, product, hour - 24) * (1 - share))
        today = sum(hourly_volume(self.seed, product, h) for h in range(day_start_hour, hour)) + (
            hourly_volume(self.seed, product, hour) * share)
        places = product.price_places
        return {
            "BestBid": now.bids[0][0], "BestOffer": now.asks[0][0],
            "LastTradedPx": now.last, "LastTradedQty": now.last_quantity,
            "LastTradeTime": now.last_ms,
            "SessionOpen": opened,
            "SessionHigh": round(max(*samples, now.last, opened), places),
            "SessionLow": round(min(*samples, now.last, opened), places),
            "SessionClose": now.last,
            "Volume": now.last_quantity,
            "CurrentDayVolume": round(today, product.quantity_places),
            "CurrentDayNumTrades": sum(hourly_trades(self.seed, product, h)
                                       for h in range(day_start_hour, hour + 1)),
            "CurrentDayPxChange": round(now.last - day_open, places),
            "Rolling24HrVolume": round(rolling, product.quantity_places),
            "Rolling24HrNumTrades": sum(hourly_trades(self.seed, product, h)
                                        for h in range(hour - 23, hour + 1)),
            "Rolling24HrPxChange": (now.last - opened) / opened * 100,
        }

    def _unknown(self, request: Request) -> Response:
        name = request.path_params["product"]
        return _envelope(None, status=404, message=f"Produto {name} não encontrado")

    def apply_schema_change(self, response: Response) -> Response:
        # The documented keys have no underscores for camelCase to change; lower their first
        # letter instead, as a gateway rewrite would.
        payload = response.payload
        if not isinstance(payload, dict):
            return response
        return Response.json({**payload, "data": _lower_keys(payload.get("data"))},
                             status=response.status, headers=response.headers)


def _level(price: float, quantity: float, at_ms: int, last: float) -> dict[str, Any]:
    return {"Accounts": 1, "ActionDateTime": at_ms, "LastTradePrice": last, "Orders": 1,
            "Price": price, "Quantity": quantity}


def _envelope(data: Any, *, status: int = 200, message: str | None = None) -> Response:
    return Response.json({"status": "success" if status == 200 else "error", "data": data,
                          "message": message}, status=status)


def _lower_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value
