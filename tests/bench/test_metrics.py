"""Budget 13: a /metrics scrape of a team with 50 sources, through the test Client with a
bearer token, so authentication, the queries, the collectors and the encoding are all in it.

The team: 44 BTC.com accounts seeded as for the page budgets (account figures, a day of
per-minute samples, a month of hourly roll-ups, 30,000 workers on the first), 4 FlowBTC
sources with six tickers each and 2 exchangers with 40 directions each, and firing alerts.
A second row, for context, shows what per-worker series cost on the 30,000-worker farm.
Both again with 100,000 workers on the first farm.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from alerts.models import Alert, AlertState, Rule, RuleKind
from dashboard.models import Source, Team
from dashboard.services import apitoken_create, source_create
from exchanges.models import ExchangerRate, Ticker
from tests.bench.conftest import report_durations, timed
from tests.bench.test_pages import TABLES, WORKERS, seed_accounts, seed_series, seed_workers

pytestmark = pytest.mark.bench

POOLS, MARKETS, EXCHANGERS = 44, 4, 2
SOURCES = POOLS + MARKETS + EXCHANGERS
PRODUCTS = ("BTCBRL", "ETHBRL", "LTCBRL", "XRPBRL", "BCHBRL", "USDTBRL")
CURRENCIES = ("BTC", "ETH", "LTC", "USDT", "XMR", "TRX", "DOGE", "BCH")
RUNS, WARMUP = 40, 3
SCRAPE_MS = 200.0


HUGE = 100_000


@dataclass(frozen=True)
class Seeded:
    token: str
    farm: Source
    workers: int


def seed_exchanges(team: Team, now: object) -> list[Source]:
    markets = [source_create(team=team, kind="flowbtc", label=f"Market {i}", credentials={})
               for i in range(MARKETS)]
    exchangers = [source_create(team=team, kind="btcchange24", label=f"Exchanger {i}", credentials={},
                                options={"export_code": f"code{i}"}) for i in range(EXCHANGERS)]
    price = Decimal("350000")
    Ticker.objects.bulk_create(
        Ticker(source=s, product=p, last=price, bid=price - 50, ask=price + 50, high=price, low=price,
               volume=Decimal("12.5"), as_of=now, updated_at=now)
        for s in markets for p in PRODUCTS)
    ExchangerRate.objects.bulk_create(
        ExchangerRate(source=s, from_currency=a, to_currency=b, rate_in=Decimal(1), rate_out=Decimal("1.01"),
                      reserve=Decimal(1000), updated_at=now)
        for s in exchangers for a in CURRENCIES for b in CURRENCIES[:5] if a != b)
    return [*markets, *exchangers]


def seed_alerts(team: Team, sources: list[Source]) -> None:
    rule = Rule.objects.create(team=team, kind=RuleKind.WORKER_OFFLINE, source=sources[0])
    Alert.objects.bulk_create(
        Alert(team=team, rule=rule, source=sources[0], subject_key=f"worker:{i}", subject=str(i),
              state=AlertState.FIRING)
        for i in range(200))


@pytest.fixture(scope="module", params=[WORKERS, HUGE], ids=["30k", "100k"])
def seeded(request: pytest.FixtureRequest, django_db_setup: None,
           django_db_blocker: DjangoDbBlocker) -> Iterator[Seeded]:
    with django_db_blocker.unblock():
        now = timezone.now()
        team = Team.objects.create(name="Bench Metrics", slug="bench-metrics")
        pools = [source_create(team=team, kind="btccom", label=f"Farm {i:02d}",
                               credentials={"access_key": f"bench-ak-{i}", "puid": str(1000 + i)})
                 for i in range(POOLS)]
        seed_accounts(pools, now)
        seed_series(pools, now)
        seed_workers(pools[0], now, request.param)
        others = seed_exchanges(team, now)
        Source.objects.filter(team=team).update(
            last_poll_at=now, last_success_at=now, last_duration_ms=900,
            next_poll_at=now + timedelta(minutes=1))
        seed_alerts(team, pools)
        assert len(pools) + len(others) == SOURCES
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(TABLES)}, exchanges_ticker, exchanges_exchangerrate")
        _, token = apitoken_create(team=team, name="bench")
        yield Seeded(token, pools[0], request.param)
        call_command("flush", interactive=False, verbosity=0)


def time_scrape(token: str, runs: int = RUNS) -> tuple[list[float], bytes]:
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    for _ in range(WARMUP):
        client.get("/metrics", **headers)
    seconds = []
    for _ in range(runs):
        response, elapsed = timed(lambda: client.get("/metrics", **headers))
        assert response.status_code == 200
        seconds.append(elapsed)
    return seconds, response.content


def test_metrics_scrape(db: None, seeded: Seeded) -> None:
    seconds, body = time_scrape(seeded.token)
    assert body.count(b"hashwatch_source_up{") == SOURCES
    assert b"hashwatch_worker_hashrate_hashes_per_second{" not in body
    report_durations(13, f"/metrics scrape of {SOURCES} sources, {seeded.workers:,} workers", seconds,
                     unit="ms", limit=SCRAPE_MS)


def test_metrics_scrape_with_per_worker_series(db: None, seeded: Seeded) -> None:
    """Not a budget: what turning metrics_per_worker on for a 30,000-worker farm costs."""
    Source.objects.filter(pk=seeded.farm.pk).update(options={"metrics_per_worker": "on"})
    try:
        # Seconds a scrape at 100,000 workers: a few runs show what it costs.
        seconds, body = time_scrape(seeded.token, RUNS if seeded.workers == WORKERS else 5)
    finally:
        Source.objects.filter(pk=seeded.farm.pk).update(options={})
    series = body.count(b"hashwatch_worker_hashrate_hashes_per_second{")
    # The farm's workers less the ones the pool stopped listing (one a rack of 500).
    assert series == seeded.workers - seeded.workers // 500
    report_durations(13, f"/metrics + {series:,} per-worker series ({len(body) // 1024:,} KiB)",
                     seconds, unit="ms")
