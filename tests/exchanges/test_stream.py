"""The FlowBTC stream service against the gateway simulator, over a real socket, writing to the
live cache and Postgres from its worker threads."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from dashboard.models import Source, Team
from dashboard.services import source_create, source_delete
from exchanges import live
from exchanges import models as m
from exchanges.clients.flowbtc_ws import ALLOWED_CALLS
from exchanges.stream import StreamService, Timings, stream_configs
from exchanges.stream_worker import Worker
from simulator.demo import demo_setup
from simulator.flowbtc.gateway import (
    SIM_2FA_USERNAME,
    SIM_PASSWORD,
    SIM_USERNAME,
    FlowBtcGateway,
)
from tests.exchanges import conftest

WAIT_SECONDS = 15.0
FAST = Timings(reload=0.2, status=0.1, flush=0.05, book_store=0.1, ticker=0.1, account=0.3,
               history_refresh=60, backoff_base=0.01, backoff_cap=0.05, request_timeout=5)
ORDER_CALLS = {"SendOrder", "ModifyOrder", "CancelOrder", "CancelReplaceOrder", "CancelAllOrders",
               "CreateWithdrawTicket", "CreateDepositTicket"}
wait_until = conftest.waiter(seconds=WAIT_SECONDS, every=0.02)


@pytest.fixture
def gateway() -> Iterator[FlowBtcGateway]:
    with FlowBtcGateway(tick_seconds=0.02) as gateway:
        yield gateway


@pytest.fixture
def stream_team(transactional_db: None) -> Team:
    return Team.objects.create(name="Alice Mining", slug="alice-mining")


def flowbtc_source(team: Team, gateway: FlowBtcGateway, *, label: str = "FlowBTC",
                   products: str = "BTCBRL,ETHBRL", **credentials: str) -> Source:
    return source_create(team=team, kind="flowbtc", label=label, credentials=credentials,
                         options={"products": products, "ws_url": gateway.url})


@contextmanager
def serving(**kwargs: object) -> Iterator[StreamService]:
    service = StreamService(timings=FAST, **kwargs)  # type: ignore[arg-type]
    thread = threading.Thread(target=asyncio.run, args=(service.run(),), daemon=True)
    thread.start()
    try:
        yield service
    finally:
        service.stop()
        thread.join(WAIT_SECONDS)
        assert not thread.is_alive(), "the service did not stop"
        connection.close()


def status(source: Source) -> dict[str, object]:
    return live.stream_status(source_id=source.pk) or {}


def test_it_streams_books_trades_candles_and_tickers(stream_team: Team,
                                                     gateway: FlowBtcGateway) -> None:
    source = flowbtc_source(stream_team, gateway)
    products = ("BTCBRL", "ETHBRL")
    with serving():
        for product in products:
            wait_until(lambda p=product: live.book_latest(source_id=source.pk, product=p),
                       f"a live {product} book")
        stored = m.OrderBook.objects.filter(source=source, origin=m.Origin.STREAM)
        wait_until(lambda: stored.count() == 2, "books in Postgres")
        wait_until(lambda: m.Trade.objects.filter(source=source).count() > 10, "trades")
        for product in products:
            for interval, least in ((60, 1000), (3600, 2000), (86400, 700)):
                wait_until(lambda p=product, i=interval, n=least: m.Candle.objects.filter(
                    source=source, product=p, interval=i).count() >= n,
                    f"back-filled {interval}s {product} candles")
        wait_until(lambda: m.Ticker.objects.filter(source=source, origin=m.Origin.STREAM).count() == 2,
                   "ticker rows")
        wait_until(lambda: status(source).get("connected"), "a connected status")

    today = datetime.now(UTC).date()
    assert m.DailyPrice.objects.filter(source=source, coin="BTC", quote="BRL", date=today).exists()
    assert m.DailyPrice.objects.filter(source=source, coin="ETH",
                                       date__lte=today - timedelta(days=600)).exists()
    assert {t.product for t in m.Trade.objects.filter(source=source)} == set(products)
    for ticker in m.Ticker.objects.filter(source=source):
        assert ticker.bid < ticker.ask
        assert ticker.low <= ticker.last <= ticker.high
        assert ticker.volume > 0
        candle = m.Candle.objects.filter(source=source, product=ticker.product, interval=60).last()
        assert candle is not None
        # The candles, the ticker and the book come from one price path.
        assert float(candle.close) == pytest.approx(float(ticker.last), rel=0.02)
    book = m.OrderBook.objects.get(source=source, product="BTCBRL")
    assert float(book.bids[0][0]) < float(book.asks[0][0])
    published = status(source)
    assert published["authenticated"] is None and published["error"] is None
    assert published["products"] == list(products)
    assert published["last_event_at"]
    assert not m.ExchangeAccount.objects.filter(source=source).exists()


def test_with_a_login_it_reads_the_account_and_never_trades(stream_team: Team,
                                                            gateway: FlowBtcGateway) -> None:
    source = flowbtc_source(stream_team, gateway, products="BTCBRL", username=SIM_USERNAME,
                            password=SIM_PASSWORD)
    fills = len(gateway.account.fills)
    with serving():
        wait_until(lambda: m.AccountTrade.objects.filter(source=source).count() == fills,
                   "the account's fills")
        wait_until(lambda: status(source).get("authenticated"), "an authenticated status")
        first_stored = m.ExchangeAccount.objects.get(source=source).updated_at
        # A second read finds the same orders and fills: nothing doubles. The account, its
        # orders and its fills are stored in one transaction, so a newer account row means
        # the second read's orders and fills are in as well.
        wait_until(lambda: gateway.request_count("GetOpenOrders") >= 2, "another account read")
        wait_until(lambda: m.ExchangeAccount.objects.get(source=source).updated_at > first_stored,
                   "the second account read stored")

    account = m.ExchangeAccount.objects.get(source=source)
    assert account.account_id == gateway.account.account_id == status(source)["account_id"]
    assert account.user_name == SIM_USERNAME
    assert "PasswordHash" not in account.info["user"]
    assert "PendingEmailCode" not in account.info["user"]
    assert m.ExchangeOrder.objects.filter(source=source).count() == 20
    open_orders = m.ExchangeOrder.objects.filter(source=source, is_open=True)
    assert open_orders.count() == 3
    assert {o.state for o in open_orders} == {"Working"}
    assert m.AccountTrade.objects.filter(source=source).count() == fills >= 20
    assert {t.side for t in m.AccountTrade.objects.filter(source=source)} <= {"buy", "sell"}
    assert gateway.request_names() <= ALLOWED_CALLS
    assert not gateway.request_names() & ORDER_CALLS


def test_a_wrong_password_is_reported_and_market_data_keeps_flowing(
        stream_team: Team, gateway: FlowBtcGateway, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    source = flowbtc_source(stream_team, gateway, products="BTCBRL", username=SIM_USERNAME,
                            password="bad-pw-4321")
    with serving():
        wait_until(lambda: "refused the login" in str(status(source).get("error")),
                   "the refusal in the status")
        gateway.drop_connections()
        before = m.Trade.objects.filter(source=source).count()
        wait_until(lambda: m.Trade.objects.filter(source=source).count() > before + 5,
                   "trades after the refusal and a reconnect")
        wait_until(lambda: status(source).get("connected"), "a connected status")
        published = status(source)

    assert published["authenticated"] is False
    assert "refused the login" in str(published["error"])
    # Retrying a wrong password only gets an account locked: once, until the source is edited.
    assert gateway.request_count("WebAuthenticateUser") == 1
    assert gateway.request_count("GetUserInfo") == 0
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "refused" in r.getMessage()]
    assert errors
    assert "bad-pw-4321" not in caplog.text + str(published)


def test_a_two_factor_login_is_refused_for_unattended_reads(stream_team: Team,
                                                           gateway: FlowBtcGateway) -> None:
    source = flowbtc_source(stream_team, gateway, products="BTCBRL", username=SIM_2FA_USERNAME,
                            password=SIM_PASSWORD)
    with serving():
        wait_until(lambda: status(source).get("error"), "an error in the status")
        wait_until(lambda: m.Trade.objects.filter(source=source).exists(), "trades")
    assert "two-factor" in str(status(source)["error"])
    assert gateway.request_count("GetUserInfo") == 0


def test_it_follows_the_sources_table(stream_team: Team, gateway: FlowBtcGateway) -> None:
    first = flowbtc_source(stream_team, gateway, label="First", products="BTCBRL")
    with serving() as service:
        wait_until(lambda: first.pk in service.streams, "the first stream")
        stream = service.streams[first.pk]
        second = flowbtc_source(stream_team, gateway, label="Second", products="ETHBRL")
        wait_until(lambda: second.pk in service.streams, "a stream for the new source")
        wait_until(lambda: m.Trade.objects.filter(source=second, product="ETHBRL").exists(),
                   "the new source's trades")

        Source.objects.filter(pk=first.pk).update(options={"products": "LTCBRL",
                                                           "ws_url": gateway.url})
        wait_until(lambda: service.streams.get(first.pk) not in (None, stream),
                   "a restarted stream")
        assert service.streams[first.pk].config.products == ("LTCBRL",)
        assert not stream.stream.connected

        Source.objects.filter(pk=first.pk).update(enabled=False)
        source_delete(source=second)
        wait_until(lambda: not service.streams, "every stream stopped")
        wait_until(lambda: status(first).get("connected") is False, "a disconnected status")


def test_only_the_named_sources_stream(stream_team: Team, gateway: FlowBtcGateway) -> None:
    named = flowbtc_source(stream_team, gateway, label="Named")
    other = flowbtc_source(stream_team, gateway, label="Other")
    configs, problems = stream_configs(source_ids=[named.pk])
    assert list(configs) == [named.pk] and problems == {}
    assert configs[named.pk].ws_url == gateway.url
    assert configs[named.pk].credentials is None
    assert other.pk in stream_configs(source_ids=None)[0]


def test_a_source_with_bad_options_is_reported_not_streamed(stream_team: Team,
                                                           gateway: FlowBtcGateway) -> None:
    source = flowbtc_source(stream_team, gateway)
    Source.objects.filter(pk=source.pk).update(options={"products": "DOGEBRL"})
    configs, problems = stream_configs(source_ids=None)
    assert configs == {}
    assert "DOGEBRL" in problems[source.pk]


def test_the_demo_source_streams_from_the_simulators_gateway(db: None) -> None:
    demo_setup(simulator_url="http://127.0.0.1:8400")
    [config] = stream_configs(source_ids=None)[0].values()
    assert config.ws_url == "ws://127.0.0.1:8401/WSGateway/"
    assert config.credentials == (SIM_USERNAME, SIM_PASSWORD)
    # Run again on other ports, the demo points its source at the gateway's new address.
    demo_setup(simulator_url="http://127.0.0.1:9400", gateway_url="ws://127.0.0.1:9999/WSGateway/")
    [config] = stream_configs(source_ids=None)[0].values()
    assert config.ws_url == "ws://127.0.0.1:9999/WSGateway/"
    assert Source.objects.get(pk=config.source_id).base_url == "http://127.0.0.1:9400/flowbtc"


# -- the worker threads --


def test_a_failed_write_is_logged_and_the_next_one_runs(
        caplog: pytest.LogCaptureFixture) -> None:
    worker = Worker("test-writer")
    worker.start()
    done: list[int] = []
    worker.submit(lambda: 1 / 0)
    worker.submit(lambda: done.append(1))
    worker.stop()
    assert done == [1]
    assert "a write failed" in caplog.text and "ZeroDivisionError" in caplog.text


def test_keyed_writes_keep_only_the_newest() -> None:
    worker = Worker("test-writer")
    seen: list[int] = []
    for n in range(5):
        worker.replace("book", lambda n=n: seen.append(n))  # type: ignore[misc]
    worker.start()
    worker.stop()
    assert seen == [4]


def test_a_full_backlog_drops_new_writes() -> None:
    worker = Worker("test-writer", max_backlog=2)
    assert worker.submit(lambda: None) and worker.submit(lambda: None)
    assert not worker.submit(lambda: None)
    assert worker.dropped == 1
    worker.start()
    worker.stop()


# -- the command --


def test_the_command_streams_only_flowbtc(db: None) -> None:
    with pytest.raises(CommandError, match="only flowbtc streams"):
        call_command("stream", "btccom")


def test_the_command_refuses_an_unknown_source(db: None) -> None:
    with pytest.raises(CommandError, match="no source with id 424242"):
        call_command("stream", "flowbtc", "--source", "424242")


def test_the_command_refuses_a_source_of_another_kind(source: Source) -> None:
    with pytest.raises(CommandError, match=f"only flowbtc streams: {source.pk} "):
        call_command("stream", "flowbtc", "--source", str(source.pk))
