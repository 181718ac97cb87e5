"""The demo's child processes: started in their own process groups, stopped in order, none
left behind.

Each child is asked to stop with SIGTERM (the worker then finishes its in-flight polls, the
web server its requests) and killed if it has not stopped within a grace period. It leads its
own process group, so that the kill reaches what it started too (the worker's pool processes
and embedded beat, the web server's workers): killing only the child would leave those
running. The group also keeps a terminal's Ctrl-C from reaching every process at once: the
demo alone gets it and stops the children in order. The ones that call the simulator go first,
while it still answers: a poll whose upstream has vanished retries each request with back-off,
which held the worker's warm shutdown up for longer than the old ten-second kill (and the pool
processes, orphaned by that kill, went on polling).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from types import FrameType

# Celery's warm shutdown takes 4-7 s on the filesystem broker even when idle: its loop
# notices the signal only between two 2-second waits for messages, then joins its pool.
GRACE_SECONDS = 8.0
# The simulator, once nothing calls it any more, stops in well under a second.
LAST_GRACE_SECONDS = 2.0


class Supervisor:
    """Runs named commands until a signal arrives or one of them exits, then stops them all.

    A second Ctrl-C (or SIGTERM) stops waiting for the clean shutdown and kills what is left.
    """

    def __init__(self, *, stop_last: Collection[str], say: Callable[[str], None]) -> None:
        self.stop_last = stop_last
        self.say = say
        self.signals: list[int] = []
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        # Installed before any child starts, so no signal can leave one behind unsupervised.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.signals.append(signum)

    def start(self, commands: Mapping[str, Sequence[str]], *, cwd: Path) -> None:
        for name, command in commands.items():
            if self.signals:
                return
            self.processes[name] = subprocess.Popen(command, cwd=cwd, process_group=0)

    def run(self) -> None:
        try:
            while not self.signals:
                if exited := [name for name, p in self.processes.items() if p.poll() is not None]:
                    for name in exited:
                        self.say(f"{name} exited with status {self.processes[name].returncode}; stopping.")
                    break
                time.sleep(0.2)
        finally:
            self.stop()

    def stop(self) -> None:
        first = [name for name in self.processes if name not in self.stop_last]
        last = [name for name in self.processes if name in self.stop_last]
        self._stop(first, grace=GRACE_SECONDS)
        self._stop(last, grace=LAST_GRACE_SECONDS)

    def _stop(self, names: list[str], *, grace: float) -> None:
        for name in names:
            # The child alone: it stops what it started, in its own order.
            if self.processes[name].poll() is None:
                self.processes[name].send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        killed = False
        while running := [name for name in names if _group_running(self.processes[name])]:
            if not killed and (time.monotonic() >= deadline or len(self.signals) > 1):
                for name in running:
                    self.say(f"{name} did not stop in time; killing it.")
                    _signal_group(self.processes[name], signal.SIGKILL)
                killed, deadline = True, time.monotonic() + 5
            elif killed and time.monotonic() >= deadline:
                self.say(f"still running after SIGKILL: {', '.join(running)}")
                return
            time.sleep(0.1)
        for name in names:
            self.processes[name].wait()


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone, with everything it started
        os.killpg(process.pid, signum)


def _group_running(process: subprocess.Popen[bytes]) -> bool:
    """The child, or anything it started, is still running (zombies aside: the child is reaped
    here, and an orphan waits for init to reap it, which can take seconds)."""
    process.poll()
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(process.pid, 0)  # no /proc (macOS): zombies count, at worst a short wait
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
            state, _, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if int(group) == process.pid and state != "Z":
            return True
    return False
