"""The raw samples' day partitions on Postgres: made ahead, filled from any time, dropped whole,
and never in a running poll's way."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, transaction

from dashboard.models import Source, Team
from dashboard.services import source_create
from pools import partitions, retention
from pools.ingest import samples_upsert
from pools.models import HashrateSample
from pools.tasks import hashrate_maintain

DAY = date(2024, 3, 3)
NOW = partitions.midnight(DAY) + timedelta(hours=11, minutes=30)


@pytest.fixture
def pool(team: Team) -> Source:
    return source_create(team=team, kind="btccom", label="BTC.com",
                         credentials={"access_key": "ak", "puid": "1"})


@pytest.fixture(autouse=True)
def _no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(partitions, "LOCK_PAUSE_SECONDS", 0)


def sample(source: Source, at: datetime, worker_name: str = "", rate: float = 5.0) -> HashrateSample:
    return HashrateSample.objects.create(source=source, worker_name=worker_name, at=at,
                                         hashrate_hs=rate)


def table_of(row: HashrateSample) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {partitions.TABLE} WHERE id = %s",  # noqa: S608
                       [row.pk])
        return str(cursor.fetchone()[0])


def day_tables() -> list[str]:
    return [name for name in partitions.children(partitions.TABLE) if partitions.DAY_NAME.match(name)]


def partitions_of_a_fresh_install() -> None:
    """Drop every day and before-partitioning table: tables made in a test that commits
    outlive its flush, and the next test expects the default partition alone."""
    for name in partitions.children(partitions.TABLE):
        if name != partitions.DEFAULT:
            partitions.detach_drop(partitions.TABLE, name)


def foreign_keys_checked() -> None:
    """Check the test's deferred foreign keys now: a table with checks still pending cannot be
    dropped, and here the rows were written in the prune's own transaction, which a real
    prune never is."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_a_sample_of_any_time_is_stored(pool: Source) -> None:
    """Before any day partition exists (a fresh install, a back-fill of last year), rows
    land in the default partition."""
    for at in (NOW - timedelta(days=400), NOW, NOW + timedelta(days=30)):
        assert table_of(sample(pool, at)) == partitions.DEFAULT


def test_maintenance_makes_the_days_ahead_and_moves_kept_rows_into_theirs(pool: Source) -> None:
    yesterday = sample(pool, NOW - timedelta(days=1), worker_name="rig-a")
    last_week = sample(pool, NOW - timedelta(days=6))

    created = retention.partitions_maintain(now=NOW)

    # From the oldest day still kept (7 days back) to the day after tomorrow.
    assert created == 10
    assert day_tables()[0] == "pools_hashratesample_20240225"
    assert day_tables()[-1] == "pools_hashratesample_20240305"
    assert table_of(yesterday) == "pools_hashratesample_20240302_workers"
    assert table_of(last_week) == "pools_hashratesample_20240226_account"
    assert table_of(sample(pool, NOW)) == "pools_hashratesample_20240303_account"
    assert retention.partitions_maintain(now=NOW) == 0


def test_the_natural_key_holds_across_partitions(pool: Source) -> None:
    row = {"source_id": pool.pk, "worker_name": "rig-a", "at": NOW, "hashrate_hs": 1.0,
           "avg_window": "", "raw_value": "", "raw_unit": ""}
    samples_upsert([row])
    retention.partitions_maintain(now=NOW)

    samples_upsert([{**row, "hashrate_hs": 2.0}])

    assert list(HashrateSample.objects.values_list("hashrate_hs", flat=True)) == [2.0]


def test_prune_drops_whole_days_past_their_window(pool: Source) -> None:
    retention.partitions_maintain(now=NOW)  # 25 February to 5 March
    for days in range(8):
        at = NOW - timedelta(days=days)
        sample(pool, at)
        sample(pool, at, worker_name="rig-a")
    sample(pool, NOW - timedelta(days=400), worker_name="rig-a")  # in the default partition
    later = NOW + timedelta(days=5)  # 8 March: workers kept from 6 March, the account from 1 March
    foreign_keys_checked()

    counts = retention.hashrate_prune(now=later)

    kept = sorted(HashrateSample.objects.values_list("worker_name", "at"))
    assert kept == [("", NOW - timedelta(days=days)) for days in (2, 1, 0)]
    # 25-29 February whole (two halves and the day table each), then 1-5 March's workers.
    assert counts["sample_partitions_dropped"] == 5 * 3 + 5
    assert counts["samples_deleted"] == 1
    assert day_tables()[0] == "pools_hashratesample_20240301"
    assert partitions.children("pools_hashratesample_20240301") == ["pools_hashratesample_20240301_account"]


def test_the_rollup_reads_only_the_days_it_rolls(pool: Source) -> None:
    retention.partitions_maintain(now=NOW)

    since, until = NOW - timedelta(hours=2), NOW + timedelta(hours=1)
    workers = retention.hourly_groups(since=since, until=until, account=False).explain()
    account = retention.hourly_groups(since=since, until=until, account=True).explain()

    assert "pools_hashratesample_20240303_workers" in workers
    assert "pools_hashratesample_20240303_account" in account
    for plan in (workers, account):
        assert "20240302" not in plan and "20240304" not in plan and partitions.DEFAULT not in plan
    assert "_account" not in workers and "_workers" not in account


def test_the_task_makes_partitions_then_rolls_up_and_prunes(pool: Source) -> None:
    now = datetime.now(UTC)
    sample(pool, now, worker_name="rig-a")

    result = hashrate_maintain()

    assert result["sample_partitions_created"] == 10
    assert result["hourly_rows"] == 1


TODAY = NOW + timedelta(days=2)  # 5 March, the last day made ahead at NOW


@pytest.fixture
def open_poll(transactional_db: None, pool: Source) -> Iterator[threading.Event]:
    """A poll in the middle of its store: it has written a sample of TODAY and not committed
    yet, so its transaction holds the table as a poll's does. Set the event to commit."""
    holding, done = threading.Event(), threading.Event()

    def poll() -> None:
        try:
            with transaction.atomic():
                sample(pool, TODAY, worker_name="rig-b")
                holding.set()
                done.wait(timeout=60)
        finally:
            connection.close()

    thread = threading.Thread(target=poll)
    retention.partitions_maintain(now=NOW)
    thread.start()
    assert holding.wait(timeout=30)
    yield done
    done.set()
    thread.join()
    partitions_of_a_fresh_install()


def test_maintenance_goes_on_while_a_poll_holds_the_table(pool: Source, open_poll: threading.Event) -> None:
    sample(pool, NOW - timedelta(days=3), worker_name="rig-a")
    later = TODAY + timedelta(hours=1)

    created = retention.partitions_maintain(now=later)
    counts = retention.hashrate_prune(now=later)

    # New days are attached and expired halves dropped without waiting for the poll: 25 and
    # 26 February whole, the workers of 27 February to 2 March. Only the empty day tables,
    # whose removal locks the parent, wait for a later run.
    assert created == 2
    assert counts["sample_partitions_dropped"] == 2 * 2 + 5  # 2024 is a leap year
    assert not HashrateSample.objects.filter(worker_name="rig-a").exists()
    assert "pools_hashratesample_20240225" in day_tables()
    assert partitions.children("pools_hashratesample_20240225") == []

    open_poll.set()
    retention.hashrate_prune(now=later)
    assert "pools_hashratesample_20240225" not in day_tables()
