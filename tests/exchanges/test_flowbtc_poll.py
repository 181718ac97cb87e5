"""A FlowBTC source polled through the polling engine, over HTTP against the simulator."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from dashboard.models import Source, Team
from dashboard.polling import source_poll
from dashboard.services import source_create
from exchanges import models as m
from exchanges.clients.flowbtc import PRODUCTS
from simulator.server import SimulatorServer


def flowbtc_source(team: Team, simulator: SimulatorServer, **options: str) -> Source:
    return source_create(team=team, kind="flowbtc", label="FlowBTC",
                         base_url=simulator.base_url("flowbtc"), credentials={}, options=options)


def test_a_poll_stores_every_products_book_ticker_and_price(team: Team, simulator: SimulatorServer) -> None:
    source = flowbtc_source(team, simulator)

    run = source_poll(source_id=source.pk)

    assert run is not None and run.ok, run.message if run else "skipped"
    tickers = m.Ticker.objects.filter(source=source)
    assert sorted(tickers.values_list("product", flat=True)) == sorted(PRODUCTS)
    book = m.OrderBook.objects.get(source=source, product="BTCBRL")
    assert len(book.bids) == len(book.asks) == 10  # the default depth option
    assert Decimal(book.bids[0][0]) < Decimal(book.asks[0][0])
    ticker = m.Ticker.objects.get(source=source, product="BTCBRL")
    assert ticker.low <= ticker.last <= ticker.high
    price = m.DailyPrice.objects.get(source=source, coin="BTC", quote="BRL")
    assert price.price == ticker.last and price.date == timezone.now().date()
    assert m.DailyPrice.objects.filter(source=source, coin="ETH", quote="BTC").exists()


def test_the_products_and_depth_options_narrow_the_poll(team: Team, simulator: SimulatorServer) -> None:
    source = flowbtc_source(team, simulator, products="btcbrl, LTCBRL", depth="3")

    assert source_poll(source_id=source.pk).ok  # type: ignore[union-attr]

    books = {b.product: b for b in m.OrderBook.objects.filter(source=source)}
    assert set(books) == {"BTCBRL", "LTCBRL"}
    assert len(books["LTCBRL"].asks) == 3


def test_an_unknown_product_fails_the_poll_with_the_reason_and_stops_retrying(
        team: Team, simulator: SimulatorServer) -> None:
    source = flowbtc_source(team, simulator, products="DOGEBRL")

    run = source_poll(source_id=source.pk)

    assert run is not None and not run.ok
    assert "DOGEBRL" in run.message and "BTCBRL" in run.message
    source.refresh_from_db()
    assert source.error_is_permanent


@pytest.mark.parametrize("fault", ["http_500", "malformed_json"])
def test_an_upstream_fault_keeps_what_was_stored(team: Team, simulator: SimulatorServer, fault: str) -> None:
    source = flowbtc_source(team, simulator, products="BTCBRL")
    assert source_poll(source_id=source.pk).ok  # type: ignore[union-attr]
    before = m.Ticker.objects.get(source=source, product="BTCBRL")

    simulator.simulator.set_fault("flowbtc", fault)
    try:
        run = source_poll(source_id=source.pk)
    finally:
        simulator.simulator.set_fault("flowbtc", None)

    assert run is not None and not run.ok and run.message
    source.refresh_from_db()
    assert not source.error_is_permanent
    assert m.Ticker.objects.get(source=source, product="BTCBRL").last == before.last


def test_a_login_needs_both_halves(team: Team) -> None:
    from dashboard.sources import get_kind

    flowbtc = get_kind("flowbtc")
    assert flowbtc.credential_problems({}) == []
    assert flowbtc.credential_problems({"username": "u", "password": "p"}) == []
    assert flowbtc.credential_problems({"username": "u"}) == ["username needs password as well"]
