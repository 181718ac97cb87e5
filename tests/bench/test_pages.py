"""Budgets 3 to 5: the workers page, the overview and a 30-day chart, through the test
Client as a signed-in owner, so middleware, templates and partials are all in the figure.

One team is seeded once for the module: 50 BTC.com sources with their account figures,
24 h of per-minute account samples and 30 days of hourly roll-ups each, and 30,000
workers on the first source with the samples of its last few polls, so the account series
has to be picked out of a table that is mostly worker samples, as on a live install.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from dashboard import bulk
from dashboard.models import Membership, Role, Source, Team
from dashboard.services import source_create
from pools import ingest
from pools import models as m
from pools.retention import ROLLUP_FIELDS, ROLLUP_UNIQUE
from tests.bench.conftest import TERA, fleet, report_durations, settle, timed

pytestmark = pytest.mark.bench

SOURCES = 50
WORKERS = 30_000
RUNS = 40
WARMUP = 3
WORKERS_MS, OVERVIEW_MS, CHART_MS, HASHRATE_PAGE_MS = 150.0, 200.0, 100.0, 200.0
MAX_CHART_POINTS = 1000
DAY_MINUTES = 24 * 60
MONTH_HOURS = 30 * 24
RECENT_POLLS = 10
TABLES = ["pools_worker", "pools_hashratesample", "pools_hashratehourly", "pools_poolaccount",
          "pools_balance", "dashboard_source"]


@dataclass(frozen=True)
class Seeded:
    user: User
    big: Source


def account_rate(index: int, minute: int) -> float:
    """A source's hashrate: its own size, with a slow daily swing."""
    return (500 + 40 * index) * TERA * (1 + 0.03 * math.sin(minute / 229 + index))


def seed_sources(team: Team, now: datetime) -> list[Source]:
    sources = [
        source_create(team=team, kind="btccom", label=f"Farm {i:02d}",
                      credentials={"access_key": f"bench-ak-{i}", "puid": str(1000 + i)})
        for i in range(SOURCES)
    ]
    # Polled a moment ago, so each source reads as healthy, as on a working install.
    Source.objects.filter(team=team).update(
        last_poll_at=now, last_success_at=now, next_poll_at=now + timedelta(minutes=1))
    return sources


def seed_accounts(sources: list[Source], now: datetime) -> None:
    m.PoolAccount.objects.bulk_create(
        m.PoolAccount(source=s, account_id=str(1000 + i), name=s.label, region="us",
                      hashrate_hs=account_rate(i, 0), hashrate_15m_hs=account_rate(i, 1),
                      hashrate_24h_hs=account_rate(i, 2), workers_online=500, workers_offline=5,
                      workers_dead=1, workers_total=506, updated_at=now)
        for i, s in enumerate(sources))
    m.Balance.objects.bulk_create(
        m.Balance(source=s, coin="BTC", unpaid=Decimal("0.01234567"), paid_total=Decimal("1.5"),
                  today=Decimal("0.0042"), yesterday=Decimal("0.0087"), updated_at=now)
        for s in sources)


def seed_series(sources: list[Source], now: datetime) -> None:
    """Per-minute account samples for the last day, hourly roll-ups for the last month."""
    minute = now.replace(second=0, microsecond=0)
    ingest.samples_upsert([
        ingest.sample_row(source=s, worker_name=m.ACCOUNT, at=minute - timedelta(minutes=k),
                          hashrate_hs=account_rate(i, k), avg_window="1m")
        for i, s in enumerate(sources) for k in range(DAY_MINUTES)
    ])
    hour = minute.replace(minute=0)
    bulk.upsert(m.HashrateHourly, [
        {"source_id": s.pk, "worker_name": m.ACCOUNT, "bucket": hour - timedelta(hours=k),
         "hashrate_avg": rate, "hashrate_min": rate * 0.97, "hashrate_max": rate * 1.03,
         "samples": 60}
        for i, s in enumerate(sources) for k in range(MONTH_HOURS + 1)
        for rate in [account_rate(i, k * 60)]
    ], unique=ROLLUP_UNIQUE, update=ROLLUP_FIELDS)


def seed_workers(source: Source, now: datetime, count: int = WORKERS) -> None:
    workers = fleet(count, at=now)
    ingest.workers_upsert(source=source, workers=workers, now=now)
    minute = now.replace(second=0, microsecond=0)
    for k in range(RECENT_POLLS):
        ingest.worker_samples_upsert(source=source, workers=workers,
                                     at=minute - timedelta(minutes=k))
    # One worker a rack that the pool stopped listing.
    m.Worker.objects.filter(source=source, name__endswith="-500").update(missing_since=now)


@pytest.fixture(scope="module")
def seeded(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[Seeded]:
    with django_db_blocker.unblock():
        now = timezone.now()
        user = User.objects.create_user("bench", "bench@example.com", "bench-password")
        team = Team.objects.create(name="Bench Mining", slug="bench-mining")
        Membership.objects.create(team=team, user=user, role=Role.OWNER)
        sources = seed_sources(team, now)
        seed_accounts(sources, now)
        seed_series(sources, now)
        seed_workers(sources[0], now)
        with connection.cursor() as cursor:
            # What autovacuum leaves on a live install: statistics, and the visibility map that
            # lets an index-only scan skip the table. Left to autovacuum itself, it would run
            # in the middle of the timed requests.
            cursor.execute(f"VACUUM ANALYZE {', '.join(TABLES)}")
        settle()
        yield Seeded(user, sources[0])
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def signed_in(db: None, seeded: Seeded) -> Client:
    client = Client()
    client.force_login(seeded.user)
    return client


def time_page(client: Client, url: str, *, runs: int = RUNS) -> tuple[list[float], HttpResponse]:
    """Seconds per request after a warm-up, and the last response."""
    for _ in range(WARMUP):
        client.get(url)
    seconds = []
    for _ in range(runs):
        response, elapsed = timed(lambda: client.get(url))
        assert response.status_code == 200, url
        seconds.append(elapsed)
    return seconds, response


def test_workers_filtered_sorted_paged(signed_in: Client) -> None:
    seconds, response = time_page(signed_in, "/workers/?status=online&sort=-hashrate&page=3")
    shown = response.context["workers_page"]
    assert shown.number == 3 and len(shown.object_list) == 50
    rates = [worker.hashrate_hs for worker in shown.object_list]
    assert rates == sorted(rates, reverse=True)
    report_durations(3, "workers: online, by hashrate desc, page 3", seconds, unit="ms",
                     limit=WORKERS_MS)


def test_workers_name_search(signed_in: Client) -> None:
    seconds, response = time_page(signed_in, "/workers/?q=bay17-4")
    assert "bay17-400" in {worker.name for worker in response.context["workers_page"].object_list}
    report_durations(3, "workers: name search", seconds, unit="ms", limit=WORKERS_MS)


def test_overview(signed_in: Client) -> None:
    seconds, response = time_page(signed_in, "/")
    assert len(response.context["summary"].rows) == SOURCES
    assert all(chart["has_data"] for chart in response.context["pool_charts"])
    report_durations(4, f"overview, {SOURCES} sources", seconds, unit="ms", limit=OVERVIEW_MS)


def test_30_day_chart(signed_in: Client, seeded: Seeded) -> None:
    seconds, response = time_page(signed_in, f"/hashrate/?source={seeded.big.pk}&range=30d")
    [chart] = response.context["charts"]
    [line] = chart["spec"]["datasets"]
    points = line["times"]
    assert MONTH_HOURS <= len(points) <= MAX_CHART_POINTS
    report_durations(5, f"hashrate page, one source, 30 days ({len(points)} points)", seconds,
                     unit="ms", limit=CHART_MS)


def test_hashrate_every_source(signed_in: Client) -> None:
    """The page's default view: every source's day and one total per coin, from one query."""
    seconds, response = time_page(signed_in, "/hashrate/")
    assert len(response.context["charts"]) == SOURCES
    [btc] = response.context["totals"]
    assert btc["coin"] == "BTC" and btc["sources"] == SOURCES and btc["has_data"]
    report_durations(5, f"hashrate page, all {SOURCES} sources, 24 h (default view)", seconds,
                     unit="ms", limit=HASHRATE_PAGE_MS)
