"""Hashrate roll-ups and pruning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dashboard.models import Source, Team
from dashboard.services import source_create
from pools import retention
from pools.ingest import pool_snapshot_ingest
from pools.models import HashrateDaily, HashrateHourly, HashrateSample, PoolStat
from pools.tasks import hashrate_maintain
from tests.pools.test_ingest import snapshot_of, worker

HOUR = datetime(2024, 3, 3, 10, 0, tzinfo=UTC)
NOW = HOUR + timedelta(hours=1, minutes=30)


@pytest.fixture
def pool(team: Team) -> Source:
    return source_create(team=team, kind="btccom", label="BTC.com",
                         credentials={"access_key": "ak", "puid": "1"})


def sample(source: Source, at: datetime, rate: float, worker_name: str = "", **fields: Any) -> None:
    HashrateSample.objects.create(source=source, worker_name=worker_name, at=at, hashrate_hs=rate,
                                  **fields)


def rollups(model: type[HashrateHourly | HashrateDaily]) -> dict[tuple[str, datetime], tuple]:
    return {
        (row.worker_name, row.bucket): (row.hashrate_avg, row.hashrate_min, row.hashrate_max,
                                        row.samples)
        for row in model.objects.all()
    }


def test_the_rollup_averages_each_hour_and_day_per_series(pool: Source) -> None:
    for minute, rate in [(0, 10.0), (20, 20.0), (40, 60.0)]:
        sample(pool, HOUR + timedelta(minutes=minute), rate)
    sample(pool, HOUR + timedelta(hours=1, minutes=5), 30.0)
    sample(pool, HOUR + timedelta(minutes=5), 7.0, worker_name="rig-a")

    counts = retention.hashrate_rollup(now=NOW)

    next_hour = HOUR + timedelta(hours=1)
    assert counts == {"hourly_rows": 3, "daily_rows": 2}
    assert rollups(HashrateHourly) == {
        ("", HOUR): (30.0, 10.0, 60.0, 3),
        ("", next_hour): (30.0, 30.0, 30.0, 1),
        ("rig-a", HOUR): (7.0, 7.0, 7.0, 1),
    }
    day = HOUR.replace(hour=0)
    assert rollups(HashrateDaily) == {("", day): (30.0, 10.0, 60.0, 4), ("rig-a", day): (7.0, 7.0, 7.0, 1)}


def test_the_daily_average_weighs_hours_by_their_samples(pool: Source) -> None:
    sample(pool, HOUR, 10.0)
    sample(pool, HOUR + timedelta(minutes=30), 10.0)
    sample(pool, HOUR + timedelta(hours=1), 40.0)

    retention.hashrate_rollup(now=NOW)

    assert HashrateDaily.objects.get().hashrate_avg == pytest.approx(20.0)


def test_running_the_rollup_again_changes_nothing(pool: Source) -> None:
    for minute in range(0, 90, 10):
        moment = HOUR + timedelta(minutes=minute)
        pool_snapshot_ingest(source=pool, snapshot=snapshot_of(at=moment, rate=(minute + 1) * 1e12),
                             now=moment)
    retention.hashrate_rollup(now=NOW)
    hourly, daily = rollups(HashrateHourly), rollups(HashrateDaily)

    retention.hashrate_rollup(now=NOW)

    assert rollups(HashrateHourly) == hourly and rollups(HashrateDaily) == daily
    assert HashrateHourly.objects.count() == 6  # the account and two workers, two hours each


def test_the_rollup_leaves_suspect_samples_out(pool: Source) -> None:
    sample(pool, HOUR, 10.0)
    sample(pool, HOUR + timedelta(minutes=1), 10_000.0, suspect=True)

    retention.hashrate_rollup(now=NOW)

    assert rollups(HashrateHourly) == {("", HOUR): (10.0, 10.0, 10.0, 1)}


def test_the_rollup_only_touches_recent_hours(pool: Source) -> None:
    old = HOUR - timedelta(hours=5)
    sample(pool, old, 10.0)
    sample(pool, HOUR, 20.0)
    retention.hashrate_rollup(now=NOW)
    sample(pool, old + timedelta(minutes=5), 1000.0)  # too late to be counted
    sample(pool, HOUR + timedelta(minutes=5), 40.0)

    retention.hashrate_rollup(now=NOW + timedelta(minutes=5))

    assert rollups(HashrateHourly)[("", old)] == (10.0, 10.0, 10.0, 1)
    assert rollups(HashrateHourly)[("", HOUR)] == (30.0, 20.0, 40.0, 2)


def test_the_rollup_catches_up_after_a_pause(pool: Source) -> None:
    sample(pool, HOUR - timedelta(days=2), 10.0)
    retention.hashrate_rollup(now=HOUR - timedelta(days=2) + timedelta(minutes=1))
    for hours in (-30, -20, -5):
        sample(pool, HOUR + timedelta(hours=hours), 20.0)

    retention.hashrate_rollup(now=NOW)

    assert HashrateHourly.objects.count() == 4


AGES = (timedelta(hours=47), timedelta(hours=49), timedelta(hours=60), timedelta(days=7, hours=2),
             timedelta(days=8))


def test_prune_deletes_what_is_past_its_window_and_keeps_daily_rows(pool: Source) -> None:
    """Raw samples go by whole UTC days: NOW is 11:30, so the day 48 hours back (49 hours
    old) and the day 7 days back (7 days and 2 hours old) are not over yet."""
    for worker_name in ("", "rig-a"):
        for age in AGES:
            sample(pool, NOW - age, 5.0, worker_name=worker_name)
        for age in (timedelta(days=89), timedelta(days=91)):
            HashrateHourly.objects.create(source=pool, worker_name=worker_name, bucket=NOW - age,
                                          hashrate_avg=5, hashrate_min=5, hashrate_max=5, samples=1)
        HashrateDaily.objects.create(source=pool, worker_name=worker_name,
                                     bucket=NOW - timedelta(days=400), hashrate_avg=5,
                                     hashrate_min=5, hashrate_max=5, samples=1)
    stats_only = snapshot_of([], at=NOW - timedelta(days=9), hashrate_hs=None, hashrate_samples=[])
    pool_snapshot_ingest(source=pool, snapshot=stats_only, now=NOW)

    counts = retention.hashrate_prune(now=NOW)

    ages = {
        name: sorted(NOW - at for at in HashrateSample.objects.filter(worker_name=name)
                     .values_list("at", flat=True))
        for name in ("", "rig-a")
    }
    assert ages[""] == list(AGES[:4])
    assert ages["rig-a"] == list(AGES[:2])
    hourly = sorted(HashrateHourly.objects.values_list("worker_name", "bucket"))
    assert hourly == [("", NOW - timedelta(days=89)), ("rig-a", NOW - timedelta(days=89))]
    assert HashrateDaily.objects.count() == 2
    assert not PoolStat.objects.exists()
    assert counts == {"samples_deleted": 4, "sample_partitions_dropped": 0, "hourly_deleted": 2,
                      "pool_stats_deleted": 1}


def test_the_task_rolls_up_then_prunes(pool: Source) -> None:
    now = datetime.now(UTC)
    pool_snapshot_ingest(source=pool, snapshot=snapshot_of([worker("rig-a")], at=now), now=now)

    result = hashrate_maintain()

    assert result["hourly_rows"] == 2 and result["samples_deleted"] == 0
    assert HashrateHourly.objects.filter(worker_name="rig-a").exists()


def test_a_worker_hour_is_rolled_again_only_while_its_samples_can_arrive(pool: Source) -> None:
    """A 100,000-worker account's previous hour is six million rows: it is read again only
    while a poll that fetched in it can still be storing. The account series, whose readings
    may be an hour old, is rolled again all the next hour."""
    for name in ("", "rig-a"):
        sample(pool, HOUR + timedelta(minutes=10), 10.0, worker_name=name)
        sample(pool, HOUR + timedelta(hours=1), 20.0, worker_name=name)
    retention.hashrate_rollup(now=HOUR + timedelta(hours=1, minutes=1))
    for name in ("", "rig-a"):
        sample(pool, HOUR + timedelta(minutes=50), 30.0, worker_name=name)  # stored late

    retention.hashrate_rollup(now=HOUR + timedelta(hours=1) + retention.WORKERS_LATE + timedelta(minutes=1))

    assert rollups(HashrateHourly)[("", HOUR)][3] == 2
    assert rollups(HashrateHourly)[("rig-a", HOUR)][3] == 1
