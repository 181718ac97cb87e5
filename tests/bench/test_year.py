"""The page budgets again, once the tables hold a year of history.

The database is filled as a year of one-minute polls would leave it under pools/retention.py:
a 30,000-worker source and 50 smaller ones (20 workers each), with
    raw samples ...... the last 48 h per worker, the last 7 days for each account series,
    hourly roll-ups .. the last 90 days,        daily roll-ups .. the whole year,
a year of daily earnings and a payout every third day per source. Rows are made by the
database itself (INSERT ... SELECT generate_series), the only way to write tens of millions
of them in a bench's time.

Worker-level history of the big source is the one thing scaled down by default: every one of
its 30,000 workers is listed, but YEAR_WORKER_SERIES of them (3,000 unless the environment's
BENCH_YEAR_WORKERS says otherwise) carry samples and roll-ups. The full 30,000 is some
160 million rows and 25 GB, more than a shared machine should be asked for on every run;
the pages read one series or the account series through indexes, so their figures do not
depend on how many other series share the table, as `BENCH_YEAR_WORKERS=30000` shows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from dashboard.models import Membership, Role, Source, Team
from dashboard.services import source_create
from pools import ingest
from pools import models as m
from pools.retention import HOURLY, RAW_ACCOUNT, RAW_WORKER
from tests.bench.conftest import fleet, report_durations, settle, timed
from tests.bench.test_pages import seed_accounts, seed_sources

pytestmark = pytest.mark.bench

SMALL_SOURCES, SMALL_WORKERS, BIG_WORKERS = 50, 20, 30_000
YEAR_WORKER_SERIES = int(os.environ.get("BENCH_YEAR_WORKERS", "3000"))
YEAR = timedelta(days=365)
RUNS, WARMUP = 20, 3
PAGE_MS, CHART_MS, HASHRATE_PAGE_MS = 150.0, 100.0, 200.0
TABLES = ["pools_worker", "pools_hashratesample", "pools_hashratehourly", "pools_hashratedaily",
          "pools_dailyearning", "pools_payout", "pools_poolaccount", "pools_balance"]

# Every series the fill writes: the account's ("") of each source, and the workers' of the
# small sources and of the first YEAR_WORKER_SERIES workers of the big one.
SERIES = """
    SELECT id AS source_id, '' AS worker_name, id AS k FROM dashboard_source WHERE team_id = %(team)s
    UNION ALL
    SELECT w.source_id, w.name, w.id FROM pools_worker w
    JOIN dashboard_source s ON s.id = w.source_id
    WHERE s.team_id = %(team)s AND (w.source_id <> %(big)s OR w.id IN (
        SELECT id FROM pools_worker WHERE source_id = %(big)s ORDER BY name LIMIT %(big_series)s))
"""
# A rate per series with a slow daily swing, so roll-ups and charts have a shape to keep.
RATE = ("(CASE WHEN series.worker_name = '' THEN 5e16 ELSE 1.1e14 END)"
        " * (1 + 0.05 * sin(extract(epoch FROM t) / 13751 + series.k))")


@dataclass(frozen=True)
class Year:
    user: User
    big: Source
    worker: m.Worker


def fill(sql: str, **params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def fill_samples(team: Team, big: Source, now: datetime) -> None:
    """Raw samples: every minute of the last 48 h per worker, of the last 7 days per account."""
    # Only constants of this module are formatted into the SQL; values are parameters.
    fill(f"""
        INSERT INTO pools_hashratesample
            (source_id, worker_name, at, hashrate_hs, avg_window, raw_value, raw_unit, suspect)
        SELECT series.source_id, series.worker_name, t, {RATE}, '1m', '', '', false
        FROM ({SERIES}) series
        CROSS JOIN LATERAL generate_series(
            %(now)s - CASE WHEN series.worker_name = '' THEN %(account)s ELSE %(worker)s END,
            %(now)s, interval '1 minute') AS t
    """, team=team.pk, big=big.pk, big_series=YEAR_WORKER_SERIES, now=now, account=RAW_ACCOUNT,  # noqa: S608
        worker=RAW_WORKER)


def fill_rollups(team: Team, big: Source, now: datetime) -> None:
    """Hourly rows for the last 90 days, daily rows for the year, every series."""
    hour, day = now.replace(minute=0, second=0, microsecond=0), now.replace(
        hour=0, minute=0, second=0, microsecond=0)
    for table, since, last, step, samples in (
        ("pools_hashratehourly", hour - HOURLY, hour, "1 hour", 60),
        ("pools_hashratedaily", day - YEAR, day, "1 day", 1440),
    ):
        fill(f"""
            INSERT INTO {table}
                (source_id, worker_name, bucket, hashrate_avg, hashrate_min, hashrate_max, samples)
            SELECT series.source_id, series.worker_name, t, {RATE}, 0.97 * {RATE}, 1.03 * {RATE}, {samples}
            FROM ({SERIES}) series
            CROSS JOIN generate_series(%(since)s, %(last)s, interval '{step}') AS t
        """, team=team.pk, big=big.pk, big_series=YEAR_WORKER_SERIES, since=since, last=last)  # noqa: S608


def fill_earnings(team: Team, now: datetime) -> None:
    """A year of daily earnings per source, and a payout every third day."""
    today = now.date()
    fill("""
        INSERT INTO pools_dailyearning (source_id, date, coin, amount, extra)
        SELECT s.id, d::date, 'BTC', 0.004 + (s.id %% 7) / 1000.0, '{}'::jsonb
        FROM dashboard_source s
        CROSS JOIN generate_series(%(first)s::date, %(today)s::date, interval '1 day') d
        WHERE s.team_id = %(team)s
    """, team=team.pk, first=today - YEAR, today=today)
    fill("""
        INSERT INTO pools_payout (source_id, key, tx, paid_at, coin, amount, address)
        SELECT s.id, md5(s.id || '-' || d), md5(s.id || '-' || d), d, 'BTC', 0.012,
               'bc1qyearbenchpayoutaddressxxxxxxxxxxxxxxx'
        FROM dashboard_source s CROSS JOIN generate_series(%(first)s, %(now)s, interval '3 days') d
        WHERE s.team_id = %(team)s
    """, team=team.pk, first=now - YEAR, now=now)


@pytest.fixture(scope="module")
def year(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[Year]:
    with django_db_blocker.unblock():
        now = timezone.now().replace(second=0, microsecond=0)
        user = User.objects.create_user("year", "year@example.com", "bench-password")
        team = Team.objects.create(name="Year Mining", slug="year-mining")
        Membership.objects.create(team=team, user=user, role=Role.OWNER)
        sources = seed_sources(team, now)
        big = source_create(team=team, kind="btccom", label="30,000 workers",
                            credentials={"access_key": "year-ak", "puid": "999"})
        Source.objects.filter(pk=big.pk).update(last_poll_at=now, last_success_at=now,
                                                next_poll_at=now + timedelta(minutes=1))
        seed_accounts([big, *sources], now)
        ingest.workers_upsert(source=big, workers=fleet(BIG_WORKERS, at=now), now=now)
        for index, source in enumerate(sources):
            ingest.workers_upsert(source=source, workers=fleet(SMALL_WORKERS, at=now, seed=index),
                                  now=now)
        _, seconds = timed(lambda: (fill_samples(team, big, now), fill_rollups(team, big, now),
                                    fill_earnings(team, now)))
        with connection.cursor() as cursor:
            # What autovacuum leaves on a live install: statistics, and the visibility map
            # that lets an index-only scan skip the table.
            cursor.execute(f"VACUUM ANALYZE {', '.join(TABLES)}")
            cursor.execute("SELECT count(*) FROM pools_hashratesample")
            raw = cursor.fetchone()[0]
        settle()
        report_durations(10, f"year: fill ({raw:,} raw samples, {YEAR_WORKER_SERIES:,} big-farm series)",
                         [seconds], unit="s")
        worker = m.Worker.objects.filter(source=big).order_by("name").first()
        assert worker is not None
        yield Year(user, big, worker)
        call_command("flush", interactive=False, verbosity=0)
        settle()


@pytest.fixture
def signed_in(db: None, year: Year) -> Client:
    client = Client()
    client.force_login(year.user)
    return client


def time_get(client: Client, url: str) -> tuple[list[float], object]:
    for _ in range(WARMUP):
        client.get(url)
    seconds, response = [], None
    for _ in range(RUNS):
        response, elapsed = timed(lambda: client.get(url))
        assert response.status_code == 200, url
        seconds.append(elapsed)
    return seconds, response


def test_year_pages(signed_in: Client, year: Year) -> None:
    pages = [
        ("workers page: online, by hashrate desc, page 3", "/workers/?status=online&sort=-hashrate&page=3"),
        (f"overview, {SMALL_SOURCES + 1} sources", "/"),
        ("worker page, 24 h", f"/workers/{year.worker.pk}/"),
        ("earnings page, 30 days (default)", "/earnings/"),
        ("earnings page, 1 year", "/earnings/?range=1y"),
    ]
    for what, url in pages:
        seconds, _ = time_get(signed_in, url)
        report_durations(11, f"year: {what}", seconds, unit="ms", limit=PAGE_MS)


def test_year_earnings_csv(signed_in: Client) -> None:
    client = signed_in
    for _ in range(WARMUP):
        b"".join(client.get("/earnings/earnings.csv?range=1y").streaming_content)
    seconds = []
    for _ in range(RUNS):
        def download() -> bytes:
            return b"".join(client.get("/earnings/earnings.csv?range=1y").streaming_content)
        body, elapsed = timed(download)
        assert body.count(b"\n") == 1 + (SMALL_SOURCES + 1) * 365
        seconds.append(elapsed)
    report_durations(11, "year: earnings CSV, 1 year (18,616 rows)", seconds, unit="ms", limit=PAGE_MS)


def test_year_charts(signed_in: Client, year: Year) -> None:
    charts = [
        ("hashrate chart, big source, 30 days", f"/hashrate/?source={year.big.pk}&range=30d"),
        ("hashrate chart, big source, 1 year", f"/hashrate/?source={year.big.pk}&range=1y"),
        ("worker chart, 30 days", f"/workers/{year.worker.pk}/?range=30d"),
        ("worker chart, 1 year", f"/workers/{year.worker.pk}/?range=1y"),
    ]
    for what, url in charts:
        # The chart as the range picker fetches it: the HTMX fragment.
        for _ in range(WARMUP):
            signed_in.get(url, HTTP_HX_REQUEST="true")
        seconds = []
        for _ in range(RUNS):
            response, elapsed = timed(partial(signed_in.get, url, HTTP_HX_REQUEST="true"))
            assert response.status_code == 200 and b"data-spec" in response.content, url
            seconds.append(elapsed)
        report_durations(11, f"year: {what}", seconds, unit="ms", limit=CHART_MS)


def test_year_hashrate_page_all_sources(signed_in: Client) -> None:
    for what, url in (("24 h (default view)", "/hashrate/"), ("1 year", "/hashrate/?range=1y")):
        seconds, response = time_get(signed_in, url)
        assert len(response.context["charts"]) == SMALL_SOURCES + 1  # type: ignore[attr-defined]
        report_durations(11, f"year: hashrate page, all {SMALL_SOURCES + 1} sources, {what}",
                         seconds, unit="ms", limit=HASHRATE_PAGE_MS)
