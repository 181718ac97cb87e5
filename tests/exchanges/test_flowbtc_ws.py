"""FlowBTC live stream against the gateway simulator, over a real socket."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from websockets.sync.client import connect

from dashboard.http import CredentialsRejected
from exchanges.clients.flowbtc_account import AccountSnapshot
from exchanges.clients.flowbtc_models import OrderBook
from exchanges.clients.flowbtc_protocol import GatewayError, TickerRow
from exchanges.clients.flowbtc_ws import (
    ALLOWED_CALLS,
    FlowBtcStream,
    ForbiddenCall,
    backoff_delay,
    utc_now,
)
from simulator.flowbtc.gateway import SIM_PASSWORD, SIM_USERNAME, FlowBtcGateway
from tests.exchanges import conftest

WAIT_SECONDS = 2.0
wait_until = conftest.waiter(seconds=WAIT_SECONDS, every=0.005)


@pytest.fixture
def gateway() -> Iterator[FlowBtcGateway]:
    with FlowBtcGateway(tick_seconds=0.005) as gateway:
        yield gateway
    assert not [t for t in threading.enumerate() if t.name == "flowbtc-gateway" and t.is_alive()]


class Recorder:
    def __init__(self) -> None:
        self.books: list[OrderBook] = []
        self.trades: list[str] = []
        self.tickers: list[str] = []
        self.errors: list[Exception] = []
        self.history: dict[tuple[str, int], list[TickerRow]] = {}
        self.accounts: list[AccountSnapshot] = []

    def stream(self, url: str, products: list[str], **kwargs: object) -> FlowBtcStream:
        return FlowBtcStream(
            url, products, on_book=self.books.append,
            on_trade=lambda product, _row: self.trades.append(product),
            on_ticker=lambda product, _row: self.tickers.append(product),
            on_error=self.errors.append, backoff_base=0.01, backoff_cap=0.05,
            request_timeout=1.0, **kwargs)  # type: ignore[arg-type]

    def on_history(self, product: str, interval: int, rows: list[TickerRow]) -> None:
        self.history[(product, interval)] = rows


@contextmanager
def running(stream: FlowBtcStream) -> Iterator[FlowBtcStream]:
    thread = threading.Thread(target=asyncio.run, args=(stream.run(),), daemon=True)
    thread.start()
    try:
        yield stream
    finally:
        stream.stop()
        thread.join(WAIT_SECONDS)
        assert not thread.is_alive(), "the stream did not stop"


def assert_in_step(gateway: FlowBtcGateway, stream: FlowBtcStream, product: str) -> None:
    """Freeze the gateway and check that the stream's book catches up to the gateway's own."""
    gateway.pause()
    expected, last_id = gateway.book(product)
    book = stream.books[product]
    wait_until(lambda: book.last_update_id == last_id and not book.needs_snapshot,
               f"{product} to reach update {last_id}")
    actual = book.order_book()
    assert actual.bids == expected.bids
    assert actual.asks == expected.asks
    assert actual.best_bid is not None and actual.best_ask is not None
    assert actual.best_bid < actual.best_ask


def test_snapshot_and_updates_track_the_gateway_book(gateway: FlowBtcGateway) -> None:
    recorder = Recorder()
    with running(recorder.stream(gateway.url, ["BTCBRL", "ETHBRL"])) as stream:
        wait_until(lambda: len(recorder.books) > 40, "book updates")
        assert_in_step(gateway, stream, "BTCBRL")
        assert_in_step(gateway, stream, "ETHBRL")
        assert gateway.request_count("GetL2Snapshot") == 2  # no gap: updates alone kept up
    assert {"BTCBRL", "ETHBRL"} <= set(recorder.trades)
    assert {"BTCBRL", "ETHBRL"} <= set(recorder.tickers)
    assert {"BTC", "BRL", "ETH"} <= stream.coins
    assert recorder.errors == []


def test_a_sequence_gap_takes_a_new_snapshot(gateway: FlowBtcGateway) -> None:
    recorder = Recorder()
    with running(recorder.stream(gateway.url, ["BTCBRL"])) as stream:
        wait_until(lambda: len(recorder.books) > 5, "book updates")
        assert gateway.request_count("GetL2Snapshot") == 1
        gateway.skip_update_ids(5)
        wait_until(lambda: gateway.request_count("GetL2Snapshot") == 2, "a new snapshot")
        assert_in_step(gateway, stream, "BTCBRL")
    assert recorder.errors == []


def test_a_dropped_connection_reconnects_and_rebuilds_the_book(gateway: FlowBtcGateway) -> None:
    recorder = Recorder()
    with running(recorder.stream(gateway.url, ["BTCBRL"])) as stream:
        wait_until(lambda: stream.connections == 1 and len(recorder.books) > 5, "book updates")
        gateway.drop_connections()
        wait_until(lambda: stream.connections == 2, "a reconnection")
        assert gateway.request_count("GetL2Snapshot") == 2
        assert gateway.request_count("SubscribeLevel2") == 2
        assert_in_step(gateway, stream, "BTCBRL")
    assert recorder.errors, "the dropped connection was not reported"


def test_an_error_frame_is_reported_and_the_book_recovers(gateway: FlowBtcGateway) -> None:
    recorder = Recorder()
    with running(recorder.stream(gateway.url, ["BTCBRL"])) as stream:
        wait_until(lambda: len(recorder.books) > 5, "book updates")
        gateway.send_error_next()
        gateway.skip_update_ids(3)  # the snapshot this forces is the call that fails
        wait_until(lambda: bool(recorder.errors), "an error report")
        error = recorder.errors[0]
        assert isinstance(error, GatewayError)
        assert error.code == 102
        assert "GetL2Snapshot" in str(error)
        # The next event finds the book still stale and asks again.
        wait_until(lambda: gateway.request_count("GetL2Snapshot") == 3, "another snapshot")
        assert_in_step(gateway, stream, "BTCBRL")
        assert stream.connections == 1  # a refused call is not a reason to reconnect


def test_a_failed_start_is_reported_and_retried(gateway: FlowBtcGateway) -> None:
    recorder = Recorder()
    gateway.send_error_next()
    with running(recorder.stream(gateway.url, ["BTCBRL"])) as stream:
        wait_until(lambda: stream.connections == 1, "a connection")
        assert_in_step(gateway, stream, "BTCBRL")
    assert [type(e) for e in recorder.errors] == [GatewayError]
    assert "GetProducts" in str(recorder.errors[0])


def test_an_unknown_product_is_reported(gateway: FlowBtcGateway) -> None:
    recorder = Recorder()
    with running(recorder.stream(gateway.url, ["DOGEBRL"])):
        wait_until(lambda: bool(recorder.errors), "an error report")
    assert "DOGEBRL" in str(recorder.errors[0])


def test_the_gateway_answers_an_unknown_function_with_an_error_frame(
        gateway: FlowBtcGateway) -> None:
    with connect(gateway.url) as ws:
        ws.send(json.dumps({"m": 0, "i": 4, "n": "NoSuchCall", "o": "{}"}))
        frame = json.loads(ws.recv(timeout=WAIT_SECONDS))
    assert (frame["m"], frame["i"], frame["n"]) == (5, 4, "NoSuchCall")
    assert isinstance(frame["o"], str)
    assert json.loads(frame["o"])["errorcode"] == 100


def test_stop_before_run_returns_at_once() -> None:
    stream = FlowBtcStream("ws://127.0.0.1:9/WSGateway/", ["BTCBRL"])
    stream.stop()
    # Its own thread: a browser test may leave an event loop running in this one.
    thread = threading.Thread(target=asyncio.run, args=(asyncio.wait_for(stream.run(), 1.0),),
                              daemon=True)
    thread.start()
    thread.join(2.0)
    assert not thread.is_alive(), "run() did not return after stop()"


def test_backoff_grows_and_is_capped() -> None:
    delays = [backoff_delay(n, base=1.0, cap=8.0) for n in range(10)]
    assert 0.5 <= delays[0] <= 1.0
    assert 2.0 <= delays[2] <= 4.0
    assert all(delay <= 8.0 for delay in delays)


# -- candle history and the account --


def test_it_back_fills_minute_hour_and_day_candles(gateway: FlowBtcGateway) -> None:
    recorder = Recorder()
    with running(recorder.stream(gateway.url, ["BTCBRL"], on_history=recorder.on_history)):
        wait_until(lambda: len(recorder.history) == 3, "three candle histories")
    now = utc_now()
    for interval, days, least in ((60, 1, 1400), (3600, 90, 2100), (86400, 730, 720)):
        rows = recorder.history[("BTCBRL", interval)]
        assert len(rows) >= least, interval
        starts = [row.candle_start for row in rows]
        assert all(start is not None for start in starts)
        # The gateway answers whole days; what is older than the span is trimmed off.
        assert now - timedelta(days=days) <= min(starts) <= now - timedelta(days=days, seconds=-interval)  # type: ignore[operator,type-var]
        assert all(row.low <= min(row.open, row.close) <= max(row.open, row.close) <= row.high
                   for row in rows)
    assert gateway.request_count("GetTickerHistory") == 3


def test_with_a_login_it_reads_the_account(gateway: FlowBtcGateway) -> None:
    recorder = Recorder()
    stream = recorder.stream(gateway.url, ["BTCBRL"], credentials=(SIM_USERNAME, SIM_PASSWORD),
                             on_account=recorder.accounts.append, account_interval=0.05)
    with running(stream):
        wait_until(lambda: len(recorder.accounts) >= 2, "two account reads")
        assert stream.authenticated is True
    first = recorder.accounts[0]
    assert stream.authenticated is False  # the login belonged to the closed connection
    assert stream.account_id == first.account.account_id
    assert len(first.open_orders) == 3 and len(first.history) == 20
    assert {o.order_id for o in first.open_orders} <= {o.order_id for o in first.history}
    assert len(first.trades) == len(gateway.account.fills)
    assert {t.product for t in first.trades} <= {"BTCBRL", "ETHBRL", "LTCBRL", "XRPBRL"}
    # Later reads stop at the first page of fills they already know.
    assert len(recorder.accounts[1].trades) <= len(first.trades)
    assert gateway.request_count("WebAuthenticateUser") == 1
    assert gateway.request_names() <= ALLOWED_CALLS
    assert recorder.errors == []


def test_a_refused_login_is_not_retried_and_market_data_flows(gateway: FlowBtcGateway) -> None:
    recorder = Recorder()
    stream = recorder.stream(gateway.url, ["BTCBRL"], credentials=(SIM_USERNAME, "wrong"),
                             on_account=recorder.accounts.append, account_interval=0.05)
    with running(stream):
        wait_until(lambda: stream.login_error is not None, "the refusal")
        gateway.drop_connections()
        wait_until(lambda: stream.connections == 2, "a reconnection")
        count = len(recorder.books)
        wait_until(lambda: len(recorder.books) > count + 5, "book updates after the refusal")
    assert isinstance(stream.login_error, CredentialsRejected)
    assert stream.login_error in recorder.errors
    assert stream.authenticated is False and recorder.accounts == []
    assert gateway.request_count("WebAuthenticateUser") == 1


# -- never an order --

ORDER_CALLS = ["SendOrder", "ModifyOrder", "CancelOrder", "CancelReplaceOrder",
               "CancelAllOrders", "CreateWithdrawTicket", "CreateDepositTicket", "SetUserInfo",
               "SubscribeAccountEvents", "Authenticate2FA"]


class RecordingSocket:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, text: str) -> None:
        self.sent.append(text)


@pytest.mark.parametrize("name", ORDER_CALLS)
def test_it_never_sends_an_order_or_money_call(name: str) -> None:
    stream = FlowBtcStream("ws://127.0.0.1:9/WSGateway/", ["BTCBRL"])
    socket = RecordingSocket()
    stream._ws = socket  # type: ignore[assignment]
    with pytest.raises(ForbiddenCall, match=name):
        run_in_own_thread(stream._call(name, {"OMSId": 1}))
    assert socket.sent == []


def run_in_own_thread(work: Coroutine[Any, Any, Any]) -> Any:
    """asyncio.run where a browser test's event loop may already run in this thread."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = asyncio.run(work)
        except BaseException as exc:
            outcome["error"] = exc

    # A daemon, so a hung coroutine fails this test instead of holding the run at exit.
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(10)
    if thread.is_alive():
        pytest.fail("the coroutine still ran after 10 s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


def test_the_allowlist_holds_only_reads() -> None:
    assert not ALLOWED_CALLS & set(ORDER_CALLS)
    for name in ALLOWED_CALLS:
        assert name.startswith(("Get", "Subscribe")) or name == "WebAuthenticateUser", name


def test_the_gateway_refuses_order_calls(gateway: FlowBtcGateway) -> None:
    with connect(gateway.url) as ws:
        ws.send(json.dumps({"m": 0, "i": 2, "n": "WebAuthenticateUser", "o": json.dumps(
            {"UserName": SIM_USERNAME, "Password": SIM_PASSWORD})}))
        assert json.loads(json.loads(ws.recv(timeout=WAIT_SECONDS))["o"])["Authenticated"]
        ws.send(json.dumps({"m": 0, "i": 4, "n": "SendOrder", "o": "{}"}))
        frame = json.loads(ws.recv(timeout=WAIT_SECONDS))
    assert (frame["m"], frame["n"]) == (5, "SendOrder")
    assert json.loads(frame["o"])["errorcode"] == 101


def test_an_unreachable_gateway_is_reported_in_words() -> None:
    recorder = Recorder()
    url = "ws://127.0.0.1:9/WSGateway/"  # the discard port: nothing listens there
    with running(recorder.stream(url, ["BTCBRL"])):
        wait_until(lambda: recorder.errors, "a reported error")
    assert str(recorder.errors[0]) == f"cannot reach the FlowBTC gateway at {url}: connection refused"
