"""Budget 9: the rules of a 30,000-worker source evaluated after a poll in at most 1 s, and
of a 100,000-worker one too.

The farm is the benches' usual one (racks of 500, about 8 % of the workers offline or dead,
so some 2,400 alerts), watched by the recommended rules plus a workers-online floor, with
an in-app channel. Three moments of an outage's life are timed: the poll that first sees
the workers down (2,400 alerts start pending), the poll ten minutes later that fires them
all (one grouped message), and a steady poll after that (nothing new to say).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from alerts.evaluation import team_evaluate
from alerts.models import Alert, AlertState, Channel, Delivery
from alerts.rules import rule_create, rules_add_recommended
from dashboard.models import Source, Team
from dashboard.services import source_create
from pools.ingest import pool_snapshot_ingest
from tests.bench.conftest import committed, fleet, report_durations, timed
from tests.bench.test_ingest import snapshot

pytestmark = pytest.mark.bench

WORKERS = 30_000
HUGE = 100_000
RUNS = {WORKERS: 5, HUGE: 3}  # each run stores three polls of the farm first
BUDGET_SECONDS = 1.0
START = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def poll(source: Source, at: datetime, workers: list) -> None:
    committed(partial(pool_snapshot_ingest, source=source, snapshot=snapshot(workers, at), now=at))
    Source.objects.filter(pk=source.pk).update(last_poll_at=at, last_success_at=at)


def evaluate_after_poll(team: Team, source: Source, workers: list, minute: int) -> float:
    at = START + timedelta(minutes=minute)
    poll(source, at, workers)
    _, seconds = timed(partial(team_evaluate, team=team, now=at))
    return seconds


@pytest.mark.parametrize("size", [WORKERS, HUGE])
def test_alert_evaluation_after_a_big_poll(transactional_db: None, size: int) -> None:
    first, firing, steady = [], [], []
    for run in range(RUNS[size]):
        team = Team.objects.create(name=f"Bench alerts {run}", slug=f"bench-alerts-{size}-{run}")
        source = source_create(team=team, kind="btccom", label="Big farm",
                               credentials={"access_key": "bench", "puid": "1"})
        Channel.objects.create(team=team, kind="in_app", label="Inbox")
        rules_add_recommended(team=team)
        rule_create(team=team, kind="workers_online_below", source=source, threshold=size - 1000)
        workers = fleet(size, at=START, seed=7 + run)
        down = sum(w.status != "online" for w in workers)

        first.append(evaluate_after_poll(team, source, workers, 0))
        assert Alert.objects.filter(team=team, state=AlertState.PENDING).count() == down + 1
        firing.append(evaluate_after_poll(team, source, workers, 15))
        assert Alert.objects.filter(team=team, state=AlertState.FIRING).count() >= down
        assert Delivery.objects.filter(team=team, kind="firing").count() == 1
        steady.append(evaluate_after_poll(team, source, workers, 16))
        assert Delivery.objects.filter(team=team).count() == 1
    what, alerts = f"alerts after a {size:,}-worker poll", f"{round(down, -2):,}"
    report_durations(9, f"{what}: {alerts} start", first, unit="s", limit=BUDGET_SECONDS)
    report_durations(9, f"{what}: {alerts} fire", firing, unit="s", limit=BUDGET_SECONDS)
    report_durations(9, f"{what}: steady", steady, unit="s", limit=BUDGET_SECONDS)
