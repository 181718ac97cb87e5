"""Shared by the performance budgets: timing, the figures each budget reports, the table.

Budgets are measured and printed, never asserted: wall-clock on a shared machine varies too
much for a pass/fail test, while the printed PASS/OVER keeps a regression visible.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import pytest
from django.db import transaction

from pools.clients.base import WorkerState

T = TypeVar("T")
TERA = 1e12


@dataclass(frozen=True)
class Figure:
    """One measured line. For a duration the p95 is the slow tail; for a rate (`at_least`)
    it is the rate of the 95th-percentile duration, the slow tail again."""

    budget: int
    what: str
    runs: int
    median: float
    p95: float
    unit: str
    limit: float | None = None  # None: a breakdown shown for context, with no budget
    at_least: bool = False

    @property
    def verdict(self) -> str:
        if self.limit is None:
            return "info"
        within = self.p95 >= self.limit if self.at_least else self.p95 <= self.limit
        return "PASS" if within else "OVER"

    @property
    def budget_text(self) -> str:
        if self.limit is None:
            return "-"
        return f"{'>=' if self.at_least else '<='} {number(self.limit)} {self.unit}"

    def row(self) -> str:
        return (f"{self.budget:>2}  {self.what:<54} {self.runs:>4}  "
                f"{number(self.median):>9} {self.unit:<9} {number(self.p95):>9} {self.unit:<9} "
                f"{self.budget_text:<18} {self.verdict}")


HEADER = (f"{'#':>2}  {'what':<54} {'runs':>4}  {'median':>9} {'':<9} {'p95':>9} {'':<9} "
          f"{'budget':<18} verdict")
FIGURES: list[Figure] = []


def number(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def percentile_95(values: Sequence[float]) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def timed(call: Callable[[], T]) -> tuple[T, float]:
    """(result, seconds)."""
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def committed(call: Callable[[], T]) -> T:
    """Run in a transaction of its own, as a poll does: the commit is part of the cost."""
    with transaction.atomic():
        return call()


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


def report_durations(budget: int, what: str, seconds: Sequence[float], *, unit: str,
                     limit: float | None = None) -> Figure:
    scale = {"s": 1.0, "ms": 1000.0}[unit]
    return report(Figure(budget, what, len(seconds), statistics.median(seconds) * scale,
                         percentile_95(seconds) * scale, unit, limit))


def report_rate(budget: int, what: str, rows: int, seconds: Sequence[float], *,
                limit: float | None = None) -> Figure:
    return report(Figure(budget, what, len(seconds), rows / statistics.median(seconds),
                         rows / percentile_95(seconds), "rows/s", limit, at_least=True))


def report(figure: Figure) -> Figure:
    FIGURES.append(figure)
    print(f"\n{HEADER}\n{figure.row()}")
    return figure


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("performance budgets (DESIGN.md; 6-8: the Markets page and the stream)")
    terminalreporter.write_line(HEADER)
    for figure in sorted(FIGURES, key=lambda f: f.budget):
        terminalreporter.write_line(figure.row())
