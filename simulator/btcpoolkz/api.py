"""The BTCpool.kz endpoint: one path, /ru/api, serving every method named by `method`."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from simulator.btcpoolkz.accounts import (
    ACCOUNT_BY_KEY,
    ACCOUNTS,
    CHAINS,
    HOUR,
    MINUTE,
    TICK,
    Account,
    Worker,
    account_workers,
    day_start,
)
from simulator.btcpoolkz.earnings import POOL_FEE, Payment, network_hs, profit
from simulator.core import DEFAULT_SEED, Request, Response, SimulatedApi, between, route, stable_hex, wave

MAX_LIMIT = 30

PAYOUT_HOUR = 9  # UTC; the documented payments were made around then

UNITS = ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K"), (1.0, ""))


class ApiError(Exception):
    def __init__(self, message: str, status: int = 200):
        super().__init__(message)
        self.message = message
        self.status = status


def php_float(value: float) -> str:
    """A float as PHP prints one: 14 significant digits, so exponent notation from 1e14."""
    return f"{value:.14G}"


def human(value: float, suffix: str = "") -> str:
    """ "109.44 PH/s" for a hashrate (suffix "H/s"), "52.39T" for a difficulty."""
    factor, unit = next((f, u) for f, u in UNITS if value >= f or f == 1.0)
    return f"{round(value / factor, 2):g}{' ' if suffix else ''}{unit}{suffix}"


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
            morning = day_start(day + timedelta(days=1)) + PAYOUT_HOUR * HOUR
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
