"""A fake FlowBTC WebSocket gateway (AlphaPoint APEX protocol) served from a daemon thread.

`with FlowBtcGateway() as gateway: gateway.url` -> "ws://127.0.0.1:PORT/WSGateway/". Each
instrument has a book around the REST simulator's price path (`rest.mid_price`, the book in `market`), so the
gateway's book and candles agree with the simulated REST ticker; the book changes on every
tick. Subscribers get Level2UpdateEvent, TradeDataUpdateEvent and TickerDataUpdateEvent frames
(the ticker carries the current minute's candle), GetTickerHistory answers candles from the
same price path, and a simulated login (SIM_USERNAME / SIM_PASSWORD) reads a simulated account.
Nothing places, changes or cancels an order here. Test controls drop connections, skip
update ids and fail the next request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, Self, TypeVar

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from simulator.core import DEFAULT_SEED, Clock, stable_hex, utc_now
from simulator.flowbtc.account import (
    ACCOUNT_FUNCTIONS,
    REFUSED_FUNCTIONS,
    SIM_2FA_USERNAME,
    SIM_PASSWORD,
    SIM_USERNAME,
    SimAccount,
)
from simulator.flowbtc.candles import candle_rows
from simulator.flowbtc.market import Market, OrderBook
from simulator.flowbtc.protocol import (
    INSTRUMENT_IDS,
    INVALID_REQUEST,
    NOT_AUTHORIZED,
    OMS_ID,
    OPERATION_FAILED,
    RESOURCE_NOT_FOUND,
    SERVER_ERROR,
    MessageType,
    encode_frame,
    error_payload,
)

__all__ = ["SIM_2FA_USERNAME", "SIM_PASSWORD", "SIM_USERNAME", "FlowBtcGateway"]

T = TypeVar("T")
# Frames are logged at DEBUG and a login frame holds a password: never below INFO here.
socket_log = logging.getLogger(f"{__name__}.socket")
socket_log.setLevel(logging.INFO)
PATH = "/WSGateway/"
CONTROL_TIMEOUT = 5.0
MAX_CANDLES = 10_000  # per GetTickerHistory answer, so a mistaken range cannot stall the loop
SUBSCRIPTIONS = {"SubscribeLevel2": "level2", "SubscribeTrades": "trades",
                 "SubscribeTicker": "ticker"}
UNSUBSCRIPTIONS = {"UnsubscribeLevel2": "level2", "UnsubscribeTrades": "trades",
                   "UnsubscribeTicker": "ticker"}


@dataclass(eq=False)
class Client:
    """One connection; frames go out through a queue so replies and events keep their order."""

    ws: ServerConnection
    outbox: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    subscriptions: dict[str, set[int]] = field(
        default_factory=lambda: {"level2": set(), "trades": set(), "ticker": set()})
    next_seq: int = 1  # the gateway's own frames are odd; the client's are even
    logged_in: bool = False

    def send(self, kind: MessageType, seq: int, name: str, payload: Any) -> None:
        self.outbox.put_nowait(encode_frame(kind, seq, name, payload))

    def push(self, name: str, payload: Any) -> None:
        seq, self.next_seq = self.next_seq, self.next_seq + 2
        self.send(MessageType.EVENT, seq, name, payload)

    async def write(self) -> None:
        try:
            while True:
                await self.ws.send(await self.outbox.get())
        except ConnectionClosed:
            return


class FlowBtcGateway:
    def __init__(self, *, instruments: Mapping[str, int] = INSTRUMENT_IDS,
                 tick_seconds: float = 0.02, depth: int = 8, seed: int | str = 7,
                 price_seed: str = DEFAULT_SEED, host: str = "127.0.0.1", port: int = 0,
                 clock: Clock = utc_now) -> None:
        rng = random.Random(seed)
        self.markets = {
            iid: Market(symbol, iid, depth, rng, price_seed, clock, tick_seconds)
            for symbol, iid in instruments.items()
        }
        self.price_seed = price_seed
        self.clock = clock
        self.account = SimAccount.build(seed=price_seed, now=clock(), instruments=instruments)
        self.tick_seconds = tick_seconds
        self.host = host
        self.port = port
        self.requests: Counter[str] = Counter()
        self._clients: set[Client] = set()
        self._skip = 0
        self._fail_next = False
        self._paused = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}{PATH}"

    def start(self) -> Self:
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),),
                                        name="flowbtc-gateway", daemon=True)
        self._thread.start()
        if not self._ready.wait(CONTROL_TIMEOUT):
            raise RuntimeError("the FlowBTC gateway simulator did not start")
        if self._failed is not None:
            raise self._failed  # the port is taken, say
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(CONTROL_TIMEOUT)
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    # Test controls: run inside the gateway's loop so they never race a tick.

    def drop_connections(self) -> None:
        """Cut every client's socket without a closing handshake, as a network failure would."""
        def drop() -> None:
            for client in self._clients:
                client.ws.transport.abort()
        self._in_loop(drop)

    def skip_update_ids(self, count: int) -> None:
        """The next Level-2 event jumps `count` MDUpdateIds ahead: a lost-event gap."""
        def skip() -> None:
            self._skip += count
        self._in_loop(skip)

    def send_error_next(self) -> None:
        """Answer the next request or subscription with an error frame (m 5)."""
        def arm() -> None:
            self._fail_next = True
        self._in_loop(arm)

    def pause(self) -> None:
        self._in_loop(lambda: setattr(self, "_paused", True))

    def request_count(self, name: str) -> int:
        return self._in_loop(lambda: self.requests[name])

    def request_names(self) -> set[str]:
        """Every function name any client has sent."""
        return self._in_loop(lambda: set(self.requests))

    def book(self, symbol: str) -> tuple[OrderBook, int]:
        """The gateway's own book for `symbol` and its last MDUpdateId."""
        def read() -> tuple[OrderBook, int]:
            market = self._market(symbol)
            return market.order_book(), market.update_id
        return self._in_loop(read)

    def _in_loop(self, fn: Callable[[], T]) -> T:
        if self._loop is None:
            raise RuntimeError("the FlowBTC gateway simulator is not running")

        async def call() -> T:
            return fn()
        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(CONTROL_TIMEOUT)

    def _market(self, symbol: str) -> Market:
        for market in self.markets.values():
            if market.symbol == symbol:
                return market
        raise KeyError(symbol)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            server = await serve(self._serve, self.host, self.port, logger=socket_log)
        except OSError as exc:
            self._failed = exc
            self._ready.set()
            return
        async with server:
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[index]
            self._ready.set()
            ticker = asyncio.create_task(self._tick_forever())
            await self._stopping.wait()
            ticker.cancel()

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)
            if not self._paused:
                self._tick()

    def _tick(self) -> None:
        skip, self._skip = self._skip, 0
        for iid, market in self.markets.items():
            rows = market.step(skip)
            trade, ticker = market.trade_row(), market.ticker_row()
            for client in self._clients:
                if iid in client.subscriptions["level2"]:
                    client.push("Level2UpdateEvent", rows)
                if iid in client.subscriptions["trades"]:
                    client.push("TradeDataUpdateEvent", [trade])
                if iid in client.subscriptions["ticker"]:
                    client.push("TickerDataUpdateEvent", [ticker])

    async def _serve(self, ws: ServerConnection) -> None:
        if ws.request is not None and ws.request.path != PATH:
            await ws.close(code=1008, reason="unknown path")
            return
        client = Client(ws)
        self._clients.add(client)
        writer = asyncio.create_task(client.write())
        try:
            async for text in ws:
                self._handle(client, text)
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)
            writer.cancel()

    def _handle(self, client: Client, text: str | bytes) -> None:
        try:
            raw = json.loads(text)
            kind, seq, name = MessageType(raw["m"]), int(raw["i"]), str(raw["n"])
            payload = json.loads(raw["o"]) if raw["o"] else {}
        except (ValueError, KeyError, TypeError):
            client.send(MessageType.ERROR, 0, "", error_payload("Invalid Request", INVALID_REQUEST))
            return
        self.requests[name] += 1
        if self._fail_next:
            self._fail_next = False
            client.send(MessageType.ERROR, seq, name,
                        error_payload("Server Error", SERVER_ERROR, "simulated failure"))
            return
        try:
            answer = self._answer(client, kind, name, payload if isinstance(payload, dict) else {})
        except LookupError as exc:
            client.send(MessageType.ERROR, seq, name, error_payload(*exc.args))
            return
        client.send(MessageType.REPLY, seq, name, answer)

    def _answer(self, client: Client, kind: MessageType, name: str,
                payload: dict[str, Any]) -> Any:
        """The reply payload; LookupError(message, code, detail) for an error frame."""
        if name == "GetProducts":
            return self._products()
        if name == "GetInstruments":
            return [self._instrument(m) for m in self.markets.values()]
        if name == "GetL2Snapshot":
            return self._requested(payload).snapshot_rows()
        if name == "GetTickerHistory":
            return self._history(payload)
        if kind is MessageType.SUBSCRIBE and name in SUBSCRIPTIONS:
            market = self._requested(payload)
            client.subscriptions[SUBSCRIPTIONS[name]].add(market.instrument_id)
            return market.snapshot_rows() if name == "SubscribeLevel2" else []
        if name in UNSUBSCRIPTIONS:
            client.subscriptions[UNSUBSCRIPTIONS[name]].discard(self._requested(payload).instrument_id)
            return {"result": True, "errormsg": None, "errorcode": 0, "detail": None}
        if name == "WebAuthenticateUser":
            return self._login(client, payload)
        if name in REFUSED_FUNCTIONS:
            raise LookupError("Operation Failed", OPERATION_FAILED,
                              f"{name} is not simulated: this gateway never changes orders or funds")
        if name in ACCOUNT_FUNCTIONS:
            if not client.logged_in:
                raise LookupError("Not Authorized", NOT_AUTHORIZED, None)
            return self.account.answer(name, payload)
        raise LookupError("Invalid Request", INVALID_REQUEST, f"unknown function {name}")

    def _login(self, client: Client, payload: dict[str, Any]) -> dict[str, Any]:
        user, password = payload.get("UserName"), payload.get("Password")
        if password != SIM_PASSWORD or user not in (SIM_USERNAME, SIM_2FA_USERNAME):
            client.logged_in = False
            return {"Authenticated": False, "errormsg": "Invalid username or password"}
        if user == SIM_2FA_USERNAME:
            # The session waits for Authenticate2FA, which this simulator never accepts.
            return {"Authenticated": True, "Requires2FA": True, "AuthType": "Google",
                    "AddtlInfo": ""}
        client.logged_in = True
        return {"Authenticated": True, "UserId": self.account.user_id,
                "SessionToken": stable_hex(self.price_seed, "session", id(client), length=32),
                "User": self.account.user_info()}

    def _history(self, payload: dict[str, Any]) -> list[list[Any]]:
        market = self._requested(payload)
        try:
            first = date.fromisoformat(str(payload["FromDate"])[:10])
            last = date.fromisoformat(str(payload["ToDate"])[:10])
            interval = int(payload["Interval"])
        except (KeyError, ValueError, TypeError):
            raise LookupError("Invalid Request", INVALID_REQUEST,
                              "FromDate and ToDate (YYYY-MM-DD) and Interval are required") from None
        start = datetime.combine(first, datetime.min.time(), UTC)
        end = min(datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC),
                  self.clock())
        if interval < 60 or (end - start).total_seconds() / interval > MAX_CANDLES:
            raise LookupError("Invalid Request", INVALID_REQUEST,
                              f"at most {MAX_CANDLES} candles of at least 60 seconds")
        return candle_rows(self.price_seed, market.symbol, market.instrument_id, interval,
                           start=start, end=end)

    def _requested(self, payload: dict[str, Any]) -> Market:
        iid = payload.get("InstrumentId")
        symbol = payload.get("Symbol")
        for market in self.markets.values():
            if iid == market.instrument_id or (symbol is not None and symbol == market.symbol):
                return market
        raise LookupError("Resource Not Found", RESOURCE_NOT_FOUND, f"no instrument {iid or symbol}")

    def _products(self) -> list[dict[str, Any]]:
        coins = sorted({m.symbol[:3] for m in self.markets.values()}
                       | {m.symbol[3:] for m in self.markets.values()})
        return [{"OMSId": OMS_ID, "ProductId": n, "Product": coin, "ProductFullName": coin,
                 "ProductType": "NationalCurrency" if coin == "BRL" else "CryptoCurrency",
                 "DecimalPlaces": 2 if coin == "BRL" else 8}
                for n, coin in enumerate(coins, start=1)]

    @staticmethod
    def _instrument(market: Market) -> dict[str, Any]:
        return {"OMSId": OMS_ID, "InstrumentId": market.instrument_id, "Symbol": market.symbol,
                "Product1Symbol": market.symbol[:3], "Product2Symbol": market.symbol[3:],
                "SessionStatus": "Running"}
