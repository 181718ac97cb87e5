"""A live FlowBTC market data stream over the WebSocket gateway, with read-only account reads.

`await FlowBtcStream(url, ["BTCBRL"], on_book=...).run()` keeps one LiveBook per product from
a snapshot and Level2UpdateEvent frames, and hands every change to the callbacks. It never
gives up: a lost event or a renumbered feed means a new snapshot, a dropped connection means a
reconnect (with capped, jittered exponential backoff) and new snapshots; `stop()` ends `run()`.

After each (re)connect it back-fills candles with GetTickerHistory (`on_history`) and keeps the
hour and day candles fresh. Given a login, it also reads the account every minute
(`on_account`). Only the functions in ALLOWED_CALLS ever leave this module: no order is placed,
changed or cancelled, and no money moves, whatever calls a future change adds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from dashboard.http import CredentialsRejected, SchemaError, UpstreamError
from exchanges.clients.flowbtc_account import (
    TRADES_PAGE,
    AccountFill,
    AccountSnapshot,
    login_user_id,
    parse_account,
    parse_fills,
    parse_orders,
    parse_user,
)
from exchanges.clients.flowbtc_models import OrderBook
from exchanges.clients.flowbtc_protocol import (
    OMS_ID,
    Frame,
    L2Row,
    LiveBook,
    MessageType,
    Session,
    TickerRow,
    TradeRow,
    check_reply,
    decode_frame,
    decode_l2_rows,
    decode_ticker_rows,
    decode_trade_rows,
)
from pools.clients.base import shown, to_int

log = logging.getLogger(__name__)
# The socket library logs every frame at DEBUG, and the login frame carries the password: its
# logger for our connections never goes below INFO, whatever the root level.
socket_log = logging.getLogger(f"{__name__}.socket")
socket_log.setLevel(logging.INFO)

T = TypeVar("T")
BookCallback = Callable[[OrderBook], None]
TradeCallback = Callable[[str, TradeRow], None]
TickerCallback = Callable[[str, TickerRow], None]
ErrorCallback = Callable[[Exception], None]
HistoryCallback = Callable[[str, int, list[TickerRow]], None]  # product, interval, candles
AccountCallback = Callable[[AccountSnapshot], None]
# Failures that a new connection may heal; anything else is a bug and propagates.
CONNECTION_ERRORS = (OSError, TimeoutError, WebSocketException, UpstreamError)
L2_DEPTH = 100
TICKER_INTERVAL_SECONDS = 60
# Candle back-fill after each (re)connect: (interval in seconds, how far back).
HISTORY_SPANS = ((60, timedelta(days=1)), (3600, timedelta(days=90)), (86400, timedelta(days=730)))
MAX_TRADE_PAGES = 20
# Day-long candle answers run to hundreds of kilobytes; the library's default cap is 1 MiB.
MAX_FRAME_BYTES = 16 * 2**20

# The whole vocabulary of this client: market data and reads of the own account. Anything
# else (SendOrder, ModifyOrder, CancelOrder, CancelReplaceOrder, CancelAllOrders, deposit and
# withdraw tickets, SetUserInfo, ...) is refused before it reaches the socket.
ALLOWED_CALLS = frozenset({
    "GetProducts", "GetInstruments", "GetL2Snapshot", "GetTickerHistory",
    "SubscribeLevel2", "SubscribeTrades", "SubscribeTicker",
    "WebAuthenticateUser", "GetUserInfo", "GetAccountInfo", "GetOpenOrders", "GetOrderHistory",
    "GetAccountTrades",
})


class ForbiddenCall(RuntimeError):
    """A gateway function outside ALLOWED_CALLS was about to be sent: a bug, never retried."""


def log_error(error: Exception) -> None:
    log.warning("FlowBTC stream: %s", error)


def connection_problem(url: str, error: Exception) -> Exception:
    """A socket-level failure in words a person can act on ("cannot reach the FlowBTC gateway
    at wss://...: connection refused"); the gateway's own refusals pass through as they are."""
    if isinstance(error, UpstreamError):
        return error
    if isinstance(error, OSError) and error.errno:
        detail = os.strerror(error.errno)  # asyncio's own text repeats the address
    else:
        detail = str(error) or type(error).__name__
    reason = detail[:1].lower() + detail[1:]
    return UpstreamError(f"cannot reach the FlowBTC gateway at {url}: {reason}")


def backoff_delay(attempt: int, *, base: float, cap: float) -> float:
    """Exponential in the attempt, capped, with jitter so clients do not reconnect in step."""
    return min(cap, base * 2**attempt) * random.uniform(0.5, 1.0)


def instrument_ids(payload: Any) -> dict[str, int]:
    """Symbol -> InstrumentId from a GetInstruments reply."""
    if not isinstance(payload, list):
        raise SchemaError(f"GetInstruments answered with no list: {shown(payload)}")
    ids: dict[str, int] = {}
    for item in payload:
        if not isinstance(item, dict) or "Symbol" not in item or "InstrumentId" not in item:
            raise SchemaError(f"GetInstruments item lacks Symbol or InstrumentId: {shown(item)}")
        ids[str(item["Symbol"])] = to_int(item["InstrumentId"], field="InstrumentId")
    return ids


def utc_now() -> datetime:
    return datetime.now(UTC)


def product_names(payload: Any) -> set[str]:
    """The coins in a GetProducts reply."""
    if not isinstance(payload, list):
        raise SchemaError(f"GetProducts answered with no list: {shown(payload)}")
    return {str(item["Product"]) for item in payload if isinstance(item, dict) and "Product" in item}


class FlowBtcStream:
    def __init__(self, url: str, products: Iterable[str], *,
                 on_book: BookCallback | None = None, on_trade: TradeCallback | None = None,
                 on_ticker: TickerCallback | None = None, on_error: ErrorCallback = log_error,
                 on_history: HistoryCallback | None = None,
                 on_account: AccountCallback | None = None,
                 credentials: tuple[str, str] | None = None,
                 backoff_base: float = 0.5, backoff_cap: float = 30.0,
                 request_timeout: float = 10.0, account_interval: float = 60.0,
                 history_refresh: float = 300.0) -> None:
        self.url = url
        self.products = list(products)
        self.on_book = on_book
        self.on_trade = on_trade
        self.on_ticker = on_ticker
        self.on_error = on_error
        self.on_history = on_history
        self.on_account = on_account
        self.credentials = credentials
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.request_timeout = request_timeout
        self.account_interval = account_interval
        self.history_refresh = history_refresh
        self.books = {product: LiveBook(product) for product in self.products}
        self.coins: set[str] = set()
        self.connections = 0  # successful syncs, reconnections included
        # What a status page wants to know; written only from the stream's own loop.
        self.connected = False
        self.since = utc_now()  # when `connected` last changed
        self.last_event_at: datetime | None = None
        self.authenticated: bool | None = None if credentials is None else False
        self.account_id: int | None = None
        # A refused login stays refused for this stream's life: retrying a wrong password
        # only gets the account locked. The owner of the stream replaces it on an edit.
        self.login_error: CredentialsRejected | None = None
        self._symbols: dict[int, str] = {}
        self._all_symbols: dict[int, str] = {}  # every instrument: own orders may be on any
        self._seen_fills: set[int] = set()
        self._closing = False
        self._stopped = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session = Session()
        self._waiting: dict[int, asyncio.Future[Frame]] = {}
        self._snapshots: dict[str, asyncio.Task[None]] = {}
        self._backlog: dict[str, list[L2Row]] = {}  # events that came in while a snapshot was out
        self._ws: ClientConnection | None = None

    async def run(self) -> None:
        """Stream until `stop()`; connection failures are reported and retried, never raised."""
        self._loop = asyncio.get_running_loop()
        attempt = 0
        while not self._stopped.is_set():
            synced_before = self.connections
            try:
                await self._until_stopped(self._connect_once())
            except CONNECTION_ERRORS as exc:
                self.on_error(connection_problem(self.url, exc))
            if self._stopped.is_set():
                break
            # A connection that got going restarts the backoff, however it ended.
            attempt = 0 if self.connections > synced_before else attempt + 1
            delay = backoff_delay(attempt, base=self.backoff_base, cap=self.backoff_cap)
            await self._until_stopped(asyncio.sleep(delay))

    def stop(self) -> None:
        """End `run()`; safe to call from any thread."""
        loop = self._loop
        if loop is None or not loop.is_running():
            self._stopped.set()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._stopped.set()
        else:
            loop.call_soon_threadsafe(self._stopped.set)

    async def _until_stopped(self, work: Awaitable[T]) -> T | None:
        """Await `work`, or cancel it when `stop()` comes first."""
        task = asyncio.ensure_future(work)
        stopper = asyncio.create_task(self._stopped.wait())
        try:
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return None if task.cancelled() else task.result()

    async def _connect_once(self) -> None:
        """One connection's life, from opening to closing."""
        async with connect(self.url, open_timeout=self.request_timeout,
                           close_timeout=self.request_timeout, max_size=MAX_FRAME_BYTES,
                           logger=socket_log) as ws:
            self._ws, self._session, self._closing = ws, Session(), False
            for book in self.books.values():
                book.needs_snapshot = True
            reader = asyncio.create_task(self._read(ws))
            background: list[asyncio.Task[None]] = []
            try:
                await self._subscribe_all()
                self.connections += 1
                self._set_connected(True)
                background.append(asyncio.create_task(self._history_loop()))
                if self.credentials is not None:
                    background.append(asyncio.create_task(self._account_loop()))
                await reader
            finally:
                self._closing = True
                for task in background:
                    task.cancel()
                await asyncio.gather(*background, return_exceptions=True)
                # The reader keeps draining frames while the closing handshake runs: with it
                # gone, a full incoming queue pauses the socket and the server's close frame
                # would wait behind the events until the close timed out.
                await ws.close()
                reader.cancel()
                # A reader that failed took the connection down with it; run() reports that once.
                await asyncio.gather(reader, return_exceptions=True)
                for task in self._snapshots.values():
                    task.cancel()
                self._snapshots.clear()
                self._backlog.clear()
                self._ws = None
                if self.authenticated:
                    self.authenticated = False  # the login belonged to that connection
                self._set_connected(False)

    def _set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected, self.since = connected, utc_now()

    async def _subscribe_all(self) -> None:
        self.coins = product_names(await self._call("GetProducts", {"OMSId": OMS_ID}))
        ids = instrument_ids(await self._call("GetInstruments", {"OMSId": OMS_ID}))
        self._all_symbols = {iid: symbol for symbol, iid in ids.items()}
        missing = [product for product in self.products if product not in ids]
        if missing:
            raise SchemaError(f"FlowBTC lists no instrument for {', '.join(missing)}")
        self._symbols = {ids[product]: product for product in self.products}
        for product in self.products:
            iid = ids[product]
            # Subscribing before the snapshot: events that the snapshot already holds are
            # dropped while the book waits for it, and none after it can be missed.
            await self._call("SubscribeLevel2", {"OMSId": OMS_ID, "InstrumentId": iid,
                                                 "Depth": L2_DEPTH}, kind=MessageType.SUBSCRIBE)
            # An event may already have fetched the snapshot while this call was answered.
            if self.books[product].needs_snapshot:
                self._resnapshot(product)
            await self._call("SubscribeTrades", {"OMSId": OMS_ID, "InstrumentId": iid,
                                                 "IncludeLastCount": 0},
                             kind=MessageType.SUBSCRIBE)
            await self._call("SubscribeTicker", {"OMSId": OMS_ID, "InstrumentId": iid,
                                                 "Interval": str(TICKER_INTERVAL_SECONDS),
                                                 "IncludeLastCount": 1},
                             kind=MessageType.SUBSCRIBE)

    async def _call(self, name: str, payload: Any, *,
                    kind: MessageType = MessageType.REQUEST) -> Any:
        if name not in ALLOWED_CALLS:
            raise ForbiddenCall(f"{name} is not a read-only FlowBTC gateway function; "
                                "this client never sends it")
        if self._ws is None:
            raise UpstreamError(f"FlowBTC gateway is not connected for {name}")
        seq, text = self._session.request(name, payload, kind=kind)
        answer: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._waiting[seq] = answer
        try:
            await self._ws.send(text)
            frame = await asyncio.wait_for(answer, self.request_timeout)
        except CONNECTION_ERRORS:
            # wait_for may raise the answer's error instead of a cancellation that came at the
            # same moment (a connection closing cancels its tasks as it fails their calls):
            # a task swallowing that error would outlive its connection.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError from None
            raise
        finally:
            self._waiting.pop(seq, None)
            self._session.pending.pop(seq, None)
            if answer.done() and not answer.cancelled():
                answer.exception()  # a closed connection's error, already reported by run()
        return frame.payload

    async def _read(self, ws: ClientConnection) -> None:
        """Dispatch frames until the connection closes; then fail every call still waiting."""
        try:
            async for text in ws:
                try:
                    self._dispatch(decode_frame(text))
                except SchemaError as exc:
                    self.on_error(exc)
        finally:
            self._closing = True
            for answer in self._waiting.values():
                if not answer.done():
                    answer.set_exception(UpstreamError("FlowBTC gateway connection closed"))

    def _dispatch(self, frame: Frame) -> None:
        if frame.type in (MessageType.REPLY, MessageType.ERROR):
            self._settle(frame)
            return
        self.last_event_at = utc_now()
        if frame.name == "Level2UpdateEvent":
            self._on_level2(decode_l2_rows(frame.payload))
        elif frame.name == "TradeDataUpdateEvent":
            for trade in decode_trade_rows(frame.payload):
                if self.on_trade is not None and trade.instrument_id in self._symbols:
                    self.on_trade(self._symbols[trade.instrument_id], trade)
        elif frame.name == "TickerDataUpdateEvent":
            for tick in decode_ticker_rows(frame.payload):
                if self.on_ticker is not None and tick.instrument_id in self._symbols:
                    self.on_ticker(self._symbols[tick.instrument_id], tick)

    def _settle(self, frame: Frame) -> None:
        answer = self._waiting.get(frame.seq)
        if answer is None or answer.done():
            raise SchemaError(f"gateway answered {frame.name} to request {frame.seq}, "
                              "which is not awaiting an answer")
        try:
            check_reply(frame)
        except UpstreamError as exc:
            answer.set_exception(exc)
        else:
            answer.set_result(frame)

    def _on_level2(self, rows: list[L2Row]) -> None:
        by_product: dict[str, list[L2Row]] = {}
        for row in rows:
            if row.instrument_id in self._symbols:
                by_product.setdefault(self._symbols[row.instrument_id], []).append(row)
        for product, product_rows in by_product.items():
            book = self.books[product]
            if product in self._snapshots:
                # The reader runs ahead of the snapshot task: these may postdate the snapshot.
                self._backlog[product].extend(product_rows)
            elif book.apply_update(product_rows):
                self._emit_book(book)
            else:
                self._resnapshot(product)

    def _resnapshot(self, product: str) -> None:
        """Fetch a snapshot unless one is on its way; later events keep asking until one lands."""
        self.books[product].needs_snapshot = True
        if product not in self._snapshots:
            self._backlog[product] = []
            self._snapshots[product] = asyncio.create_task(self._snapshot(product))

    async def _snapshot(self, product: str) -> None:
        iid = self._instrument_id(product)
        try:
            rows = decode_l2_rows(await self._call(
                "GetL2Snapshot", {"OMSId": OMS_ID, "InstrumentId": iid, "Depth": L2_DEPTH}))
        except CONNECTION_ERRORS as exc:
            self.on_error(exc)
            return
        finally:
            self._snapshots.pop(product, None)
            backlog = self._backlog.pop(product, [])
        book = self.books[product]
        book.apply_snapshot(row for row in rows if row.instrument_id == iid)
        last = book.last_update_id
        newer = [row for row in backlog if last is None or row.update_id > last]
        if newer and not book.apply_update(newer):
            self._resnapshot(product)
            return
        self._emit_book(book)

    def _instrument_id(self, product: str) -> int:
        return next(iid for iid, symbol in self._symbols.items() if symbol == product)

    def _emit_book(self, book: LiveBook) -> None:
        if self.on_book is not None:
            self.on_book(book.order_book())

    # Background work of one connection: cancelled with it.

    def _report(self, error: Exception) -> None:
        """Report a failed call unless the connection is going down, which run() reports."""
        if not self._closing:
            self.on_error(error)

    async def _history_loop(self) -> None:
        """Back-fill every span now, then refresh the hour and day candles now and then;
        minute candles arrive as ticker events meanwhile."""
        spans: tuple[tuple[int, timedelta], ...] = HISTORY_SPANS
        while self.on_history is not None:
            for product in self.products:
                for interval, span in spans:
                    try:
                        rows = await self._ticker_history(product, interval, span)
                    except CONNECTION_ERRORS as exc:
                        if self._closing:
                            return
                        self._report(exc)
                        continue
                    self.on_history(product, interval, rows)
            spans = HISTORY_SPANS[1:]
            await asyncio.sleep(self.history_refresh)

    async def _ticker_history(self, product: str, interval: int,
                              span: timedelta) -> list[TickerRow]:
        now = utc_now()
        start = now - span
        iid = self._instrument_id(product)
        # The gateway takes whole days, so the answer starts before `start`: trim it.
        rows = decode_ticker_rows(await self._call("GetTickerHistory", {
            "OMSId": OMS_ID, "InstrumentId": iid, "FromDate": start.date().isoformat(),
            "ToDate": now.date().isoformat(), "Interval": str(interval)}))
        return [row for row in rows if (row.candle_start or row.at) >= start
                and row.instrument_id in (None, iid)]

    async def _account_loop(self) -> None:
        """Log in, then read the account every `account_interval` seconds."""
        while self.login_error is None:
            try:
                if not self.authenticated:
                    await self._login()
                snapshot = await self._read_account()
            except CredentialsRejected as exc:
                if self.authenticated:
                    # The session lost its rights (it expired, say): log in afresh next time.
                    self.authenticated = False
                else:
                    self.login_error = exc
                self._report(exc)
            except CONNECTION_ERRORS as exc:
                if self._closing:
                    return
                self._report(exc)
            else:
                if self.on_account is not None:
                    self.on_account(snapshot)
            if self.login_error is not None:
                return
            await asyncio.sleep(self.account_interval)

    async def _login(self) -> None:
        assert self.credentials is not None
        username, password = self.credentials
        login_user_id(await self._call("WebAuthenticateUser",
                                       {"UserName": username, "Password": password}))
        self.authenticated = True

    async def _read_account(self) -> AccountSnapshot:
        user = parse_user(await self._call("GetUserInfo", {}))
        account_id = self.account_id = user.account_id
        which = {"OMSId": OMS_ID, "AccountId": account_id}
        snapshot = AccountSnapshot(fetched_at=utc_now(), user=user,
                                   account=parse_account(await self._call("GetAccountInfo", which)))
        symbols, problems = self._all_symbols, snapshot.problems
        snapshot.open_orders = parse_orders(await self._call("GetOpenOrders", which), symbols,
                                            what="GetOpenOrders", problems=problems)
        snapshot.history = parse_orders(await self._call("GetOrderHistory", which), symbols,
                                        what="GetOrderHistory", problems=problems)
        snapshot.trades = await self._account_fills(which, problems)
        return snapshot

    async def _account_fills(self, which: dict[str, int], problems: list[str]) -> list[AccountFill]:
        """Pages from the newest fill (StartIndex 0) back, until a page is short or holds only
        fills an earlier read already brought."""
        fills: list[AccountFill] = []
        for page in range(MAX_TRADE_PAGES):
            payload = await self._call("GetAccountTrades", {
                **which, "StartIndex": page * TRADES_PAGE, "Count": TRADES_PAGE})
            rows = parse_fills(payload, self._all_symbols, problems=problems)
            fills.extend(rows)
            if len(payload) < TRADES_PAGE or all(r.trade_id in self._seen_fills for r in rows):
                break
        self._seen_fills.update(row.trade_id for row in fills)
        return fills
