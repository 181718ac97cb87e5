"""Demo mode's week of history: past polls through the product's own poll path, against the
simulator with its clock at each moment, then rolled up and pruned as retention does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Count, Max, Min
from django.utils import timezone

from dashboard.models import PollRun, Source
from exchanges.models import PartnerBalance
from pools.models import ACCOUNT, DailyEarning, HashrateHourly, HashrateSample, Payout
from pools.retention import RAW_WORKER, day_of
from simulator.demo import demo_setup
from simulator.demo_history import (
    BACKFILL_TRIGGER,
    COARSEST,
    FINEST,
    HISTORY,
    demo_history_fill,
    history_moments,
    step_within,
)
from tests.conftest import client_for
from tests.e2e.conftest import free_port

WEEK_STEP = timedelta(hours=12)  # coarse, so the test polls 20 moments, not hundreds


@pytest.fixture
def filled(db) -> dict:
    """The demo team with two of its sources (a BTC.com account and the exchanger partner;
    the others are disabled to keep the test short), filled with a week of history."""
    port = free_port()
    login = demo_setup(simulator_url=f"http://127.0.0.1:{port}")
    kept = Source.objects.filter(team=login.team, label__in=["BTC.com · alpha-mining",
                                                             "btcchange24 · partner"])
    Source.objects.filter(team=login.team).exclude(pk__in=kept).update(enabled=False)
    now = timezone.now()
    fill = demo_history_fill(team=login.team, simulator_port=port, now=now, step=WEEK_STEP)
    return {"login": login, "port": port, "now": now, "fill": fill,
            "pool": kept.get(kind="btccom"), "exchanger": kept.get(kind="btcchange24")}


def test_a_week_of_history_as_polls_and_retention_would_have_left_it(filled) -> None:
    """One fill, checked from every side (a fill takes a while, even at a coarse step)."""
    polled_through_the_normal_poll_path(filled)
    the_hashrate_endpoint_draws_a_week(filled)
    rolled_up_and_pruned_as_retention_does(filled)
    earnings_payouts_and_balances_stored(filled)
    past_polls_are_history_not_news(filled)


def polled_through_the_normal_poll_path(filled) -> None:
    fill, pool = filled["fill"], filled["pool"]
    runs = PollRun.objects.filter(source=pool)
    assert fill.failed == 0 and fill.polls == 2 * fill.moments
    assert runs.count() == fill.moments >= 18
    assert set(runs.values_list("trigger", "outcome").distinct()) == {(BACKFILL_TRIGGER, "ok")}
    span = runs.aggregate(first=Min("started_at"), last=Max("started_at"))
    assert span["first"] < filled["now"] - HISTORY + WEEK_STEP
    assert span["last"] == filled["now"]  # ending on the present: nothing looks stale
    pool.refresh_from_db()
    # The source polls live next, and its page says when the last (past) poll succeeded.
    assert pool.next_poll_at is None and pool.last_success_at is not None
    assert filled["now"] <= pool.last_success_at < filled["now"] + timedelta(minutes=1)


def the_hashrate_endpoint_draws_a_week(filled) -> None:
    pool, now = filled["pool"], filled["now"]
    api = client_for(filled["login"].team.memberships.get().user)
    week = api.get("/api/v1/hashrate", {"source": pool.pk, "start": (now - HISTORY).isoformat(),
                                        "end": now.isoformat()}).json()["series"]
    assert len(week) >= 18
    times = [datetime.fromisoformat(point["t"]) for point in week]
    assert max(times) - min(times) > timedelta(days=6)
    assert all(point["v"] > 1e15 for point in week)  # PH/s: a farm, not zeros

    day = api.get("/api/v1/hashrate", {"source": pool.pk, "start": (now - timedelta(hours=24)).isoformat(),
                                       "end": now.isoformat()}).json()["series"]
    assert len(day) >= 7  # the last day is polled four times as often


def rolled_up_and_pruned_as_retention_does(filled) -> None:
    pool, now = filled["pool"], filled["now"]
    worker_raw = HashrateSample.objects.filter(source=pool).exclude(worker_name=ACCOUNT)
    # Pruned by whole UTC days: nothing from a day that ended 48 hours ago or earlier.
    assert not worker_raw.filter(at__lt=day_of(now - RAW_WORKER)).exists()
    assert worker_raw.exists()
    # ... but each worker's hours before that live on as roll-ups, for its 7-day chart.
    old_hours = HashrateHourly.objects.filter(source=pool, bucket__lt=now - RAW_WORKER)
    per_worker = old_hours.exclude(worker_name=ACCOUNT).values("worker_name").annotate(n=Count("id"))
    assert len(per_worker) == 100 and min(row["n"] for row in per_worker) >= 8
    assert HashrateSample.objects.filter(source=pool, worker_name=ACCOUNT,
                                         at__lt=now - timedelta(days=5)).exists()


def earnings_payouts_and_balances_stored(filled) -> None:
    pool, exchanger, now = filled["pool"], filled["exchanger"], filled["now"]
    days = set(DailyEarning.objects.filter(source=pool).values_list("date", flat=True))
    assert {(now - timedelta(days=d)).date() for d in range(1, 7)} <= days
    assert Payout.objects.filter(source=pool, paid_at__gt=now - HISTORY).exists()
    balances = PartnerBalance.objects.filter(source=exchanger)
    assert balances.count() >= 18
    assert balances.aggregate(first=Min("at"))["first"] < now - timedelta(days=6)


def test_a_second_start_fills_only_the_gap_since_the_last_poll(filled) -> None:
    pool = filled["pool"]
    before = PollRun.objects.filter(source=pool).count()
    later = filled["now"] + timedelta(hours=2)
    again = demo_history_fill(team=filled["login"].team, simulator_port=filled["port"], now=later,
                              step=WEEK_STEP)
    assert 0 < again.moments <= 2 * 60 // int(FINEST.total_seconds() // 60)
    duplicates = (PollRun.objects.filter(source=pool).values("started_at")
                  .annotate(n=Count("id")).filter(n__gt=1))
    assert not duplicates.exists()
    assert PollRun.objects.filter(source=pool).count() == before + again.moments


def past_polls_are_history_not_news(filled) -> None:
    """No alert evaluation is queued per past poll: the one evaluation is of the present."""
    from alerts.models import Alert

    started = Alert.objects.aggregate(first=Min("started_at"))["first"]
    assert started is None or started >= filled["now"]


def test_moments_are_dense_in_the_last_day_and_aligned() -> None:
    until = datetime(2026, 3, 10, 12, 7, tzinfo=UTC)
    moments = history_moments(since=until - HISTORY, until=until, step=timedelta(hours=4))
    assert moments == sorted(set(moments)) and moments[-1] < until
    assert all(m.minute == 0 for m in moments)
    recent = [m for m in moments if m > until - timedelta(hours=24)]
    assert len(recent) == 24  # every hour
    assert len(moments) - len(recent) == 36  # every 4 hours over the 6 days before


@pytest.mark.parametrize(("seconds_per_moment", "expected"), [
    (0.01, FINEST * 4), (1.0, COARSEST), (0.25, timedelta(hours=3))])
def test_the_step_is_the_finest_that_fits_the_budget(seconds_per_moment, expected) -> None:
    assert step_within(budget=20, seconds_per_moment=seconds_per_moment,
                       span=HISTORY) == expected
