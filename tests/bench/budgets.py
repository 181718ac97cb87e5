"""The performance budgets' figures, their table, and the verdict `make bench` exits with.

A pytest plugin (loaded by tests/bench/conftest.py) with no Django in it, so the verdict
mechanism can be tried on its own with a made-up failing row. Each budget row is measured,
printed as it is taken, and listed again in one table at the end of the run; a row over its
budget says FAIL and turns the run's exit status non-zero, even though every test passed:
the tests check that the work was done right, the table says whether it was quick enough.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

NAME_WIDTH = 62


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
        return "PASS" if within else "FAIL"

    @property
    def budget_text(self) -> str:
        if self.limit is None:
            return "-"
        return f"{'>=' if self.at_least else '<='} {number(self.limit)} {self.unit}"

    def row(self) -> str:
        return (f"{self.budget:>2}  {self.what:<{NAME_WIDTH}} {self.runs:>4}  "
                f"{number(self.median):>9} {self.unit:<9} {number(self.p95):>9} {self.unit:<9} "
                f"{self.budget_text:<18} {self.verdict}")


HEADER = (f"{'#':>2}  {'what':<{NAME_WIDTH}} {'runs':>4}  {'median':>9} {'':<9} {'p95':>9} {'':<9} "
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


def report_durations(budget: int, what: str, seconds: Sequence[float], *, unit: str,
                     limit: float | None = None) -> Figure:
    scale = {"s": 1.0, "ms": 1000.0}[unit]
    return report(Figure(budget, what, len(seconds), statistics.median(seconds) * scale,
                         percentile_95(seconds) * scale, unit, limit))


def report_rate(budget: int, what: str, rows: int, seconds: Sequence[float], *,
                limit: float | None = None) -> Figure:
    return report(Figure(budget, what, len(seconds), rows / statistics.median(seconds),
                         rows / percentile_95(seconds), "rows/s", limit, at_least=True))


def report_amount(budget: int, what: str, values: Sequence[float], *, unit: str,
                  limit: float | None = None) -> Figure:
    """A figure that is not a duration (memory, size): its median and its largest."""
    return report(Figure(budget, what, len(values), statistics.median(values), max(values),
                         unit, limit))


def report(figure: Figure) -> Figure:
    FIGURES.append(figure)
    print(f"\n{HEADER}\n{figure.row()}")
    return figure


def failed() -> list[Figure]:
    return [figure for figure in FIGURES if figure.verdict == "FAIL"]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Only a run that would otherwise succeed is turned into a failure: an error of its own
    # (a test failed, bad usage) keeps its own status.
    if failed() and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("performance budgets (DESIGN.md; 6-8: the Markets page and the stream)")
    terminalreporter.write_line(HEADER)
    for figure in sorted(FIGURES, key=lambda f: f.budget):
        terminalreporter.write_line(figure.row())
    over = failed()
    if over:
        terminalreporter.write_line(
            f"FAIL: {len(over)} of {sum(f.limit is not None for f in FIGURES)} budgeted rows over "
            f"their budget: {'; '.join(f.what for f in over)}", red=True, bold=True)
    else:
        terminalreporter.write_line(
            f"PASS: all {sum(f.limit is not None for f in FIGURES)} budgeted rows within budget",
            green=True)
