"""One poll in a process of its own, for the memory budget: `python -m tests.bench.poll_child ID`.

Prints, as its last line, JSON with the resident size once Django is loaded (before_mb) and
the process's peak resident size after the poll (peak_mb), in MB. The peak is the kernel's
ru_maxrss, so it counts everything the poll held at its worst moment: parsed pages, worker
objects, rows on their way to COPY, the database driver's buffers.
"""

from __future__ import annotations

import json
import os
import resource
import sys


def resident_mb() -> float:
    """The current resident size, from /proc (Linux); ru_maxrss is only ever the peak."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def main(source_id: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    import django

    django.setup()
    from dashboard.models import PollRun
    from dashboard.polling import source_poll

    before = resident_mb()
    run = source_poll(source_id=source_id, trigger="manual")
    if not isinstance(run, PollRun) or run.outcome != PollRun.Outcome.OK:
        sys.exit(f"the poll did not succeed: {run and run.message}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # KiB on Linux
    print(json.dumps({"before_mb": before, "peak_mb": peak, "workers": run.rows["workers"]}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
