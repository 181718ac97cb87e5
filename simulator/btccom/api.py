"""The BTC.com endpoints: pool stats, account, earnings, hashrate and the worker list."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from simulator.btccom.accounts import (
    ACCOUNT_BY_PUID,
    ACCOUNTS,
    CURRENT_NODE,
    DAY,
    HOUR,
    MINUTE,
    POOL_NODES,
    Account,
)
from simulator.btccom.earnings import difficulty, earned, satoshi_per_th_day
from simulator.btccom.workers import WorkerSnapshot, account_workers, worker_snapshot, worker_status
from simulator.core import DEFAULT_SEED, Request, Response, SimulatedApi, between, route, stable_hex, wave
from simulator.core.scenario import ForcedOutages, ScenarioRun

PETA = Decimal(10**15)

PH_DECIMALS = Decimal("0.00001")  # exact for sums of 0.01 T, so totals match worker sums
PAGE_SIZE_MAX = 50
WORKER_STATUSES = ("active", "inactive", "dead", "all")

MIN_HISTORY_DAYS = 420


class ApiError(Exception):
    """Answered as BTC.com does: HTTP 200 with a non-zero err_no."""

    def __init__(self, err_no: int, err_msg: Any):
        super().__init__(str(err_msg))
        self.err_no = err_no
        self.err_msg = err_msg


def _peta(th: Decimal) -> Decimal:
    return (th / 1000).quantize(PH_DECIMALS)


def _with_pure(key: str, th: Decimal) -> dict[str, Any]:
    peta = _peta(th)
    return {key: f"{peta}", f"{key}_pure": int(peta * PETA)}


def _format_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


class BtccomApi(SimulatedApi):
    prefix = "btccom"
    envelope_keys = frozenset({"err_no", "err_msg", "data"})

    def __init__(self, *, seed: str = DEFAULT_SEED):
        super().__init__(seed=seed)
        self.workers = {a.puid: account_workers(seed, a.puid) for a in ACCOUNTS}

    def scenario_changed(self, run: ScenarioRun | None) -> None:
        """Drop the first steady workers (neither flaky nor dead-prone, so the drop is all
        that changes them) of the first account, as many as each step says."""
        self.workers = {a.puid: account_workers(self.seed, a.puid) for a in ACCOUNTS}
        if run is None:
            return
        puid = ACCOUNTS[0].puid
        for step in run.drops(self.prefix):
            workers = list(self.workers[puid])
            steady = [i for i, w in enumerate(workers)
                      if not w.flaky and w.dead_phase is None and w.forced is None]
            for i in steady[:step.count]:
                workers[i] = replace(workers[i], forced=ForcedOutages(run, step))
            self.workers[puid] = tuple(workers)

    def describe(self) -> str:
        return "; ".join(
            f"puid {a.puid} access_key {a.access_key} ({len(self.workers[a.puid])} workers)"
            for a in ACCOUNTS
        )

    def dispatch(self, request: Request) -> Response:
        try:
            return super().dispatch(request)
        except ApiError as error:
            return Response.json({"err_no": error.err_no, "err_msg": error.err_msg})

    # -- pool --

    @route("GET", "/public/v1/pool/stats")
    def pool_stats(self, request: Request) -> Response:
        return _ok(self._pool(request.now, [CURRENT_NODE]))

    @route("GET", "/public/v1/pool/stats/merge")
    def pool_stats_merge(self, request: Request) -> Response:
        return _ok(self._pool(request.now, list(POOL_NODES)))

    def _pool(self, now: datetime, nodes: list[str]) -> dict[str, Any]:
        t = now.timestamp()
        minute = int(t // MINUTE)
        shares: dict[str, Any] = {}
        for window in ("1m", "5m", "15m"):
            total = 0.0
            for node in nodes:
                base = POOL_NODES[node][0] * (1 + 0.03 * wave(t, 9 * HOUR, self.seed, node))
                total += base * (1 + between(-0.005, 0.005, self.seed, node, window, minute))
            shares[f"shares_{window}"] = round(total, 1)
        shares["shares_unit"] = "P"
        reject = {
            w: round(max(0.0, between(-0.001, 0.001, self.seed, "reject", w, minute)), 4)
            for w in ("1m", "5m", "15m")
        }
        workers = sum(
            POOL_NODES[n][1] + int(300 * wave(t, 7 * HOUR, self.seed, n, "w")) for n in nodes
        )
        users = sum(POOL_NODES[n][2] + int(8 * wave(t, DAY, self.seed, n, "u")) for n in nodes)
        return {"shares": shares, "reject": reject, "workers": workers, "users": users}

    # -- account --

    @route("GET", "/v1/account/info")
    def account_info(self, request: Request) -> Response:
        account = self._account(request)
        return _ok({
            "user_id": account.puid,
            "user_name": account.user_name,
            # The documented example pads the address with a space; clients must strip it.
            "address": f"{account.address} ",
            "nmc_address": "",
            "rebates_address": "",
            "region": account.region,
            "contact": {"mail": "", "phone": {"country": "1", "number": "415****0142"}},
            "alert": {
                "hashrate_max": "0",
                "hashrate_value": "0",
                "hashrate_unit": "T",
                "hashrate_alert": 0,
                "miner_max": "0",
                "miner_value": "0",
                "miner_alert": 0,
                "alert_interval": 6,
            },
        })

    @route("GET", "/v1/account/earn-stats")
    def earn_stats(self, request: Request) -> Response:
        account = self._account(request)
        now = request.now
        today = now.date()
        yesterday = today - timedelta(days=1)
        paid_days = [
            d for d in self._history_days(account, today) if now >= self._payment_time(account, d)
        ]
        # Yesterday is owed but not yet sent until its ~01:45 payment.
        pending = 0
        if yesterday >= self._first_day(account, today) and yesterday not in paid_days:
            pending = self._earned(account, yesterday, now)
        earned_today = self._earned(account, today, now)
        last_paid = self._payment_time(account, paid_days[0]) if paid_days else None
        return _ok({
            "total_paid": str(sum(self._earned(account, d, now) for d in paid_days)),
            "pending_payouts": str(pending),
            "last_payment_time": _format_time(last_paid) if last_paid else "0",
            "earnings_today": str(earned_today),
            "earnings_yesterday": str(self._earned(account, yesterday, now)),
            "unpaid": str(earned_today + pending),
        })

    @route("GET", "/v1/account/earn-history")
    def earn_history(self, request: Request) -> Response:
        account = self._account(request)
        page, page_size = _paging(request)
        days = self._history_days(account, request.now.date())
        rows = days[(page - 1) * page_size : page * page_size]
        return _ok({
            "page": str(page),
            "page_size": str(page_size),
            "page_count": math.ceil(len(days) / page_size),
            "total_count": len(days),
            "list": [self._history_row(account, d, request.now) for d in rows],
        })

    def _history_row(self, account: Account, day: date, now: datetime) -> dict[str, Any]:
        amount = self._earned(account, day, now)
        paid_at = self._payment_time(account, day)
        paid = now >= paid_at
        rate = satoshi_per_th_day(day) * 1000 / 1e8 if day < now.date() else 0
        return {
            "date": int(day.strftime("%Y%m%d")),
            "earnings": amount,
            "payment_time": _format_time(paid_at) if paid else "0",
            "payment_tx": stable_hex(self.seed, account.puid, "tx", day) if paid else "",
            "address": account.address if paid else "",
            "paid_amount": amount if paid else 0,
            "diff": difficulty(day),
            "payment_mode": "PPS",
            "earnings_rate": round(rate, 6),  # BTC per PH/s per day
        }

    def _first_day(self, account: Account, today: date) -> date:
        return min(account.since, today - timedelta(days=MIN_HISTORY_DAYS))

    def _history_days(self, account: Account, today: date) -> list[date]:
        count = (today - self._first_day(account, today)).days + 1
        return [today - timedelta(days=i) for i in range(count)]

    def _payment_time(self, account: Account, day: date) -> datetime:
        jitter = between(0, 240, self.seed, account.puid, "paid", day)
        at = datetime.combine(day + timedelta(days=1), time(1, 45), tzinfo=UTC)
        return at + timedelta(seconds=int(jitter))

    def _earned(self, account: Account, day: date, now: datetime) -> int:
        return earned(self.seed, account.puid, day, until=now.timestamp())

    # -- hashrate and workers --

    @route("GET", "/v1/realtime/hashrate")
    def realtime_hashrate(self, request: Request) -> Response:
        totals = self._totals(self._snapshots(self._account(request), request.now))
        return _ok({
            **_with_pure("shares_15m", totals["15m"]),
            "shares_15m_unit": "P",
            **_with_pure("shares_1d", totals["1d"]),
            "shares_1d_unit": "P",
        })

    @route("GET", "/v1/worker/stats")
    def worker_stats(self, request: Request) -> Response:
        snapshots = self._snapshots(self._account(request), request.now)
        totals = self._totals(snapshots)
        statuses = [s.status for s in snapshots]
        return _ok({
            "workers_active": statuses.count("ACTIVE"),
            "workers_inactive": statuses.count("INACTIVE"),
            "workers_dead": statuses.count("DEAD"),
            **_with_pure("shares_1m", totals["1m"]),
            **_with_pure("shares_5m", totals["5m"]),
            **_with_pure("shares_15m", totals["15m"]),
            "workers_total": len(snapshots),
            "shares_unit": "P",
        })

    @route("GET", "/v1/worker")
    def worker_list(self, request: Request) -> Response:
        account = self._account(request)
        wanted = request.query.get("status", "all") or "all"
        if wanted not in WORKER_STATUSES:
            raise ApiError(1, {"status": [f"status must be one of {', '.join(WORKER_STATUSES)}"]})
        page, page_size = _paging(request)
        t = request.now.timestamp()
        workers = sorted(
            (w for w in self.workers[account.puid]
             if wanted == "all" or worker_status(w, t) == wanted.upper()),
            key=lambda w: w.name,
        )
        chosen = workers[(page - 1) * page_size : page * page_size]
        return _ok({
            "page": str(page),
            "page_size": str(page_size),
            "page_count": math.ceil(len(workers) / page_size),
            "total_count": len(workers),
            "data": [worker_snapshot(w, request.now).as_row() for w in chosen],
        })

    def _snapshots(self, account: Account, now: datetime) -> list[WorkerSnapshot]:
        return [worker_snapshot(w, now) for w in self.workers[account.puid]]

    @staticmethod
    def _totals(snapshots: list[WorkerSnapshot]) -> dict[str, Decimal]:
        return {
            window: sum((s.shares[window] for s in snapshots), Decimal(0))
            for window in ("1m", "5m", "15m", "1d")
        }

    def _account(self, request: Request) -> Account:
        missing = [p for p in ("access_key", "puid") if not request.query.get(p)]
        if missing:
            raise ApiError(1, {p: [f"The {p} field is required."] for p in missing})
        try:
            puid = int(request.query["puid"])
        except ValueError:
            raise ApiError(1, {"puid": ["The puid must be an integer."]}) from None
        account = ACCOUNT_BY_PUID.get(puid)
        if account is None or account.access_key != request.query["access_key"]:
            raise ApiError(20001, "permissions denied")
        return account


def _paging(request: Request) -> tuple[int, int]:
    page = _int_param(request, "page", default=1, low=1, high=None)
    size = _int_param(request, "page_size", default=PAGE_SIZE_MAX, low=1, high=PAGE_SIZE_MAX)
    return page, size


def _int_param(request: Request, name: str, *, default: int, low: int, high: int | None) -> int:
    raw = request.query.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(1, {name: [f"The {name} must be an integer."]}) from None
    if value < low or (high is not None and value > high):
        limit = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ApiError(1, {name: [f"The {name} must be {limit}."]})
    return value


def _ok(data: Any) -> Response:
    return Response.json({"err_no": 0, "data": data})
