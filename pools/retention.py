"""How long pool time series are kept, and the roll-ups that outlive raw samples.

    raw samples, per worker ...... 48 hours      hourly roll-ups ....... 90 days
    raw samples, account ......... 7 days        daily roll-ups ........ kept
    pool-wide stats .............. 7 days

A 30,000-worker account polled every minute writes 43 million worker samples a day, so the
raw window is what bounds the database. Charts read raw samples for ranges up to two days,
hourly rows up to 90 days and daily rows beyond. Buckets are UTC hours and days. Samples
marked suspect stay in the raw table for inspection but are left out of roll-ups, where a
single unit error would set a month's maximum.

Raw samples go by whole UTC days: a day is dropped once all of it is past its window, so a
sample is kept for its window and at most one day more. On Postgres that is one day partition
dropped (pools.partitions) instead of millions of rows deleted; SQLite deletes the same rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Avg, Count, F, Max, Min, QuerySet, Sum
from django.db.models.functions import TruncDay, TruncHour

from dashboard.bulk import upsert_select
from pools import partitions
from pools.models import ACCOUNT, HashrateDaily, HashrateHourly, HashrateSample, PoolStat

RAW_WORKER = timedelta(hours=48)
RAW_ACCOUNT = timedelta(days=7)
HOURLY = timedelta(days=90)
POOL_STATS = timedelta(days=7)
# How long after an hour ends its samples may still arrive, so that the hour is rolled again.
# A worker sample carries the moment its poll fetched it and is stored within the poll's
# deadline (and Celery's hard limit two minutes later): a few minutes. The account series may
# carry the pool's own reading times, some of them an hour old; it is one row per poll, so its
# previous hour is rolled all hour long, while a 100,000-worker account's previous hour (six
# million rows) is read again only in the first minutes of the next.
WORKERS_LATE = timedelta(seconds=settings.POLL_DEADLINE_SECONDS + 180)
ACCOUNT_LATE = timedelta(hours=1)

ROLLUP_WORK_MEM = "256MB"
ROLLUP_UNIQUE = ["source", "worker_name", "bucket"]
ROLLUP_FIELDS = ["hashrate_avg", "hashrate_min", "hashrate_max", "samples"]
ROLLUP_COLUMNS = ["source", "worker_name", "bucket", *ROLLUP_FIELDS]


def hashrate_rollup(*, now: datetime) -> dict[str, int]:
    """Aggregate raw samples into hourly rows and hourly rows into daily ones, for the
    buckets that can have changed since the last run; re-running rewrites the same values."""
    until = hour_of(now) + timedelta(hours=1)
    latest = HashrateHourly.objects.aggregate(latest=Max("bucket"))["latest"]
    starts = {account: rollup_start(now=now, latest=latest, late=ACCOUNT_LATE if account else WORKERS_LATE)
              for account in (True, False)}
    with transaction.atomic():
        rollup_memory()
        hourly = sum(hourly_upsert(since=since, until=until, account=account)
                     for account, since in starts.items())
        daily = daily_upsert(since=min(starts.values()).replace(hour=0))
    return {"hourly_rows": hourly, "daily_rows": daily}


def rollup_memory() -> None:
    """Let Postgres group a 100,000-worker hour in memory for this transaction: with the
    default work_mem (4 MB) it sorts the rows on disk instead, several times slower."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{ROLLUP_WORK_MEM}'")


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def rollup_start(*, now: datetime, latest: datetime | None, late: timedelta) -> datetime:
    """The hour its samples may still arrive in (`late` ago); after a pause, the last hour
    rolled (`latest`), so nothing still in the raw table is skipped; never before the oldest
    raw sample can be."""
    floor = hour_of(now - max(RAW_WORKER, RAW_ACCOUNT))
    if latest is None:
        return floor
    return max(min(hour_of(now - late), hour_of(latest)), floor)


def hourly_groups(*, since: datetime, until: datetime, account: bool) -> QuerySet:
    """Raw samples of the account series, or of every worker, by series and hour, selected as
    ROLLUP_COLUMNS. Bounded in time and series, so Postgres reads only the partitions of them."""
    samples = HashrateSample.objects.filter(at__gte=since, at__lt=until, suspect=False)
    samples = samples.filter(worker_name=ACCOUNT) if account else samples.exclude(worker_name=ACCOUNT)
    return (
        samples.annotate(period=TruncHour("at", tzinfo=UTC))
        .values("source_id", "worker_name", "period")
        .annotate(avg=Avg("hashrate_hs"), low=Min("hashrate_hs"), high=Max("hashrate_hs"),
                  count=Count("id"))
        .order_by()
    )


def hourly_upsert(*, since: datetime, until: datetime, account: bool) -> int:
    return upsert_select(HashrateHourly, hourly_groups(since=since, until=until, account=account),
                         fields=ROLLUP_COLUMNS, unique=ROLLUP_UNIQUE, update=ROLLUP_FIELDS)


def daily_upsert(*, since: datetime) -> int:
    """A day's average weighs each hour by its samples, so a half-polled hour counts half."""
    groups = (
        HashrateHourly.objects.filter(bucket__gte=since)
        .annotate(period=TruncDay("bucket", tzinfo=UTC))
        .values("source_id", "worker_name", "period")
        .annotate(avg=Sum(F("hashrate_avg") * F("samples")) / Sum("samples"),
                  low=Min("hashrate_min"), high=Max("hashrate_max"), count=Sum("samples"))
        .order_by()
    )
    return upsert_select(HashrateDaily, groups, fields=ROLLUP_COLUMNS, unique=ROLLUP_UNIQUE,
                         update=ROLLUP_FIELDS)


def day_of(moment: datetime) -> datetime:
    return hour_of(moment).replace(hour=0)


def partitions_maintain(*, now: datetime) -> int:
    """Create the day partitions the next polls need, and those of kept days the default
    partition holds rows for; how many were created. Nothing on SQLite."""
    return partitions.partitions_prepare(now=now, oldest=day_of(now - max(RAW_WORKER, RAW_ACCOUNT)).date())


def hashrate_prune(*, now: datetime) -> dict[str, int]:
    """Drop raw samples whose whole UTC day is past its window, hourly rows and pool stats past
    theirs; daily rows stay."""
    workers_before, account_before = day_of(now - RAW_WORKER), day_of(now - RAW_ACCOUNT)
    if partitions.enabled():
        dropped = partitions.partitions_drop(workers_before=workers_before.date(),
                                             account_before=account_before.date())
        samples = partitions.unsplit_rows_delete(workers_before=workers_before,
                                                 account_before=account_before)
    else:
        old = HashrateSample.objects.filter(at__lt=workers_before)
        dropped = 0
        samples = (deleted(old.exclude(worker_name=ACCOUNT))
                   + deleted(old.filter(worker_name=ACCOUNT, at__lt=account_before)))
    return {
        "samples_deleted": samples,
        "sample_partitions_dropped": dropped,
        "hourly_deleted": deleted(HashrateHourly.objects.filter(bucket__lt=now - HOURLY)),
        "pool_stats_deleted": deleted(PoolStat.objects.filter(at__lt=now - POOL_STATS)),
    }


def deleted(queryset: QuerySet) -> int:
    count, _ = queryset.delete()
    return count
