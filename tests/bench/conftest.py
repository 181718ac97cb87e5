"""Shared by the performance budgets: timing, committing, the farm they are measured on.

Budgets are measured and printed, never asserted inside a test: the figures, their table and
the run's verdict (a FAIL row makes `make bench` exit non-zero) are tests/bench/budgets.py's.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from django.db import DatabaseError, connection, transaction

from pools.clients.base import WorkerState
from tests.bench.budgets import (  # noqa: F401  (the hooks are pytest's; the rest re-exported)
    Figure,
    pytest_sessionfinish,
    pytest_terminal_summary,
    report,
    report_amount,
    report_durations,
    report_rate,
)

T = TypeVar("T")
TERA = 1e12


def timed(call: Callable[[], T]) -> tuple[T, float]:
    """(result, seconds)."""
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def committed(call: Callable[[], T]) -> T:
    """Run in a transaction of its own, as a poll does: the commit is part of the cost."""
    with transaction.atomic():
        return call()


def settle() -> None:
    """Have Postgres write out what a bulk fill (or its flush) left in memory now, rather
    than over the next minutes while later figures are being taken: a spread checkpoint of
    millions of rows is I/O the benches would otherwise time along with their own work. A
    role that may not run CHECKPOINT (superuser or pg_checkpoint) goes on unsettled."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        pass


def fleet(count: int, *, at: datetime, seed: int = 7) -> list[WorkerState]:
    """A farm as a pool client hands it over: racks of 500, mostly online, some down."""
    rng = random.Random(seed)
    workers = []
    for i in range(count):
        status = rng.choices(["online", "offline", "dead"], weights=[92, 5, 3])[0]
        rate = rng.uniform(90, 140) * TERA if status == "online" else 0.0
        workers.append(WorkerState(
            name=f"bay{i // 500:02d}-{i % 500 + 1:03d}", status=status,
            pool_status={"online": "ACTIVE", "offline": "INACTIVE"}.get(status, "DEAD"),
            hashrate_hs=rate, hashrate_24h_hs=rate * 0.98, last_share_at=at,
            raw_hashrate=f"{rate / TERA:.2f}", raw_unit="T",
            extra={"worker_id": str(rng.getrandbits(63)), "reject_percent": "0.0100"},
        ))
    return workers
