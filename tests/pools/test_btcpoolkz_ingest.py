"""A BTCpool.kz source polled over HTTP from the simulator, stored by the shared pool ingest."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from dashboard.models import PollRun, Source, Team
from dashboard.polling import source_poll
from dashboard.services import source_create
from pools import models as m
from simulator.btcpoolkz import ALPHA, TICK
from simulator.server import SimulatorServer


@dataclass
class Attempt:
    source: Source
    first: PollRun
    second: PollRun
    served: dict[str, Any]
    after_first: dict[str, Any]
    after_second: dict[str, Any]


def tick() -> int:
    return int(time.time()) // TICK


def served(base: str, today: str) -> dict[str, Any]:
    """What the simulator serves the account now, read without the client."""

    def get(method: str, **params: Any) -> Any:
        query = {"v": "1", "method": method, "currency": "BTC", "limit": 30, **params}
        body = requests.get(f"{base}/ru/api", params=query, headers={"X-API-KEY": ALPHA.api_key},
                            timeout=5).json()
        assert body["status"] == "OK"
        return body

    def rows(method: str, **params: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while len(found) < get(method, **params)["total"]:
            found += get(method, offset=len(found), **params)["data"]
        return found

    window = {"to": today}  # no "from": all the pool keeps, as the back-fill reads it
    return {"summary": get("summary_data")["data"], "workers": rows("workers"),
            "profit": rows("profit_history", **window), "payments": rows("payment_history", **window)}


def stored(source: Source) -> dict[str, Any]:
    """The source's rows, without the times that only say when a poll ran."""
    return {
        "workers": list(m.Worker.objects.filter(source=source).values(
            "name", "status", "pool_status", "hashrate_hs", "hashrate_24h_hs", "last_share_at",
            "raw_hashrate", "raw_unit", "extra", "missing_since")),
        "earnings": list(m.DailyEarning.objects.filter(source=source).values(
            "date", "coin", "amount", "extra")),
        "payouts": list(m.Payout.objects.filter(source=source).values(
            "key", "tx", "paid_at", "coin", "amount", "address")),
        "balances": list(m.Balance.objects.filter(source=source).values(
            "coin", "unpaid", "paid_total", "today", "yesterday", "pending", "last_paid_at")),
        "account": list(m.PoolAccount.objects.filter(source=source).values(
            "hashrate_hs", "hashrate_15m_hs", "hashrate_24h_hs", "workers_online", "workers_offline",
            "workers_dead", "workers_total", "hashrate_by_coin")),
        "pool_figures": list(m.PoolCoinStat.objects.filter(source=source).values(
            "coin", "as_of", "pool_hashrate_hs", "network_hashrate_hs", "network_difficulty", "miners",
            "workers", "fee_percent", "luck", "blocks", "payout_rate", "payout_rate_unit", "usd_rate")),
    }


def poll_twice(team: Team, simulator: SimulatorServer, label: str) -> Attempt:
    base = simulator.base_url("btcpoolkz")
    source = source_create(team=team, kind="btcpoolkz", label=label, base_url=base,
                           credentials={"api_key": ALPHA.api_key})
    first = source_poll(source_id=source.pk)
    assert first is not None and first.ok, first.message if first else "skipped"
    today = first.started_at.astimezone(UTC).date()
    expected = served(base, today.isoformat())
    after_first = stored(source)
    second = source_poll(source_id=source.pk)
    assert second is not None and second.ok, second.message if second else "skipped"
    return Attempt(source, first, second, expected, after_first, stored(source))


@pytest.fixture
def attempt(team: Team, simulator: SimulatorServer, settings: Any) -> Attempt:
    """Two polls and a direct read within one of the simulator's 10-minute ticks, so all three
    see the same data; tried again in the rare case a tick turns meanwhile. The first poll
    may read all the history (pages of 30 rows)."""
    settings.HISTORY_PAGES_PER_POLL = 200
    for number in range(3):
        started = tick()
        result = poll_twice(team, simulator, f"Kazakh farm {number}")
        if tick() == started:
            return result
    pytest.fail("the simulator's tick turned during every attempt")


def test_a_poll_stores_what_the_simulator_serves(attempt: Attempt) -> None:
    expected, rows = attempt.served, attempt.after_first
    now = attempt.first.started_at

    workers = {w["name"]: w for w in rows["workers"]}
    assert set(workers) == set(ALPHA.worker_names())
    for row in expected["workers"]:
        worker = workers[row["worker_name"]]
        last_active = datetime.fromtimestamp(int(row["last_active"]), UTC)
        status = ("online" if row["worker_status"] == "1"
                  else "dead" if now - last_active > timedelta(hours=24) else "offline")
        assert (worker["status"], worker["pool_status"]) == (
            status, "active" if row["worker_status"] == "1" else "inactive")
        assert worker["hashrate_hs"] == float(row["hashrate_10min"])
        assert worker["hashrate_24h_hs"] == float(row["hashrate_24hour"])
        assert (worker["raw_hashrate"], worker["raw_unit"]) == (row["hashrate_10min"], "H")
        assert worker["last_share_at"] == last_active and worker["missing_since"] is None
        assert worker["extra"]["worker_id"] == row["worker_id"]
    assert "dead" in {w["status"] for w in workers.values()}

    earnings = {e["date"].isoformat(): e for e in rows["earnings"]}
    # The first poll back-filled the account's whole history, well beyond 90 days.
    assert len(earnings) == len(expected["profit"]) > 120
    for row in expected["profit"]:
        earning = earnings[row["date"]]
        assert (earning["coin"], earning["amount"]) == ("BTC", Decimal(row["total_profit"]))
        assert earning["extra"]["pps"] == row["pps_profit"]
        assert earning["extra"]["pplns"] == row["pplns_profit"]

    payouts = {p["tx"]: p for p in rows["payouts"]}
    assert len(payouts) == len(expected["payments"]) > 5  # fewer as the simulated network grows
    for row in expected["payments"]:
        payout = payouts[row["tx"]]
        assert (payout["amount"], payout["address"], payout["coin"]) == (
            Decimal(row["amount"]), ALPHA.address, "BTC")
        assert payout["paid_at"] == datetime.fromtimestamp(int(row["created_time"]), UTC)

    summary = expected["summary"]
    [balance] = rows["balances"]
    # The pool reports no total paid: stored as unknown, not as 0.
    assert (balance["coin"], balance["unpaid"], balance["paid_total"]) == (
        "BTC", Decimal(summary["balance"]), None)
    assert balance["today"] == Decimal(expected["profit"][-1]["total_profit"])
    assert balance["yesterday"] == Decimal(expected["profit"][-2]["total_profit"])
    assert balance["last_paid_at"] is None

    [account] = rows["account"]
    assert account["hashrate_hs"] == float(summary["hashrate_10min"])
    assert account["hashrate_24h_hs"] == float(summary["hashrate_24hour"])
    statuses = [w["status"] for w in workers.values()]
    assert (account["workers_online"], account["workers_offline"], account["workers_dead"]) == (
        statuses.count("online"), statuses.count("offline"), statuses.count("dead"))
    assert account["workers_total"] == int(summary["active_workers"]) + int(summary["unactive_workers"])

    # Each poll adds its own readings: pool and network figures for three coins, and the
    # account's shortest window.
    first = attempt.first.started_at.astimezone(UTC).replace(microsecond=0)
    stats = m.PoolStat.objects.filter(source=attempt.source, at=first)
    assert sorted(stats.values_list("scope", "coin")) == [
        (scope, coin) for scope in ("all", "network") for coin in ("BCH", "BTC", "LTC")]
    figures = {row["coin"]: row for row in rows["pool_figures"]}
    assert sorted(figures) == ["BCH", "BTC", "LTC"]
    btc = next(s for s in stats if (s.scope, s.coin) == ("all", "BTC"))
    assert figures["BTC"]["pool_hashrate_hs"] == btc.hashrate_hs and figures["BTC"]["miners"] == btc.workers
    assert figures["BTC"]["network_difficulty"] and figures["BTC"]["fee_percent"] is not None
    sample = m.HashrateSample.objects.get(source=attempt.source, worker_name=m.ACCOUNT, at=first)
    assert (sample.avg_window, sample.hashrate_hs) == ("10m", float(summary["hashrate_10min"]))


def test_a_second_poll_changes_nothing(attempt: Attempt) -> None:
    assert attempt.after_second == attempt.after_first
    # It re-read only the last three days of earnings, the first one the whole history.
    assert (attempt.first.rows["daily_earnings"], attempt.second.rows["daily_earnings"]) == (
        len(attempt.served["profit"]), 3)
    assert [(h.dataset, h.done) for h in m.HistoryBackfill.objects.filter(source=attempt.source)] == [
        ("earnings", True), ("payouts", True)]
    assert attempt.second.rows["workers_missing"] == 0
