"""SBI Crypto polls end to end: the simulator over HTTP, the client, the shared ingest."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from django.db import models

from dashboard.models import PollRun, Source, Team
from dashboard.polling import source_poll
from dashboard.services import source_create
from pools import models as m
from simulator import FrozenClock
from simulator.server import SimulatorServer

ALPHA = {"api_key": "sim-sbi-key-alpha", "api_secret": "sim-sbi-secret-alpha"}
READER = {"api_key": "sim-sbi-key-reader", "api_secret": "sim-sbi-secret-reader"}
OBSERVER = {"observer_key": "sim-sbi-observer-bravo"}
# What a second poll of unchanged upstream data may change: when it ran.
POLL_TIMES = {"id", "last_seen_at", "updated_at"}


@pytest.fixture
def frozen(simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """The session simulator, its clock stopped for this test so two polls see the same data."""
    clock = FrozenClock(datetime.now(UTC))
    monkeypatch.setattr(simulator.simulator, "clock", clock)
    return clock


def sbi_source(team: Team, simulator: SimulatorServer, label: str, credentials: dict[str, str]) -> Source:
    return source_create(
        team=team, kind="sbicrypto", label=label, base_url=simulator.base_url("sbicrypto"),
        credentials=credentials,
        options={"stats_url": simulator.base_url("sbicrypto-stats") + "/poolstats"},
    )


def poll(source: Source) -> PollRun:
    run = source_poll(source_id=source.pk)
    assert run is not None and run.ok, run.message if run else "skipped"
    return run


def stored(source: Source) -> dict[str, list[dict[str, Any]]]:
    tables: list[type[models.Model]] = [
        m.Worker, m.DailyEarning, m.Payout, m.Balance, m.PoolCoinStat, m.PoolAccount]
    return {
        model.__name__: [
            {k: v for k, v in row.items() if k not in POLL_TIMES}
            for row in model._default_manager.filter(source=source).order_by("pk").values()
        ]
        for model in tables
    }


def test_the_7500_worker_account_stores_every_worker_once(
    team: Team, simulator: SimulatorServer, frozen: FrozenClock,
) -> None:
    source = sbi_source(team, simulator, "SBI alpha", ALPHA)
    run = poll(source)

    workers = m.Worker.objects.filter(source=source)
    assert run.rows["workers"] == workers.count() == 7500
    assert Counter(w.extra["subaccount"] for w in workers) == {"alpha-btc": 4500, "alpha-bch": 3000}
    account = m.PoolAccount.objects.get(source=source)
    assert account.workers_total == 7500
    # Workers sent without a state get one by the pool's rule, and it agrees with the pool's counts.
    assert workers.filter(pool_status="").exists()
    assert dict(Counter(workers.values_list("status", flat=True))) == {
        "online": account.workers_online, "offline": account.workers_offline, "dead": account.workers_dead,
    }
    # The account's 10-minute figure is the sum of its workers', in H/s from MH/s.
    assert account.hashrate_hs == pytest.approx(sum(workers.values_list("hashrate_hs", flat=True)))
    assert 5e17 < (account.hashrate_hs or 0) < 1.2e18
    assert {sub["name"]: sub["coin"] for sub in account.info["subaccounts"]} == {
        "alpha-btc": "BTC", "alpha-bch": "BCH"}
    assert [v["name"] for v in account.info["subaccounts"][1]["virtual_subaccounts"]] == [
        "vsub-north", "vsub-south", "overflow"]
    assert "pool" not in account.info
    assert account.hashrate_by_coin["BTC"] + account.hashrate_by_coin["BCH"] == pytest.approx(
        account.hashrate_hs)
    figures = {stat.coin: stat for stat in m.PoolCoinStat.objects.filter(source=source)}
    assert set(figures) == {"BTC", "BCH", "ETHW", "LTC"}
    # Luck and found blocks for the coins the account mines.
    assert {coin for coin, stat in figures.items() if stat.luck and stat.blocks} == {"BCH", "BTC"}
    btc = figures["BTC"]
    assert btc.pool_hashrate_hs and btc.payout_rate and btc.usd_rate and btc.as_of
    assert btc.payout_rate_unit == "BTC/TH/day" and set(btc.luck) == {"7d", "30d"}

    assert set(m.DailyEarning.objects.filter(source=source).values_list("coin", flat=True)) == {"BCH", "BTC"}
    assert set(m.Balance.objects.filter(source=source).values_list("coin", flat=True)) == {"BCH", "BTC"}
    assert m.Payout.objects.filter(source=source).exists()
    assert {"BTC", "BCH", "ETHW", "LTC"} == set(
        m.PoolStat.objects.filter(source=source).values_list("coin", flat=True))


def test_a_second_poll_changes_nothing(
    team: Team, simulator: SimulatorServer, frozen: FrozenClock, settings: Any,
) -> None:
    settings.HISTORY_PAGES_PER_POLL = 100  # the first poll back-fills all the history
    source = sbi_source(team, simulator, "SBI alpha", ALPHA)
    poll(source)
    first = stored(source)
    source.refresh_from_db()
    poll(source)  # a later poll: only the recent earnings window

    assert {name: len(rows) for name, rows in stored(source).items()} == {
        name: len(rows) for name, rows in first.items()}
    assert stored(source) == first


def test_an_observer_key_source_polls(team: Team, simulator: SimulatorServer, frozen: FrozenClock) -> None:
    source = sbi_source(team, simulator, "SBI bravo", OBSERVER)
    poll(source)

    assert m.Worker.objects.filter(source=source).count() == 240
    account = m.PoolAccount.objects.get(source=source)
    assert (account.name, account.account_id, account.workers_total) == ("bravo-observed", "42", 240)
    assert account.info["access"] == "observer"
    assert account.hashrate_by_coin["BTC"] > 0
    assert not m.DailyEarning.objects.filter(source=source).exists()


def test_a_read_only_key_polls_without_financials(
    team: Team, simulator: SimulatorServer, frozen: FrozenClock,
) -> None:
    source = sbi_source(team, simulator, "SBI reader", READER)
    poll(source)

    assert m.Worker.objects.filter(source=source).count() == 3000  # the one subaccount it may see
    assert not m.DailyEarning.objects.filter(source=source).exists()
    assert not m.Balance.objects.filter(source=source).exists()


def test_a_wrong_secret_stops_the_source(team: Team, simulator: SimulatorServer, frozen: FrozenClock) -> None:
    source = sbi_source(team, simulator, "SBI wrong", {**ALPHA, "api_secret": "sim-sbi-wrong-secret"})
    run = source_poll(source_id=source.pk)

    assert run is not None and run.outcome == PollRun.Outcome.PERMANENT
    assert run.message.startswith("SBI Crypto rejected the API key and secret (HTTP 401")
    assert "sim-sbi-wrong-secret" not in run.message and "sim-sbi-key-alpha" not in run.message
    source.refresh_from_db()
    assert source.error_is_permanent and source.next_poll_at is None


@pytest.mark.parametrize(("path", "params", "headers", "status", "error"), [
    ("/api/external/v1/account", {}, {**ALPHA, "api_secret": "nope"}, 401, "unauthorized"),
    ("/api/external/v2/earnings", {"page": 0, "size": 5}, READER, 403, "access_denied"),
    ("/api/external/v1/workers", {"subaccountNames": "alpha-eth"}, ALPHA, 404, "not_found"),
    ("/api/external/v1/workers", {"statusFilters": "SLEEPING"}, ALPHA, 400, "bad_request"),
    ("/api/external/v1/workers", {"pageNumber": "first"}, ALPHA, 400, "bad_request"),
    ("/api/external/v1/subaccount/15/virtual", {}, ALPHA, 400, "bad_request"),
    ("/api/external/v2/earnings", {"page": 0, "size": 5, "sort": "colour,desc"}, ALPHA, 422,
     "unprocessable_entity"),
    ("/api/observer/v1/workers/status", {}, {"observer_key": "nope"}, 401, "invalid_token"),
])
def test_the_simulator_answers_the_documented_errors(
    simulator: SimulatorServer, frozen: FrozenClock, path: str, params: dict[str, Any],
    headers: dict[str, str], status: int, error: str,
) -> None:
    names = {"api_key": "X-API-Key", "api_secret": "X-API-Secret", "observer_key": "X-observer-key"}
    response = requests.get(simulator.base_url("sbicrypto") + path, params=params, timeout=10,
                            headers={names[k]: v for k, v in headers.items()})
    assert response.status_code == status
    body = response.json()
    assert body["error"] == error and body["error_description"]


def test_the_simulator_pages_workers_from_zero_by_twenty(
    simulator: SimulatorServer, frozen: FrozenClock,
) -> None:
    headers = {"X-API-Key": ALPHA["api_key"], "X-API-Secret": ALPHA["api_secret"]}
    url = simulator.base_url("sbicrypto") + "/api/external/v1/workers"
    first = requests.get(url, headers=headers, timeout=10).json()
    last = requests.get(url, headers=headers, params={"pageNumber": 374}, timeout=10).json()
    beyond = requests.get(url, headers=headers, params={"pageNumber": 375}, timeout=10).json()

    assert (first["number"], first["size"], first["totalPages"], first["first"]) == (0, 20, 375, True)
    assert first["totalElements"] == 7500 and len(first["content"]) == 20
    assert (last["last"], last["content"][-1]["name"]) == (True, "alpha-s21-03000")
    assert beyond["content"] == [] and beyond["numberOfElements"] == 0
    assert all(isinstance(v, float) for w in first["content"] for v in w["hashrates"])  # MH/s
