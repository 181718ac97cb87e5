"""Two Celery workers share the polls: no source is polled twice at once, and a worker killed
in the middle of a poll loses nothing (its lease expires and the next schedule polls again).

Real worker processes on the session's Redis and Postgres, polling simulated BTC.com accounts
over HTTP; a small proxy in front of the simulator makes each answer slow enough for polls to
overlap, and for one to be caught half-way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from datetime import datetime
from itertools import pairwise
from typing import Any

import pytest
from django.utils import timezone

from dashboard.models import PollRun, Source, Team
from dashboard.polling import sources_dispatch
from dashboard.services import source_create
from dashboard.tasks import poll_source
from simulator import build_simulator
from simulator.btccom import ALPHA, BRAVO
from simulator.server import SimulatorServer
from tests.e2e.conftest import ARTIFACTS, celery_process, child_env, wait_for
from tests.e2e.conftest import test_database_url as database_url

pytestmark = pytest.mark.e2e

SOURCES = 6
CLAIM_SECONDS = 4
INTERVAL_SECONDS = 6
DELAYS = {"/slow/": 0.05, "/stalled/": 0.5}


class Latency:
    """WSGI in front of the simulator: a request under /slow/ or /stalled/ waits that long,
    then goes on to the simulator without the prefix."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        for prefix, delay in DELAYS.items():
            if path.startswith(prefix):
                time.sleep(delay)
                environ = {**environ, "PATH_INFO": path[len(prefix) - 1:]}
        return self.app(environ, start_response)


@pytest.fixture
def upstream() -> Iterator[SimulatorServer]:
    with SimulatorServer(Latency(build_simulator())) as server:  # type: ignore[arg-type]
        yield server


@pytest.fixture
def workers(transactional_db: None) -> Iterator[dict[str, Any]]:
    """Two workers on the dispatch and pools queues, each one poll at a time, with a short
    lease so that a dead worker's claim runs out within the test."""
    env = child_env(DATABASE_URL=database_url(), POLL_CLAIM_SECONDS=str(CLAIM_SECONDS))
    with ExitStack() as stack:
        started = {}
        for name in ("w1", "w2"):
            extra = ["--purge"] if name == "w1" else []
            started[name] = stack.enter_context(celery_process(
                "worker", "--pool", "solo", "-Q", "dispatch,pools", "-n", f"{name}@%h",
                "--without-gossip", "--without-mingle", *extra,
                env=env, log_name=f"scale-out-{name}.log"))
        yield started


def log_of(name: str) -> str:
    return (ARTIFACTS / f"scale-out-{name}.log").read_text(errors="replace")


def overlapping(runs: list[PollRun]) -> list[tuple[datetime, datetime]]:
    spans = sorted((run.started_at, run.finished_at) for run in runs)
    return [(a, b) for (_, a), (b, _) in pairwise(spans) if b < a]


def assert_never_polled_twice_at_once(sources: list[Source]) -> None:
    for source in sources:
        runs = list(PollRun.objects.filter(source=source))
        assert not overlapping(runs), f"{source.label} was polled twice at once"


def test_two_workers_share_the_polls_and_survive_a_kill(
    team: Team, upstream: SimulatorServer, workers: dict[str, Any],
) -> None:
    sources = [
        source_create(team=team, kind="btccom", label=f"Farm {n:02d}",
                      base_url=f"{upstream.url}/slow/btccom",
                      credentials={"access_key": account.access_key, "puid": str(account.puid)})
        for n, account in zip(range(SOURCES), [ALPHA, BRAVO] * SOURCES, strict=False)
    ]
    Source.objects.update(interval=INTERVAL_SECONDS)

    # Every due source queued twice, as when a redelivery or "Poll now" meets the schedule:
    # both workers take a copy at once, and the lease lets one of them poll.
    def twice(source_id: int) -> None:
        poll_source.delay(source_id)
        poll_source.delay(source_id)

    dispatched = sources_dispatch(now=timezone.now(), enqueue=twice)
    assert sorted(dispatched) == sorted(s.pk for s in sources)
    wait_for(lambda: all(PollRun.objects.filter(source=s, outcome="ok").exists() for s in sources)
             and log_of("w1").count("succeeded") + log_of("w2").count("succeeded") == 2 * SOURCES,
             timeout=60, what="every dispatched poll to be run")
    assert_never_polled_twice_at_once(sources)
    assert "being polled elsewhere; skipped" in log_of("w1") + log_of("w2")
    assert min(log_of(n).count("poll_source") for n in workers) > 0, "one worker did all the polls"

    # A worker killed half-way through a slow poll.
    stalled = sources[0]
    Source.objects.filter(pk=stalled.pk).update(base_url=f"{upstream.url}/stalled/btccom",
                                                next_poll_at=None)
    task = poll_source.delay(stalled.pk)
    holder = wait_for(lambda: next((n for n in workers if f"[{task.id}] received" in log_of(n)), None),
                      timeout=30, what="a worker to take the slow poll")
    wait_for(lambda: Source.objects.filter(pk=stalled.pk, claimed_until__isnull=False).exists(),
             timeout=30, what="the slow poll to claim its source")
    workers[holder].kill()  # SIGKILL: no clean-up, the claim stays behind
    workers[holder].wait()
    killed_at = timezone.now()
    survivor = next(n for n in workers if n != holder)

    # The schedule goes on: beat dispatches every second, the survivor polls what is due, and
    # the dead worker's claim runs out instead of blocking the source.
    env = child_env(DATABASE_URL=database_url(), POLL_DISPATCH_SECONDS="1")
    with celery_process("beat", "--schedule", str(ARTIFACTS / "scale-out-beat-schedule"),
                        env=env, log_name="scale-out-beat.log"):
        wait_for(lambda: all(PollRun.objects.filter(source=s, outcome="ok", started_at__gt=killed_at)
                             .exists() for s in sources),
                 timeout=60, what="every source, the stalled one too, to be polled after the kill")

    assert_never_polled_twice_at_once(sources)
    assert f"[{task.id}] succeeded" not in log_of(holder)
    rerun = PollRun.objects.filter(source=stalled, started_at__gt=killed_at).earliest("started_at")
    assert rerun.ok and rerun.trigger == "schedule"
    assert f"{survivor}@" in log_of(survivor)
