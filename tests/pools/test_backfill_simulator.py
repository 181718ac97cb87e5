"""The history back-fill over real HTTP against the simulator, which keeps years of history:
a bounded number of pages per poll, an upstream failure on one page, and the polls after it
reading on until every day is stored once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from dashboard.models import PollRun, Source, Team
from dashboard.polling import source_poll
from dashboard.services import source_create
from pools import models as m
from simulator import FrozenClock, Request, Response, build_simulator
from simulator.btccom import ALPHA
from simulator.server import SimulatorServer

SBI_ALPHA = {"api_key": "sim-sbi-key-alpha", "api_secret": "sim-sbi-secret-alpha"}


class FailingPage:
    """Wraps the simulator's request handler: BTC.com earn-history page 3 answers HTTP 502
    while `failing` is set, as a proxy in front of a struggling upstream would."""

    def __init__(self, handle: Any):
        self.handle = handle
        self.failing = False
        self.pages: list[str] = []

    def __call__(self, request: Request) -> Response:
        if request.path == "/btccom/v1/account/earn-history":
            self.pages.append(request.query.get("page", ""))
            if self.failing and request.query.get("page") == "3":
                return Response.text("<html>502 Bad Gateway</html>", status=502,
                                     content_type="text/html")
        return self.handle(request)


@pytest.fixture
def server() -> Iterator[tuple[SimulatorServer, FailingPage]]:
    # Stopped at noon, so no day turns and no payment goes out while the test polls.
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    simulator = build_simulator(clock=FrozenClock(today))
    wrapper = FailingPage(simulator.handle)
    simulator.handle = wrapper  # type: ignore[method-assign]
    with SimulatorServer(simulator) as running:
        yield running, wrapper


def poll(source: Source) -> PollRun:
    run = source_poll(source_id=source.pk)
    assert run is not None and run.ok, run.message if run else "skipped"
    return run


def served_history(base: str) -> list[dict[str, Any]]:
    """Every earn-history row the simulator keeps for ALPHA, read without the client."""
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        data = requests.get(f"{base}/v1/account/earn-history", timeout=10, params={
            "access_key": ALPHA.access_key, "puid": ALPHA.puid, "page": page, "page_size": 50,
        }).json()["data"]
        rows += data["list"]
        if page >= data["page_count"]:
            return rows
        page += 1


def test_btccom_history_is_back_filled_over_several_polls_despite_a_failing_page(
    team: Team, server: tuple[SimulatorServer, FailingPage], settings: Any,
) -> None:
    simulator, wrapper = server
    settings.HTTP_RETRIES = 0
    settings.HISTORY_PAGES_PER_POLL = 10
    base = simulator.base_url("btccom")
    served = served_history(base)
    assert len(served) > 400  # far more than the 90 days a first poll used to read
    wrapper.pages.clear()
    source = source_create(team=team, kind="btccom", label="Alpha", base_url=base, credentials={
        "access_key": ALPHA.access_key, "puid": str(ALPHA.puid)})

    wrapper.failing = True
    poll(source)
    state = m.HistoryBackfill.objects.get(source=source)
    assert wrapper.pages == ["1", "2", "3"] and state.cursor == {"page": 3}
    assert "502" in state.last_error
    assert m.DailyEarning.objects.filter(source=source).count() == 99  # the 100th waits with page 3

    wrapper.failing = False
    polls = 1
    while not state.done:
        poll(source)
        polls += 1
        state.refresh_from_db()
        assert polls < 10
    pages = -(-len(served) // 50)
    assert polls == 1 + -(-(pages - 2) // 10)  # the rest, ten pages a poll
    assert state.pages_done == pages and state.last_error == ""

    days = {row["date"] for row in served}
    paid = {row["payment_tx"] for row in served if row["payment_tx"]}
    assert m.DailyEarning.objects.filter(source=source).count() == len(days)
    assert set(m.Payout.objects.filter(source=source).values_list("tx", flat=True)) == paid
    assert m.Payout.objects.filter(source=source).count() == len(paid)
    assert state.oldest == min(datetime.strptime(str(d), "%Y%m%d").date() for d in days)

    wrapper.pages.clear()
    poll(source)
    assert wrapper.pages == ["1"]  # complete: only the recent window from now on
    assert m.DailyEarning.objects.filter(source=source).count() == len(days)


def test_sbi_financials_are_back_filled_to_the_accounts_first_day(
    team: Team, server: tuple[SimulatorServer, FailingPage], settings: Any,
) -> None:
    simulator, _ = server
    settings.HISTORY_PAGES_PER_POLL = 2
    source = source_create(
        team=team, kind="sbicrypto", label="SBI alpha", base_url=simulator.base_url("sbicrypto"),
        credentials=SBI_ALPHA,
        options={"stats_url": simulator.base_url("sbicrypto-stats") + "/poolstats"},
    )
    polls = 0
    while m.HistoryBackfill.objects.filter(source=source, finished_at__isnull=True).exists() or not polls:
        poll(source)
        polls += 1
        assert polls < 20
    assert polls > 1  # two pages a poll: the three lists take several

    states = {s.dataset: s for s in m.HistoryBackfill.objects.filter(source=source)}
    assert sorted(states) == ["earnings", "payout_records", "payouts"]
    earnings = m.DailyEarning.objects.filter(source=source)
    first_day = min(earnings.values_list("date", flat=True))
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    assert first_day == states["earnings"].oldest
    # Every finished day since the account opened, for each coin it mines: more than 90 days.
    for coin in ("BTC", "BCH"):
        days = set(earnings.filter(coin=coin).values_list("date", flat=True))
        assert len(days) == (yesterday - first_day).days + 1 > 90
    assert m.Payout.objects.filter(source=source).count() > 2 * 90
