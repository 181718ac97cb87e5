"""A live FlowBTC market data stream over the WebSocket gateway, with read-only account reads.

`await FlowBtcStream(url, ["BTCBRL"], on_book=...).run()` keeps one LiveBook per product from
a snapshot and Level2UpdateEvent frames, and hands every change to the callbacks. It never
gives up: a lost event or a renumbered feed means a new snapshot, a dropped connection means a
reconnect (with capped, jittered exponential backoff) and new snapshots; `stop()` ends `run()`.

After each (re)connect it back-fills candles with GetTickerHistory (`on_history`) and keeps the
hour and day candles fresh. Given a login, it also reads the account every minute
(`on_account`). Only the functions in ALLOWED_CALLS ever leave this module: no order is placed,
changed or cancelled, and no money moves, whatever calls a future change adds.

Three layers, one module each: the connection and its framing (flowbtc_ws_connection), the
account reads (flowbtc_ws_account), and here the books, trades, tickers and candles.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from datetime import timedelta
from typing import Any

from dashboard.http import SchemaError
from exchanges.clients.flowbtc_models import OrderBook
from exchanges.clients.flowbtc_protocol import (
    OMS_ID,
    Frame,
    L2Row,
    LiveBook,
    MessageType,
    TickerRow,
    TradeRow,
    decode_l2_rows,
    decode_ticker_rows,
    decode_trade_rows,
)
from exchanges.clients.flowbtc_ws_account import AccountCallback, AccountReader
from exchanges.clients.flowbtc_ws_connection import (
    ALLOWED_CALLS,
    CONNECTION_ERRORS,
    ErrorCallback,
    ForbiddenCall,
    backoff_delay,
    log_error,
    utc_now,
)
from pools.clients.base import shown, to_int

# Callers import these from here, the stream's public module.
__all__ = ["ALLOWED_CALLS", "FlowBtcStream", "ForbiddenCall", "backoff_delay", "utc_now"]

BookCallback = Callable[[OrderBook], None]
TradeCallback = Callable[[str, TradeRow], None]
TickerCallback = Callable[[str, TickerRow], None]
HistoryCallback = Callable[[str, int, list[TickerRow]], None]  # product, interval, candles
L2_DEPTH = 100
TICKER_INTERVAL_SECONDS = 60
# Candle back-fill after each (re)connect: (interval in seconds, how far back).
HISTORY_SPANS = ((60, timedelta(days=1)), (3600, timedelta(days=90)), (86400, timedelta(days=730)))


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


def product_names(payload: Any) -> set[str]:
    """The coins in a GetProducts reply."""
    if not isinstance(payload, list):
        raise SchemaError(f"GetProducts answered with no list: {shown(payload)}")
    return {str(item["Product"]) for item in payload if isinstance(item, dict) and "Product" in item}


class FlowBtcStream(AccountReader):
    def __init__(self, url: str, products: Iterable[str], *,
                 on_book: BookCallback | None = None, on_trade: TradeCallback | None = None,
                 on_ticker: TickerCallback | None = None, on_error: ErrorCallback = log_error,
                 on_history: HistoryCallback | None = None,
                 on_account: AccountCallback | None = None,
                 credentials: tuple[str, str] | None = None,
                 backoff_base: float = 0.5, backoff_cap: float = 30.0,
                 request_timeout: float = 10.0, account_interval: float = 60.0,
                 history_refresh: float = 300.0) -> None:
        super().__init__(url, on_account=on_account, credentials=credentials,
                         account_interval=account_interval, on_error=on_error,
                         backoff_base=backoff_base, backoff_cap=backoff_cap,
                         request_timeout=request_timeout)
        self.products = list(products)
        self.on_book = on_book
        self.on_trade = on_trade
        self.on_ticker = on_ticker
        self.on_history = on_history
        self.history_refresh = history_refresh
        self.books = {product: LiveBook(product) for product in self.products}
        self.coins: set[str] = set()
        self._symbols: dict[int, str] = {}
        self._snapshots: dict[str, asyncio.Task[None]] = {}
        self._backlog: dict[str, list[L2Row]] = {}  # events that came in while a snapshot was out

    async def _on_open(self) -> None:
        for book in self.books.values():
            book.needs_snapshot = True
        await self._subscribe_all()

    def _background(self) -> list[Coroutine[Any, Any, None]]:
        return [self._history_loop(), *super()._background()]

    def _on_closed(self) -> None:
        for task in self._snapshots.values():
            task.cancel()
        self._snapshots.clear()
        self._backlog.clear()
        super()._on_closed()

    def _on_event(self, frame: Frame) -> None:
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
