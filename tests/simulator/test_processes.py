"""The demo's supervisor: children stopped in order, and killed with all they started when
they do not stop."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator import processes
from simulator.processes import Supervisor
from tests.e2e.conftest import wait_for

# Notes its name in a shared file when asked to stop, takes a moment to finish, then exits.
POLITE = """
import signal, sys, time
log, name = sys.argv[1], sys.argv[2]
def stop(*_):
    with open(log, "a") as f:
        f.write(name + "\\n")
    time.sleep(0.3)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
open(log + "." + name, "w").close()  # ready for the signal
time.sleep(60)
"""

# Ignores SIGTERM, like a worker stuck in a poll, and has started a process of its own that
# ignores it too (a pool process): killing the child alone would leave that one running.
STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])
with open(sys.argv[1], "w") as f:
    f.write(str(grandchild.pid))
time.sleep(60)
"""


@pytest.fixture(autouse=True)
def _own_signal_handlers() -> Iterator[None]:
    """The supervisor installs SIGTERM and SIGINT handlers; the test run gets its own back."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def supervisor_for(commands: dict[str, list[str]], tmp_path: Path) -> tuple[Supervisor, list[str]]:
    said: list[str] = []
    supervisor = Supervisor(stop_last={"simulator"}, say=said.append)
    supervisor.start(commands, cwd=tmp_path)
    return supervisor, said


def test_the_simulator_stops_after_the_processes_that_call_it(tmp_path: Path) -> None:
    log = tmp_path / "stopped"
    supervisor, said = supervisor_for({
        "simulator": [sys.executable, "-c", POLITE, str(log), "simulator"],
        "worker": [sys.executable, "-c", POLITE, str(log), "worker"],
    }, tmp_path)
    wait_for(lambda: all((tmp_path / f"stopped.{name}").exists() for name in supervisor.processes),
             timeout=10, what="the children to be ready")

    supervisor.signals.append(signal.SIGTERM)  # as the handler does
    supervisor.run()

    assert log.read_text().split() == ["worker", "simulator"]
    assert said == []
    assert all(p.returncode == 0 for p in supervisor.processes.values())


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_a_child_that_will_not_stop_is_killed_with_what_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(processes, "GRACE_SECONDS", 0.5)
    pid_file = tmp_path / "grandchild"
    supervisor, said = supervisor_for({
        "worker": [sys.executable, "-c", STUBBORN, str(pid_file)],
    }, tmp_path)
    grandchild = int(str(wait_for(lambda: pid_file.exists() and pid_file.read_text(),
                                  timeout=10, what="the grandchild to start")))

    supervisor.signals.append(signal.SIGTERM)
    supervisor.run()

    assert said == ["worker did not stop in time; killing it."]
    assert supervisor.processes["worker"].returncode == -signal.SIGKILL
    wait_for(lambda: not running(grandchild), timeout=5, what="the grandchild to be gone")
