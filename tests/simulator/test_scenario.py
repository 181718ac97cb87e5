"""Scenarios: a few workers drop and an upstream answers 500 on a timetable, then all recovers,
controlled over HTTP like the faults (the demo's alerts come from this)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from simulator import FrozenClock, build_simulator
from simulator.btccom import ALPHA, BRAVO, Account
from simulator.core.scenario import SCENARIOS, ScenarioRun
from simulator.server import SimulatorServer
from tests.simulated import frozen_simulator_fixtures

START = datetime(2025, 6, 15, 12, 0, 30, tzinfo=UTC)
CLOCK = FrozenClock(START)
ALERTS = SCENARIOS["alerts"]

server, fresh, base = frozen_simulator_fixtures(clock=CLOCK, start=START, prefix="btccom")


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def statuses(base: str, account: Account = ALPHA) -> dict[str, str]:
    rows: dict[str, str] = {}
    page = 1
    while True:
        params = {"access_key": account.access_key, "puid": account.puid, "page": page,
                  "page_size": 50}
        data = requests.get(f"{base}/v1/worker", params=params, timeout=5).json()["data"]
        rows.update({row["worker_name"]: row["status"] for row in data["data"]})
        if page >= data["page_count"]:
            return rows
        page += 1


def kz_status(server: SimulatorServer) -> int:
    params = {"v": "1", "method": "main_stat"}
    return requests.get(f"{server.url}/btcpoolkz/ru/api", params=params, timeout=5).status_code


def start(server: SimulatorServer, **spec: Any) -> requests.Response:
    return requests.post(f"{server.url}/_sim/scenario", json={"name": "alerts", **spec}, timeout=5)


def test_a_few_workers_drop_and_come_back_on_time(server: SimulatorServer, base: str) -> None:
    before = statuses(base)
    assert start(server).status_code == 200

    CLOCK.now = at(3)
    during = statuses(base)
    dropped = sorted(name for name, status in during.items()
                     if status == "INACTIVE" and before[name] == "ACTIVE")
    assert len(dropped) == 3

    CLOCK.now = at(9)
    after = statuses(base)
    assert all(after[name] == "ACTIVE" for name in dropped)


def test_only_the_first_account_loses_workers(server: SimulatorServer, base: str) -> None:
    before = statuses(base, BRAVO)
    start(server)
    CLOCK.now = at(3)
    assert statuses(base, BRAVO) == before


def test_the_pool_answers_500_for_a_while_then_recovers(server: SimulatorServer) -> None:
    start(server)
    assert kz_status(server) == 200
    CLOCK.now = at(5)
    assert kz_status(server) == 500
    CLOCK.now = at(10.5)
    assert kz_status(server) == 200


def test_it_repeats_every_cycle(server: SimulatorServer) -> None:
    start(server)
    CLOCK.now = at(ALERTS.cycle / 60 + 5)
    assert kz_status(server) == 500
    CLOCK.now = at(ALERTS.cycle / 60 + 12)
    assert kz_status(server) == 200


def test_it_shows_what_is_active(server: SimulatorServer) -> None:
    assert requests.get(f"{server.url}/_sim/scenario", timeout=5).json() == {
        "scenario": None, "available": sorted(SCENARIOS)}
    start(server, start=at(-5).isoformat())

    shown = requests.get(f"{server.url}/_sim/scenario", timeout=5).json()["scenario"]

    assert shown["name"] == "alerts" and shown["started_at"] == at(-5).isoformat()
    assert [(s["api"], s["active"]) for s in shown["steps"]] == [("btccom", True), ("btcpoolkz", True)]
    assert shown["steps"][0]["what"] == "3 workers of btccom stop from minute 1 to 8"


def test_stopping_or_resetting_ends_the_trouble(server: SimulatorServer, base: str) -> None:
    before = statuses(base)
    start(server)
    CLOCK.now = at(5)
    stopped = requests.post(f"{server.url}/_sim/scenario", json={"name": None}, timeout=5)
    assert stopped.json() == {"scenario": None}
    assert kz_status(server) == 200 and statuses(base) == before

    start(server, start=at(0).isoformat())
    requests.post(f"{server.url}/_sim/reset", timeout=5)
    assert kz_status(server) == 200 and statuses(base) == before


def test_a_fault_set_by_hand_wins_over_the_scenario(server: SimulatorServer) -> None:
    start(server)
    CLOCK.now = at(5)
    requests.post(f"{server.url}/_sim/faults", json={"api": "btcpoolkz", "fault": "http_429"},
                  timeout=5)
    assert kz_status(server) == 429


@pytest.mark.parametrize(("spec", "error"), [
    ({"name": "nope"}, "unknown scenario 'nope'"),
    ({"scenario": "alerts"}, "expected"),
    ({"name": "alerts", "start": "yesterday"}, "Invalid isoformat"),
])
def test_it_refuses_a_bad_scenario(server: SimulatorServer, spec: dict[str, Any], error: str) -> None:
    response = requests.post(f"{server.url}/_sim/scenario", json=spec, timeout=5)
    assert response.status_code == 400 and error in response.json()["error"]


def test_windows_are_found_across_cycles() -> None:
    run = ScenarioRun(ALERTS, START)
    step = ALERTS.steps[1]
    origin = START.timestamp()
    cycle = ALERTS.cycle
    assert run.windows(step, origin - 3600, origin) == []
    assert run.windows(step, origin, origin + 2 * cycle) == [
        (origin + step.begin, origin + step.end),
        (origin + cycle + step.begin, origin + cycle + step.end)]


def test_the_command_line_starts_a_scenario() -> None:
    simulator = build_simulator(clock=CLOCK)
    run = simulator.set_scenario("alerts")
    assert run is not None and run.started_at == START
    with pytest.raises(ValueError, match="unknown scenario"):
        simulator.set_scenario("nope")
