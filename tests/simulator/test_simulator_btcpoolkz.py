"""The simulated BTCpool.kz API: documented shapes, paging, errors, books that add up, and
the real client reading a full snapshot from it over HTTP."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from dashboard.http import HttpClient, UpstreamError
from dashboard.sources import PollContext
from pools.clients.btcpoolkz import BtcPoolKzClient
from simulator import FrozenClock, build_simulator
from simulator.btcpoolkz import ALPHA, LTC_FARM, MAX_LIMIT, Account, account_workers
from simulator.core import Request
from simulator.server import SimulatorServer
from tests.simulated import frozen_simulator_fixtures

START = datetime(2025, 6, 15, 12, 3, 30, tzinfo=UTC)
TICK = int(datetime(2025, 6, 15, 12, 0, tzinfo=UTC).timestamp())
CLOCK = FrozenClock(START)
ACCOUNT_METHODS = ("summary_data", "workers", "profit_history", "payment_history")
WORKER_KEYS = ["hashrate_10min", "hashrate_1hour", "hashrate_24hour", "last_active", "reject_rate",
               "worker_id", "worker_name", "worker_status"]


server, fresh, base = frozen_simulator_fixtures(clock=CLOCK, start=START, prefix="btcpoolkz")


def raw(base: str, name: str, account: Account | None = ALPHA, **params: Any) -> requests.Response:
    """GET /ru/api for method `name`; `params` may override the method, version and currency."""
    headers = {"X-API-KEY": account.api_key} if account else {}
    query = {"v": "1", "method": name, **({"currency": account.currency} if account else {})}
    return requests.get(f"{base}/ru/api", params={**query, **params}, headers=headers, timeout=5)


def call(base: str, method: str, account: Account | None = ALPHA, **params: Any) -> dict[str, Any]:
    response = raw(base, method, account, **params)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "OK", body
    return body


def every_row(base: str, method: str, account: Account = ALPHA, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        body = call(base, method, account, offset=len(rows), limit=MAX_LIMIT, **params)
        rows += body["data"]
        if not body["data"] or len(rows) >= body["total"]:
            return rows


def snapshot_of(base: str, account: Account = ALPHA, last_success_at: datetime | None = None) -> Any:
    ctx = PollContext(
        base_url=base, credentials={"api_key": account.api_key},
        options={"currency": account.currency}, http=HttpClient(retries=0), now=CLOCK.now,
        last_success_at=last_success_at,
    )
    return BtcPoolKzClient(ctx).fetch()


def test_main_stat_has_the_documented_shape_without_a_key(base: str) -> None:
    data = call(base, "main_stat", account=None)["data"]
    assert list(data) == ["BTC", "BCH", "LTC"]
    for coin in data.values():
        assert list(coin) == ["miners", "fee", "poolHs", "networkHs", "networkDiff", "poolHs_string",
                              "networkHs_string", "networkDiff_string"]
        assert coin["fee"] == 1  # the one number sent as a number
        assert all(isinstance(v, str) for k, v in coin.items() if k != "fee")
        assert coin["poolHs"].isdigit() and float(coin["networkHs"]) > int(coin["poolHs"])
    assert re.fullmatch(r"\d\.\d+E\+20", data["BTC"]["networkHs"])
    assert re.fullmatch(r"\d+(\.\d+)? PH/s", data["BTC"]["poolHs_string"])
    assert re.fullmatch(r"\d+(\.\d+)?T", data["BTC"]["networkDiff_string"])


def test_summary_agrees_with_the_worker_list(base: str) -> None:
    for account in (ALPHA, LTC_FARM):
        summary = call(base, "summary_data", account)["data"]
        assert list(summary) == ["active_workers", "unactive_workers", "hashrate_10min",
                                 "hashrate_1hour", "hashrate_24hour", "balance"]
        assert all(isinstance(v, str) for v in summary.values())
        rows = every_row(base, "workers", account)
        statuses = Counter(r["worker_status"] for r in rows)
        assert (summary["active_workers"], summary["unactive_workers"]) == (
            str(statuses["1"]), str(statuses["0"]))
        for window in ("10min", "1hour", "24hour"):
            workers_sum = sum(float(r[f"hashrate_{window}"]) for r in rows)
            assert float(summary[f"hashrate_{window}"]) == pytest.approx(workers_sum, rel=1e-12)
    # A BTC farm's total is a PHP float of 1e15 or more: exponent notation.
    assert "E+15" in call(base, "summary_data")["data"]["hashrate_10min"]


def test_worker_rows_have_the_documented_shape(base: str) -> None:
    rows = every_row(base, "workers")
    assert len(rows) == len(ALPHA.worker_names()) == 40
    assert all(list(r) == WORKER_KEYS and all(isinstance(v, str) for v in r.values()) for r in rows)
    ids = [int(r["worker_id"]) for r in rows]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 40
    rates = [r["hashrate_10min"] for r in rows if r["worker_status"] == "1"]
    assert any("E+14" in rate for rate in rates) and any(rate.isdigit() for rate in rates)
    assert all(90e12 <= float(rate) <= 150e12 for rate in rates)
    up = [r for r in rows if r["worker_status"] == "1"]
    assert {r["last_active"] for r in up} == {str(TICK)}  # read at the pool's 10-minute tick
    [retired] = [r for r in rows if r["worker_name"] == "worker1"]
    assert retired["worker_status"] == "0" and retired["hashrate_24hour"] == "0"
    assert TICK - int(retired["last_active"]) > 200 * 86400


def test_pages_cover_every_worker_exactly_once(base: str) -> None:
    names = []
    for offset in range(0, 42, 7):
        body = call(base, "workers", offset=offset, limit=7)
        assert (body["offset"], body["limit"], body["total"]) == (offset, 7, 40)
        assert body["count"] == len(body["data"])
        names += [r["worker_name"] for r in body["data"]]
    assert sorted(names) == sorted(ALPHA.worker_names())
    assert call(base, "workers", offset=40, limit=7)["data"] == []


def test_a_large_limit_is_cut_and_the_cut_is_echoed(base: str) -> None:
    body = call(base, "workers", limit=100)
    assert (body["count"], body["limit"], body["total"]) == (MAX_LIMIT, MAX_LIMIT, 40)


@pytest.mark.parametrize("method", ACCOUNT_METHODS)
@pytest.mark.parametrize("key", ["sim-kz-key-0", ""])
def test_it_rejects_bad_key(base: str, method: str, key: str) -> None:
    response = requests.get(f"{base}/ru/api", params={"v": "1", "method": method, "currency": "BTC"},
                            headers={"X-API-KEY": key} if key else {}, timeout=5)
    assert response.status_code == 403
    assert response.json() == {"status": "ERROR", "message": "Invalid API key"}


@pytest.mark.parametrize(("params", "message"), [
    ({"currency": "DOGE"}, "Invalid currency, expected one of BTC, BCH, LTC"),
    ({"currency": ""}, "Invalid currency, expected one of BTC, BCH, LTC"),
    ({"offset": "-1"}, "Invalid offset"),
    ({"limit": "0"}, "Invalid limit"),
    ({"limit": "ten"}, "Invalid limit"),
    ({"from": "02.05.2023"}, "Invalid from date, expected YYYY-MM-DD"),
    ({"method": "balance"}, "Unknown method"),
    ({"method": ""}, "Unknown method"),
    ({"v": "2"}, "Unsupported API version"),
])
def test_bad_parameters_answer_an_error_status(base: str, params: dict[str, Any], message: str) -> None:
    response = raw(base, "profit_history", **params)
    assert response.status_code == 200
    assert response.json() == {"status": "ERROR", "message": message}


def test_a_coin_the_account_does_not_mine_is_empty(base: str) -> None:
    other: dict[str, Any] = {"currency": "BTC"}
    assert call(base, "summary_data", LTC_FARM, **other)["data"]["active_workers"] == "0"
    for method in ("workers", "profit_history", "payment_history"):
        body = call(base, method, LTC_FARM, **other)
        assert (body["data"], body["total"]) == ([], 0)


def test_profit_history_has_one_row_per_day_oldest_first(base: str) -> None:
    rows = every_row(base, "profit_history")
    days = [date.fromisoformat(r["date"]) for r in rows]
    assert days[0] == ALPHA.since and days[-1] == START.date()
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(days))
    for row in rows:
        assert list(row) == ["hashrate", "pplns_profit", "pps_profit", "total_profit", "date"]
        assert Decimal(row["pps_profit"]) + Decimal(row["pplns_profit"]) == Decimal(row["total_profit"])
        assert Decimal(row["pplns_profit"]) < Decimal(row["pps_profit"]) / 10
    yesterday, today = rows[-2:]
    # Today's row holds the hash done so far: half a day in at noon.
    assert float(today["hashrate"]) / float(yesterday["hashrate"]) == pytest.approx(0.5, abs=0.02)
    day_rate = float(call(base, "summary_data")["data"]["hashrate_24hour"])
    assert float(yesterday["hashrate"]) == pytest.approx(day_rate, rel=0.1)


def test_from_and_to_are_inclusive(base: str) -> None:
    early_june: dict[str, Any] = {"from": "2025-06-01", "to": "2025-06-10"}
    body = call(base, "profit_history", **early_june)
    assert [r["date"] for r in body["data"]] == [f"2025-06-{d:02d}" for d in range(1, 11)]
    assert body["total"] == 10
    one_day: dict[str, Any] = {"from": "2025-06-14", "to": "2025-06-14"}
    payments = call(base, "payment_history", **one_day)["data"]
    assert payments
    assert all(datetime.fromtimestamp(int(p["created_time"]), UTC).date() == date(2025, 6, 14)
               for p in payments)


def test_payments_and_balance_add_up_to_the_profit(base: str) -> None:
    for account in (ALPHA, LTC_FARM):
        profit = {date.fromisoformat(r["date"]): Decimal(r["total_profit"])
                  for r in every_row(base, "profit_history", account)}
        payments = every_row(base, "payment_history", account)
        times = [int(p["created_time"]) for p in payments]
        assert times == sorted(times, reverse=True) and len(payments) > 20
        paid_through = account.since - timedelta(days=1)
        for payment in reversed(payments):
            assert list(payment) == ["amount", "address", "tx", "created_time", "payment_id"]
            assert payment["address"] == account.address and re.fullmatch(r"[0-9a-f]{64}", payment["tx"])
            # Paid the morning after the last day it covers.
            last_day = datetime.fromtimestamp(int(payment["created_time"]), UTC).date() - timedelta(days=1)
            covered = sum(v for d, v in profit.items() if paid_through < d <= last_day)
            assert Decimal(payment["amount"]) == covered >= account.threshold
            paid_through = last_day
        balance = call(base, "summary_data", account)["data"]["balance"]
        assert Decimal(balance) == sum(v for d, v in profit.items() if d > paid_through)


def test_values_are_identical_within_a_tick_and_drift_across_ticks(base: str) -> None:
    first = call(base, "workers", limit=30)
    CLOCK.advance(timedelta(minutes=6))  # 12:09:30, the same tick
    assert call(base, "workers", limit=30) == first
    CLOCK.advance(timedelta(minutes=1))  # 12:10:30, the next one
    after = call(base, "workers", limit=30)
    assert [r["hashrate_10min"] for r in after["data"]] != [r["hashrate_10min"] for r in first["data"]]
    assert int(after["data"][0]["last_active"]) == TICK + 600


def test_a_restart_gives_the_same_data() -> None:
    request = Request(method="GET", path="/btcpoolkz/ru/api",
                      query={"v": "1", "method": "workers", "currency": "BTC"},
                      headers={"x-api-key": ALPHA.api_key}, body=b"", now=START)
    first = build_simulator(clock=CLOCK).handle(request)
    assert first.body == build_simulator(clock=CLOCK).handle(request).body
    assert first.body != build_simulator(clock=CLOCK, seed="elsewhere").handle(request).body


def test_workers_go_inactive_and_come_back() -> None:
    start = START.timestamp()
    comebacks = 0
    for worker in account_workers("hashwatch", ALPHA.api_key):
        up = [worker.down_since(start + step * 600) is None for step in range(6 * 24 * 2)]
        if False in up and True in up[up.index(False):]:
            comebacks += 1
    assert 2 <= comebacks <= 15
    [dead_prone] = [w for w in account_workers("hashwatch", ALPHA.api_key) if w.name == ALPHA.dead_prone]
    spells = [dead_prone.down_since(start + day * 86400) for day in range(30)]
    assert any(since is not None and start + day * 86400 - since > 86400 for day, since in enumerate(spells))


def test_the_client_reads_a_full_snapshot(server: SimulatorServer, base: str) -> None:
    snapshot = snapshot_of(base)
    assert snapshot.problems == []
    assert len(snapshot.workers) == 40 and {w.status for w in snapshot.workers} >= {"online", "dead"}
    assert snapshot.worker_counts.total == 40 and snapshot.worker_counts.dead >= 1
    assert snapshot.hashrate_hs == pytest.approx(4.5e15, rel=0.15)
    assert [s.window for s in snapshot.hashrate_samples] == ["10m", "1h", "24h"]
    # A client on its own reads its recent window; older days are a poll's back-fill.
    assert [e.date for e in snapshot.earnings] == [
        START.date() - timedelta(days=n) for n in range(30, -1, -1)]
    assert all(e.extra["pps"] and e.extra["pplns"] for e in snapshot.earnings)
    assert 8 <= len({p.tx for p in snapshot.payouts}) == len(snapshot.payouts) <= 20
    assert len(snapshot.pool_stats) == 6
    # 1 summary, 2 worker pages, 2 profit pages, 1 payment page, 1 pool stats.
    assert server.simulator.request_counts()["btcpoolkz"] == {"/ru/api": 7}
    [balance] = snapshot.balances
    assert balance.unpaid == Decimal(call(base, "summary_data")["data"]["balance"])
    assert balance.today == snapshot.earnings[-1].amount

    later = snapshot_of(base, last_success_at=START - timedelta(minutes=1))
    assert [e.date for e in later.earnings] == [START.date() - timedelta(days=n) for n in (2, 1, 0)]
    assert later.earnings == snapshot.earnings[-3:]


def test_the_client_reads_the_ltc_account(base: str) -> None:
    snapshot = snapshot_of(base, LTC_FARM)
    assert snapshot.problems == [] and len(snapshot.workers) == 12
    assert {e.coin for e in snapshot.earnings} == {p.coin for p in snapshot.payouts} == {"LTC"}
    assert snapshot.hashrate_hs == pytest.approx(12 * 9.5e9, rel=0.2)


def test_the_client_fails_transiently_on_an_outage(server: SimulatorServer, base: str) -> None:
    server.simulator.set_fault("btcpoolkz", "http_500", count=1)
    with pytest.raises(UpstreamError) as caught:
        snapshot_of(base)
    assert not caught.value.permanent and caught.value.message.endswith("is failing (HTTP 500)")


def test_the_client_rejects_a_wrong_key(base: str) -> None:
    stranger = replace(ALPHA, api_key="sim-kz-key-0")
    with pytest.raises(UpstreamError) as caught:
        snapshot_of(base, stranger)
    assert caught.value.reason == "credentials" and caught.value.permanent
    assert "sim-kz-key-0" not in caught.value.message
