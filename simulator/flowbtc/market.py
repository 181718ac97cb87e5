"""The gateway's live markets: one book per instrument around the REST simulator's price path
(`rest.mid_price`), changed on every tick, with the trades and the current minute's candle that
the subscriptions send. Level-2, trade and ticker rows are laid out as NOTES.md describes them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from simulator.core import Clock
from simulator.flowbtc.candles import product_for
from simulator.flowbtc.protocol import Action, Side
from simulator.flowbtc.rest import HOUR, hourly_volume, mid_price

Level = tuple[Decimal, Decimal]  # price, quantity


@dataclass(frozen=True)
class OrderBook:
    """The gateway's own book as a test compares it with a client's: best levels first."""

    product: str
    bids: list[Level]  # highest first
    asks: list[Level]  # lowest first

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0][0] if self.asks else None


def millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


@dataclass
class MinuteCandle:
    """The current minute's trades, for the ticker events."""

    start_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = Decimal(0)

    def add(self, price: Decimal, quantity: Decimal) -> None:
        self.high, self.low = max(self.high, price), min(self.low, price)
        self.close = price
        self.volume += quantity


@dataclass
class Market:
    """One instrument's book around the price path; every change gets the next MDUpdateId."""

    symbol: str
    instrument_id: int
    depth: int
    rng: random.Random
    price_seed: str
    clock: Clock
    tick_seconds: float
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    update_id: int = 0
    trade_id: int = 0
    mid: Decimal = Decimal(0)
    last_price: Decimal = Decimal(0)
    minute: MinuteCandle | None = None

    def __post_init__(self) -> None:
        self.product = product_for(self.symbol)
        self.unit = Decimal(1).scaleb(-self.product.price_places)
        self.lot_unit = Decimal(1).scaleb(-self.product.quantity_places)
        self.mid = self.fair_mid()
        self.last_price = self.mid
        for _ in range(self.depth):
            self._new_level(Side.BUY)
            self._new_level(Side.SELL)

    def now_ms(self) -> int:
        return millis(self.clock())

    def fair_mid(self) -> Decimal:
        price = mid_price(self.price_seed, self.product, self.clock().timestamp())
        return Decimal(str(price)).quantize(self.unit)

    @property
    def tick_size(self) -> Decimal:
        return max(self.unit, (self.mid / 10000).quantize(self.unit))

    def _new_level(self, side: Side) -> Decimal:
        # Bids stay below the mid and asks above, so the book never crosses.
        offset = self.tick_size * self.rng.randint(1, 4 * self.depth)
        price = self.mid - offset if side is Side.BUY else self.mid + offset
        self._levels(side)[price] = self._quantity()
        return price

    def _quantity(self) -> Decimal:
        size = self.product.lot * self.rng.uniform(0.02, 3.0)
        return max(self.lot_unit, Decimal(str(size)).quantize(self.lot_unit))

    def _levels(self, side: Side) -> dict[Decimal, Decimal]:
        return self.bids if side is Side.BUY else self.asks

    def step(self, skip: int) -> list[list[Any]]:
        """Follow the price path and change one level; the Level-2 rows of this update."""
        self.update_id += 1 + skip
        rows = self._follow_mid()
        side = self.rng.choice((Side.BUY, Side.SELL))
        levels = self._levels(side)
        roll = self.rng.random()
        if len(levels) < self.depth or roll < 0.4:
            price = self._new_level(side)
            return [*rows, self.row(Action.NEW, side, price, levels[price])]
        price = self.rng.choice(sorted(levels))
        if roll < 0.7:
            levels[price] = self._quantity()
            return [*rows, self.row(Action.UPDATE, side, price, levels[price])]
        del levels[price]
        return [*rows, self.row(Action.DELETE, side, price, Decimal(0))]

    def _follow_mid(self) -> list[list[Any]]:
        """Drop the levels that the moved mid crossed or left far behind, and refill the side:
        all rows of one update, which share its MDUpdateId."""
        self.mid = self.fair_mid()
        reach = self.tick_size * 6 * self.depth
        rows = []
        for side, stale in ((Side.BUY, lambda p: p >= self.mid or p < self.mid - reach),
                            (Side.SELL, lambda p: p <= self.mid or p > self.mid + reach)):
            levels = self._levels(side)
            for price in sorted(p for p in levels if stale(p)):
                del levels[price]
                rows.append(self.row(Action.DELETE, side, price, Decimal(0)))
            while len(levels) < self.depth:
                price = self._new_level(side)
                rows.append(self.row(Action.NEW, side, price, levels[price]))
        return rows

    def row(self, action: Action, side: Side, price: Decimal, quantity: Decimal) -> list[Any]:
        return [self.update_id, 1, self.now_ms(), int(action), float(self.last_price), 1,
                float(price), self.instrument_id, float(quantity), int(side)]

    def snapshot_rows(self) -> list[list[Any]]:
        return ([self.row(Action.NEW, Side.BUY, p, q) for p, q in sorted(self.bids.items())]
                + [self.row(Action.NEW, Side.SELL, p, q) for p, q in sorted(self.asks.items())])

    def trade_row(self) -> list[Any]:
        self.trade_id += 1
        taker = self.rng.choice((Side.BUY, Side.SELL))
        price = min(self.asks) if taker is Side.BUY else max(self.bids)
        # One trade a tick, sized so that the trades add up to the hour's simulated volume:
        # the minute candles then agree with the history and the REST ticker's 24-hour volume.
        hour = int(self.clock().timestamp() // HOUR)
        share = self.tick_seconds / HOUR * self.rng.uniform(0.5, 1.5)
        size = hourly_volume(self.price_seed, self.product, hour) * share
        quantity = max(self.lot_unit, Decimal(str(size)).quantize(self.lot_unit))
        direction = 0 if price == self.last_price else 1 if price > self.last_price else 2
        self.last_price = price
        at = self.now_ms()
        start = at - at % 60_000
        if self.minute is None or self.minute.start_ms != start:
            self.minute = MinuteCandle(start, price, price, price, price)
        self.minute.add(price, quantity)
        return [self.trade_id, self.instrument_id, float(quantity), float(price),
                2 * self.trade_id, 2 * self.trade_id + 1, at, direction, int(taker), False, 0]

    def ticker_row(self) -> list[Any]:
        """The current minute's candle, as SubscribeTicker with Interval 60 sends it."""
        bid, ask, at = max(self.bids), min(self.asks), self.now_ms()
        last = self.last_price
        minute = self.minute or MinuteCandle(at - at % 60_000, last, last, last, last)
        return [at, float(minute.high), float(minute.low), float(minute.open),
                float(minute.close), float(minute.volume), float(bid), float(ask),
                self.instrument_id, minute.start_ms]

    def order_book(self) -> OrderBook:
        return OrderBook(product=self.symbol, bids=sorted(self.bids.items(), reverse=True),
                         asks=sorted(self.asks.items()))
