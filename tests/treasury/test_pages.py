"""Profitability on the Earnings page, its CSV and the overview; the Treasury page, its
"what if I sell" answer and the amounts held elsewhere."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from dashboard.models import AuditEvent
from pools.models import Balance
from tests.conftest import client_for
from tests.treasury.helpers import earn, flowbtc_with_book, hours, pool, price
from treasury.models import HeldCoin

pytestmark = pytest.mark.django_db
TH = 1e12


@pytest.fixture
def farm(team):
    """Yesterday fully known; the day before without a price."""
    farm = pool(team, efficiency_j_per_th="20", electricity_price="0.50", electricity_currency="BRL")
    yesterday = timezone.now().date() - timedelta(days=1)
    earn(farm, yesterday, "0.001")
    earn(farm, yesterday - timedelta(days=1), "0.001")
    price(farm, yesterday, "300000")
    hours(farm, yesterday, 100 * TH)
    hours(farm, yesterday - timedelta(days=1), 100 * TH)
    return farm


def test_the_earnings_page_shows_profitability_and_why_a_day_is_unknown(alice, farm) -> None:
    body = client_for(alice).get("/earnings/").content.decode()
    assert 'id="profitability"' in body and "chart-profit-BRL" in body
    # 48 kWh at 0.50 = R$ 24.00; 300.00 - 24.00 = 276.00
    assert "R$\xa0276.00" in body and "48.0 kWh" in body
    assert "No BRL price for BTC was recorded" in body


def test_the_earnings_page_tells_how_to_set_power(alice, team) -> None:
    bare = pool(team)
    earn(bare, timezone.now().date(), "0.001")
    body = client_for(alice).get("/earnings/").content.decode()
    assert "power_kw" in body and "efficiency_j_per_th" in body and "chart-profit" not in body


def test_the_earnings_csv_carries_the_profit_columns(alice, farm) -> None:
    response = client_for(alice).get("/earnings/earnings.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    newest, older = rows
    assert newest["energy_kwh"] == "48" and newest["energy_cost"] == "24"
    assert newest["profit"] == "276" and newest["revenue_currency"] == "BRL"
    assert newest["hashprice_coin_per_th_day"] == "0.00001"
    assert older["profit"] == "" and "No BRL price" in older["profit_note"]
    # The pools' own columns keep their places for scripts that read them by position.
    assert list(rows[0])[:6] == ["date", "source", "coin", "amount", "value_brl", "value_usd"]


def test_the_earnings_csv_keeps_its_columns_where_no_power_is_set(alice, team) -> None:
    earn(pool(team), timezone.now().date(), "0.001")
    response = client_for(alice).get("/earnings/earnings.csv")
    header = b"".join(response.streaming_content).decode().splitlines()[0]
    assert header == "date,source,coin,amount,value_brl,value_usd"


def test_the_overview_shows_the_latest_day_and_30_days(alice, farm) -> None:
    body = client_for(alice).get("/").content.decode()
    assert "Profit, 30 days, BRL" in body and "R$\xa0276.00" in body
    assert "1 source-day unknown" in body


def test_the_treasury_page_values_balances_three_ways(alice, team, farm) -> None:
    Balance.objects.create(source=farm, coin="BTC", unpaid=D("0.5"), updated_at=timezone.now())
    HeldCoin.objects.create(team=team, coin="BTC", amount=D("1"), note="cold wallet")
    flowbtc_with_book(team, bids=[(D(300000), D(1)), (D(290000), D(1))])
    price(farm, timezone.now().date(), "310000")
    body = client_for(alice).get("/treasury/").content.decode()
    assert "1.5" in body and "cold wallet" in body
    assert "R$\xa0465,000.00" in body  # 1.5 * 310,000 at the last price
    assert "R$\xa0445,000.00" in body  # 300,000 + 0.5 * 290,000 from the book


def test_the_sell_box_answers_with_routes_or_a_clear_message(alice, team) -> None:
    flowbtc_with_book(team, bids=[(D(300000), D(1))])
    client = client_for(alice)
    body = client.get("/treasury/sell/?coin=BTC&amount=0.5", HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith('<div id="sell-result"') and "BTCBRL sell" in body
    assert "150,000.00" in body
    bad = client.get("/treasury/sell/?coin=BTC&amount=-2", HTTP_HX_REQUEST="true").content.decode()
    assert "the amount must be more than zero" in bad


def test_an_admin_sets_and_removes_an_amount_held_elsewhere(carol, team) -> None:
    client = client_for(carol)
    client.post("/treasury/held/", {"coin": "btc", "amount": "2.5", "note": "Ledger"})
    held = HeldCoin.objects.get(team=team)
    assert held.coin == "BTC" and held.amount == D("2.5")
    assert AuditEvent.objects.filter(team=team, action="treasury.held_set").exists()
    response = client.post("/treasury/held/", {"coin": "BTC", "amount": "lots"}, follow=True)
    assert "Nothing saved" in response.content.decode()
    assert HeldCoin.objects.get(team=team).amount == D("2.5")
    client.post("/treasury/held/", {"coin": "BTC", "amount": "0"})
    assert not HeldCoin.objects.filter(team=team).exists()
