"""FlowBTC's WebSocket gateway protocol (AlphaPoint APEX) as pure code: no socket here.

A frame is `{"m": type, "i": sequence, "n": function, "o": payload}` where `o` is JSON encoded
as a string, so a payload is decoded twice. Market data rows are positional arrays.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import IntEnum
from typing import Any

from dashboard.http import CredentialsRejected, SchemaError, UpstreamError
from exchanges.clients.flowbtc_models import Level, OrderBook, from_millis
from pools.clients.base import shown, to_decimal, to_int

OMS_ID = 1
INSTRUMENT_IDS = {"BTCBRL": 1, "ETHBRL": 2, "LTCBRL": 3, "BCHBRL": 5, "ETHBTC": 6, "XRPBRL": 7}
NOT_AUTHORIZED = 20
# Invalid request and resource not found will fail the same way when sent again.
PERMANENT_CODES = {NOT_AUTHORIZED, 100, 104}


class MessageType(IntEnum):
    REQUEST = 0
    REPLY = 1
    SUBSCRIBE = 2
    EVENT = 3
    UNSUBSCRIBE = 4
    ERROR = 5


class Action(IntEnum):
    NEW = 0
    UPDATE = 1
    DELETE = 2


class Side(IntEnum):
    BUY = 0
    SELL = 1


class GatewayError(UpstreamError):
    """The gateway refused a call: an error frame or a `{"result": false}` reply."""

    def __init__(self, message: str, *, code: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("permanent", code in PERMANENT_CODES)
        super().__init__(message, **kwargs)
        self.code = code


@dataclass(frozen=True, slots=True)
class Frame:
    type: MessageType
    seq: int
    name: str
    payload: Any


def encode_frame(frame: Frame) -> str:
    return json.dumps({"m": int(frame.type), "i": frame.seq, "n": frame.name,
                       "o": json.dumps(frame.payload)})


def decode_frame(text: str | bytes) -> Frame:
    try:
        raw = json.loads(text)
    except ValueError:
        raise SchemaError(f"gateway frame is not JSON: {shown(text)}") from None
    if not isinstance(raw, Mapping) or not {"m", "i", "n", "o"} <= raw.keys():
        raise SchemaError(f"gateway frame lacks m, i, n or o: {shown(raw)}")
    try:
        kind = MessageType(raw["m"])
    except ValueError:
        raise SchemaError(f"gateway frame has an unknown message type: {shown(raw['m'])}") from None
    return Frame(kind, to_int(raw["i"], field="i"), str(raw["n"]), decode_payload(raw["o"]))


def decode_payload(body: Any) -> Any:
    """`o` is JSON in a string; an empty string means no payload."""
    if not isinstance(body, str):
        return body
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        raise SchemaError(f"gateway payload is not JSON: {shown(body)}") from None


def check_reply(frame: Frame) -> None:
    """Raise GatewayError for an error frame or a reply whose payload says `result: false`."""
    payload = frame.payload if isinstance(frame.payload, Mapping) else {}
    if frame.type is not MessageType.ERROR and payload.get("result") is not False:
        return
    message = payload.get("errormsg") or "no message"
    code = payload.get("errorcode")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    detail = f"; {payload['detail']}" if payload.get("detail") else ""
    text = f"FlowBTC gateway refused {frame.name}: {message}{detail}"
    if code is not None:
        text += f" (code {code})"
    if code == NOT_AUTHORIZED:
        raise CredentialsRejected(text)
    raise GatewayError(text, code=code)


class Session:
    """Numbers outgoing frames and matches replies to the requests they answer."""

    def __init__(self) -> None:
        self._next_seq = 0  # client numbers are even; the gateway numbers its own frames odd
        self.pending: dict[int, str] = {}

    def request(self, name: str, payload: Any = None, *,
                kind: MessageType = MessageType.REQUEST) -> tuple[int, str]:
        """(sequence number, encoded frame) of a new call."""
        seq, self._next_seq = self._next_seq, self._next_seq + 2
        if kind in (MessageType.REQUEST, MessageType.SUBSCRIBE, MessageType.UNSUBSCRIBE):
            self.pending[seq] = name
        return seq, encode_frame(Frame(kind, seq, name, {} if payload is None else payload))

    def receive(self, text: str | bytes) -> Frame:
        """Decode a frame; a reply or an error frame settles its request, or raises its error."""
        frame = decode_frame(text)
        if frame.type in (MessageType.REPLY, MessageType.ERROR):
            if self.pending.pop(frame.seq, None) is None:
                raise SchemaError(f"gateway answered {frame.name} to request {frame.seq}, "
                                  "which is not awaiting an answer")
            check_reply(frame)
        return frame


@dataclass(frozen=True, slots=True)
class L2Row:
    update_id: int
    accounts: int
    at: datetime
    action: Action
    last_trade_price: Decimal
    orders: int
    price: Decimal
    instrument_id: int
    quantity: Decimal
    side: Side


@dataclass(frozen=True, slots=True)
class TickerRow:
    at: datetime
    high: Decimal
    low: Decimal
    open: Decimal
    close: Decimal
    volume: Decimal
    bid: Decimal
    ask: Decimal
    instrument_id: int | None  # absent in older answers
    candle_start: datetime | None


@dataclass(frozen=True, slots=True)
class TradeRow:
    trade_id: int
    instrument_id: int
    quantity: Decimal
    price: Decimal
    order1_id: int
    order2_id: int
    at: datetime
    direction: int  # 0 no change, 1 uptick, 2 downtick
    taker_side: int
    block_trade: bool | None = None
    client_order_id: int | None = None


def rows_of(payload: Any, *, what: str, width: int) -> list[list[Any]]:
    if not isinstance(payload, list):
        raise SchemaError(f"{what} payload is not a list of rows but {type(payload).__name__}")
    for row in payload:
        if not isinstance(row, list) or len(row) < width:
            raise SchemaError(f"{what} row is not an array of {width} values: {shown(row)}")
    return payload


def enum_value(enum: type[Action] | type[Side], value: Any, *, field: str) -> Any:
    try:
        return enum(to_int(value, field=field))
    except ValueError:
        raise SchemaError(f"{field} has an unknown value: {shown(value)}") from None


def decode_l2_rows(payload: Any) -> list[L2Row]:
    return [
        L2Row(
            update_id=to_int(r[0], field="MDUpdateId"), accounts=to_int(r[1], field="Accounts"),
            at=from_millis(r[2], field="ActionDateTime"),
            action=enum_value(Action, r[3], field="ActionType"),
            last_trade_price=to_decimal(r[4], field="LastTradePrice"),
            orders=to_int(r[5], field="Orders"), price=to_decimal(r[6], field="Price"),
            instrument_id=to_int(r[7], field="InstrumentId"),
            quantity=to_decimal(r[8], field="Quantity"), side=enum_value(Side, r[9], field="Side"),
        )
        for r in rows_of(payload, what="Level-2", width=10)
    ]


def decode_ticker_rows(payload: Any) -> list[TickerRow]:
    return [
        TickerRow(
            at=from_millis(r[0], field="time"), high=to_decimal(r[1], field="High"),
            low=to_decimal(r[2], field="Low"), open=to_decimal(r[3], field="Open"),
            close=to_decimal(r[4], field="Close"), volume=to_decimal(r[5], field="Volume"),
            bid=to_decimal(r[6], field="Bid"), ask=to_decimal(r[7], field="Ask"),
            instrument_id=to_int(r[8], field="InstrumentId") if len(r) > 8 else None,
            candle_start=from_millis(r[9], field="candle start") if len(r) > 9 else None,
        )
        for r in rows_of(payload, what="ticker", width=8)
    ]


def decode_trade_rows(payload: Any) -> list[TradeRow]:
    return [
        TradeRow(
            trade_id=to_int(r[0], field="TradeId"), instrument_id=to_int(r[1], field="InstrumentId"),
            quantity=to_decimal(r[2], field="Quantity"), price=to_decimal(r[3], field="Price"),
            order1_id=to_int(r[4], field="Order1"), order2_id=to_int(r[5], field="Order2"),
            at=from_millis(r[6], field="time"), direction=to_int(r[7], field="Direction"),
            taker_side=to_int(r[8], field="TakerSide"),
            block_trade=bool(r[9]) if len(r) > 9 else None,
            client_order_id=to_int(r[10], field="ClientOrderId") if len(r) > 10 else None,
        )
        for r in rows_of(payload, what="trade", width=9)
    ]


class LiveBook:
    """One instrument's book kept current from a snapshot and Level2UpdateEvent rows.

    Rows of one update share an MDUpdateId and the next update has the next id; a skipped id
    means a lost event, and an id going backwards means the gateway restarted its numbering
    (after a reconnect). Either way the book is stale until a new snapshot.
    """

    def __init__(self, product: str) -> None:
        self.product = product
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.last_update_id: int | None = None
        self.as_of: datetime | None = None
        self.needs_snapshot = True

    def apply_snapshot(self, rows: Iterable[L2Row]) -> None:
        self.bids, self.asks, self.as_of, self.last_update_id = {}, {}, None, None
        for row in rows:
            self._apply(row)
            if self.last_update_id is None or row.update_id > self.last_update_id:
                self.last_update_id = row.update_id
        self.needs_snapshot = False

    def apply_update(self, rows: Iterable[L2Row]) -> bool:
        """Apply an event's rows; False (and `needs_snapshot`) when they do not follow on."""
        if self.needs_snapshot:
            return False
        for row in rows:
            last = self.last_update_id
            if last is not None and not last <= row.update_id <= last + 1:
                self.needs_snapshot = True
                return False
            self._apply(row)
            self.last_update_id = row.update_id
        return True

    def _apply(self, row: L2Row) -> None:
        side = self.bids if row.side is Side.BUY else self.asks
        if row.action is Action.DELETE or row.quantity <= 0:
            side.pop(row.price, None)
        else:
            side[row.price] = row.quantity
        self.as_of = row.at if self.as_of is None else max(self.as_of, row.at)

    def order_book(self) -> OrderBook:
        bids: list[Level] = sorted(self.bids.items(), reverse=True)
        asks: list[Level] = sorted(self.asks.items())
        return OrderBook(product=self.product, bids=bids, asks=asks, as_of=self.as_of)
