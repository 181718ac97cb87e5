"""GET /api/v1/treasury/quote, /api/v1/treasury/routes and /api/v1/profitability."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.utils import timezone

from dashboard.services import apitoken_create
from exchanges import live
from exchanges.clients.exchanger_base import ExchangeRate
from exchanges.clients.flowbtc_models import OrderBook
from tests.treasury.helpers import earn, exchanger_with_rates, flowbtc_with_book, hours, pool, price
from tests.treasury.test_profitability import DAY, TH

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, team):
    token = apitoken_create(team=team, name="script")[1]
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


@pytest.fixture
def flowbtc(team):
    return flowbtc_with_book(team, bids=[(D(300000), D(1)), (D(299000), D(1))],
                             asks=[(D(301000), D("0.5")), (D(302000), D(2))])


def test_a_sale_quote_walks_the_bids(api, flowbtc) -> None:
    body = api.get(f"/api/v1/treasury/quote?source={flowbtc.pk}&product=BTCBRL&side=sell&amount=1.5").json()
    # 300,000 + 0.5 * 299,000 = 449,500; average 299,666.67; slippage 0.1111%.
    assert body["amount"] == "1.5" and body["filled"] == "1.5" and body["unfilled"] == "0"
    assert body["proceeds"] == "449500" and body["worst_price"] == "299000"
    assert D(body["average_price"]).quantize(D("0.01")) == D("299666.67")
    assert body["slippage_pct"] == "0.1111"
    assert body["as_of"].endswith("Z") and body["live"] is False


def test_a_purchase_quote_walks_the_asks_and_says_what_was_left(api, flowbtc) -> None:
    body = api.get(f"/api/v1/treasury/quote?source={flowbtc.pk}&product=btcbrl&side=buy&amount=3").json()
    assert body["filled"] == "2.5" and body["unfilled"] == "0.5" and body["complete"] is False
    assert body["proceeds"] == "754500"  # 0.5 * 301,000 + 2 * 302,000


@pytest.mark.parametrize(("query", "status", "message"), [
    ("product=BTCBRL&amount=-1", 400, "more than zero"),
    ("product=BTCBRL&amount=lots", 400, "must be a number"),
    ("product=BTCBRL&amount=NaN", 400, "must be a number"),
    ("product=BTCBRL", 400, "must be a number"),
    ("product=DOGEBRL&amount=1", 400, "unknown product 'DOGEBRL'"),
    ("product=ETHBRL&amount=1", 404, "no order book for ETHBRL"),
    ("product=BTCBRL&amount=1&side=hold", 400, "side must be sell or buy"),
])
def test_bad_quote_input_gets_the_reason(api, flowbtc, query, status, message) -> None:
    response = api.get(f"/api/v1/treasury/quote?source={flowbtc.pk}&{query}")
    assert response.status_code == status and message in response.json()["error"]


def test_a_quote_from_another_kind_or_team_is_refused(api, source, charlie_source) -> None:
    response = api.get(f"/api/v1/treasury/quote?source={source.pk}&product=BTCBRL&amount=1")
    assert response.status_code == 400 and "not a FlowBTC source" in response.json()["error"]
    assert api.get(f"/api/v1/treasury/quote?source={charlie_source.pk}&product=BTCBRL&amount=1"
                   ).status_code == 404


def test_routes_come_best_first_with_their_reasons(api, team, flowbtc) -> None:
    exchanger_with_rates(team, [ExchangeRate("BTC", "BRL", D(1), D(310000), D(200000))])
    body = api.get("/api/v1/treasury/routes?coin=btc&amount=0.5").json()
    first, second = body["results"]
    assert first == {**first, "via": "btcchange24", "to": "BRL", "receive": "155000", "possible": True,
                     "reason": "", "rate": "310000"}
    assert second["via"] == "flowbtc" and second["receive"] == "150000"
    big = api.get("/api/v1/treasury/routes?coin=BTC&amount=1").json()["results"]
    assert big[-1]["possible"] is False and big[-1]["reason"] == "more than the reserve of 200,000 BRL"
    assert api.get("/api/v1/treasury/routes?coin=BTC&amount=0").status_code == 400
    assert api.get("/api/v1/treasury/routes?amount=1").status_code == 400


def test_profitability_per_day(api, team) -> None:
    farm = pool(team, efficiency_j_per_th="20", electricity_price="0.10", electricity_currency="USD")
    earn(farm, DAY, "0.0005")
    price(farm, DAY, "90000", quote="USD")
    hours(farm, DAY, 100 * TH)
    body = api.get(f"/api/v1/profitability?source={farm.pk}&start=2026-11-01&end=2026-11-30").json()
    assert body["results"] == [{
        "date": "2026-11-10", "coin": "BTC", "revenue_coin": "0.0005", "revenue_fiat": "45",
        "currency": "USD", "energy_kwh": "48", "energy_cost": "4.8", "electricity_currency": "USD",
        "profit": "40.2", "margin_pct": "89.3", "hashprice": "0.000005", "hashprice_fiat": "0.45",
        "breakeven_electricity_price": "0.9375", "breakeven_coin_price": "9600", "why": None}]


def test_profitability_refuses_bad_input(api, team, charlie_source) -> None:
    flowbtc = flowbtc_with_book(team, bids=[(D(1), D(1))])
    farm = pool(team)
    assert api.get(f"/api/v1/profitability?source={flowbtc.pk}").status_code == 400
    assert api.get(f"/api/v1/profitability?source={charlie_source.pk}").status_code == 404
    bad = api.get(f"/api/v1/profitability?source={farm.pk}&start=yesterday")
    assert bad.status_code == 400 and "date" in bad.json()["error"]
    backwards = f"/api/v1/profitability?source={farm.pk}&start=2026-11-02&end=2026-11-01"
    assert api.get(backwards).status_code == 400


def test_without_a_token_the_endpoints_answer_401(client, flowbtc) -> None:
    for path in ("/api/v1/treasury/quote", "/api/v1/treasury/routes", "/api/v1/profitability"):
        assert client.get(path).status_code == 401


def test_a_quote_reads_the_live_book_while_the_stream_runs(api, flowbtc) -> None:
    now = timezone.now()
    live.book_publish(source_id=flowbtc.pk, now=now, book=OrderBook(
        "BTCBRL", [(D(305000), D(5))], [(D(306000), D(5))], now))
    body = api.get(f"/api/v1/treasury/quote?source={flowbtc.pk}&product=BTCBRL&amount=1").json()
    assert body["live"] is True and body["proceeds"] == "305000"
