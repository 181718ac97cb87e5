"""The quick start as a new user runs it: SQLite, the filesystem broker, no servers.

Runs `manage.py demo` (what `make demo` runs once its virtualenv exists), waits for the
worker to poll the simulator, then signs in and renders pages.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.e2e.conftest import ARTIFACTS, free_port, quickstart_env, wait_for

pytestmark = pytest.mark.e2e


def polled_sources(database: Path) -> list[tuple[str, str | None, str]]:
    if not database.exists():
        return []
    try:
        with sqlite3.connect(database, timeout=5) as db:
            return db.execute("SELECT label, last_success_at, last_error FROM dashboard_source").fetchall()
    except sqlite3.OperationalError:
        return []  # not migrated yet


def live_polled(database: Path) -> bool:
    """Every demo source has a poll of its own beside the history's."""
    try:
        with sqlite3.connect(database, timeout=5) as db:
            waiting = db.execute(
                "SELECT COUNT(*) FROM dashboard_source s WHERE NOT EXISTS (SELECT 1 FROM "
                "dashboard_pollrun r WHERE r.source_id = s.id AND r.trigger != 'backfill' "
                "AND r.outcome = 'ok')").fetchone()[0]
            return waiting == 0 and bool(polled_sources(database))
    except sqlite3.OperationalError:
        return False


def test_demo_runs_on_sqlite_and_the_filesystem_broker(tmp_path: Path) -> None:
    var, port, sim_port = tmp_path / "var", free_port(), free_port()
    database = var / "demo.sqlite3"
    env = quickstart_env(tmp_path, secret_key="quickstart-secret-key-0123456789abcdef")
    log_path = ARTIFACTS / "quickstart.log"
    ARTIFACTS.mkdir(exist_ok=True)
    with log_path.open("wb") as log:
        demo = subprocess.Popen(
            [sys.executable, "manage.py", "demo", "--port", str(port),
             "--simulator-port", str(sim_port), "--gateway-port", str(free_port())],
            cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            # After the past week is filled: a few seconds more than its budget on a laptop,
            # longer on a busy machine (the budget paces it, it does not cut it short).
            password = wait_for(
                lambda: re.search(rb"password:\s+(\S+)", log_path.read_bytes()),
                timeout=600, what="the demo to fill its history and print its login",
            ).group(1).decode()  # type: ignore[attr-defined]
            wait_for(lambda: live_polled(database), timeout=120,
                     what="every demo source to be polled live (not only in the history)")
            session = requests.Session()
            base = f"http://127.0.0.1:{port}"
            login = session.get(f"{base}/accounts/login/", timeout=10)
            session.post(f"{base}/accounts/login/", timeout=10, data={
                "username": "demo", "password": password,
                "csrfmiddlewaretoken": login.cookies["csrftoken"],
            }, headers={"Referer": f"{base}/accounts/login/"})
            page = session.get(f"{base}/sources/", timeout=10)
            assert page.status_code == 200
            assert "BTC.com" in page.text and "badge-ok" in page.text
            overview = session.get(f"{base}/", timeout=10)
            assert overview.status_code == 200 and "PH/s" in overview.text
            week = session.get(f"{base}/hashrate/?range=7d", timeout=10)
            assert week.status_code == 200 and "No data yet" not in week.text
            assert demo.poll() is None, "the demo stopped by itself"
        finally:
            demo.terminate()
            demo.wait(timeout=30)
    output = log_path.read_text()
    assert "Traceback" not in output, output[-3000:]
    assert re.search(r"History: \d+ polls at \d+ past moments", output), output[-3000:]
