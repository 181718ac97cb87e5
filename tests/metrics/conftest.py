"""A team with one source of every kind and something stored for each, and how to scrape it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from alerts.models import Alert, AlertState, Rule, RuleKind
from dashboard.models import Source, Team
from dashboard.services import apitoken_create, source_create
from exchanges import live
from exchanges.models import ExchangerRate, Ticker
from pools import ingest
from pools.models import ACCOUNT, Balance, PoolAccount, Worker

TERA = 1e12


@dataclass
class Scrape:
    """A parsed /metrics answer: families by name, and samples found by name and labels."""

    text: str
    families: dict[str, object]
    samples: list[Sample]

    def find(self, name: str, **labels: str) -> list[Sample]:
        return [s for s in self.samples
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]

    def value(self, name: str, **labels: str) -> float:
        [sample] = self.find(name, **labels)
        return sample.value

    @property
    def sample_names(self) -> set[str]:
        return {sample.name for sample in self.samples}


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def scrape(token: str) -> Scrape:
    response = Client().get("/metrics", **bearer(token))
    assert response.status_code == 200, response.content
    text = response.content.decode()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    samples = [sample for family in families.values() for sample in family.samples]
    return Scrape(text, families, samples)


@pytest.fixture
def token(team: Team) -> str:
    return apitoken_create(team=team, name="prometheus")[1]


@dataclass
class Populated:
    now: datetime
    farm: Source  # btccom, fresh, per-worker metrics on
    kz: Source  # btcpoolkz LTC, stale
    market: Source  # flowbtc, with tickers and a live stream
    exchanger: Source  # btcchange24, with rates


def pool_account(source: Source, now: datetime, **figures: object) -> PoolAccount:
    return PoolAccount.objects.create(source=source, updated_at=now, **figures)


def workers(source: Source, now: datetime, statuses: dict[str, int], rate: float = 100 * TERA) -> None:
    Worker.objects.bulk_create([
        Worker(source=source, name=f"{status}-{i:02d}", status=status,
               hashrate_hs=rate if status == "online" else 0, first_seen_at=now, last_seen_at=now)
        for status, count in statuses.items() for i in range(count)
    ])


@pytest.fixture
def populated(team: Team) -> Populated:
    now = timezone.now()
    farm = source_create(team=team, kind="btccom", label="Alpha farm",
                         credentials={"access_key": "ak-alpha", "puid": "1001"},
                         options={"metrics_per_worker": "on"})
    kz = source_create(team=team, kind="btcpoolkz", label="KZ litecoin",
                       credentials={"api_key": "kz-key"}, options={"currency": "LTC"})
    market = source_create(team=team, kind="flowbtc", label="FlowBTC", credentials={})
    exchanger = source_create(team=team, kind="btcchange24", label="Exchanger",
                              credentials={}, options={"export_code": "abc"})
    Source.objects.filter(pk__in=[farm.pk, market.pk, exchanger.pk]).update(
        last_poll_at=now, last_success_at=now, last_duration_ms=1250)
    # Last answered four intervals ago: stale, though no poll failed.
    Source.objects.filter(pk=kz.pk).update(last_poll_at=now - timedelta(minutes=4),
                                           last_success_at=now - timedelta(minutes=4),
                                           last_duration_ms=800)

    pool_account(farm, now, hashrate_hs=125 * TERA, hashrate_15m_hs=120 * TERA, hashrate_24h_hs=118 * TERA)
    ingest.samples_upsert([ingest.sample_row(source=farm, worker_name=ACCOUNT, at=now, hashrate_hs=125 * TERA,
                                             avg_window="1m")])
    workers(farm, now, {"online": 3, "offline": 2, "dead": 1})
    # One the pool stopped listing: not counted under any status.
    Worker.objects.filter(source=farm, name="offline-01").update(missing_since=now)
    Balance.objects.create(source=farm, coin="BTC", unpaid=Decimal("0.01234567"),
                           paid_total=Decimal("1.5"), today=Decimal("0.0042"), updated_at=now)

    pool_account(kz, now, hashrate_hs=2.5e9, hashrate_24h_hs=2.4e9)
    ingest.samples_upsert([ingest.sample_row(source=kz, worker_name=ACCOUNT, at=now, hashrate_hs=2.5e9,
                                             avg_window="10m")])
    workers(kz, now, {"online": 2}, rate=1.25e9)
    Balance.objects.create(source=kz, coin="LTC", unpaid=Decimal("3.5"), paid_total=Decimal("40"),
                           updated_at=now)

    Ticker.objects.create(source=market, product="BTCBRL", last=Decimal("350000"), bid=Decimal("349900"),
                          ask=Decimal("350100"), high=Decimal("355000"), low=Decimal("340000"),
                          volume=Decimal("12.5"), as_of=now, updated_at=now)
    live.stream_status_publish(source_id=market.pk, status={
        "connected": True, "since": now.isoformat(), "last_event_at": now.isoformat(),
        "authenticated": False, "error": None, "products": ["BTCBRL"]})

    ExchangerRate.objects.create(source=exchanger, from_currency="BTC", to_currency="USDT",
                                 rate_in=Decimal("1"), rate_out=Decimal("64000"),
                                 reserve=Decimal("250000"), updated_at=now)

    rule = Rule.objects.create(team=team, kind=RuleKind.WORKER_OFFLINE, source=farm)
    for name in ("offline-00", "dead-00"):
        Alert.objects.create(team=team, rule=rule, source=farm, subject_key=f"worker:{name}", subject=name,
                             state=AlertState.FIRING, started_at=now)
    Alert.objects.create(team=team, rule=rule, source=farm, subject_key="worker:online-00",
                         subject="online-00", state=AlertState.RESOLVED, started_at=now, resolved_at=now)
    return Populated(now, farm, kz, market, exchanger)
