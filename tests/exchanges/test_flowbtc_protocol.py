"""FlowBTC gateway protocol: frames, sequence numbers, replies, market data rows, live book."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from dashboard.http import CredentialsRejected, SchemaError
from exchanges.clients.flowbtc_models import from_millis
from exchanges.clients.flowbtc_protocol import (
    Action,
    Frame,
    GatewayError,
    L2Row,
    LiveBook,
    MessageType,
    Session,
    Side,
    decode_frame,
    decode_l2_rows,
    decode_ticker_rows,
    decode_trade_rows,
    encode_frame,
)

D = Decimal
NOTES_EVENT = '{"m":3,"i":2,"n":"Level2UpdateEvent","o":"[[2,1,1608208308265,0,20782.49,1,25000,8,1,1]]"}'
# The seed's SubscribeTicker / GetTickerHistory and SubscribeTrades examples.
SEED_TICKER_ROW = [1468896617000, 680, 680, 680, 680, 0.4, 674.18, 680]
SEED_TRADE_ROW = [87, 1, 0.01, 450.98, 9222816249026513000, 9222816249026513000,
                  635872032000000000, 0, 1]


def frame(m: int, i: int, n: str, o: Any) -> str:
    return json.dumps({"m": m, "i": i, "n": n, "o": json.dumps(o)})


def row(update_id: int, action: int, price: str, quantity: str, side: int, at: int = 1608208308265) -> L2Row:
    [decoded] = decode_l2_rows([[update_id, 1, at, action, "20782.49", 1, price, 1, quantity, side]])
    return decoded


def test_a_frame_is_encoded_with_its_payload_as_a_json_string() -> None:
    text = encode_frame(Frame(MessageType.REQUEST, 4, "GetProducts", {"OMSId": 1}))
    raw = json.loads(text)
    assert raw == {"m": 0, "i": 4, "n": "GetProducts", "o": '{"OMSId": 1}'}
    assert decode_frame(text) == Frame(MessageType.REQUEST, 4, "GetProducts", {"OMSId": 1})


def test_the_payload_is_decoded_a_second_time() -> None:
    decoded = decode_frame(NOTES_EVENT)
    assert (decoded.type, decoded.seq, decoded.name) == (MessageType.EVENT, 2, "Level2UpdateEvent")
    assert decoded.payload == [[2, 1, 1608208308265, 0, 20782.49, 1, 25000, 8, 1, 1]]


def test_the_notes_level2_event_decodes_to_a_row() -> None:
    [decoded] = decode_l2_rows(decode_frame(NOTES_EVENT).payload)
    assert decoded == L2Row(
        update_id=2, accounts=1, at=datetime(2020, 12, 17, 12, 31, 48, 265000, tzinfo=UTC),
        action=Action.NEW, last_trade_price=D("20782.49"), orders=1, price=D("25000"),
        instrument_id=8, quantity=D("1"), side=Side.SELL,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "gateway frame is not JSON"),
        ('{"m": 1, "i": 0, "n": "X"}', "lacks m, i, n or o"),
        ('{"m": 9, "i": 0, "n": "X", "o": ""}', "unknown message type: 9"),
        ('{"m": 1, "i": 0, "n": "X", "o": "{oops"}', "gateway payload is not JSON"),
    ],
)
def test_malformed_frames_are_schema_errors(text: str, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        decode_frame(text)


def test_an_empty_payload_decodes_to_none() -> None:
    assert decode_frame('{"m": 1, "i": 0, "n": "LogOut", "o": ""}').payload is None


def test_client_sequence_numbers_are_even_and_grow_by_two() -> None:
    session = Session()
    seqs = [session.request(name)[0] for name in ("GetProducts", "GetInstruments", "LogOut")]
    seqs.append(session.request("SubscribeLevel2", {"OMSId": 1}, kind=MessageType.SUBSCRIBE)[0])
    assert seqs == [0, 2, 4, 6]
    assert json.loads(session.request("GetProducts", {"OMSId": 1})[1])["i"] == 8


def test_replies_are_matched_to_their_requests() -> None:
    session = Session()
    products, _ = session.request("GetProducts", {"OMSId": 1})
    ticker, _ = session.request("GetTickerHistory", {"OMSId": 1, "InstrumentId": 1})
    assert session.pending == {products: "GetProducts", ticker: "GetTickerHistory"}

    reply = session.receive(frame(1, ticker, "GetTickerHistory", [SEED_TICKER_ROW]))
    assert reply.type is MessageType.REPLY and session.pending == {products: "GetProducts"}
    assert session.receive(frame(1, products, "GetProducts", [{"Product": "BTCBRL"}])).payload == [
        {"Product": "BTCBRL"}
    ]
    assert session.pending == {}
    with pytest.raises(SchemaError, match="answered GetProducts to request 0, which is not awaiting"):
        session.receive(frame(1, products, "GetProducts", []))


def test_events_pass_through_without_settling_a_request() -> None:
    session = Session()
    seq, _ = session.request("SubscribeLevel2", {"OMSId": 1}, kind=MessageType.SUBSCRIBE)
    assert session.receive(NOTES_EVENT).type is MessageType.EVENT
    assert session.pending == {seq: "SubscribeLevel2"}


def test_a_result_false_reply_raises_a_clear_error() -> None:
    session = Session()
    seq, _ = session.request("GetL2Snapshot", {"OMSId": 1, "InstrumentId": 99})
    body = {"result": False, "errormsg": "Resource Not Found", "errorcode": 104, "detail": "no instrument"}
    with pytest.raises(GatewayError) as caught:
        session.receive(frame(1, seq, "GetL2Snapshot", body))
    assert caught.value.message == (
        "FlowBTC gateway refused GetL2Snapshot: Resource Not Found; no instrument (code 104)"
    )
    assert caught.value.code == 104 and caught.value.permanent
    assert session.pending == {}


def test_an_error_frame_raises() -> None:
    session = Session()
    seq, _ = session.request("SubscribeTicker", {"OMSId": 1})
    body = {"result": False, "errormsg": "Server Error", "errorcode": 102, "detail": None}
    with pytest.raises(GatewayError, match="refused SubscribeTicker: Server Error \\(code 102\\)") as caught:
        session.receive(frame(5, seq, "SubscribeTicker", body))
    assert not caught.value.permanent


def test_an_error_frame_without_details_still_raises() -> None:
    session = Session()
    seq, _ = session.request("GetProducts")
    with pytest.raises(GatewayError, match="refused GetProducts: no message"):
        session.receive(json.dumps({"m": 5, "i": seq, "n": "GetProducts", "o": ""}))


def test_not_authorized_is_a_credentials_error() -> None:
    session = Session()
    seq, _ = session.request("GetUserInfo")
    body = {"result": False, "errormsg": "Not Authorized", "errorcode": 20, "detail": None}
    with pytest.raises(CredentialsRejected, match="Not Authorized"):
        session.receive(frame(1, seq, "GetUserInfo", body))


def test_a_successful_result_reply_does_not_raise() -> None:
    session = Session()
    seq, _ = session.request("UnsubscribeTicker", {"OMSId": 1, "InstrumentId": 1},
                             kind=MessageType.UNSUBSCRIBE)
    body = {"result": True, "errormsg": None, "errorcode": 0, "detail": None}
    assert session.receive(frame(1, seq, "UnsubscribeTicker", body)).payload == body


def test_ticker_rows_put_high_and_low_before_open() -> None:
    full = [1608208308265, "21000.5", "20500", "20600", "20900", "1.5", "20890", "20910", 1, 1608208260000]
    seed, notes = decode_ticker_rows([SEED_TICKER_ROW, full])
    assert (seed.high, seed.low, seed.open, seed.close) == (D(680),) * 4
    assert (seed.volume, seed.bid, seed.ask) == (D("0.4"), D("674.18"), D(680))
    assert seed.at == from_millis(1468896617000) and seed.instrument_id is None
    assert (notes.high, notes.low, notes.open, notes.close) == (D("21000.5"), D(20500), D(20600), D(20900))
    assert notes.instrument_id == 1 and notes.candle_start == from_millis(1608208260000)


def test_trade_rows_decode_in_the_documented_order() -> None:
    full = [88, 1, "0.02", "20782.49", 7, 8, 1608208308265, 1, 0, False, 42]
    seed, notes = decode_trade_rows([SEED_TRADE_ROW, full])
    assert (seed.trade_id, seed.instrument_id, seed.quantity, seed.price) == (87, 1, D("0.01"), D("450.98"))
    assert seed.order1_id == 9222816249026513000
    assert seed.at == datetime(2016, 1, 1, tzinfo=UTC)  # .NET ticks in the seed's example
    assert (seed.direction, seed.taker_side, seed.block_trade) == (0, 1, None)
    assert notes.at == from_millis(1608208308265) and notes.price == D("20782.49")
    assert (notes.block_trade, notes.client_order_id) == (False, 42)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"rows": []}, "not a list of rows but dict"),
        ([[1, 2, 3]], "not an array of 10 values"),
        ([[1, 1, 1608208308265, 7, 1, 1, 1, 1, 1, 0]], "ActionType has an unknown value: 7"),
        ([[1, 1, 1608208308265, 0, 1, 1, "-", 1, 1, 0]], "Price is not a number"),
    ],
)
def test_malformed_level2_rows_are_schema_errors(rows: Any, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        decode_l2_rows(rows)


def snapshot_book() -> LiveBook:
    book = LiveBook("BTCBRL")
    book.apply_snapshot([
        row(10, 0, "100", "1", 0), row(11, 0, "99", "2", 0), row(9, 0, "101", "3", 1),
        row(11, 0, "102", "4", 1),
    ])
    return book


def test_a_snapshot_then_updates_give_the_right_book() -> None:
    book = LiveBook("BTCBRL")
    assert book.needs_snapshot and not book.apply_update([row(1, 0, "1", "1", 0)])
    book = snapshot_book()
    assert not book.needs_snapshot and book.last_update_id == 11

    assert book.apply_update([row(12, 1, "100", "0.5", 0), row(12, 0, "100.5", "1", 0)])
    assert book.apply_update([row(13, 2, "101", "0", 1)])
    assert book.apply_update([row(14, 0, "101.5", "7", 1, at=1608208309000)])

    result = book.order_book()
    assert result.product == "BTCBRL"
    assert result.bids == [(D("100.5"), D(1)), (D(100), D("0.5")), (D(99), D(2))]
    assert result.asks == [(D("101.5"), D(7)), (D(102), D(4))]
    assert result.as_of == from_millis(1608208309000)
    assert book.last_update_id == 14


def test_an_update_to_zero_quantity_removes_the_level() -> None:
    book = snapshot_book()
    assert book.apply_update([row(12, 1, "99", "0", 0)])
    assert book.order_book().bids == [(D(100), D(1))]


@pytest.mark.parametrize("update_id", [13, 10])  # a skipped id; an id going backwards
def test_a_gap_or_a_backwards_id_asks_for_a_new_snapshot(update_id: int) -> None:
    book = snapshot_book()
    before = book.order_book()
    assert not book.apply_update([row(update_id, 0, "98", "1", 0)])
    assert book.needs_snapshot and book.order_book() == before
    assert not book.apply_update([row(12, 0, "98", "1", 0)])  # stale until re-snapshotted

    book.apply_snapshot([row(40, 0, "90", "1", 0)])
    assert not book.needs_snapshot and book.order_book().bids == [(D(90), D(1))]
    assert book.apply_update([row(41, 0, "91", "1", 0)])
