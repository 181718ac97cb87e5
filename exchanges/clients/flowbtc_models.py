"""Normalized FlowBTC market data: what the REST client and the live book produce.

Prices and quantities are `Decimal` in the product's quote and base coins; times are aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from dashboard.http import SchemaError
from pools.clients.base import shown, to_int

Level = tuple[Decimal, Decimal]  # (price, quantity)

# Some gateway answers carry .NET ticks (100 ns since year 1) where others carry epoch
# milliseconds; ticks are above 10**17, which milliseconds will not reach for millions of years.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TICKS_AT_EPOCH = 621_355_968_000_000_000
TICKS_ABOVE = 10**17


def from_millis(value: Any, *, field: str = "time") -> datetime:
    """Epoch milliseconds (or .NET ticks) to aware UTC."""
    number = to_int(value, field=field)
    if number < 0:
        raise SchemaError(f"{field} is not a time: {shown(value)}")
    try:
        if number >= TICKS_ABOVE:
            return EPOCH + timedelta(microseconds=(number - TICKS_AT_EPOCH) // 10)
        return EPOCH + timedelta(milliseconds=number)
    except OverflowError:
        raise SchemaError(f"{field} is not a time: {shown(value)}") from None


class BookSides:
    """The best prices of a book whose levels are listed best first, whatever holds them."""

    __slots__ = ()
    bids: list[Level]
    asks: list[Level]

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0][0] if self.asks else None

    @property
    def spread(self) -> Decimal | None:
        if self.best_bid is None or self.best_ask is None:
            return None
        return self.best_ask - self.best_bid

    @property
    def mid(self) -> Decimal | None:
        if self.best_bid is None or self.best_ask is None:
            return None
        return (self.best_bid + self.best_ask) / 2


@dataclass(frozen=True, slots=True)
class OrderBook(BookSides):
    product: str
    bids: list[Level]  # best (highest) first
    asks: list[Level]  # best (lowest) first
    as_of: datetime | None  # the newest order's time; None for an empty book


@dataclass(frozen=True, slots=True)
class Ticker:
    product: str
    last: Decimal
    bid: Decimal
    ask: Decimal
    high: Decimal  # over the last 24 hours
    low: Decimal | None  # None: the answer left it out (the document's field list has no low)
    volume: Decimal  # base coin traded over the last 24 hours
    as_of: datetime
    # The exchange's own figures, where the REST ticker sends them (the stream does not).
    session_open: Decimal | None = None  # the price 24 hours ago
    session_close: Decimal | None = None
    last_quantity: Decimal | None = None  # of the last trade, in the base coin
    change_24h_pct: Decimal | None = None  # Rolling24HrPxChange: percent, as the examples show
    day_change: Decimal | None = None  # CurrentDayPxChange: in the quote currency, since midnight


@dataclass(slots=True)
class FlowBtcSnapshot:
    """Everything one poll of FlowBTC's public API returns, keyed by product (e.g. "BTCBRL")."""

    fetched_at: datetime
    books: dict[str, OrderBook] = field(default_factory=dict)
    tickers: dict[str, Ticker] = field(default_factory=dict)
    # Records that did not parse are left out rather than failing the poll; these say why.
    problems: list[str] = field(default_factory=list)
