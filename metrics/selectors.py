"""Reads for /metrics: a team's whole store in a handful of queries, whatever its number of
sources (one query per table, never one per source), and the app's own queue lengths."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import redis
from django.conf import settings
from django.db.models import Count, OuterRef, Subquery
from redis.exceptions import RedisError

from alerts.models import Alert, AlertState, RuleKind
from dashboard.models import Source, Team
from dashboard.sources import REGISTRY
from exchanges import live
from exchanges.models import ExchangerRate, Ticker
from exchanges.sources import FLOWBTC
from metrics.models import SourcePollCount
from pools.models import ACCOUNT, Balance, HashrateSample, PoolAccount, Worker, WorkerStatus

PER_WORKER_OPTION = "metrics_per_worker"
# Kombu's Redis transport keeps a queue's messages of priority 0 under the queue's name and
# those of the other priority steps under name + separator + step.
KOMBU_PRIORITY_STEPS = (0, 3, 6, 9)
KOMBU_PRIORITY_SEPARATOR = "\x06\x16"


@dataclass
class TeamStore:
    """Everything a scrape of one team reports, read once."""

    team: Team
    sources: list[Source]
    # The averaging window of each pool source's latest account reading ("1m", "10m").
    account_windows: dict[int, str] = field(default_factory=dict)
    poll_counts: dict[int, SourcePollCount] = field(default_factory=dict)
    accounts: dict[int, PoolAccount] = field(default_factory=dict)
    workers_by_status: dict[int, dict[str, int]] = field(default_factory=dict)
    # (source id, worker name, H/s) of the sources whose per-worker option is on.
    worker_rates: list[tuple[int, str, float]] = field(default_factory=list)
    balances: list[Balance] = field(default_factory=list)
    tickers: list[Ticker] = field(default_factory=list)
    exchanger_rates: list[ExchangerRate] = field(default_factory=list)
    # Source id -> the stream's own report; None when the live layer could not be read.
    stream_statuses: dict[int, dict[str, Any]] | None = None
    stream_source_ids: list[int] = field(default_factory=list)
    alerts_firing: dict[str, int] = field(default_factory=dict)


def category(source: Source) -> str:
    spec = REGISTRY.get(source.kind)
    return spec.category if spec else ""


def per_worker(source: Source) -> bool:
    return str(source.options.get(PER_WORKER_OPTION, "")).lower() == "on"


def team_store_read(*, team: Team) -> TeamStore:
    latest_window = (HashrateSample.objects.filter(source=OuterRef("pk"), worker_name=ACCOUNT)
                     .order_by("-at").values("avg_window")[:1])
    sources: list[Source] = list(Source.objects.filter(team=team)
                                 .annotate(account_window=Subquery(latest_window)).order_by("label", "id"))
    store = TeamStore(team=team, sources=sources)
    if not sources:
        return store
    ids = [source.pk for source in sources]
    pool_sources = [source for source in sources if category(source) == "pool"]
    pools = [source.pk for source in pool_sources]
    exchanges = [source.pk for source in sources if category(source) == "exchange"]
    store.account_windows = {source.pk: source.account_window or ""  # type: ignore[attr-defined]
                             for source in pool_sources}
    store.poll_counts = {row.source_id: row for row in SourcePollCount.objects.filter(source_id__in=ids)}
    if pools:
        store.accounts = {row.source_id: row for row in PoolAccount.objects.filter(source_id__in=pools)}
        store.workers_by_status = workers_by_status(source_ids=pools)
        store.balances = list(Balance.objects.filter(source_id__in=pools).order_by("source_id", "coin"))
        detailed = [source.pk for source in pool_sources if per_worker(source)]
        if detailed:
            store.worker_rates = list(
                Worker.objects.filter(source_id__in=detailed, missing_since__isnull=True)
                .order_by("source_id", "name").values_list("source_id", "name", "hashrate_hs"))
    if exchanges:
        store.tickers = list(Ticker.objects.filter(source_id__in=exchanges).order_by("source_id", "product"))
        store.exchanger_rates = list(ExchangerRate.objects.filter(source_id__in=exchanges).order_by(
            "source_id", "from_currency", "to_currency", "city"))
        store.stream_source_ids = [source.pk for source in sources if source.kind == FLOWBTC.kind]
        if store.stream_source_ids:
            statuses = live.stream_statuses(source_ids=store.stream_source_ids)
            # With the cache away no stream can be seen: say nothing rather than "down".
            store.stream_statuses = None if live.feed_unavailable() else statuses
    store.alerts_firing = alerts_firing_by_kind(team=team)
    return store


def workers_by_status(*, source_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Workers the pool still lists, per source and status; every status present, 0 or not,
    so that a rule on "offline" has a series to watch before the first worker drops."""
    counts: dict[int, dict[str, int]] = {pk: dict.fromkeys(WorkerStatus.values, 0) for pk in source_ids}
    rows = (Worker.objects.filter(source_id__in=list(counts), missing_since__isnull=True)
            .order_by().values("source_id", "status").annotate(n=Count("pk")))
    for row in rows:
        counts[row["source_id"]][row["status"]] = row["n"]
    return counts


def alerts_firing_by_kind(*, team: Team) -> dict[str, int]:
    counts = dict.fromkeys(RuleKind.values, 0)
    rows = (Alert.objects.filter(team=team, state=AlertState.FIRING).order_by()
            .values("rule__kind").annotate(n=Count("pk")))
    for row in rows:
        counts[row["rule__kind"]] = row["n"]
    return counts


@dataclass(frozen=True)
class QueueLengths:
    """Messages waiting per Celery queue; `reachable` False when Redis did not answer, and
    None when the broker is not Redis at all (the quick start's filesystem broker)."""

    reachable: bool | None
    lengths: dict[str, int] = field(default_factory=dict)


@cache
def broker_client(url: str) -> redis.Redis:
    # Short timeouts, as for the cache: a scrape with Redis away answers without the figure
    # after a moment instead of hanging until Prometheus gives up on it.
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


def queue_names() -> list[str]:
    return sorted({queue.name for queue in settings.CELERY_TASK_QUEUES})


def queue_key(name: str, priority: int) -> str:
    return name if not priority else f"{name}{KOMBU_PRIORITY_SEPARATOR}{priority}"


def celery_queue_lengths() -> QueueLengths:
    url = str(settings.CELERY_BROKER_URL or "")
    if not url.startswith(("redis://", "rediss://")):
        return QueueLengths(None)
    names = queue_names()
    try:
        pipeline = broker_client(url).pipeline(transaction=False)
        for name in names:
            for priority in KOMBU_PRIORITY_STEPS:
                pipeline.llen(queue_key(name, priority))
        answers = pipeline.execute()
    except (RedisError, OSError):
        return QueueLengths(False)
    steps = len(KOMBU_PRIORITY_STEPS)
    return QueueLengths(True, {name: sum(int(n) for n in answers[index * steps:(index + 1) * steps])
                               for index, name in enumerate(names)})
