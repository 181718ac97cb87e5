"""Demo mode's past: a week of history, polled from the simulator as it was at past moments.

Before the demo serves, each demo source is polled at a series of past moments through the
product's own poll path (`source_poll(at=...)`: the same client, ingest and PollRun as a
scheduled poll), against a simulator whose frozen clock stands at each moment, so the
upstreams answer as they would have then. What is stored is what real polls would have
left; the beat's housekeeping then rolls up and prunes it as retention does every few
minutes. The scenario is left out: in the demo it starts with the live simulator.

A restart fills only the gap since the demo's last poll, and nothing if that was moments ago.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from dashboard.models import PollRun, Source, Team
from dashboard.polling import source_poll
from simulator import build_simulator
from simulator.core.clock import FrozenClock
from simulator.server import SimulatorServer

log = logging.getLogger("simulator")

HISTORY = timedelta(days=7)
# The charts read raw samples for ranges up to two days and hourly roll-ups beyond, and open
# on the last 24 hours: those are polled RECENT_DENSITY times as often as the rest.
RECENT = timedelta(hours=24)
RECENT_DENSITY = 4
# The step is the finest that fits the time budget on this machine (a poll of every demo
# source costs from one to several seconds, most of it the 3,000-worker SBI account's
# simulated answers and stored samples), never finer than FINEST in the recent day, never
# coarser than COARSEST before it.
BUDGET_SECONDS = 20.0
FINEST = timedelta(minutes=10)
COARSEST = timedelta(hours=12)
BACKFILL_TRIGGER = "backfill"
# The beat's dispatcher starts the live polls; every other entry is housekeeping to run once
# the past is stored (roll-ups, pruning, the alert evaluation of the present).
DISPATCHER = "dashboard.tasks.dispatch_due_sources"


@dataclass(frozen=True)
class HistoryFill:
    moments: int
    polls: int
    failed: int
    step: timedelta
    seconds: float


def history_moments(*, since: datetime, until: datetime, step: timedelta) -> list[datetime]:
    """The past moments after `since` to poll, oldest first: every `step`, and every
    step / RECENT_DENSITY in the last day before `until` (left out: the live polls take
    over there). Aligned on the step, so a re-run's moments fall where the first run's did."""
    moments: set[datetime] = set()
    for reach, every in ((HISTORY, step), (RECENT, max(step / RECENT_DENSITY, FINEST))):
        seconds = every.total_seconds()
        moment = datetime.fromtimestamp(
            (max(since, until - reach).timestamp() // seconds + 1) * seconds, UTC)
        while moment < until:
            moments.add(moment)
            moment += every
    return sorted(moments)


def step_within(*, budget: float, seconds_per_moment: float, span: timedelta) -> timedelta:
    """The finest step whose moments over `span` can be polled within `budget` seconds."""
    recent = min(span, RECENT)
    # Moments per second of span: 1/step before the recent day, RECENT_DENSITY/step in it.
    weighted = (span - recent) + recent * RECENT_DENSITY
    moments = max(budget, 0.0) / max(seconds_per_moment, 1e-3)
    wanted = weighted / max(moments, 1.0)
    return min(max(wanted, FINEST * RECENT_DENSITY), COARSEST)


def history_start(*, sources: Iterable[Source], now: datetime) -> datetime:
    """A week ago, or the demo's last poll if it is more recent."""
    last = PollRun.objects.filter(source__in=list(sources)).aggregate(last=Max("started_at"))["last"]
    week_ago = now - HISTORY
    return max(last, week_ago) if last else week_ago


def demo_history_fill(
    *, team: Team, simulator_port: int, now: datetime | None = None,
    budget: float = BUDGET_SECONDS, step: timedelta | None = None,
    say: Callable[[str], None] = log.info,
) -> HistoryFill:
    """Poll the team's enabled sources at past moments since its last poll (at most a week
    ago), against a simulator served on `simulator_port` (the port the sources point at)
    with a clock standing at each moment; then run the beat's housekeeping once.

    Without a `step`, the first two moments are polled an hour apart and the rest at the
    finest step that fits what is left of `budget` at their pace."""
    began = time.monotonic()
    now = now or timezone.now()
    sources = list(Source.objects.filter(team=team, enabled=True).order_by("pk"))
    since = history_start(sources=sources, now=now)
    if now - since < FINEST:
        return HistoryFill(0, 0, 0, step or FINEST, time.monotonic() - began)
    clock = FrozenClock(since)
    polled: list[PollRun | None] = []

    def poll_at(moment: datetime) -> None:
        clock.now = moment
        polled.extend(source_poll(source_id=source.pk, trigger=BACKFILL_TRIGGER, at=moment)
                      for source in sources)

    with SimulatorServer(build_simulator(clock=clock), port=simulator_port):
        if step is None:
            # The first moment warms the simulator's caches; the second shows the pace.
            first = history_moments(since=since, until=now, step=COARSEST)[:1] or [since]
            poll_at(first[0])
            paced = time.monotonic()
            poll_at(first[0] + timedelta(hours=1))
            step = step_within(budget=budget - (time.monotonic() - began),
                               seconds_per_moment=time.monotonic() - paced,
                               span=now - first[0])
            since = first[0] + timedelta(hours=1)
        moments = history_moments(since=since, until=now, step=step)
        say(f"Filling the past week: {len(moments)} moments from {since:%Y-%m-%d %H:%M} UTC, "
            f"every {step} (every {max(step / RECENT_DENSITY, FINEST)} in the last day), "
            f"{len(sources)} sources...")
        # Ending on the present itself: no source looks stale (nor raises an alert) in the
        # seconds before its first live poll.
        for moment in [*moments, now]:
            poll_at(moment)
    # The sources poll live from now on, not at the back-off a failed past poll set.
    Source.objects.filter(pk__in=[s.pk for s in sources]).update(
        next_poll_at=None, consecutive_failures=0, wait_until=None)
    beat_housekeeping()
    failed = sum(run is None or run.outcome != PollRun.Outcome.OK for run in polled)
    return HistoryFill(len(polled) // max(len(sources), 1), len(polled), failed, step,
                       time.monotonic() - began)


def beat_housekeeping() -> None:
    """Run every beat entry but the dispatcher once, here and now, as the beat would within
    minutes: named as the settings name them, so the simulator imports no feature app."""
    current_app.loader.import_default_modules()  # every app's tasks module, as a worker does
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        if entry["task"] != DISPATCHER:
            current_app.tasks[entry["task"]].apply()
