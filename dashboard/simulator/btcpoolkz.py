"""The BTCpool.kz API as documented in seeds/btcpool-kz-api.md and NOTES.md.

One endpoint, /ru/api, serves every method named by `method`. Two accounts: ALPHA mines BTC
with 40 workers (one retired long ago, one dead for days every few weeks, a few that drop out
for an hour or two and come back), LTC_FARM mines LTC with 12. Everything is read at the
pool's 10-minute tick (the documented `last_active` values fall on one), so requests within a
tick agree. A day's profit is the hash its workers did times the coin's reward per hash, in a
PPS part and a smaller PPLNS part; the pool pays the morning after the credited profit reaches
the account's threshold, so payments and the balance follow from the profit history.

The documentation shows no error body: this one answers {"status": "ERROR", "message": ...},
with HTTP 403 for a missing or unknown key and HTTP 200 for bad parameters. A page holds at
most MAX_LIMIT rows whatever `limit` asks, and echoes the limit it used.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from dashboard.simulator.core import (
    DEFAULT_SEED,
    Request,
    Response,
    SimulatedApi,
    between,
    route,
    stable_hex,
    unit_random,
    unit_randoms,
    wave,
)

MINUTE, TICK, HOUR, DAY = 60, 600, 3600, 86400
MAX_LIMIT = 30
COIN_PLACES = Decimal("0.00000001")
POOL_FEE = 1  # percent; the only number main_stat sends as a JSON number
FLAKY_SHARE = 0.15  # of workers that now and then lose their connection
FLAKY_SLOT = 4 * HOUR  # at most one short outage per slot
FLAKY_CHANCE = 0.35
DEAD_CYCLE = 23 * DAY
DEAD_SPAN = 5 * DAY  # longer than a day: the client calls such a worker dead
RETIRED_AFTER = 40 * DAY
PAYOUT_HOUR = 9  # UTC; the documented payments were made around then
NETWORK_ANCHOR = date(2025, 1, 1)
UNITS = ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K"), (1.0, ""))


@dataclass(frozen=True)
class Chain:
    reward: float  # coins per block
    block_seconds: int
    network_hs: float  # on NETWORK_ANCHOR
    yearly_growth: float
    pool_hs: float
    miners: int


CHAINS = {
    "BTC": Chain(3.125, 600, 7.5e20, 0.35, 1.1e17, 1850),
    "BCH": Chain(3.125, 600, 3.5e18, 0.0, 2.9e14, 5),
    "LTC": Chain(6.25, 150, 1.6e15, 0.3, 3.0e12, 9),
}


@dataclass(frozen=True)
class Account:
    api_key: str
    currency: str
    address: str
    since: date
    racks: tuple[tuple[str, int, float], ...]  # name prefix, workers, nominal H/s each
    threshold: Decimal  # the pool pays once the credited profit reaches this
    first_worker_id: int
    first_payment_id: int
    retired: str = ""  # an extra worker that stopped RETIRED_AFTER into the account's life
    dead_prone: str = ""  # dead for DEAD_SPAN of every DEAD_CYCLE

    def worker_names(self) -> list[str]:
        racks = [f"{prefix}{i:02d}" for prefix, count, _ in self.racks for i in range(1, count + 1)]
        return [self.retired, *racks] if self.retired else racks


ALPHA = Account(
    api_key="sim-kz-key-1", currency="BTC", address="bc1q9h7garjxmndsg6lfrwy0zcmpx7t2sa4jnkr8hd",
    since=date(2024, 9, 2), racks=(("s19xp-", 20, 134e12), ("s19jpro-", 19, 100e12)),
    threshold=Decimal("0.005"), first_worker_id=23890160, first_payment_id=38104417,
    retired="worker1", dead_prone="s19jpro-07",
)
LTC_FARM = Account(
    api_key="sim-kz-key-2", currency="LTC", address="ltc1qg82m4sxw6dl5ue0n7rpk3vy9hjfza2ctq8wx5e",
    since=date(2024, 11, 18), racks=(("l7-", 12, 9.5e9),), threshold=Decimal("0.5"),
    first_worker_id=24100400, first_payment_id=38301552,
)
ACCOUNTS = (ALPHA, LTC_FARM)
ACCOUNT_BY_KEY = {a.api_key: a for a in ACCOUNTS}


class ApiError(Exception):
    def __init__(self, message: str, status: int = 200):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Worker:
    parts: tuple[str, str, str]  # seed, api key, name: what fixes every draw for this worker
    name: str
    worker_id: int
    base_hs: float
    flaky: bool
    dead_phase: float | None
    retired_at: float | None

    def outages(self, start: float, end: float) -> list[tuple[float, float]]:
        """Outages that overlap [start, end); a worker has one kind of them only, so they
        never overlap each other."""
        if self.retired_at is not None:
            return [(self.retired_at, math.inf)] if self.retired_at < end else []
        found = []
        if self.dead_phase is not None:
            begin = self.dead_phase + math.floor((start - self.dead_phase) / DEAD_CYCLE) * DEAD_CYCLE
            for spell_start in range(int(begin), int(end), DEAD_CYCLE):
                found.append((float(spell_start), float(spell_start + DEAD_SPAN)))
        if self.flaky:
            for slot in range(math.floor(start / FLAKY_SLOT), math.ceil(end / FLAKY_SLOT)):
                happens, size, place = unit_randoms(3, *self.parts, "outage", slot)
                if happens < FLAKY_CHANCE:
                    length = (20 + 130 * size) * MINUTE
                    begin = slot * FLAKY_SLOT + place * (FLAKY_SLOT - length)
                    found.append((begin, begin + length))
        return [(b, e) for b, e in found if e > start and b < end]

    def down_since(self, t: float) -> float | None:
        return next((b for b, e in self.outages(t, t + 1) if b <= t < e), None)

    def downtime(self, start: float, end: float) -> float:
        return sum(min(e, end) - max(b, start) for b, e in self.outages(start, end))

    def rate(self, t: float) -> float:
        if self.down_since(t) is not None:
            return 0.0
        jitter = between(-0.02, 0.02, *self.parts, "minute", int(t) // MINUTE)
        return self.base_hs * (1 + 0.04 * wave(t, 7 * HOUR, *self.parts) + jitter)


@functools.cache
def account_workers(seed: str, api_key: str) -> tuple[Worker, ...]:
    account = ACCOUNT_BY_KEY[api_key]
    nominal = {f"{p}{i:02d}": hs for p, count, hs in account.racks for i in range(1, count + 1)}
    start = _day_start(account.since)
    workers = []
    for index, name in enumerate(account.worker_names()):
        parts = (seed, api_key, name)
        workers.append(Worker(
            parts=parts, name=name,
            worker_id=account.first_worker_id + 7 * index + int(between(0, 7, *parts, "id")),
            base_hs=nominal.get(name, account.racks[0][2]) * between(0.93, 1.05, *parts, "base"),
            flaky=name not in (account.retired, account.dead_prone)
            and unit_random(*parts, "flaky") < FLAKY_SHARE,
            dead_phase=start + between(0, DEAD_CYCLE, *parts) if name == account.dead_prone else None,
            retired_at=start + RETIRED_AFTER + between(0, DAY, *parts) if name == account.retired
            else None,
        ))
    return tuple(workers)


@dataclass(frozen=True)
class Profit:
    hashrate: float  # the day's hash so far over the whole day, as the pool reports it
    pps: Decimal
    pplns: Decimal

    @property
    def total(self) -> Decimal:
        return self.pps + self.pplns

    def as_row(self, day: date) -> dict[str, str]:
        return {"hashrate": f"{self.hashrate:.2f}", "pplns_profit": f"{self.pplns:.8f}",
                "pps_profit": f"{self.pps:.8f}", "total_profit": f"{self.total:.8f}",
                "date": day.isoformat()}


def profit(seed: str, api_key: str, day: date, *, until: float) -> Profit:
    start = _day_start(day)
    if until >= start + DAY:
        return _whole_day_profit(seed, api_key, day)
    return _profit_between(seed, api_key, day, start, max(start, until))


@functools.cache
def _whole_day_profit(seed: str, api_key: str, day: date) -> Profit:
    # A finished day never changes, and the payment ledger reads every one of them.
    start = _day_start(day)
    return _profit_between(seed, api_key, day, start, start + DAY)


def _profit_between(seed: str, api_key: str, day: date, start: float, end: float) -> Profit:
    coin = ACCOUNT_BY_KEY[api_key].currency
    hashed = sum(w.base_hs * (end - start - w.downtime(start, end))
                 for w in account_workers(seed, api_key))
    hashrate = hashed / DAY
    pps = _coins(hashrate * coin_per_hs_day(coin, day) * (1 - POOL_FEE / 100))
    return Profit(hashrate, pps, _coins(float(pps) * between(0.01, 0.07, "pplns", coin, day)))


def network_hs(coin: str, day: date) -> float:
    chain = CHAINS[coin]
    years = (day - NETWORK_ANCHOR).days / 365
    return chain.network_hs * math.exp(chain.yearly_growth * years) * (
        1 + between(-0.03, 0.03, "network", coin, day))


def coin_per_hs_day(coin: str, day: date) -> float:
    chain = CHAINS[coin]
    return DAY / chain.block_seconds * chain.reward / network_hs(coin, day)


@dataclass(frozen=True)
class Payment:
    paid_at: int
    amount: Decimal
    payment_id: int


def php_float(value: float) -> str:
    """A float as PHP prints one: 14 significant digits, so exponent notation from 1e14."""
    return f"{value:.14G}"


def human(value: float, suffix: str = "") -> str:
    """ "109.44 PH/s" for a hashrate (suffix "H/s"), "52.39T" for a difficulty."""
    factor, unit = next((f, u) for f, u in UNITS if value >= f or f == 1.0)
    return f"{round(value / factor, 2):g}{' ' if suffix else ''}{unit}{suffix}"


def _coins(value: float) -> Decimal:
    return Decimal(value).quantize(COIN_PLACES, rounding=ROUND_DOWN)


def _day_start(day: date) -> float:
    return datetime.combine(day, time(), tzinfo=UTC).timestamp()


def _date(request: Request, name: str) -> date | None:
    raw = request.query.get(name, "")
    try:
        return datetime.strptime(raw, "%Y-%m-%d").date() if raw else None
    except ValueError:
        raise ApiError(f"Invalid {name} date, expected YYYY-MM-DD") from None


def _window(request: Request) -> Callable[[date], bool]:
    """Whether a day is within the request's from/to, both optional and inclusive."""
    start, end = _date(request, "from"), _date(request, "to")
    return lambda day: (start is None or day >= start) and (end is None or day <= end)


def _whole(request: Request, name: str, default: int) -> int:
    raw = request.query.get(name, "")
    if not raw:
        return default
    if not raw.isdigit():
        raise ApiError(f"Invalid {name}")
    return int(raw)


class BtcPoolKzApi(SimulatedApi):
    prefix = "btcpoolkz"
    envelope_keys = frozenset({"status", "message", "data", "count", "offset", "limit", "total"})

    def __init__(self, *, seed: str = DEFAULT_SEED):
        super().__init__(seed=seed)
        self.workers = {a.api_key: account_workers(seed, a.api_key) for a in ACCOUNTS}

    def describe(self) -> str:
        return "; ".join(f"api_key {a.api_key} ({a.currency}, {len(self.workers[a.api_key])} workers)"
                         for a in ACCOUNTS)

    @route("GET", "/ru/api")
    def api(self, request: Request) -> Response:
        methods = {"main_stat": self.main_stat, "summary_data": self.summary_data,
                   "profit_history": self.profit_history, "payment_history": self.payment_history,
                   "workers": self.worker_list}
        try:
            if request.query.get("v") != "1":
                raise ApiError("Unsupported API version")
            method = methods.get(request.query.get("method", ""))
            if method is None:
                raise ApiError("Unknown method")
            tick = math.floor(request.now.timestamp() / TICK) * TICK
            data = method(request, tick)
        except ApiError as error:
            return Response.json({"status": "ERROR", "message": error.message}, status=error.status)
        return Response.json({"status": "OK", **data})

    # -- methods, each answering the envelope's fields besides status --

    def main_stat(self, request: Request, tick: int) -> dict[str, Any]:
        today = datetime.fromtimestamp(tick, UTC).date()
        data = {}
        for coin, chain in CHAINS.items():
            pool = chain.pool_hs * (1 + 0.03 * wave(tick, 9 * HOUR, self.seed, coin)) * (
                1 + between(-0.005, 0.005, self.seed, coin, tick))
            network = network_hs(coin, today)
            difficulty = network * chain.block_seconds / 2**32
            data[coin] = {
                "miners": str(round(chain.miners * (1 + 0.02 * wave(tick, 7 * HOUR, self.seed, coin)))),
                "fee": POOL_FEE, "poolHs": str(int(pool)), "networkHs": php_float(network),
                "networkDiff": php_float(difficulty), "poolHs_string": human(pool, "H/s"),
                "networkHs_string": human(network, "H/s"), "networkDiff_string": human(difficulty),
            }
        return {"data": data}

    def summary_data(self, request: Request, tick: int) -> dict[str, Any]:
        account = self._account(request)
        if account is None:
            return {"data": {"active_workers": "0", "unactive_workers": "0", "hashrate_10min": "0",
                             "hashrate_1hour": "0", "hashrate_24hour": "0", "balance": "0.00000000"}}
        rows = [self._worker_figures(w, tick) for w in self.workers[account.api_key]]
        active = sum(row["active"] for row in rows)
        totals = {key: php_float(sum(row[key] for row in rows)) for key in ("10min", "1hour", "24hour")}
        return {"data": {
            "active_workers": str(active), "unactive_workers": str(len(rows) - active),
            **{f"hashrate_{key}": value for key, value in totals.items()},
            "balance": f"{self.ledger(account, tick)[1]:.8f}",
        }}

    def profit_history(self, request: Request, tick: int) -> dict[str, Any]:
        account = self._account(request)
        wanted = _window(request)
        rows = [
            profit(self.seed, account.api_key, day, until=tick).as_row(day)
            for day in self._days(account, tick) if wanted(day)
        ] if account else []
        return self._page(request, rows)

    def payment_history(self, request: Request, tick: int) -> dict[str, Any]:
        account = self._account(request)
        if account is None:
            return self._page(request, [])
        wanted = _window(request)
        rows = [{
            "amount": f"{p.amount:.8f}", "address": account.address,
            "tx": stable_hex(self.seed, account.api_key, p.payment_id, "tx"),
            "created_time": str(p.paid_at), "payment_id": str(p.payment_id),
        } for p in reversed(self.ledger(account, tick)[0])
            if wanted(datetime.fromtimestamp(p.paid_at, UTC).date())]
        return self._page(request, rows)

    def worker_list(self, request: Request, tick: int) -> dict[str, Any]:
        account = self._account(request)
        # Newest worker first, as in the documented example.
        workers = sorted(self.workers[account.api_key] if account else (),
                         key=lambda w: w.worker_id, reverse=True)
        return self._page(request, workers, lambda w: self._worker_row(w, tick))

    # -- the account's books --

    def ledger(self, account: Account, tick: int) -> tuple[list[Payment], Decimal]:
        """Every payment so far, oldest first, and the profit credited but not yet paid."""
        payments: list[Payment] = []
        unpaid = Decimal(0)
        for day in self._days(account, tick):
            unpaid += profit(self.seed, account.api_key, day, until=tick).total
            morning = _day_start(day + timedelta(days=1)) + PAYOUT_HOUR * HOUR
            paid_at = int(morning + between(0, HOUR, self.seed, account.api_key, "paid", day))
            if paid_at <= tick and unpaid >= account.threshold:
                step = 40_000 + int(between(0, 9_000, self.seed, account.api_key, "id", day))
                payment_id = (payments[-1].payment_id if payments else account.first_payment_id) + step
                payments.append(Payment(paid_at, unpaid, payment_id))
                unpaid = Decimal(0)
        return payments, unpaid

    def _days(self, account: Account, tick: int) -> list[date]:
        today = datetime.fromtimestamp(tick, UTC).date()
        return [account.since + timedelta(days=n) for n in range((today - account.since).days + 1)]

    def _worker_figures(self, worker: Worker, tick: int) -> dict[str, Any]:
        # Whole minutes, 6-minute and hourly steps back from the tick.
        def mean(step: float, count: int) -> float:
            return sum(worker.rate(tick - (i + 0.5) * step) for i in range(count)) / count

        since = worker.down_since(tick)
        return {"active": since is None, "since": since, "10min": mean(MINUTE, 10),
                "1hour": mean(6 * MINUTE, 10), "24hour": mean(HOUR, 24)}

    def _worker_row(self, worker: Worker, tick: int) -> dict[str, str]:
        figures = self._worker_figures(worker, tick)
        reject = max(0.0, between(-0.002, 0.006, *worker.parts, "reject", tick // HOUR))
        return {
            "hashrate_10min": php_float(figures["10min"]), "hashrate_1hour": php_float(figures["1hour"]),
            "hashrate_24hour": php_float(figures["24hour"]),
            "last_active": str(tick if figures["active"] else int(figures["since"])),
            "reject_rate": f"{reject if figures['active'] else 0:.8f}",
            "worker_id": str(worker.worker_id), "worker_name": worker.name,
            "worker_status": "1" if figures["active"] else "0",
        }

    # -- request parameters --

    def _account(self, request: Request) -> Account | None:
        """The key's account, or None when it mines another coin than `currency` asks: such
        an account answers as an empty one."""
        account = ACCOUNT_BY_KEY.get(request.headers.get("x-api-key", ""))
        if account is None:
            raise ApiError("Invalid API key", status=403)
        currency = request.query.get("currency", "")
        if currency not in CHAINS:
            raise ApiError(f"Invalid currency, expected one of {', '.join(CHAINS)}")
        return account if currency == account.currency else None

    def _page(
        self, request: Request, items: list[Any], render: Callable[[Any], Any] | None = None
    ) -> dict[str, Any]:
        offset, limit = _whole(request, "offset", 0), _whole(request, "limit", MAX_LIMIT)
        if limit < 1:
            raise ApiError("Invalid limit")
        limit = min(limit, MAX_LIMIT)
        chosen = items[offset : offset + limit]
        rows = [render(item) for item in chosen] if render else chosen
        return {"data": rows, "count": len(rows), "offset": offset, "limit": limit, "total": len(items)}
