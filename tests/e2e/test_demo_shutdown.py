"""`make demo` stops, with everything it started, as soon as it is told to.

Runs `manage.py demo` as the quick start does (SQLite, the filesystem broker), lets the worker
poll, sends SIGTERM (what `make` passes on, and what a service manager sends) or a terminal's
Ctrl-C, and watches every process the demo started: the simulator, the web server and its
workers, the Celery worker with its pool and embedded beat, the stream.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.e2e.conftest import ARTIFACTS, free_port, quickstart_env, wait_for
from tests.e2e.test_quickstart import polled_sources

pytestmark = pytest.mark.e2e

# Generous: the point is that nothing survives. The demo itself waits at most 8 s for the
# worker's warm shutdown and 2 s for the simulator before it kills what is left.
DEADLINE_SECONDS = 15


def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) of every live process."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, parent = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        table[int(stat.parent.name)] = (int(parent), state)
    return table


def descendants(pid: int) -> set[int]:
    table = process_table()
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        children = {child for child, (ppid, _) in table.items() if ppid == parent}
        todo.extend(children - found)
        found |= children
    return found


def running(pids: set[int]) -> set[int]:
    table = process_table()
    return {pid for pid in pids if pid in table and table[pid][1] != "Z"}


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
    except OSError:
        return "?"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
@pytest.mark.parametrize("how", ["SIGTERM", "Ctrl-C"])
def test_the_demo_and_every_process_it_started_stop_at_once(tmp_path: Path, how: str) -> None:
    port, sim_port = free_port(), free_port()
    database = tmp_path / "var" / "demo.sqlite3"
    env = quickstart_env(tmp_path, secret_key="shutdown-secret-key-0123456789abcdef")
    log_path = ARTIFACTS / f"demo-shutdown-{how}.log"
    ARTIFACTS.mkdir(exist_ok=True)
    with log_path.open("wb") as log:
        # A session of its own, like a terminal's: Ctrl-C signals the whole foreground group.
        demo = subprocess.Popen(
            [sys.executable, "manage.py", "demo", "--port", str(port),
             "--simulator-port", str(sim_port), "--gateway-port", str(free_port()),
             "--no-history"],  # the stop is tested here, not the past week
            cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started: set[int] = set()
        try:
            wait_for(lambda: re.search(rb"password:\s+\S+", log_path.read_bytes()),
                     timeout=60, what="the demo to print its login")
            # Stopped while it works: the worker has polls in hand, the web server its workers.
            wait_for(lambda: any(row[1] for row in polled_sources(database)),
                     timeout=120, what="a first poll to land")
            started = descendants(demo.pid)
            names = {pid: command_line(pid) for pid in started}
            assert any("celery" in name for name in names.values()), names
            assert any("gunicorn" in name for name in names.values()), names

            begun = time.monotonic()
            if how == "SIGTERM":
                demo.send_signal(signal.SIGTERM)
            else:
                os.killpg(demo.pid, signal.SIGINT)
            left: set[int] = {demo.pid, *started}
            while left and time.monotonic() - begun < DEADLINE_SECONDS:
                demo.poll()
                left = running(left)
                time.sleep(0.1)
            took = time.monotonic() - begun
            print(f"\n{how}: the demo and its {len(started)} processes stopped in {took:.1f} s")
            assert not left, "still running: " + "; ".join(names.get(pid, "demo") for pid in left)
            assert demo.wait(timeout=1) == 0
        finally:
            for pid in running({demo.pid, *started}):
                os.kill(pid, signal.SIGKILL)
    output = log_path.read_text()
    assert "Demo stopped." in output
    assert "Traceback" not in output, output[-3000:]
