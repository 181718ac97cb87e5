"""One FlowBTC WebSocket gateway connection kept alive: connecting, reconnecting with backoff,
framing requests and matching their replies, and the allowlist every call passes.

`GatewayConnection` knows nothing of books or accounts: a subclass subscribes in `_on_open()`,
runs its loops from `_background()`, takes events in `_on_event()` and forgets the
connection's state in `_on_closed()` (see flowbtc_ws.FlowBtcStream).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from dashboard.http import SchemaError, UpstreamError
from exchanges.clients.flowbtc_protocol import (
    Frame,
    MessageType,
    Session,
    check_reply,
    decode_frame,
)

log = logging.getLogger("exchanges.clients.flowbtc_ws")
# The socket library logs every frame at DEBUG, and the login frame carries the password: its
# logger for our connections never goes below INFO, whatever the root level.
socket_log = logging.getLogger("exchanges.clients.flowbtc_ws.socket")
socket_log.setLevel(logging.INFO)

T = TypeVar("T")
ErrorCallback = Callable[[Exception], None]
# Failures that a new connection may heal; anything else is a bug and propagates.
CONNECTION_ERRORS = (OSError, TimeoutError, WebSocketException, UpstreamError)
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


def utc_now() -> datetime:
    return datetime.now(UTC)


class GatewayConnection:
    def __init__(self, url: str, *, on_error: ErrorCallback = log_error,
                 backoff_base: float = 0.5, backoff_cap: float = 30.0,
                 request_timeout: float = 10.0) -> None:
        self.url = url
        self.on_error = on_error
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.request_timeout = request_timeout
        self.connections = 0  # successful syncs, reconnections included
        # What a status page wants to know; written only from the stream's own loop.
        self.connected = False
        self.since = utc_now()  # when `connected` last changed
        self.last_event_at: datetime | None = None
        self._closing = False
        self._stopped = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session = Session()
        self._waiting: dict[int, asyncio.Future[Frame]] = {}
        self._ws: ClientConnection | None = None

    # What a subclass adds to a connection's life.

    async def _on_open(self) -> None:
        """Subscribe; the connection counts as synced once this returns."""

    def _background(self) -> list[Coroutine[Any, Any, None]]:
        """Loops that run while the connection is synced; cancelled with it."""
        return []

    def _on_event(self, frame: Frame) -> None:
        """A frame that answers no request."""

    def _on_closed(self) -> None:
        """Forget what belonged to the connection that just closed."""

    # The connection itself.

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
            reader = asyncio.create_task(self._read(ws))
            background: list[asyncio.Task[None]] = []
            try:
                await self._on_open()
                self.connections += 1
                self._set_connected(True)
                background = [asyncio.create_task(work) for work in self._background()]
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
                self._on_closed()
                self._ws = None
                self._set_connected(False)

    def _set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected, self.since = connected, utc_now()

    def _report(self, error: Exception) -> None:
        """Report a failed call unless the connection is going down, which run() reports."""
        if not self._closing:
            self.on_error(error)

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
        self._on_event(frame)

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
