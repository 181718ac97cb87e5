"""FlowBTC live stream against the gateway simulator, over a real socket."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from websockets.sync.client import connect

from dashboard.simulator.flowbtc_gateway import FlowBtcGateway
from exchanges.clients.flowbtc_models import OrderBook
from exchanges.clients.flowbtc_protocol import GatewayError
from exchanges.clients.flowbtc_ws import FlowBtcStream, backoff_delay

WAIT_SECONDS = 2.0


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


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

    def stream(self, url: str, products: list[str]) -> FlowBtcStream:
        return FlowBtcStream(
            url, products, on_book=self.books.append,
            on_trade=lambda product, _row: self.trades.append(product),
            on_ticker=lambda product, _row: self.tickers.append(product),
            on_error=self.errors.append, backoff_base=0.01, backoff_cap=0.05,
            request_timeout=1.0)


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
    thread = threading.Thread(target=asyncio.run, args=(asyncio.wait_for(stream.run(), 1.0),))
    thread.start()
    thread.join(2.0)
    assert not thread.is_alive()


def test_backoff_grows_and_is_capped() -> None:
    delays = [backoff_delay(n, base=1.0, cap=8.0) for n in range(10)]
    assert 0.5 <= delays[0] <= 1.0
    assert 2.0 <= delays[2] <= 4.0
    assert all(delay <= 8.0 for delay in delays)
