"""Budget 2: ingest at least 20,000 worker samples a second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from dashboard.models import Source, Team
from dashboard.services import source_create
from pools import models as m
from pools.clients.base import HashrateSample, PoolSnapshot, WorkerCounts, WorkerState
from pools.ingest import pool_snapshot_ingest, worker_samples_upsert
from tests.bench.conftest import committed, fleet, report_rate, timed

pytestmark = pytest.mark.bench

WORKERS = 30_000
RUNS = 5
SAMPLES_PER_SECOND = 20_000
START = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def snapshot(workers: list[WorkerState], at: datetime) -> PoolSnapshot:
    total = sum(w.hashrate_hs for w in workers)
    online = sum(w.status == "online" for w in workers)
    return PoolSnapshot(
        fetched_at=at, hashrate_hs=total,
        hashrate_samples=[HashrateSample(at, "1m", total, f"{total / 1e15:.5f}", "P")],
        worker_counts=WorkerCounts(online, len(workers) - online, 0, len(workers)),
        workers=workers,
    )


@pytest.fixture
def pool(transactional_db: None) -> Source:
    team = Team.objects.create(name="Bench ingest", slug="bench-ingest")
    return source_create(team=team, kind="btccom", label="Ingest",
                         credentials={"access_key": "bench", "puid": "1"})


def test_worker_samples_upsert(pool: Source) -> None:
    workers = fleet(WORKERS, at=START)
    seconds = []
    for run in range(RUNS):
        at = START + timedelta(minutes=run)
        written, elapsed = timed(partial(
            committed, partial(worker_samples_upsert, source=pool, workers=workers, at=at)))
        assert written == WORKERS
        seconds.append(elapsed)
    assert m.HashrateSample.objects.filter(source=pool).count() == WORKERS * RUNS
    report_rate(2, "ingest: worker samples alone (COPY upsert)", WORKERS, seconds,
                limit=SAMPLES_PER_SECOND)


def test_pool_snapshot_ingest(pool: Source) -> None:
    """Not the budget itself, which counts samples: a poll's whole store step, per worker,
    is its row (inserted, then updated) and its sample."""
    workers = fleet(WORKERS, at=START)
    seconds = []
    for run in range(RUNS):
        at = START + timedelta(minutes=run)
        store = partial(pool_snapshot_ingest, source=pool, snapshot=snapshot(workers, at), now=at)
        counts, elapsed = timed(partial(committed, store))
        assert counts["workers"] == WORKERS
        assert counts["hashrate_samples"] == WORKERS + 1
        seconds.append(elapsed)
    assert m.Worker.objects.filter(source=pool).count() == WORKERS
    assert m.HashrateSample.objects.filter(source=pool).count() == (WORKERS + 1) * RUNS
    report_rate(2, "ingest: a poll's whole store step, per worker", WORKERS, seconds)
