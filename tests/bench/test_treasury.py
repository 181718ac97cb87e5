"""Profitability on the overview (budget 4: p95 <= 200 ms with 50 sources) and, for
context, on the Earnings page and in the routes of /api/v1: 50 pool sources that count
energy from their hashrate, each with 30 days of earnings, prices and hourly roll-ups."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from dashboard import registries
from dashboard.models import Membership, Role, Team
from dashboard.services import source_create
from exchanges.models import DailyPrice
from pools.models import ACCOUNT, DailyEarning, HashrateHourly
from tests.bench.conftest import TERA, report_durations
from tests.bench.test_pages import time_page
from tests.treasury.helpers import flowbtc_with_book

pytestmark = pytest.mark.bench

SOURCES, DAYS, RUNS = 50, 30, 20
OVERVIEW_MS = 200.0


@pytest.fixture(scope="module")
def bench_user(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[User]:
    with django_db_blocker.unblock():
        user = User.objects.create_user("bench", "bench@example.com", "bench-password")
        team = Team.objects.create(name="Bench Mining", slug="bench-mining",
                                   electricity_price=Decimal("0.62"), electricity_currency="BRL")
        Membership.objects.create(team=team, user=user, role=Role.OWNER)
        today = timezone.now().date()
        levels = [(Decimal(330000 - n * 50), Decimal("0.3")) for n in range(50)]
        flowbtc = flowbtc_with_book(team, bids=levels)
        DailyPrice.objects.bulk_create([
            DailyPrice(source=flowbtc, coin="BTC", quote="BRL", date=today - timedelta(days=n),
                       price=Decimal(330000 - n * 500), as_of=timezone.now()) for n in range(DAYS + 1)])
        for index in range(SOURCES):
            source = source_create(team=team, kind="btcpoolkz", label=f"Farm {index:02d}",
                                   credentials={"api_key": f"k{index}"},
                                   options={"efficiency_j_per_th": "21.5"})
            DailyEarning.objects.bulk_create([
                DailyEarning(source=source, date=today - timedelta(days=n), coin="BTC",
                             amount=Decimal("0.0021")) for n in range(DAYS)])
            start = datetime.combine(today - timedelta(days=DAYS - 1), time(0), tzinfo=UTC)
            HashrateHourly.objects.bulk_create([
                HashrateHourly(source=source, worker_name=ACCOUNT, bucket=start + timedelta(hours=h),
                               hashrate_avg=(500 + index) * TERA, hashrate_min=0, hashrate_max=0, samples=60)
                for h in range(DAYS * 24)])
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE pools_dailyearning, pools_hashratehourly, exchanges_dailyprice")
        yield user
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def signed_in(db: None, bench_user: User) -> Client:
    client = Client()
    client.force_login(bench_user)
    return client


def test_overview_with_profitability(signed_in: Client) -> None:
    seconds, response = time_page(signed_in, "/", runs=RUNS)
    assert response.context["profit_month"][0].days == SOURCES * DAYS
    report_durations(4, f"overview with profitability, {SOURCES} sources", seconds, unit="ms",
                     limit=OVERVIEW_MS)


def test_earnings_with_profitability(signed_in: Client) -> None:
    seconds, response = time_page(signed_in, "/earnings/?range=30d", runs=RUNS)
    assert response.context["profit_row_count"] == SOURCES * DAYS
    report_durations(4, f"earnings with profitability, {SOURCES} sources x {DAYS} days", seconds,
                     unit="ms")


def test_sale_routes(signed_in: Client) -> None:
    seconds, response = time_page(signed_in, "/api/v1/treasury/routes?coin=BTC&amount=5", runs=RUNS)
    assert response.json()["results"][0]["possible"] is True
    report_durations(4, "routes for 5 BTC through a 50-level book", seconds, unit="ms")


def test_overview_without_profitability_for_comparison(signed_in: Client) -> None:
    """The same page without the section: the difference is what profitability costs."""
    section = registries.OVERVIEW_SECTIONS.pop("profitability")
    try:
        seconds, _ = time_page(signed_in, "/", runs=RUNS)
    finally:
        registries.overview_section_register(section)
    report_durations(4, f"overview without profitability, {SOURCES} sources (same data)", seconds, unit="ms")
