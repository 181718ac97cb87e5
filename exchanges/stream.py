"""The FlowBTC stream service behind `manage.py stream flowbtc`: one gateway stream per enabled
flowbtc source, kept in step with the sources table, writing what it hears to the live cache
and to Postgres.

The streams share one asyncio loop, which must never wait on a database or a cache: the ORM is
synchronous, and a slow write would stall every book. So the loop hands writes to two worker
threads (one for Postgres, one for the cache), and keeps the volume sane on its side: books
reach Postgres at most every couple of seconds per product, trades and minute candles go in
batches every second, the ticker row every few seconds. A failed write is logged and dropped;
the stream goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min, Sum

from dashboard.http import UpstreamError
from dashboard.models import Source
from dashboard.polling import scrub
from exchanges import live
from exchanges import models as m
from exchanges.clients.flowbtc import parse_products
from exchanges.clients.flowbtc_account import AccountSnapshot
from exchanges.clients.flowbtc_models import OrderBook, Ticker
from exchanges.clients.flowbtc_protocol import TickerRow, TradeRow
from exchanges.clients.flowbtc_ws import FlowBtcStream, utc_now
from exchanges.ingest import (
    books_store,
    candles_store,
    daily_prices_store,
    price_row,
    tickers_store,
    trades_store,
)
from exchanges.ingest_account import account_snapshot_ingest
from exchanges.sources import FLOWBTC
from exchanges.stream_worker import Worker

log = logging.getLogger(__name__)

KIND = FLOWBTC.kind
DEFAULT_WS_URL = next(f.default for f in FLOWBTC.options if f.name == "ws_url")
MINUTE = 60


@dataclass(frozen=True)
class Timings:
    """Seconds between the service's chores; tests shorten them."""

    reload: float = 30.0  # re-read the sources table
    status: float = 10.0  # publish each stream's status
    flush: float = 1.0  # hand batched trades, candles and due books to the writer
    book_store: float = 2.0  # at most this often a product's book goes to Postgres
    ticker: float = 10.0  # at most this often a product's ticker row is recomputed
    error_shown: float = 300.0  # a connected stream's last error stays in its status this long
    account: float = 60.0
    history_refresh: float = 300.0
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    request_timeout: float = 10.0


@dataclass(frozen=True)
class StreamConfig:
    """What a source's stream is made from: a change to any of it restarts the stream."""

    source_id: int
    label: str = field(compare=False)
    ws_url: str
    products: tuple[str, ...]
    credentials: tuple[str, str] | None
    # A new password, even the same one typed again, earns the login another try.
    credentials_changed_at: datetime | None
    source: Source = field(compare=False, repr=False)


def stream_configs(*, source_ids: Sequence[int] | None) -> tuple[dict[int, StreamConfig],
                                                                 dict[int, str]]:
    """The enabled flowbtc sources (those of `source_ids`, if given) as stream configs, and
    the error of each source whose options cannot make a stream."""
    sources = Source.objects.filter(kind=KIND, enabled=True).order_by("pk")
    if source_ids is not None:
        sources = sources.filter(pk__in=source_ids)
    configs, problems = {}, {}
    for source in sources:
        options: dict[str, Any] = source.options or {}
        credentials: dict[str, Any] = source.credentials or {}
        try:
            products = parse_products(options.get("products"))
        except UpstreamError as exc:
            problems[source.pk] = str(exc)
            continue
        login = (str(credentials["username"]), str(credentials["password"])) if (
            credentials.get("username") and credentials.get("password")) else None
        configs[source.pk] = StreamConfig(
            source_id=source.pk, label=source.label,
            ws_url=str(options.get("ws_url") or DEFAULT_WS_URL), products=products,
            credentials=login, credentials_changed_at=source.credentials_changed_at,
            source=source)
    return configs, problems


def source_held(source_id: int) -> bool:
    """Hold the source's row until the transaction ends; False if the source is gone.

    Foreign keys are checked at commit, after a write has locked the rows it touched: a
    deletion of the source (which locks the source row first) and a write could then deadlock.
    Taken first, this lock makes the later of the two wait for the other instead, and a write
    after a deletion finds nothing to write for.
    """
    table = connection.ops.quote_name(Source._meta.db_table)
    lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s{lock}", [source_id])  # noqa: S608
        return cursor.fetchone() is not None


def held_write(source_id: int, job: Callable[[], object]) -> Callable[[], None]:
    def write() -> None:
        with transaction.atomic():
            if source_held(source_id):
                job()
    return write


def stream_ticker_store(*, source: Source, product: str, last: Decimal, bid: Decimal,
                        ask: Decimal, tick: TickerRow, now: datetime) -> None:
    """The product's ticker row from the stream: 24-hour figures from the stored minute
    candles (the gateway sends no 24-hour range), today's price beside it."""
    day = m.Candle.objects.filter(source=source, product=product, interval=MINUTE,
                                  start__gte=now - timedelta(days=1)).aggregate(
        high=Max("high"), low=Min("low"), volume=Sum("volume"))
    ticker = Ticker(product=product, last=last, bid=bid, ask=ask,
                    high=max(day["high"] or tick.high, last),
                    low=min(day["low"] or tick.low, last),
                    volume=day["volume"] if day["volume"] is not None else tick.volume,
                    as_of=tick.at)
    tickers_store(source=source, tickers=[ticker], origin=m.Origin.STREAM, now=now)
    daily_prices_store(source=source, rows=[
        price_row(source=source, product=product, price=last, at=tick.at, now=now)])


class SourceStream:
    """One source's FlowBtcStream and what it owes the writers. Lives in the service's loop."""

    def __init__(self, config: StreamConfig, *, db: Worker, cache: Worker,
                 timings: Timings) -> None:
        self.config = config
        self.db, self.cache, self.timings = db, cache, timings
        self.stream = FlowBtcStream(
            config.ws_url, config.products, on_book=self.on_book, on_trade=self.on_trade,
            on_ticker=self.on_ticker, on_error=self.on_error, on_history=self.on_history,
            on_account=self.on_account, credentials=config.credentials,
            backoff_base=timings.backoff_base, backoff_cap=timings.backoff_cap,
            request_timeout=timings.request_timeout, account_interval=timings.account,
            history_refresh=timings.history_refresh)
        self.error: str | None = None
        self.error_at = utc_now()
        self._trades: dict[str, list[TradeRow]] = {}
        self._minutes: dict[str, list[TickerRow]] = {}
        self._books_due: dict[str, OrderBook] = {}
        self._book_stored: dict[str, float] = {}
        self._ticker_stored: dict[str, float] = {}
        self._last_tick: dict[str, TickerRow] = {}
        self._last_trade: dict[str, TradeRow] = {}
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def source(self) -> Source:
        return self.config.source

    def start(self) -> None:
        log.info("source %s (%s): streaming %s from %s%s", self.source.pk, self.config.label,
                 ", ".join(self.config.products), self.config.ws_url,
                 " with the account login" if self.config.credentials else "")
        self._tasks = [asyncio.create_task(self.stream.run()), asyncio.create_task(self._chores())]

    async def close(self) -> None:
        """Stop streaming, then hand the writers what is still pending and a last status."""
        self.stream.stop()
        _, pending = await asyncio.wait(self._tasks[:1], timeout=5)
        for task in [*pending, *self._tasks[1:]]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.flush(final=True)
        self.publish_status()
        log.info("source %s (%s): stream stopped", self.source.pk, self.config.label)

    # Callbacks from the stream, in the loop: they only note things down.

    def on_book(self, book: OrderBook) -> None:
        source_id, now = self.source.pk, utc_now()
        self.cache.replace(("book", source_id, book.product),
                           lambda: live.book_publish(source_id=source_id, book=book, now=now))
        self._books_due[book.product] = book

    def on_trade(self, product: str, trade: TradeRow) -> None:
        self._trades.setdefault(product, []).append(trade)
        self._last_trade[product] = trade

    def on_ticker(self, product: str, tick: TickerRow) -> None:
        self._minutes.setdefault(product, []).append(tick)
        self._last_tick[product] = tick

    def on_history(self, product: str, interval: int, rows: list[TickerRow]) -> None:
        source = self.source
        self._write(lambda: candles_store(source=source, product=product, interval=interval,
                                             rows=rows))

    def on_account(self, snapshot: AccountSnapshot) -> None:
        source = self.source
        self._write(lambda: account_snapshot_ingest(source=source, snapshot=snapshot,
                                                       now=utc_now()))

    def on_error(self, error: Exception) -> None:
        self.error, self.error_at = scrub(str(error), self.source), utc_now()
        level = logging.ERROR if error is self.stream.login_error else logging.WARNING
        log.log(level, "source %s (%s): %s", self.source.pk, self.config.label, self.error)

    def _write(self, job: Callable[[], object]) -> None:
        self.db.submit(held_write(self.source.pk, job))

    def _write_latest(self, key: tuple[object, ...], job: Callable[[], object]) -> None:
        self.db.replace(key, held_write(self.source.pk, job))

    # Chores: batches to the writers, and the status.

    async def _chores(self) -> None:
        next_status = 0.0
        while True:
            self.flush()
            if time.monotonic() >= next_status:
                self.publish_status()
                next_status = time.monotonic() + self.timings.status
            await asyncio.sleep(self.timings.flush)

    def flush(self, *, final: bool = False) -> None:
        source, now, clock = self.source, utc_now(), time.monotonic()
        for product, trades in self._trades.items():
            self._write(partial(trades_store, source=source, product=product, trades=trades))
        self._trades = {}
        # A minute's later ticks replace its earlier ones in candles_store.
        for product, ticks in self._minutes.items():
            self._write(partial(candles_store, source=source, product=product,
                                   interval=MINUTE, rows=ticks))
        self._minutes = {}
        for product, book in list(self._books_due.items()):
            if final or clock - self._book_stored.get(product, -1e9) >= self.timings.book_store:
                self._book_stored[product] = clock
                del self._books_due[product]
                self._write_latest(("book", source.pk, product), partial(
                    books_store, source=source, books=[book], origin=m.Origin.STREAM, now=now))
        for product, tick in self._last_tick.items():
            if final or clock - self._ticker_stored.get(product, -1e9) >= self.timings.ticker:
                self._ticker_stored[product] = clock
                self._ticker_due(product, tick, now)

    def _ticker_due(self, product: str, tick: TickerRow, now: datetime) -> None:
        trade = self._last_trade.get(product)
        last = trade.price if trade is not None and trade.at >= tick.at - timedelta(
            minutes=1) else tick.close
        book = self.stream.books[product].order_book()
        bid, ask = book.best_bid or tick.bid, book.best_ask or tick.ask
        source = self.source
        self._write_latest(("ticker", source.pk, product), lambda: stream_ticker_store(
            source=source, product=product, last=last, bid=bid, ask=ask, tick=tick, now=now))

    def status(self) -> dict[str, object]:
        stream, now = self.stream, utc_now()
        error = scrub(str(stream.login_error), self.source) if stream.login_error else None
        recent = (self.error_at >= stream.since
                  and now - self.error_at < timedelta(seconds=self.timings.error_shown))
        if error is None and (not stream.connected or recent):
            error = self.error
        return {
            "connected": stream.connected, "since": stream.since.isoformat(),
            "last_event_at": stream.last_event_at.isoformat() if stream.last_event_at else None,
            "authenticated": stream.authenticated, "account_id": stream.account_id,
            "error": error, "products": list(self.config.products),
        }

    def publish_status(self) -> None:
        source_id, status = self.source.pk, self.status()
        self.cache.replace(("status", source_id),
                           lambda: live.stream_status_publish(source_id=source_id, status=status))


class StreamService:
    """Every enabled flowbtc source's stream (or those of `source_ids`), until `stop()`."""

    def __init__(self, *, source_ids: Iterable[int] | None = None,
                 timings: Timings | None = None) -> None:
        self.source_ids = None if source_ids is None else sorted(set(source_ids))
        self.timings = timings or Timings()
        self.streams: dict[int, SourceStream] = {}
        self.db = Worker("stream-db")
        self.cache = Worker("stream-cache")
        self._stopped: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested = False

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        if self._stop_requested:
            self._stopped.set()
        self.db.start()
        self.cache.start()
        try:
            while not self._stopped.is_set():
                await self.reload()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopped.wait(), self.timings.reload)
        finally:
            await asyncio.gather(*(stream.close() for stream in self.streams.values()))
            self.streams.clear()
            # Joining waits for the last writes; a thread keeps the loop free meanwhile.
            await asyncio.to_thread(self.db.stop)
            await asyncio.to_thread(self.cache.stop)

    def stop(self) -> None:
        """End `run()` after a clean shutdown; safe from any thread and from a signal handler."""
        self._stop_requested = True
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopped.set)

    async def reload(self) -> None:
        """Start, stop and restart streams to match the sources table."""
        try:
            configs, problems = await self.db.call(
                lambda: stream_configs(source_ids=self.source_ids))
        except Exception:
            log.exception("could not read the sources; the running streams carry on")
            return
        for source_id, problem in problems.items():
            log.error("source %s: cannot stream: %s", source_id, problem)
            self.cache.replace(("status", source_id), self._problem_status(source_id, problem))
        changed = [sid for sid, stream in self.streams.items()
                   if configs.get(sid) != stream.config]
        await asyncio.gather(*(self.streams.pop(sid).close() for sid in changed))
        for source_id, config in configs.items():
            if source_id not in self.streams:
                self.streams[source_id] = SourceStream(config, db=self.db, cache=self.cache,
                                                       timings=self.timings)
                self.streams[source_id].start()

    @staticmethod
    def _problem_status(source_id: int, problem: str) -> Callable[[], None]:
        status = {"connected": False, "since": utc_now().isoformat(), "last_event_at": None,
                  "authenticated": None, "account_id": None, "error": problem, "products": []}
        return lambda: live.stream_status_publish(source_id=source_id, status=status)
