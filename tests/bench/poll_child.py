"""One poll in a process of its own, for the memory budget: `python -m tests.bench.poll_child ID`.

Prints, as its last line, JSON with the resident size once Django is loaded (before_mb) and
the process's peak resident size after the poll (peak_mb), in MB. The peak is the kernel's
high-water mark of this program's memory (VmHWM), so it counts everything the poll held at
its worst moment: parsed pages, worker objects, rows on their way to COPY, the database
driver's buffers. Not ru_maxrss: Linux carries that over exec from the forked parent, so it
would report the size of the test process that started this one.
"""

from __future__ import annotations

import json
import os
import sys


def status_mb(field: str) -> float:
    """A size from /proc/self/status (Linux): VmRSS now, VmHWM the peak so far."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024 / 1e6  # kB
    raise LookupError(f"{field} not in /proc/self/status")


def main(source_id: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    import django

    django.setup()
    from dashboard.models import PollRun
    from dashboard.polling import source_poll

    before = status_mb("VmRSS")
    run = source_poll(source_id=source_id, trigger="manual")
    if not isinstance(run, PollRun) or run.outcome != PollRun.Outcome.OK:
        sys.exit(f"the poll did not succeed: {run and run.message}")
    peak = status_mb("VmHWM")
    print(json.dumps({"before_mb": before, "peak_mb": peak, "workers": run.rows["workers"]}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
