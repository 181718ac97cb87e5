"""Slow and dying polls on real Celery workers: one poll per source at a time, the dispatcher
never stuck behind polls, nothing lost or doubled when a worker is killed."""

from __future__ import annotations

import signal
import time

import pytest
from django.core.cache import cache

from dashboard.models import PollRun, Source, Team
from dashboard.tasks import BEAT_TICK_KEY, poll_source
from tests.e2e.conftest import wait_for
from tests.faults.conftest import (
    LEASE_SECONDS,
    Stack,
    Upstream,
    counts,
    faulty,
    settle,
)

pytestmark = pytest.mark.e2e


def test_a_poll_that_outlives_its_lease_renews_it_and_is_never_joined(
    team: Team, upstream: Upstream, stack: Stack
) -> None:
    source = faulty(team, upstream, "slow")
    upstream.set("slow", hang=LEASE_SECONDS * 3)
    stack.worker("pools", "-Q", "pools", "--pool", "threads", "--concurrency", "2")
    assert counts(source) == (0, 0)

    poll_source.delay(source.pk)
    wait_for(lambda: upstream.count("slow") == 1, timeout=30, what="the poll to call upstream")
    # For two lease lengths, ask for the same source again every second (as the dispatcher or
    # Poll now would): a free worker thread is there to take it if the lease lapsed.
    leases = []
    for _ in range(LEASE_SECONDS * 2):
        poll_source.delay(source.pk)
        leases.append(Source.objects.values_list("claimed_until", flat=True).get(pk=source.pk))
        time.sleep(1)
    wait_for(lambda: counts(source)[0] >= 1, timeout=40, what="the slow poll to be recorded")
    settle(2)

    assert upstream.count("slow") == 1
    assert counts(source) == (1, 1)
    run = PollRun.objects.get(source=source)
    assert run.ok and run.duration_ms >= (LEASE_SECONDS * 3 - 1) * 1000
    assert None not in leases and leases[-1] > leases[0]  # renewed, never lapsed
    source.refresh_from_db()
    assert source.claimed_until is None and source.claim_token == ""
    assert source.status == "ok"
    assert "is being polled elsewhere; skipped" in stack.log("pools")


def test_the_dispatcher_and_market_polls_go_on_while_every_pool_slot_hangs(
    team: Team, upstream: Upstream, stack: Stack
) -> None:
    hanging = [faulty(team, upstream, f"hang{n}") for n in (1, 2)]
    for n in (1, 2):
        upstream.set(f"hang{n}", hang=12)
    market = faulty(team, upstream, "market", kind="faultmarket")
    Source.objects.filter(pk=market.pk).update(interval=2)  # a fast feed
    stack.worker("dispatch", "-Q", "dispatch", "--pool", "solo")
    stack.worker("pools", "-Q", "pools", "--pool", "threads", "--concurrency", "2")
    stack.worker("markets", "-Q", "markets", "--pool", "solo")
    stack.beat()

    wait_for(lambda: upstream.count("hang1") + upstream.count("hang2") == 2, timeout=30,
             what="both pool polls to hang upstream")
    market_runs = counts(market)[0]
    ticks = set()
    for _ in range(12):
        ticks.add(cache.get(BEAT_TICK_KEY))
        time.sleep(0.5)

    assert len(ticks) >= 4  # beat -> dispatch queue -> a tick about every second
    assert counts(market)[0] >= market_runs + 2  # the market feed is not delayed
    assert all(counts(source) == (0, 0) for source in hanging)

    wait_for(lambda: all(counts(source)[0] == 1 for source in hanging), timeout=40,
             what="the hanging pools to finish")
    assert all(counts(source) == (1, 1) for source in hanging)
    runs, stored = counts(market)
    assert runs == stored  # nothing doubled
    assert PollRun.objects.filter(source=market).exclude(outcome=PollRun.Outcome.OK).count() == 0
    assert upstream.count("hang1") == upstream.count("hang2") == 1


def test_a_worker_killed_mid_poll_loses_and_doubles_nothing_and_the_source_recovers(
    team: Team, upstream: Upstream, stack: Stack
) -> None:
    source = faulty(team, upstream, "victim")
    Source.objects.filter(pk=source.pk).update(interval=4)
    upstream.set("victim", hang=60)
    worker = stack.worker("pools-a", "-Q", "pools", "--pool", "solo")
    stack.worker("dispatch", "-Q", "dispatch", "--pool", "solo")
    stack.beat()
    wait_for(lambda: upstream.count("victim") == 1, timeout=30, what="the poll to hang upstream")
    time.sleep(1)

    worker.send_signal(signal.SIGKILL)
    worker.wait()
    lease = Source.objects.values_list("claimed_until", flat=True).get(pk=source.pk)
    assert lease is not None
    assert counts(source) == (0, 0)

    upstream.set("victim")  # the upstream answers again
    stack.worker("pools-b", "-Q", "pools", "--pool", "solo")
    wait_for(lambda: counts(source)[0] >= 1, timeout=60, what="the source to be polled again")
    settle(1)

    runs = list(PollRun.objects.filter(source=source).order_by("started_at"))
    assert runs[0].ok and runs[0].started_at >= lease  # only once the dead worker's lease expired
    assert all(run.ok for run in runs)
    assert counts(source) == (len(runs), len(runs))
    source.refresh_from_db()
    assert source.status == "ok"
