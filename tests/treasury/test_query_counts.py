"""The overview's profitability section and the Earnings page read a fixed number of queries
whatever the number of sources and days: each source or day more is rows, not round trips."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.models import Team
from pools.models import Payout
from tests.conftest import client_for
from tests.treasury.helpers import earn, flowbtc_with_book, hours, pool, price

pytestmark = pytest.mark.django_db
TH = 1e12


def farms(team: Team, *, sources: int, days: int, first: int = 0) -> None:
    """`sources` pools counting energy from their hashrate, each with `days` of earnings,
    prices and hourly roll-ups; half of them with their own electricity price."""
    exchange = flowbtc_with_book(team)
    today = timezone.now().date()
    for index in range(first, first + sources):
        options = {"efficiency_j_per_th": "20"}
        if index % 2:
            options |= {"electricity_price": "0.50", "electricity_currency": "BRL"}
        farm = pool(team, f"Farm {index:02d}", **options)
        for n in range(days):
            day = today - timedelta(days=n)
            earn(farm, day, "0.001")
            price(exchange, day, "300000")
            hours(farm, day, (100 + index) * TH, count=4)


def queries_for(user, url: str) -> int:
    client = client_for(user)
    client.get(url)  # the session and the team's first read are not the page's
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/", "/earnings/?range=30d", "/earnings/?range=30d&page=2"])
def test_pages_read_a_fixed_number_of_queries_whatever_the_sources_and_days(alice, team, url) -> None:
    team.electricity_price, team.electricity_currency = 0.62, "BRL"
    team.save()
    farms(team, sources=2, days=3)
    small = queries_for(alice, url)
    farms(team, sources=6, days=12, first=2)
    assert queries_for(alice, url) == small


def test_the_earnings_table_is_paged_and_the_csv_keeps_every_row(alice, team) -> None:
    farms(team, sources=3, days=40)  # 120 rows: three pages of the per-day table
    client = client_for(alice)
    first = client.get("/earnings/?range=90d")
    assert first.context["rows_page"].paginator.count == 120
    body = first.content.decode()
    assert body.count('data-label="Amount"') == 50
    assert "Rows 1–50 of 120" in body and "range=90d&amp;page=2#per-day" in body
    second = client.get("/earnings/?range=90d&page=3")
    body = second.content.decode()
    assert body.count('data-label="Amount"') == 20 and "Rows 101–120 of 120" in body
    # The totals still count every row, not the page's.
    assert second.context["earning_totals"] == {"BTC": Decimal("0.120")}
    lines = b"".join(client.get("/earnings/earnings.csv?range=90d").streaming_content).decode().splitlines()
    assert len(lines) == 1 + 120


def test_the_payouts_table_is_paged_and_its_total_counts_every_payout(alice, team) -> None:
    farm = pool(team, "Paying farm")
    now = timezone.now()
    Payout.objects.bulk_create(
        Payout(source=farm, key=f"p{n}", tx=f"{n:064x}", paid_at=now - timedelta(hours=n), coin="BTC",
               amount=Decimal("0.01"), address="bc1qpayouttestaddress")
        for n in range(60))
    client = client_for(alice)
    body = client.get("/earnings/?range=30d").content.decode()
    assert body.count('data-label="Paid"') == 50
    assert "Payouts 1–50 of 60" in body and "range=30d&amp;payouts_page=2#payouts" in body
    second = client.get("/earnings/?range=30d&payouts_page=2")
    assert second.content.decode().count('data-label="Paid"') == 10
    assert second.context["payout_totals"] == {"BTC": Decimal("0.60")}
