"""Budget 1: one poll of a 30,000- and of a 100,000-worker account, paged upstream,
fetched and stored in 10 s; the 100,000-worker poll in at most 300 MB of memory.

End to end through dashboard.polling.source_poll, over real HTTP to the simulated BTC.com
API with one extra account of that many workers. The memory is the peak resident size of a
child process that loads Django and does that one poll and nothing else, so neither the
simulator (which runs in this process) nor the test's own objects are counted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from datetime import time as day_time
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from dashboard.models import PollRun, Source, Team
from dashboard.polling import http_client, source_poll
from dashboard.services import source_create
from dashboard.sources import PollContext, get_kind
from pools import models as m
from pools.clients import btccom as btccom_client
from pools.clients.base import PoolSnapshot
from pools.ingest import poll_moment
from simulator import btccom
from simulator.core import DEFAULT_SEED, FrozenClock, Request, Response, Simulator
from simulator.server import SimulatorServer
from tests.bench.conftest import report_amount, report_durations, timed

pytestmark = pytest.mark.bench

WORKERS = 30_000
HUGE = 100_000
POLL_SECONDS = 10.0
POLL_MEGABYTES = 300.0
REPEAT_POLLS = 3
FETCHES = 2
ROUND_TRIP = 0.02  # a nearby region's API; across continents it is 100 ms and more
RACK_TH = 110.0


def farm(workers: int, puid: int) -> btccom.Account:
    thousands = f"{workers // 1000}k"
    return btccom.Account(
        puid=puid, access_key=f"sim-ak-bench-{thousands}", user_name=f"bench-{thousands}",
        region="Europe", address=f"bc1qbench{thousands}workers".ljust(42, "x"), ip="192.0.2.30",
        since=date(2025, 1, 1),
        racks=tuple(btccom.Rack(f"bay{n:03d}-", 500, RACK_TH) for n in range(workers // 500)),
    )


BIG, HUGE_FARM = farm(WORKERS, 730_000), farm(HUGE, 731_000)


class BigAccountApi(btccom.BtccomApi):
    """The simulated BTC.com API with BIG beside the stock accounts.

    Simulating 30,000 workers costs the simulator seconds per answer, and it shares this
    process with the poll, so it would be timed along with it. Under a frozen clock every
    answer is fixed, so each is computed once and kept: a warm-up fetch fills them, and the
    timed polls meet an upstream that answers as fast as HTTP allows.
    """

    def __init__(self, *, seed: str = DEFAULT_SEED) -> None:
        super().__init__(seed=seed)
        # Sorted once, so each worker page's sort by name runs over an already sorted list.
        self.farms = {
            account.puid: tuple(sorted(btccom.account_workers(seed, account.puid),
                                       key=lambda worker: worker.name))
            for account in (BIG, HUGE_FARM)}
        self.workers.update(self.farms)
        self.answers: dict[tuple[Any, ...], Response] = {}
        self.round_trip = 0.0  # seconds each answer is held back, as a distant upstream would
        self.snapshots: dict[tuple[int, datetime], list[btccom.WorkerSnapshot]] = {}

    def scenario_changed(self, run: Any) -> None:
        # A reset rebuilds the stock accounts' workers: the farms stay.
        super().scenario_changed(run)
        self.workers.update(self.farms)

    def dispatch(self, request: Request) -> Response:
        key = (request.method, request.path, tuple(sorted(request.query.items())), request.now)
        if key not in self.answers:
            self.answers[key] = super().dispatch(request)
        if self.round_trip:
            time.sleep(self.round_trip)
        return self.answers[key]

    def _snapshots(self, account: btccom.Account, now: datetime) -> list[btccom.WorkerSnapshot]:
        # worker/stats and realtime/hashrate both walk every worker.
        key = (account.puid, now)
        if key not in self.snapshots:
            self.snapshots[key] = super()._snapshots(account, now)
        return self.snapshots[key]

    def _earned(self, account: btccom.Account, day: date, now: datetime) -> int:
        # The exact figure replays every worker's outages for every day of history, minutes
        # of work at this size; the nominal output is as good for timing.
        start = datetime.combine(day, day_time(), tzinfo=UTC).timestamp()
        mined = min(max(now.timestamp() - start, 0.0), btccom.DAY)
        th = sum(rack.count * rack.nominal_th for rack in account.racks)
        return int(th * mined / btccom.DAY * btccom.satoshi_per_th_day(day))


@pytest.fixture(scope="module")
def upstream() -> Iterator[SimulatorServer]:
    with pytest.MonkeyPatch.context() as patch:
        # The simulated API looks accounts up in this table: credentials, worker list, IP.
        for account in (BIG, HUGE_FARM):
            patch.setitem(btccom.ACCOUNT_BY_PUID, account.puid, account)
        clock = FrozenClock(timezone.now().replace(second=30, microsecond=0))
        with SimulatorServer(Simulator([BigAccountApi()], clock=clock)) as server:
            yield server


def farm_source(upstream: SimulatorServer, account: btccom.Account) -> Source:
    team = Team.objects.create(name=f"Bench poll {account.puid}", slug=f"bench-poll-{account.puid}")
    return source_create(
        team=team, kind="btccom", label=account.user_name, base_url=upstream.base_url("btccom"),
        credentials={"access_key": account.access_key, "puid": str(account.puid)},
    )


@pytest.fixture
def big_source(transactional_db: None, upstream: SimulatorServer) -> Source:
    return farm_source(upstream, BIG)


@pytest.fixture
def huge_source(transactional_db: None, upstream: SimulatorServer) -> Source:
    return farm_source(upstream, HUGE_FARM)


def fetch(source: Source) -> PoolSnapshot:
    """The client's half of a poll alone, built as dashboard.polling builds it."""
    spec = get_kind(source.kind)
    ctx = PollContext(base_url=source.effective_base_url, credentials=source.credentials,
                      options={**spec.default_options(), **source.options}, http=http_client(),
                      now=timezone.now())
    snapshot: PoolSnapshot = spec.load_client()(ctx).fetch()
    return snapshot


def poll(source: Source, workers: int = WORKERS) -> float:
    """Seconds for one poll, after checking that every worker and its sample were stored."""
    run, seconds = timed(lambda: source_poll(source_id=source.pk, trigger="manual"))
    assert isinstance(run, PollRun) and run.outcome == PollRun.Outcome.OK, run and run.message
    stored_as(run, workers)
    return seconds


def stored_as(run: PollRun, workers: int) -> None:
    assert run.rows["workers"] == workers
    stored = m.HashrateSample.objects.filter(source=run.source, at=poll_moment(run.started_at))
    assert stored.exclude(worker_name=m.ACCOUNT).count() == workers
    assert m.Worker.objects.filter(source=run.source, missing_since__isnull=True).count() == workers


def calls(upstream: SimulatorServer) -> int:
    return sum(sum(paths.values()) for paths in upstream.simulator.request_counts().values())


def warm_up(source: Source, settings: Any) -> PoolSnapshot:
    """The first fetch, which has the simulator compute (and keep) every answer: on a busy
    machine the worker pages of 100,000 simulated workers take longer than a request may."""
    usual = settings.HTTP_TIMEOUT_SECONDS
    settings.HTTP_TIMEOUT_SECONDS = 900
    try:
        return fetch(source)
    finally:
        settings.HTTP_TIMEOUT_SECONDS = usual


def test_poll_of_30000_workers(upstream: SimulatorServer, big_source: Source, settings: Any) -> None:
    warm = warm_up(big_source, settings)
    assert len(warm.workers) == WORKERS and not warm.problems
    upstream.simulator.reset()
    fetches = [timed(lambda: fetch(big_source))[1] for _ in range(FETCHES)]
    per_fetch = calls(upstream) // FETCHES
    report_durations(1, f"fetch alone: {per_fetch} HTTP calls, parsed", fetches, unit="s")
    api = upstream.simulator.apis["btccom"]
    assert isinstance(api, BigAccountApi)
    api.round_trip = ROUND_TRIP
    try:
        for at_once in (1, btccom_client.WORKER_PAGES_AT_ONCE):
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(btccom_client, "WORKER_PAGES_AT_ONCE", at_once)
                report_durations(1, f"fetch alone, {ROUND_TRIP * 1000:.0f} ms round trip: "
                                    f"{at_once} worker page{'s' if at_once > 1 else ''} at a time",
                                 [timed(lambda: fetch(big_source))[1]], unit="s")
    finally:
        api.round_trip = 0.0
    report_durations(1, "poll 30,000 workers: first (rows inserted)", [poll(big_source)],
                     unit="s", limit=POLL_SECONDS)
    repeats = [poll(big_source) for _ in range(REPEAT_POLLS)]
    report_durations(1, "poll 30,000 workers: repeat (rows updated)", repeats, unit="s",
                     limit=POLL_SECONDS)


def child_poll(source: Source) -> dict[str, float]:
    """Poll in a fresh Python process against this test's database; its memory figures."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.poll_child", str(source.pk)],
        env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True, check=False,
        cwd=settings.BASE_DIR,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def test_poll_of_100000_workers(upstream: SimulatorServer, huge_source: Source, settings: Any) -> None:
    warm = warm_up(huge_source, settings)
    assert len(warm.workers) == HUGE and not warm.problems
    del warm
    upstream.simulator.reset()
    report_durations(1, "poll 100,000 workers: first (rows inserted)", [poll(huge_source, HUGE)],
                     unit="s", limit=POLL_SECONDS)
    calls_per_poll = calls(upstream)
    repeats = [poll(huge_source, HUGE) for _ in range(REPEAT_POLLS - 1)]
    report_durations(1, f"poll 100,000 workers: repeat ({calls_per_poll} HTTP calls)", repeats,
                     unit="s", limit=POLL_SECONDS)
    memory = child_poll(huge_source)
    stored_as(PollRun.objects.filter(source=huge_source).latest("started_at"), HUGE)
    report_amount(1, "poll 100,000 workers: memory before the poll (Django)",
                  [memory["before_mb"]], unit="MB")
    report_amount(1, "poll 100,000 workers: memory, peak RSS of the poll's process",
                  [memory["peak_mb"]], unit="MB", limit=POLL_MEGABYTES)
