"""The bench's verdict: a row over its budget says FAIL and the run exits non-zero.

Not a bench itself (no `bench` marker, so `make test` runs it): a throwaway pytest run in a
child process loads the budgets plugin and reports made-up rows.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROWS = '''
from tests.bench.budgets import report_amount, report_durations, report_rate

def test_rows():
    report_durations(1, "a page well within", [0.010, 0.012], unit="ms", limit=100)
    report_rate(2, "an ingest rate", 1000, [0.01, 0.01], limit=10)
    report_amount(3, "a poll's memory", [120.0], unit="MB", limit=300)
    {extra}
'''


def run_bench(tmp_path: Path, extra: str = "pass") -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_rows.py").write_text(ROWS.format(extra=extra))
    # Its own rootdir and an empty config: the project's (Django settings, -m "not bench")
    # play no part in a run that only prints figures.
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "tests.bench.budgets", "-p", "no:django",
         "-p", "no:randomly", "-c", str(tmp_path / "empty.ini"), "--rootdir", str(tmp_path),
         str(tmp_path / "test_rows.py")],
        cwd=ROOT, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": ""},
        check=False,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "empty.ini").write_text("[pytest]\n")
    return tmp_path


def test_rows_within_budget_pass_and_exit_zero(config: Path) -> None:
    result = run_bench(config)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS: all 3 budgeted rows within budget" in result.stdout
    assert "FAIL" not in result.stdout


def test_a_row_over_its_budget_says_fail_and_exits_non_zero(config: Path) -> None:
    result = run_bench(config, extra='report_durations(4, "a slow chart", [0.3, 0.4], unit="ms", limit=100)')
    assert result.returncode == 1, result.stdout + result.stderr
    table = result.stdout[result.stdout.index("performance budgets"):]
    slow = next(line for line in table.splitlines() if "a slow chart" in line)
    assert slow.split()[-1] == "FAIL" and "<= 100.0 ms" in slow
    assert "FAIL: 1 of 4 budgeted rows over their budget: a slow chart" in table
    # The test itself passed: only the verdict made the run fail.
    assert "1 passed" in result.stdout


def test_a_row_without_budget_is_information_only(config: Path) -> None:
    result = run_bench(config, extra='report_durations(5, "context", [9.0], unit="s")')
    assert result.returncode == 0, result.stdout + result.stderr
    context = next(line for line in result.stdout.splitlines() if line.startswith(" 5  context"))
    assert context.split()[-1] == "info"
