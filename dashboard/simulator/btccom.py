"""The BTC.com pool API as documented in seeds/btccom-pool-api.md and NOTES.md.

Two accounts with about 150 workers in all. Per-worker hashrate is a slow sine drift plus
per-minute noise; a few workers drop out for an hour or two and come back, and two in
ALPHA take turns being dead for weeks, so there is always at least one DEAD worker. Account
totals are sums of the very worker values the worker list shows, and daily earnings follow
the workers' uptime, so a dashboard's numbers can be checked by hand.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from dashboard.simulator.core import (
    DEFAULT_SEED,
    Request,
    Response,
    SimulatedApi,
    between,
    route,
    stable_hex,
    stable_int,
    unit_random,
    unit_randoms,
    wave,
)

MINUTE = 60
HOUR = 3600
DAY = 86400
TERA = Decimal(10**12)
PETA = Decimal(10**15)
TH_DECIMALS = Decimal("0.01")
PH_DECIMALS = Decimal("0.00001")  # exact for sums of 0.01 T, so totals match worker sums
PAGE_SIZE_MAX = 50
WORKER_STATUSES = ("active", "inactive", "dead", "all")

FLAKY_SHARE = 0.06  # of workers that now and then lose their connection
FLAKY_SLOT = 3 * HOUR  # at most one short outage per slot
FLAKY_OUTAGE_CHANCE = 0.5
DEAD_CYCLE = 30 * DAY
DEAD_SPAN = 20 * DAY  # two dead-prone workers half a cycle apart overlap, so one is always dead
DEAD_AFTER = DAY  # silent for longer than this: DEAD rather than INACTIVE

MIN_HISTORY_DAYS = 420
DIFFICULTY_ANCHOR = date(2025, 1, 1)
DIFFICULTY_AT_ANCHOR = 1.09e14
DIFFICULTY_GROWTH_PER_EPOCH = 0.01  # about +30 % a year
BLOCK_SUBSIDY_SAT = 312_500_000


@dataclass(frozen=True)
class Rack:
    prefix: str  # worker names are prefix + two-digit number
    count: int
    nominal_th: float
    gid: int = -1  # -1 and group_name None: not in a group, as upstream sends it
    group_name: str | None = None


@dataclass(frozen=True)
class Account:
    puid: int
    access_key: str
    user_name: str
    region: str
    address: str
    ip: str
    since: date
    racks: tuple[Rack, ...]
    dead_prone: tuple[str, ...] = ()

    def worker_names(self) -> list[str]:
        return [f"{r.prefix}{i:02d}" for r in self.racks for i in range(1, r.count + 1)]


ALPHA = Account(
    puid=88888,
    access_key="sim-ak-alpha",
    user_name="alpha-mining",
    region="America",
    address="bc1qqar096f7dwhsed0x8cpme7ztgg8m7usfk6qk8e",
    ip="203.0.113.17",
    since=date(2024, 2, 12),
    racks=(
        Rack("s19-rack1-", 20, 95.0, 101, "rack1"),
        Rack("s19-rack2-", 20, 95.0, 102, "rack2"),
        Rack("s19jpro-rack3-", 20, 104.0, 103, "rack3"),
        Rack("s19xp-rack4-", 20, 134.0, 104, "rack4"),
        Rack("s19kpro-rack5-", 20, 120.0, 105, "rack5"),
    ),
    dead_prone=("s19-rack2-07", "s19jpro-rack3-14"),
)
BRAVO = Account(
    puid=99999,
    access_key="sim-ak-bravo",
    user_name="bravo-hosting",
    region="Europe",
    address="bc1qz84nwjh29kq74zsvumtk3jl2g5mn4r9rmppg8l",
    ip="198.51.100.24",
    since=date(2024, 8, 20),
    racks=(Rack("m30s-a", 25, 88.0), Rack("m50-b", 25, 114.0)),
)
ACCOUNTS: tuple[Account, ...] = (ALPHA, BRAVO)
ACCOUNT_BY_PUID = {a.puid: a for a in ACCOUNTS}

# Pool-wide numbers per node; /merge adds the nodes up.
POOL_NODES = {"us": (1450.0, 15424, 555), "cn": (2380.0, 31210, 1204), "eu": (610.0, 7302, 241)}
CURRENT_NODE = "us"


class ApiError(Exception):
    """Answered as BTC.com does: HTTP 200 with a non-zero err_no."""

    def __init__(self, err_no: int, err_msg: Any):
        super().__init__(str(err_msg))
        self.err_no = err_no
        self.err_msg = err_msg


@dataclass(frozen=True)
class Worker:
    seed: str
    puid: int
    name: str
    rack: Rack
    base_hs: float
    flaky: bool
    dead_phase: float | None  # start of the first dead spell after the epoch, in seconds
    periods: tuple[float, float]
    phases: tuple[float, float]

    def outages(self, start: float, end: float) -> list[tuple[float, float]]:
        """Outage intervals that overlap [start, end)."""
        found: list[tuple[float, float]] = []
        if self.dead_phase is not None:
            k = math.floor((start - self.dead_phase) / DEAD_CYCLE) - 1
            begin = self.dead_phase + k * DEAD_CYCLE
            while begin < end:
                if begin + DEAD_SPAN > start:
                    found.append((begin, begin + DEAD_SPAN))
                begin += DEAD_CYCLE
        if self.flaky:
            slot = math.floor(start / FLAKY_SLOT)
            while slot * FLAKY_SLOT < end:
                spell = self._flaky_outage(slot)
                if spell and spell[1] > start and spell[0] < end:
                    found.append(spell)
                slot += 1
        return found

    def _flaky_outage(self, slot: int) -> tuple[float, float] | None:
        happens, size, place = unit_randoms(3, self.seed, self.puid, self.name, "outage", slot)
        if happens >= FLAKY_OUTAGE_CHANCE:
            return None
        length = (20 + 100 * size) * MINUTE
        offset = place * (FLAKY_SLOT - length)
        begin = slot * FLAKY_SLOT + offset
        return begin, begin + length

    def down_since(self, t: float) -> float | None:
        for begin, finish in self.outages(t, t + 1):
            if begin <= t < finish:
                return begin
        return None

    def downtime(self, start: float, end: float) -> float:
        return sum(min(e, end) - max(b, start) for b, e in self.outages(start, end))

    def rate(self, t: float, bucket: str, noise: float) -> float:
        """Hashrate in H/s sampled at `t`, with noise fixed per (bucket name, time)."""
        if self.down_since(t) is not None:
            return 0.0
        (fast, slow), (fast_phase, slow_phase) = self.periods, self.phases
        drift = (
            1
            + 0.04 * math.sin(2 * math.pi * (t / fast + fast_phase))
            + 0.02 * math.sin(2 * math.pi * (t / slow + slow_phase))
        )
        jitter = between(-noise, noise, self.seed, self.puid, self.name, bucket, int(t))
        return self.base_hs * drift * (1 + jitter)


def build_workers(account: Account, seed: str) -> list[Worker]:
    workers = []
    dead_phases = {
        name: (i * DEAD_CYCLE / len(account.dead_prone)) + account.puid % DAY
        for i, name in enumerate(account.dead_prone)
    }
    for rack in account.racks:
        for i in range(1, rack.count + 1):
            name = f"{rack.prefix}{i:02d}"
            parts = (seed, account.puid, name)
            workers.append(Worker(
                seed=seed,
                puid=account.puid,
                name=name,
                rack=rack,
                base_hs=rack.nominal_th * 1e12 * between(0.93, 1.03, *parts, "base"),
                flaky=name not in dead_phases and unit_random(*parts, "flaky") < FLAKY_SHARE,
                dead_phase=dead_phases.get(name),
                periods=(between(4, 9, *parts, "p1") * HOUR, between(20, 40, *parts, "p2") * HOUR),
                phases=(unit_random(*parts, "ph1"), unit_random(*parts, "ph2")),
            ))
    return workers


@functools.cache
def account_workers(seed: str, puid: int) -> tuple[Worker, ...]:
    return tuple(build_workers(ACCOUNT_BY_PUID[puid], seed))


def earned(seed: str, puid: int, day: date, *, until: float) -> int:
    """Satoshi earned on `day` up to `until`: TH-days actually mined times the PPS rate."""
    start = _day_start(day)
    if until >= start + DAY:
        return _earned_whole_day(seed, puid, day)
    return _earned_between(seed, puid, day, start, until) if until > start else 0


@functools.cache
def _earned_whole_day(seed: str, puid: int, day: date) -> int:
    # A finished day never changes, and earn-stats sums every one of them.
    start = _day_start(day)
    return _earned_between(seed, puid, day, start, start + DAY)


def _earned_between(seed: str, puid: int, day: date, start: float, end: float) -> int:
    base_th, outage_prone = _account_shape(seed, puid)
    th_seconds = base_th * (end - start) - sum(
        w.base_hs / 1e12 * w.downtime(start, end) for w in outage_prone
    )
    return int(th_seconds / DAY * satoshi_per_th_day(day))


@functools.cache
def _account_shape(seed: str, puid: int) -> tuple[float, tuple[Worker, ...]]:
    """Nominal TH/s of the whole account and the workers that ever go down."""
    workers = account_workers(seed, puid)
    prone = tuple(w for w in workers if w.flaky or w.dead_phase is not None)
    return sum(w.base_hs / 1e12 for w in workers), prone


@dataclass(frozen=True)
class WorkerSnapshot:
    worker: Worker
    status: str
    shares: dict[str, Decimal]  # window -> TH/s, rounded as sent
    last_share_time: int
    reject_percent: str

    def as_row(self) -> dict[str, Any]:
        w = self.worker
        return {
            "gid": w.rack.gid,
            "group_name": w.rack.group_name,
            "worker_id": str(stable_int(w.puid, w.name)),
            "worker_name": w.name,
            "shares_1m": str(self.shares["1m"]),
            "shares_5m": str(self.shares["5m"]),
            "shares_15m": str(self.shares["15m"]),
            "accept_count": int(self.shares["1d"] * 20_000),
            "last_share_time": self.last_share_time,
            "last_share_ip": ACCOUNT_BY_PUID[w.puid].ip,
            "reject_percent": self.reject_percent,
            "shares_unit": "T",
            "status": self.status,
            "shares_1d": str(self.shares["1d"]),
            "shares_1d_unit": "T",
        }


def worker_status(worker: Worker, t: float) -> str:
    return _status(t, worker.down_since(t))


def _status(t: float, down_since: float | None) -> str:
    if down_since is None:
        return "ACTIVE"
    return "DEAD" if t - down_since >= DEAD_AFTER else "INACTIVE"


def worker_snapshot(worker: Worker, now: datetime) -> WorkerSnapshot:
    t = now.timestamp()
    # Whole buckets only, so every request within the same minute agrees.
    last_minute = (math.floor(t / MINUTE) - 1) * MINUTE
    minutes = [worker.rate(last_minute - i * MINUTE, "m", 0.03) for i in range(15)]
    last_hour = (math.floor(t / HOUR) - 1) * HOUR
    hours = [worker.rate(last_hour - i * HOUR + HOUR / 2, "h", 0.01) for i in range(24)]
    shares = {
        "1m": _tera(minutes[0]),
        "5m": _tera(sum(minutes[:5]) / 5),
        "15m": _tera(sum(minutes) / 15),
        "1d": _tera(sum(hours) / 24),
    }
    since = worker.down_since(t)
    status = _status(t, since)
    if since is None:
        last_share = int(t) - int(between(0, 20, worker.seed, worker.name, "share", int(t) // 10))
    else:
        last_share = int(since)
    reject = 0.0
    if status != "DEAD":
        reject = max(0.0, between(-0.02, 0.05, worker.seed, worker.name, "reject", int(t) // HOUR))
    return WorkerSnapshot(
        worker=worker,
        status=status,
        shares=shares,
        last_share_time=last_share,
        reject_percent=f"{reject:.4f}",
    )


def _tera(hs: float) -> Decimal:
    return (Decimal(hs) / TERA).quantize(TH_DECIMALS)


def _peta(th: Decimal) -> Decimal:
    return (th / 1000).quantize(PH_DECIMALS)


def _with_pure(key: str, th: Decimal) -> dict[str, Any]:
    peta = _peta(th)
    return {key: f"{peta}", f"{key}_pure": int(peta * PETA)}


def difficulty(day: date) -> int:
    """Network difficulty, stepping every 14 days like a retarget."""
    epoch = (day - DIFFICULTY_ANCHOR).days // 14
    wobble = 1 + between(-0.02, 0.02, "difficulty", epoch)
    return int(DIFFICULTY_AT_ANCHOR * math.exp(DIFFICULTY_GROWTH_PER_EPOCH * epoch) * wobble)


def satoshi_per_th_day(day: date) -> float:
    """What one TH/s earns in a day under PPS: subsidy plus a varying fee share."""
    fees = 1 + between(0.01, 0.05, "fees", day.isoformat())
    return DAY * 1e12 * BLOCK_SUBSIDY_SAT * fees / (difficulty(day) * 2**32)


def _day_start(day: date) -> float:
    return datetime.combine(day, time(), tzinfo=UTC).timestamp()


def _format_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


class BtccomApi(SimulatedApi):
    prefix = "btccom"
    envelope_keys = frozenset({"err_no", "err_msg", "data"})

    def __init__(self, *, seed: str = DEFAULT_SEED):
        super().__init__(seed=seed)
        self.workers = {a.puid: account_workers(seed, a.puid) for a in ACCOUNTS}

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
