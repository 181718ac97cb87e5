"""Reads of exchange data for pages and the JSON API, so both show the same numbers."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet
from django.utils.dateparse import parse_datetime

from dashboard.models import Health, Source, Team
from exchanges import live
from exchanges import models as m
from exchanges.clients.flowbtc import PRODUCTS
from exchanges.clients.flowbtc_models import BookSides, Level


@dataclass(frozen=True)
class BookView(BookSides):
    """A product's book from wherever it is freshest: the stream's live copy, else the last
    stored one. Levels are (price, quantity) decimals, best first."""

    product: str
    bids: list[Level]
    asks: list[Level]
    as_of: datetime | None  # the newest order's time, as the exchange says
    updated_at: datetime | None  # when we received it
    live: bool  # from the running stream
    origin: str = m.Origin.STREAM  # what stored it: the stream or a REST poll


def levels(raw: list[list[str]], depth: int | None) -> list[Level]:
    rows = raw if depth is None else raw[:depth]
    return [(Decimal(price), Decimal(quantity)) for price, quantity in rows]


def order_book(*, source: Source, product: str, depth: int | None = None) -> BookView | None:
    published = live.book_latest(source_id=source.pk, product=product)
    if published is not None:
        return BookView(
            product=product, bids=levels(published["bids"], depth),
            asks=levels(published["asks"], depth),
            as_of=parse_datetime(published["as_of"]) if published["as_of"] else None,
            updated_at=parse_datetime(published["updated_at"]), live=True,
        )
    stored = m.OrderBook.objects.filter(source=source, product=product).first()
    if stored is None:
        return None
    return BookView(product=product, bids=levels(stored.bids, depth), asks=levels(stored.asks, depth),
                    as_of=stored.as_of, updated_at=stored.updated_at, live=False, origin=stored.origin)


def ticker(*, source: Source, product: str) -> m.Ticker | None:
    return m.Ticker.objects.filter(source=source, product=product).first()


def products(*, source: Source) -> list[str]:
    """Products this source has data for, in the exchange's usual order."""
    names = set(m.Ticker.objects.filter(source=source).values_list("product", flat=True))
    names |= set(m.OrderBook.objects.filter(source=source).values_list("product", flat=True))
    return sorted(names, key=lambda p: (PRODUCTS.index(p) if p in PRODUCTS else len(PRODUCTS), p))


def exchanger_rates(*, source: Source) -> QuerySet[m.ExchangerRate]:
    return m.ExchangerRate.objects.filter(source=source).order_by(
        "from_currency", "to_currency", "city")


def market_sources(*, team: Team) -> list[Source]:
    """The team's FlowBTC sources, which the Markets page shows."""
    return list(Source.objects.filter(team=team, kind="flowbtc").order_by("label", "id"))


# Candle widths a chart may draw, finest first: each is a whole number of every stored
# interval below it, so finer candles roll up into it exactly.
CANDLE_WIDTHS = (60, 900, 3600, 14400, 86400)
STORED_INTERVALS = (60, 3600, 86400)
MAX_CANDLES = 500


@dataclass(frozen=True)
class CandleRow:
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass(frozen=True)
class CandleSeries:
    width: int  # seconds per drawn candle
    stored_interval: int | None  # the stored candles they were read from; None: no candles
    candles: list[CandleRow] = field(default_factory=list)


def candles_exist(*, source: Source, product: str) -> bool:
    return m.Candle.objects.filter(source=source, product=product).exists()


def candle_width(span: timedelta, max_candles: int = MAX_CANDLES) -> int:
    """The finest width that draws `span` in at most `max_candles` candles."""
    seconds = span.total_seconds()
    for width in CANDLE_WIDTHS:
        if seconds / width <= max_candles:
            return width
    return CANDLE_WIDTHS[-1]


def floor_time(moment: datetime, seconds: int) -> datetime:
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def candles_roll_up(rows: list[CandleRow], *, width: int) -> list[CandleRow]:
    """Candles of `width` seconds from finer ones (sorted by start): first open, last close."""
    buckets: dict[datetime, list[CandleRow]] = defaultdict(list)
    for row in rows:
        buckets[floor_time(row.start, width)].append(row)
    return [
        CandleRow(start=start, open=group[0].open, close=group[-1].close,
                  high=max(r.high for r in group), low=min(r.low for r in group),
                  volume=sum((r.volume for r in group), Decimal(0)))
        for start, group in sorted(buckets.items())
    ]


def candle_series(*, source: Source, product: str, start: datetime, end: datetime,
                  max_candles: int = MAX_CANDLES) -> CandleSeries:
    """Candles for a chart of [start, end): read from the coarsest stored interval that still
    draws the range at the chosen width (rolled up when finer), so a year reads day candles
    and an hour reads minute candles. With only coarser candles stored, those are drawn."""
    width = candle_width(end - start, max_candles)
    start = floor_time(start, width)
    window = m.Candle.objects.filter(source=source, product=product, start__gte=start, start__lt=end)
    counts = dict(window.order_by().values_list("interval").annotate(n=Count("id"))
                  .values_list("interval", "n"))
    stored = sorted(i for i, n in counts.items() if n)
    if not stored:
        return CandleSeries(width=width, stored_interval=None)
    fitting = [i for i in stored if i <= width and width % i == 0]
    interval = fitting[-1] if fitting else stored[0]
    rows = [CandleRow(*values) for values in window.filter(interval=interval).order_by("start")
            .values_list("start", "open", "high", "low", "close", "volume")]
    if interval < width:
        rows = candles_roll_up(rows, width=width)
    return CandleSeries(width=max(width, interval), stored_interval=interval, candles=rows)


@dataclass(frozen=True)
class PriceChange:
    """The last price against the price about 24 hours before it."""

    last: Decimal
    reference: Decimal
    since: datetime  # when the reference price was the price
    full_day: bool  # False: the stored history starts later than 24 hours ago

    @property
    def absolute(self) -> Decimal:
        return self.last - self.reference

    @property
    def percent(self) -> Decimal | None:
        return None if not self.reference else self.absolute / self.reference * 100


def price_change_24h(*, source: Source, product: str, last: Decimal, now: datetime) -> PriceChange | None:
    """From candles: the close of the last candle that ended by 24 h ago, the finest stored
    (a day candle's close can be most of a day earlier); where the history is younger than
    that, the open of its first candle (and `full_day` says so)."""
    target = now - timedelta(hours=24)
    candles = m.Candle.objects.filter(source=source, product=product)
    for interval in STORED_INTERVALS:
        width = timedelta(seconds=interval)
        # A gap in the finer history (a stream that was down) falls back to coarser candles.
        slack = max(width, timedelta(minutes=15))
        row = (candles.filter(interval=interval, start__lte=target - width, start__gt=target - width - slack)
               .order_by("-start").first())
        if row is not None:
            return PriceChange(last=last, reference=row.close, since=row.start + width, full_day=True)
    first = candles.filter(start__gt=target, start__lte=now).order_by("start", "interval").first()
    if first is None:
        return None
    return PriceChange(last=last, reference=first.open, since=first.start, full_day=False)


def trades_recent(*, source: Source, product: str, limit: int = 30) -> list[m.Trade]:
    return list(m.Trade.objects.filter(source=source, product=product).order_by("-at", "-trade_id")[:limit])


def exchange_account(*, source: Source) -> m.ExchangeAccount | None:
    return m.ExchangeAccount.objects.filter(source=source).order_by("-updated_at").first()


def account_orders_open(*, source: Source, product: str) -> list[m.ExchangeOrder]:
    return list(m.ExchangeOrder.objects.filter(source=source, product=product, is_open=True)
                .order_by("-received_at", "-order_id"))


def account_fills_recent(*, source: Source, product: str, limit: int = 20) -> list[m.AccountTrade]:
    fills = m.AccountTrade.objects.filter(source=source, product=product)
    return list(fills.order_by("-at", "-trade_id")[:limit])


# Stream data older than this is stale; REST-only data after STALE_POLLS of the source's
# interval (the same rule as a source's health).
STREAM_STALE_AFTER = timedelta(minutes=2)
STALE_POLLS = 2.5
STREAM_COMMAND = "manage.py stream flowbtc"


@dataclass(frozen=True)
class MarketFeed:
    """Where the page's market data comes from, how old it is, and why it may be old."""

    mode: str  # "live" (the stream's own book), "stream" (stored by the stream), "rest", "none"
    as_of: datetime | None  # the exchange's time of the newest figure
    received_at: datetime | None  # when we received it
    age: timedelta | None
    stale: bool
    stream: dict[str, Any] | None  # the stream's status, None when no stream is running
    notes: list[str]  # why the data is not live, or stale

    @property
    def as_of_needs_date(self) -> bool:
        """A quiet book's newest order can be days old: then its time alone would mislead."""
        return bool(self.as_of and self.received_at and self.received_at - self.as_of > timedelta(hours=12))

    @property
    def received_ago(self) -> str:
        return "" if self.age is None else ago(self.age)


def ago(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 5400:
        return f"{round(seconds / 60)} min ago"
    if seconds < 172800:
        return f"{round(seconds / 3600)} h ago"
    return f"{seconds // 86400} d ago"


def market_feed(*, source: Source, book: BookView | None, quote: m.Ticker | None,
                now: datetime) -> MarketFeed:
    stream = live.stream_status(source_id=source.pk)
    parts: list[BookView | m.Ticker] = [part for part in (book, quote) if part is not None]
    received = [part.updated_at for part in parts if part.updated_at is not None]
    exchange = [part.as_of for part in parts if part.as_of is not None]
    received_at = max(received) if received else None
    if book is not None and book.live:
        mode = "live"
    elif received_at is None:
        mode = "none"
    else:
        newest = max(parts, key=lambda part: part.updated_at or received_at)
        mode = "stream" if newest.origin == m.Origin.STREAM else "rest"
    age = now - received_at if received_at else None
    limit = STREAM_STALE_AFTER if mode in ("live", "stream") else timedelta(
        seconds=source.interval * STALE_POLLS)
    stale = age is not None and age > limit
    notes: list[str] = []
    shown = f"the REST poll from {ago(age)}" if age is not None and mode == "rest" else (
        f"what the stream stored {ago(age)}" if age is not None else "nothing yet")
    if mode != "live" and live.feed_unavailable():
        # The stream may well be running: what is missing is the cache it publishes to.
        notes.append(f"live feed unavailable: the cache (Redis) cannot be reached; showing {shown}")
    elif stream is None and mode != "live":
        notes.append(f"live stream is not running ({STREAM_COMMAND}); showing {shown}")
    elif stream is not None:
        if stream.get("error"):
            notes.append(f"live stream error: {stream['error']}")
        elif not stream.get("connected"):
            notes.append("live stream is not connected to the exchange; it keeps retrying")
    health = source.health(now)
    if health == Health.DISABLED:
        notes.append("the source is disabled, so the REST poll is paused")
    elif health == Health.ERROR and source.last_error:
        notes.append(f"REST poll failed: {source.last_error}")
    if stale and not notes:
        notes.append(f"the newest data arrived {ago(age)}" if age else "no data received")
    return MarketFeed(mode=mode, as_of=max(exchange) if exchange else None, received_at=received_at,
                      age=age, stale=stale, stream=stream, notes=notes)
