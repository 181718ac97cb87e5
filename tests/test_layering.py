"""The one-way house: the import contracts in pyproject.toml hold (feature apps above the core,
which imports none of them; the simulator apart from the product and from our clients).

The same check runs in `make lint`; here it also fails the test suite, and its output names
both ends of any arrow that runs the wrong way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
