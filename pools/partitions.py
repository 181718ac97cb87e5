"""Daily partitions of the raw hashrate samples, on Postgres.

A 100,000-worker account polled every minute writes 144 million samples a day: deleting a
day's rows one by one takes longer than the day and bloats the table, dropping a partition
takes milliseconds. So on Postgres `pools_hashratesample` is partitioned by the sample's time:

    pools_hashratesample                      PARTITION BY RANGE (at)
      pools_hashratesample_20250601           one UTC day, PARTITION BY LIST (worker_name)
        pools_hashratesample_20250601_account   the account series ("")
        pools_hashratesample_20250601_workers   every worker (DEFAULT)
      pools_hashratesample_before_20250601    rows stored before partitioning (if any)
      pools_hashratesample_default            any time no day partition covers (DEFAULT)

A day is split by series because the account series is kept 7 days and worker series 48 hours
(pools.retention): the workers half goes first, the account half later.

Locks, so that a running poll is never held up:
- A poll's INSERT locks the parent and the leaves its rows are routed to, nothing else.
- A day is created as a free-standing table and then ATTACHed, which takes SHARE UPDATE
  EXCLUSIVE on the parent (it conflicts with neither INSERT nor SELECT) and ACCESS EXCLUSIVE
  on the (normally empty) default partition.
- Expired halves are DETACHed from their day table, which no poll writes to any more: the
  ACCESS EXCLUSIVE lock is on that old day alone. Only the empty day table left behind needs
  a lock on the parent to go; that step is tried under a short lock_timeout and, when a poll
  holds the parent, left for the next run.
Every DDL statement here runs under LOCK_TIMEOUT, so it gives up instead of queueing in front
of the polls behind it.

Rows may arrive for any time: a back-fill of last week, a clock that runs ahead. Times no day
partition covers land in the default partition; when the day is created later its rows are
moved into it, and what is past its window there is deleted row by row (there are few).

On SQLite (the demo's quick start) the table is a plain table and everything here does nothing.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from functools import partial
from typing import Any

from django.db import OperationalError, connection, transaction

log = logging.getLogger(__name__)

TABLE = "pools_hashratesample"
DEFAULT = f"{TABLE}_default"
ACCOUNT_HALF, WORKERS_HALF = "account", "workers"
# Today, tomorrow and the day after exist before a poll needs them.
DAYS_AHEAD = 2
LOCK_TIMEOUT = "200ms"
LOCK_TRIES = 5
LOCK_PAUSE_SECONDS = 0.5

DAY_NAME = re.compile(rf"^{TABLE}_(\d{{8}})$")
HALF_NAME = re.compile(rf"^{TABLE}_(\d{{8}})_({ACCOUNT_HALF}|{WORKERS_HALF})$")
BEFORE_NAME = re.compile(rf"^{TABLE}_before_(\d{{8}})$")


def enabled() -> bool:
    return connection.vendor == "postgresql"


def midnight(day: date) -> datetime:
    return datetime.combine(day, clock(), tzinfo=UTC)


def bound(moment: datetime) -> str:
    """A partition bound as SQL text: DDL takes no query parameters."""
    return f"'{moment.isoformat()}'::timestamptz"


def day_name(day: date) -> str:
    return f"{TABLE}_{day:%Y%m%d}"


def parse_day(text: str) -> date:
    return datetime.strptime(text, "%Y%m%d").replace(tzinfo=UTC).date()


@dataclass
class Layout:
    """The partitions as they stand: day tables with their halves, and the unsplit ones."""

    days: dict[date, set[str]]  # day -> the halves still attached
    before: dict[str, date]  # table of rows stored before partitioning -> the day it ends
    has_default: bool

    def unsplit(self) -> list[str]:
        return [*self.before, *([DEFAULT] if self.has_default else [])]

    def covers(self, day: date) -> bool:
        return day in self.days or any(day < end for end in self.before.values())


def children(parent: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass ORDER BY c.relname", [parent])
        return [name for (name,) in cursor.fetchall()]


def layout_read() -> Layout:
    layout = Layout(days={}, before={}, has_default=False)
    for name in children(TABLE):
        if match := DAY_NAME.match(name):
            layout.days[parse_day(match[1])] = {
                half[2] for child in children(name) if (half := HALF_NAME.match(child))}
        elif match := BEFORE_NAME.match(name):
            layout.before[name] = parse_day(match[1])
        elif name == DEFAULT:
            layout.has_default = True
    return layout


@contextmanager
def ddl() -> Iterator[Any]:
    """One DDL transaction that gives up on a lock it cannot take at once."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        yield cursor


def patiently(step: Callable[[], None], what: str) -> bool:
    """Run a DDL step, trying again a few times while another transaction holds its lock;
    False if it never got the lock (the next maintenance run tries again)."""
    for attempt in range(LOCK_TRIES):
        try:
            step()
            return True
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            time.sleep(LOCK_PAUSE_SECONDS * (attempt + 1))
    log.info("%s: the table was busy, left for the next run", what)
    return False


def day_create(day: date, *, layout: Layout) -> None:
    """Create one day's partition, with the rows the default partition holds for it."""
    name, start, end = day_name(day), midnight(day), midnight(day + timedelta(days=1))
    with ddl() as cursor:
        cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS) "
                       "PARTITION BY LIST (worker_name)")
        cursor.execute(f"CREATE TABLE {name}_{ACCOUNT_HALF} PARTITION OF {name} FOR VALUES IN ('')")
        cursor.execute(f"CREATE TABLE {name}_{WORKERS_HALF} PARTITION OF {name} DEFAULT")
        if layout.has_default:
            # Moved first, so the ATTACH's check of the default partition finds none left.
            cursor.execute(f"WITH moved AS (DELETE FROM {DEFAULT} WHERE at >= %s AND at < %s "  # noqa: S608
                           f"RETURNING *) INSERT INTO {name} SELECT * FROM moved", [start, end])
        cursor.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} "
                       f"FOR VALUES FROM ({bound(start)}) TO ({bound(end)})")


def partitions_prepare(*, now: datetime, oldest: date) -> int:
    """Create the day partitions from `oldest` (a day whose rows are still kept) to DAYS_AHEAD
    days after today that do not exist yet; how many were created."""
    if not enabled():
        return 0
    layout = layout_read()
    created = 0
    day, last = oldest, now.astimezone(UTC).date() + timedelta(days=DAYS_AHEAD)
    while day <= last:
        if not layout.covers(day) and patiently(partial(day_create, day, layout=layout),
                                                f"creating {day_name(day)}"):
            created += 1
        day += timedelta(days=1)
    return created


def detach_drop(parent: str, child: str) -> None:
    with ddl() as cursor:
        cursor.execute(f"ALTER TABLE {parent} DETACH PARTITION {child}")
        cursor.execute(f"DROP TABLE {child}")


def partitions_drop(*, workers_before: date, account_before: date) -> int:
    """Drop what is wholly older than its window: a day's workers half once the day ends on or
    before `workers_before`, the whole day once it ends on or before `account_before`, and
    a table of rows stored before partitioning on the same terms as the whole day. How many
    tables were dropped."""
    if not enabled():
        return 0
    layout = layout_read()
    dropped = 0
    for day, halves in sorted(layout.days.items()):
        end = day + timedelta(days=1)
        expired = {WORKERS_HALF} if end <= workers_before else set()
        expired |= {ACCOUNT_HALF} if end <= account_before else set()
        for half in sorted(halves & expired):
            child = f"{day_name(day)}_{half}"
            dropped += patiently(partial(detach_drop, day_name(day), child), f"dropping {child}")
        if end <= account_before and not halves - expired:
            # The empty day table: the one step that locks the parent, so it is tried briefly.
            dropped += patiently(partial(detach_drop, TABLE, day_name(day)), f"dropping {day_name(day)}")
    for name, end_day in layout.before.items():
        if end_day <= account_before:
            dropped += patiently(partial(detach_drop, TABLE, name), f"dropping {name}")
    return dropped


def unsplit_rows_delete(*, workers_before: datetime, account_before: datetime) -> int:
    """Delete, row by row, what is past its window in the tables not split by day (the
    default partition, rows stored before partitioning): never a day partition, whose rows go
    with their partition."""
    if not enabled():
        return 0
    deleted = 0
    with connection.cursor() as cursor:
        for table in layout_read().unsplit():
            cursor.execute(f"DELETE FROM {table} WHERE (worker_name <> '' AND at < %s) "  # noqa: S608
                           "OR (worker_name = '' AND at < %s)", [workers_before, account_before])
            deleted += cursor.rowcount
    return deleted
