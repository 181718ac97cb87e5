"""The upstream simulator: real HTTP, documented shapes, moving but reproducible data, faults."""

from __future__ import annotations

import itertools
import math
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from simulator import FrozenClock, build_simulator
from simulator.btccom import ALPHA, BRAVO, Account, account_workers, worker_status
from simulator.core import Request
from simulator.server import SimulatorServer
from tests.simulated import frozen_simulator_fixtures

START = datetime(2025, 6, 15, 12, 0, 30, tzinfo=UTC)
CLOCK = FrozenClock(START)


server, fresh, base = frozen_simulator_fixtures(clock=CLOCK, start=START, prefix="btccom")


def creds(account: Account = ALPHA) -> dict[str, Any]:
    return {"access_key": account.access_key, "puid": account.puid}


def call(base: str, path: str, account: Account | None = ALPHA, **params: Any) -> Any:
    query = {**(creds(account) if account else {}), **params}
    response = requests.get(f"{base}{path}", params=query, timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert body["err_no"] == 0, body
    return body["data"]


def all_workers(base: str, account: Account = ALPHA, status: str = "all") -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        data = call(base, "/v1/worker", account, status=status, page=page, page_size=50)
        rows += data["data"]
        if page >= data["page_count"]:
            return rows
        page += 1


def all_history(base: str, account: Account = ALPHA) -> list[dict[str, Any]]:
    first = call(base, "/v1/account/earn-history", account, page=1, page_size=50)
    rows = list(first["list"])
    for page in range(2, first["page_count"] + 1):
        rows += call(base, "/v1/account/earn-history", account, page=page, page_size=50)["list"]
    return rows


def test_server_exposes_one_base_url_per_api(server: SimulatorServer) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
    assert server.base_url("btccom") == f"{server.url}/btccom"


def test_pool_stats_have_the_documented_shape(base: str) -> None:
    node = call(base, "/public/v1/pool/stats", account=None)
    merged = call(base, "/public/v1/pool/stats/merge", account=None)
    for data in (node, merged):
        assert set(data) == {"shares", "reject", "workers", "users"}
        assert set(data["shares"]) == {"shares_1m", "shares_5m", "shares_15m", "shares_unit"}
        assert data["shares"]["shares_unit"] == "P"
        assert isinstance(data["shares"]["shares_15m"], float)
        assert set(data["reject"]) == {"1m", "5m", "15m"}
        assert isinstance(data["workers"], int) and isinstance(data["users"], int)
    assert merged["shares"]["shares_15m"] > node["shares"]["shares_15m"]
    assert merged["workers"] > node["workers"]


def test_account_info_names_the_account(base: str) -> None:
    data = call(base, "/v1/account/info", BRAVO)
    assert data["user_id"] == BRAVO.puid
    assert data["address"].strip() == BRAVO.address
    assert data["alert"]["hashrate_unit"] == "T"
    assert set(data["contact"]) == {"mail", "phone"}


@pytest.mark.parametrize("path", [
    "/v1/account/info", "/v1/account/earn-stats", "/v1/account/earn-history",
    "/v1/realtime/hashrate", "/v1/worker/stats", "/v1/worker",
])
def test_it_rejects_bad_key(base: str, path: str) -> None:
    wrong_pair = {"access_key": BRAVO.access_key, "puid": ALPHA.puid}
    response = requests.get(f"{base}{path}", params=wrong_pair, timeout=5)
    assert response.status_code == 200
    assert response.json() == {"err_no": 20001, "err_msg": "permissions denied"}


@pytest.mark.parametrize("params", [
    {},
    {"access_key": ALPHA.access_key},
    {"access_key": ALPHA.access_key, "puid": "eighty"},
    {**creds(), "page": "0"},
    {**creds(), "page": "x"},
    {**creds(), "page_size": "51"},
    {**creds(), "status": "sleeping"},
])
def test_it_answers_bad_parameters_with_err_no_1(base: str, params: dict[str, Any]) -> None:
    response = requests.get(f"{base}/v1/worker", params=params, timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert body["err_no"] == 1
    assert body["err_msg"]


def test_worker_pages_cover_every_worker_exactly_once(base: str) -> None:
    names: list[str] = []
    first = call(base, "/v1/worker", status="all", page=1, page_size=7)
    assert first["page"] == "1" and first["page_size"] == "7"
    assert first["total_count"] == len(ALPHA.worker_names()) == 100
    assert first["page_count"] == math.ceil(100 / 7)
    for page in range(1, first["page_count"] + 1):
        names += [w["worker_name"] for w in call(
            base, "/v1/worker", status="all", page=page, page_size=7)["data"]]
    assert sorted(names) == sorted(ALPHA.worker_names())
    beyond = call(base, "/v1/worker", status="all", page=first["page_count"] + 1, page_size=7)
    assert beyond["data"] == []


def test_worker_rows_have_the_documented_shape(base: str) -> None:
    rows = all_workers(base, BRAVO)
    assert len(rows) == 50
    row = rows[0]
    assert set(row) == {
        "gid", "group_name", "worker_id", "worker_name", "shares_1m", "shares_5m",
        "shares_15m", "accept_count", "last_share_time", "last_share_ip", "reject_percent",
        "shares_unit", "status", "shares_1d", "shares_1d_unit",
    }
    assert row["shares_unit"] == row["shares_1d_unit"] == "T"
    assert -(2**63) <= int(row["worker_id"]) < 2**63
    assert isinstance(row["last_share_time"], int)
    active = [float(r["shares_15m"]) for r in rows if r["status"] == "ACTIVE"]
    # A worker back from an outage a few minutes ago still averages some zero minutes.
    assert sum(75 <= v <= 150 for v in active) >= 0.9 * len(active) > 0


def test_every_worker_runs_at_80_to_140_terahash() -> None:
    for account in (ALPHA, BRAVO):
        workers = account_workers("hashwatch", account.puid)
        assert len(workers) == len(account.worker_names())
        assert all(80e12 <= w.base_hs <= 140e12 for w in workers)


def test_status_filters_split_the_workers(base: str) -> None:
    stats = call(base, "/v1/worker/stats")
    by_status = {s: all_workers(base, ALPHA, s) for s in ("active", "inactive", "dead")}
    assert {w["status"] for w in by_status["dead"]} <= {"DEAD"}
    assert len(by_status["active"]) == stats["workers_active"]
    assert len(by_status["inactive"]) == stats["workers_inactive"]
    assert 1 <= len(by_status["dead"]) == stats["workers_dead"] <= 2
    assert sum(len(rows) for rows in by_status.values()) == stats["workers_total"] == 100
    now = int(START.timestamp())
    for dead in by_status["dead"]:
        assert now - dead["last_share_time"] > 86400
        assert dead["shares_15m"] == "0.00"


def test_account_totals_are_the_sum_of_the_workers(base: str) -> None:
    for account in (ALPHA, BRAVO):
        rows = all_workers(base, account)
        stats = call(base, "/v1/worker/stats", account)
        realtime = call(base, "/v1/realtime/hashrate", account)
        assert stats["shares_unit"] == realtime["shares_15m_unit"] == "P"
        for window, data in (("1m", stats), ("5m", stats), ("15m", stats), ("1d", realtime)):
            worker_sum_th = sum(Decimal(r[f"shares_{window}"]) for r in rows)
            total_ph = Decimal(data[f"shares_{window}"])
            assert total_ph * 1000 == worker_sum_th
            assert data[f"shares_{window}_pure"] == int(total_ph * 10**15)
        assert Decimal(realtime["shares_15m"]) == Decimal(stats["shares_15m"])


def test_values_are_identical_at_the_same_instant(base: str) -> None:
    first = (call(base, "/v1/worker", page_size=50), call(base, "/v1/account/earn-stats"))
    second = (call(base, "/v1/worker", page_size=50), call(base, "/v1/account/earn-stats"))
    assert first == second


def test_values_drift_when_the_clock_moves(base: str) -> None:
    before = call(base, "/v1/worker/stats")
    earned_before = int(call(base, "/v1/account/earn-stats")["earnings_today"])
    CLOCK.advance(timedelta(minutes=7))
    after = call(base, "/v1/worker/stats")
    assert after["shares_1m"] != before["shares_1m"]
    assert after["shares_15m"] != before["shares_15m"]
    assert int(call(base, "/v1/account/earn-stats")["earnings_today"]) > earned_before
    CLOCK.now = START
    assert call(base, "/v1/worker/stats") == before


def test_a_restart_gives_the_same_data() -> None:
    request = Request(
        method="GET", path="/btccom/v1/worker", query={**creds(BRAVO), "page_size": "50"},
        headers={}, body=b"", now=START,
    )
    first = build_simulator(clock=CLOCK).handle(request)
    second = build_simulator(clock=CLOCK).handle(request)
    other_seed = build_simulator(clock=CLOCK, seed="elsewhere").handle(request)
    assert first.body == second.body
    assert first.body != other_seed.body


def test_flaky_workers_go_inactive_and_come_back() -> None:
    start = START.timestamp()
    comebacks = 0
    for worker in account_workers("hashwatch", ALPHA.puid):
        statuses = [worker_status(worker, start + m * 600) for m in range(6 * 24 * 2)]
        went_down = "INACTIVE" in statuses
        if went_down and statuses[statuses.index("INACTIVE"):].count("ACTIVE"):
            comebacks += 1
    assert 2 <= comebacks <= 20


def test_earn_history_has_one_row_per_day_newest_first(base: str) -> None:
    first = call(base, "/v1/account/earn-history", page=1, page_size=50)
    assert first["page"] == "1" and first["page_size"] == "50"
    assert isinstance(first["page_count"], int) and first["total_count"] > 400
    assert first["page_count"] == math.ceil(first["total_count"] / 50)
    rows = all_history(base)
    assert len(rows) == first["total_count"]
    dates = [datetime.strptime(str(r["date"]), "%Y%m%d").date() for r in rows]
    assert dates[0] == START.date()
    assert all(a - b == timedelta(days=1) for a, b in itertools.pairwise(dates))

    today, yesterday = rows[0], rows[1]
    assert (today["payment_time"], today["payment_tx"], today["paid_amount"]) == ("0", "", 0)
    assert today["earnings"] > 0
    assert yesterday["payment_time"].startswith("2025-06-15 01:4")
    assert re.fullmatch(r"[0-9a-f]{64}", yesterday["payment_tx"])
    assert yesterday["address"] == ALPHA.address
    assert yesterday["paid_amount"] == yesterday["earnings"]
    assert yesterday["payment_mode"] == "PPS"
    assert isinstance(yesterday["diff"], int)
    assert len({r["payment_tx"] for r in rows[1:]}) == len(rows) - 1


def test_earnings_follow_the_hashrate(base: str) -> None:
    yesterday = call(base, "/v1/account/earn-history", page=1, page_size=2)["list"][1]
    hashrate_th = Decimal(call(base, "/v1/realtime/hashrate")["shares_1d"]) * 1000
    satoshi_per_th = yesterday["earnings"] / float(hashrate_th)
    assert 30 < satoshi_per_th < 90


def test_earn_stats_agree_with_the_history(base: str) -> None:
    stats = call(base, "/v1/account/earn-stats", BRAVO)
    assert all(isinstance(v, str) for v in stats.values())
    rows = all_history(base, BRAVO)
    paid = [r for r in rows if r["paid_amount"]]
    assert stats["earnings_today"] == str(rows[0]["earnings"])
    assert stats["earnings_yesterday"] == str(rows[1]["earnings"])
    assert stats["total_paid"] == str(sum(r["paid_amount"] for r in paid))
    assert stats["last_payment_time"] == paid[0]["payment_time"]
    assert stats["pending_payouts"] == "0"
    assert stats["unpaid"] == stats["earnings_today"]


def test_yesterday_is_pending_until_the_morning_payment(base: str) -> None:
    CLOCK.now = datetime(2025, 6, 15, 1, 0, tzinfo=UTC)
    stats = call(base, "/v1/account/earn-stats")
    rows = call(base, "/v1/account/earn-history", page_size=3)["list"]
    assert rows[1]["payment_time"] == "0" and rows[1]["paid_amount"] == 0
    assert stats["pending_payouts"] == str(rows[1]["earnings"])
    assert int(stats["unpaid"]) == rows[0]["earnings"] + rows[1]["earnings"]
    assert stats["last_payment_time"] == rows[2]["payment_time"]


def set_fault(server: SimulatorServer, **spec: Any) -> requests.Response:
    return requests.post(f"{server.url}/_sim/faults", json={"api": "btccom", **spec}, timeout=5)


def test_a_counted_fault_fails_that_many_requests(server: SimulatorServer, base: str) -> None:
    assert set_fault(server, fault="http_500", count=2).status_code == 200
    state = requests.get(f"{server.url}/_sim/faults", timeout=5).json()
    assert state["faults"]["btccom"] == {"fault": "http_500", "remaining": 2, "delay": 0.3}
    statuses = [requests.get(f"{base}/public/v1/pool/stats", timeout=5).status_code
                for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert requests.get(f"{server.url}/_sim/faults", timeout=5).json()["faults"]["btccom"] is None


def test_rate_limit_fault_sends_retry_after(server: SimulatorServer, base: str) -> None:
    set_fault(server, fault="http_429")
    for _ in range(2):
        response = requests.get(f"{base}/v1/worker/stats", params=creds(), timeout=5)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "1"
    set_fault(server, fault=None)
    assert requests.get(f"{base}/v1/worker/stats", params=creds(), timeout=5).status_code == 200


def test_malformed_json_fault(server: SimulatorServer, base: str) -> None:
    set_fault(server, fault="malformed_json", count=1)
    response = requests.get(f"{base}/v1/worker/stats", params=creds(), timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_schema_change_fault_keeps_the_envelope(server: SimulatorServer, base: str) -> None:
    set_fault(server, fault="schema_change", count=1)
    body = requests.get(f"{base}/v1/worker/stats", params=creds(), timeout=5).json()
    assert body["err_no"] == 0
    assert "shares_15m" not in body["data"] and "shares15m" in body["data"]


def test_timeout_fault_outlasts_a_short_client_timeout(
    server: SimulatorServer, base: str
) -> None:
    set_fault(server, fault="timeout", count=1)
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{base}/public/v1/pool/stats", timeout=0.1)
    assert requests.get(f"{base}/public/v1/pool/stats", timeout=5).status_code == 200


def test_reset_clears_faults_and_counts(server: SimulatorServer, base: str) -> None:
    set_fault(server, fault="http_500")
    requests.get(f"{base}/v1/worker", params=creds(), timeout=5)
    requests.get(f"{base}/v1/worker", params=creds(), timeout=5)
    requests.get(f"{base}/v1/account/info", params=creds(), timeout=5)
    counts = requests.get(f"{server.url}/_sim/requests", timeout=5).json()["requests"]
    assert counts["btccom"] == {"/v1/account/info": 1, "/v1/worker": 2}
    assert requests.post(f"{server.url}/_sim/reset", timeout=5).json() == {"ok": True}
    after = requests.get(f"{server.url}/_sim/requests", timeout=5).json()["requests"]
    assert after["btccom"] == {} and all(v == {} for v in after.values())
    assert requests.get(f"{base}/v1/account/info", params=creds(), timeout=5).status_code == 200


@pytest.mark.parametrize("spec", [
    {"fault": "meltdown"},
    {"fault": "http_500", "count": 0},
    {"fault": "http_500", "count": "two"},
    {"api": "nowhere", "fault": "http_500"},
])
def test_it_refuses_a_bad_fault(server: SimulatorServer, spec: dict[str, Any]) -> None:
    assert set_fault(server, **spec).status_code == 400


def test_it_refuses_a_fault_body_that_is_not_json(server: SimulatorServer) -> None:
    response = requests.post(f"{server.url}/_sim/faults", data=b"{oops", timeout=5)
    assert response.status_code == 400


def test_unknown_paths_answer_404_json(server: SimulatorServer, base: str) -> None:
    for url in (f"{base}/v2/nothing", f"{server.url}/nowhere/v1", f"{server.url}/"):
        response = requests.get(url, timeout=5)
        assert response.status_code == 404
        assert response.json()["error"] == "not found"
    wrong_method = requests.post(f"{base}/v1/worker", timeout=5)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "GET"


def test_odd_input_never_takes_the_server_down(server: SimulatorServer, base: str) -> None:
    odd = [
        ("GET", f"{base}/v1/worker?puid=%ff%00&access_key=%zz&page=-1"),
        ("GET", f"{base}/v1/worker?puid=88888&access_key=sim-ak-alpha&page=99999999999999999999"),
        ("GET", f"{base}/v1/account/earn-history?puid=1e3&access_key="),
        ("PUT", f"{base}/v1/account/info"),
        ("POST", f"{server.url}/_sim/faults"),
        ("GET", f"{server.url}/_sim/unknown"),
    ]
    for method, url in odd:
        assert requests.request(method, url, data=b"\xff\xfe", timeout=5).status_code < 500
    assert requests.get(f"{base}/public/v1/pool/stats", timeout=5).status_code == 200
