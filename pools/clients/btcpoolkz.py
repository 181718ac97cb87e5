"""BTCpool.kz: pool stats per coin, account summary, profit and payment history, workers.

Every method is a GET of /ru/api named by `method`; account methods carry the key in the
X-API-KEY header and the coin in `currency`. The body's `status` decides success whatever
the HTTP code. Error bodies are undocumented, so a rejected key is told from an outage by
HTTP 401/403 or by the words of the message. Numbers are strings except `fee`; hashrates
are already H/s (sometimes in exponent notation), amounts are whole coins.

The API reports neither a total paid nor a last payment time, and a later poll reads only recent
payments, so the balance leaves both unknown (None) rather than guessing from whichever
payments one poll saw; the payouts themselves are all kept, and the pages add them up and say so.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dashboard import http
from dashboard.http import CredentialsRejected, SchemaError, UpstreamError, where
from dashboard.sources import PollContext
from pools.clients import base
from pools.clients.base import as_object, pick, shown, to_decimal, to_float, to_int, unique_by
from pools.clients.history import Page, backfill, history_of, plan_of

Record = Mapping[str, Any]

PATH = "/ru/api"
COINS = ("BTC", "BCH", "LTC")
PAGE_SIZE = 100  # what the documentation's own example asks for
OVERLAP_DAYS = 2  # days re-read before the last success, so a day the pool settles late is kept
RECENT_DAYS = 30  # a first poll's own window; older days come from the back-fill
DEAD_AFTER = timedelta(hours=24)  # inactive for longer (or never active): dead, not offline
POOL_WORDS = {"1": "active", "0": "inactive"}  # worker_status as the documentation words it
WINDOWS = (("10m", "hashrate_10min"), ("1h", "hashrate_1hour"), ("24h", "hashrate_24hour"))
# Error statuses whose body is read for a `status`; 429 stays with HttpClient for Retry-After.
READABLE = frozenset(range(400, 600)) - {429}
KEY_WORDS = ("key", "auth", "token", "denied", "forbidden", "permission", "ключ", "авториз", "доступ")


@dataclass(frozen=True)
class Summary:
    active: int
    inactive: int
    unpaid: Decimal
    samples: list[base.HashrateSample]


def day(value: Any) -> date:
    try:
        return datetime.strptime(str(value).strip(), "%Y-%m-%d").date()
    except ValueError:
        raise SchemaError(f"date is not a YYYY-MM-DD date: {shown(value)}") from None


def options_error(problem: str) -> UpstreamError:
    return UpstreamError(f"BTCpool.kz option {problem}", permanent=True, reason="rejected")


class BtcPoolKzClient:
    def __init__(self, ctx: PollContext) -> None:
        self.ctx = ctx
        self.problems: list[str] = []  # records left out because they did not parse
        self.api_key = str(ctx.credentials.get("api_key") or "").strip()
        if not self.api_key:
            raise CredentialsRejected("BTCpool.kz needs an API key")
        self.coin = str(ctx.options.get("currency") or "BTC").strip().upper()
        if self.coin not in COINS:
            raise options_error(f"currency must be one of {', '.join(COINS)}, not {self.coin!r}")
        days = str(ctx.options.get("history_days") or "").strip()
        if days and (not days.isdigit() or int(days) < 1):
            raise options_error(f"history_days must be a whole number of days, not {days!r}")
        self.history_days = int(days) if days else None  # None: no cap

    def fetch(self) -> base.PoolSnapshot:
        self.problems = []
        summary = self.summary_data()  # first, so a rejected key fails before the long lists
        workers, earnings, payouts = self.workers(), self.profit_history(), self.payment_history()
        pool_stats, pool_figures = self.main_stat()
        snapshot = base.PoolSnapshot(
            fetched_at=self.ctx.now, workers=workers, earnings=earnings, payouts=payouts,
            pool_stats=pool_stats, pool_figures=pool_figures, problems=self.problems,
            history=history_of(self.ctx),
        )
        if summary is None:
            return snapshot
        rates = {sample.window: sample.hashrate_hs for sample in summary.samples}
        # The summary counts inactive workers; the list tells which of them are dead.
        dead = min(sum(w.status == "dead" for w in workers), summary.inactive)
        today = self.ctx.now.astimezone(UTC).date()
        by_day = {earning.date: earning.amount for earning in earnings}
        return replace(
            snapshot, hashrate_hs=rates["10m"], hashrate_24h_hs=rates["24h"],
            hashrate_samples=summary.samples,
            worker_counts=base.WorkerCounts(
                online=summary.active, offline=summary.inactive - dead, dead=dead,
                total=summary.active + summary.inactive,
            ),
            balances=[base.Balance(
                coin=self.coin, unpaid=summary.unpaid, paid_total=None,
                today=by_day.get(today), yesterday=by_day.get(today - timedelta(days=1)),
            )],
        )

    def window(self) -> dict[str, str]:
        """A poll's own window: RECENT_DAYS on the first poll; later ones re-read from a little
        before the last success, so a poll that failed for days leaves no gap; never before
        the history_days cap. Older days are the back-fill's."""
        today = self.ctx.now.astimezone(UTC).date()
        start = today - timedelta(days=RECENT_DAYS)
        if last := self.ctx.last_success_at:
            start = min(last.astimezone(UTC).date(), today) - timedelta(days=OVERLAP_DAYS)
        if self.history_days is not None:
            start = max(start, today - timedelta(days=self.history_days))
        # The pool is in Kazakhstan, ahead of UTC: its calendar may already be on our tomorrow.
        return {"from": start.isoformat(), "to": (today + timedelta(days=1)).isoformat()}

    def history(self, dataset: str, method: str, group_of: Any = None) -> list[Any]:
        """The back-fill's rows of a history method: one fixed range, from the cap (or, without
        one, no `from`: all the pool keeps) to the day the back-fill began, walked by offset."""
        plan = plan_of(self.ctx.state)
        if plan is None:
            return []
        today = self.ctx.now.astimezone(UTC).date()
        until = plan.position(dataset).until or today
        first: dict[str, Any] = {"to": (until + timedelta(days=1)).isoformat(), "offset": 0}
        if self.history_days is not None:
            first["from"] = (today - timedelta(days=self.history_days)).isoformat()

        def day_of(row: Any) -> date | None:
            try:
                if "date" in row:
                    return day(row["date"])
                moment = base.from_epoch(row.get("created_time") or 0, field="created_time")
                return moment.date() if moment else None
            except (SchemaError, AttributeError, TypeError):
                return None

        return backfill(plan, dataset, now=self.ctx.now, until=until, first=first,
                        fetch=lambda cursor: self._page(method, cursor), day_of=day_of,
                        group_of=group_of)

    def main_stat(self) -> tuple[list[base.PoolStats], list[base.PoolCoinFigures]]:
        """Pool and network figures of every coin the pool mines, not only the source's: they
        are the pool's, the same whichever coin the account mines."""
        data = as_object(self._call("main_stat", account=False)["data"], what="main_stat data")
        stats: list[base.PoolStats] = []
        figures: list[base.PoolCoinFigures] = []
        for coin, record in data.items():
            try:
                entry = as_object(record, what=f"coin {coin}")
                coin_stats, coin_figures = self._pool_stats(str(coin), entry), self._figures(str(coin), entry)
            except SchemaError as exc:
                self.problems.append(f"BTCpool.kz main_stat {coin} skipped: {exc.message}")
                continue
            stats += coin_stats
            figures.append(coin_figures)
        return stats, figures

    def summary_data(self) -> Summary | None:
        data = as_object(self._call("summary_data")["data"], what="summary_data data")
        try:
            return Summary(
                active=to_int(pick(data, "active_workers"), field="active_workers"),
                inactive=to_int(pick(data, "unactive_workers"), field="unactive_workers"),
                unpaid=to_decimal(pick(data, "balance"), field="balance"),
                samples=[base.HashrateSample(
                    self.ctx.now, window, to_float(pick(data, key), field=key), str(data[key]), "H",
                ) for window, key in WINDOWS],
            )
        except SchemaError as exc:
            self.problems.append(f"BTCpool.kz summary_data skipped: {exc.message}")
            return None

    def profit_history(self) -> list[base.DailyEarning]:
        return unique_by(base.parse_records(
            [*self._pages("profit_history", **self.window()), *self.history("earnings", "profit_history")],
            self._earning,
            what="BTCpool.kz profit_history", problems=self.problems,
        ), key=lambda earning: earning.date)

    def payment_history(self) -> list[base.Payout]:
        rows = unique_by(base.parse_records(
            [*self._pages("payment_history", **self.window()),
             *self.history("payouts", "payment_history", lambda row: str(row.get("tx") or "") or None)],
            self._payment,
            what="BTCpool.kz payment_history", problems=self.problems,
        ), key=lambda row: row)
        payouts: dict[str, base.Payout] = {}
        for payment_id, payout in rows:
            key = payout.tx or f"payment {payment_id}"
            if earlier := payouts.get(key):  # one transaction paying several payments
                payout = replace(earlier, amount=earlier.amount + payout.amount)
            payouts[key] = payout
        return list(payouts.values())

    def workers(self) -> list[base.WorkerState]:
        return unique_by(base.parse_records(
            self._pages("workers"), self._worker, what="BTCpool.kz workers", problems=self.problems,
        ), key=lambda worker: worker.name)

    def _pool_stats(self, coin: str, record: Record) -> list[base.PoolStats]:
        pool, network = pick(record, "poolHs"), pick(record, "networkHs")
        return [
            base.PoolStats(scope="all", coin=coin, hashrate_hs=to_float(pool, field="poolHs"),
                           workers=to_int(pick(record, "miners"), field="miners"),
                           raw_hashrate=str(pool), raw_unit="H"),
            base.PoolStats(scope="network", coin=coin, hashrate_hs=to_float(network, field="networkHs"),
                           raw_hashrate=str(network), raw_unit="H"),
        ]

    def _figures(self, coin: str, record: Record) -> base.PoolCoinFigures:
        difficulty, fee = record.get("networkDiff"), record.get("fee")
        return base.PoolCoinFigures(
            coin=coin, pool_hashrate_hs=to_float(pick(record, "poolHs"), field="poolHs"),
            network_hashrate_hs=to_float(pick(record, "networkHs"), field="networkHs"),
            network_difficulty=None if difficulty is None else to_float(difficulty, field="networkDiff"),
            miners=to_int(pick(record, "miners"), field="miners"),
            fee_percent=None if fee is None else to_decimal(fee, field="fee"),
        )

    def _earning(self, row: Record) -> base.DailyEarning:
        amounts = {part: to_decimal(pick(row, f"{part}_profit"), field=f"{part}_profit")
                   for part in ("total", "pps", "pplns")}
        return base.DailyEarning(
            date=day(pick(row, "date")), coin=self.coin, amount=amounts["total"],
            extra={"pps": str(amounts["pps"]), "pplns": str(amounts["pplns"]),
                   "hashrate_hs": to_float(pick(row, "hashrate"), field="hashrate")},
        )

    def _payment(self, row: Record) -> tuple[str, base.Payout]:
        return str(row.get("payment_id") or ""), base.Payout(
            paid_at=base.from_epoch(pick(row, "created_time"), field="created_time"), coin=self.coin,
            amount=to_decimal(pick(row, "amount"), field="amount"),
            address=str(row.get("address") or "").strip(), tx=str(row.get("tx") or "").strip(),
        )

    def _worker(self, row: Record) -> base.WorkerState:
        name, code = str(pick(row, "worker_name")).strip(), str(pick(row, "worker_status")).strip()
        if not name:
            raise SchemaError("worker_name is empty")
        if code not in POOL_WORDS:
            raise SchemaError(f"worker {name}: unknown worker_status {code!r}")
        last = base.from_epoch(pick(row, "last_active"), field="last_active")
        silent = last is None or self.ctx.now - last > DEAD_AFTER
        raw = pick(row, "hashrate_10min")
        return base.WorkerState(
            name=name, status="online" if code == "1" else "dead" if silent else "offline",
            pool_status=POOL_WORDS[code], hashrate_hs=to_float(raw, field="hashrate_10min"),
            hashrate_24h_hs=to_float(pick(row, "hashrate_24hour"), field="hashrate_24hour"),
            last_share_at=last, raw_hashrate=str(raw), raw_unit="H",
            extra={"worker_id": str(row.get("worker_id", "")),
                   "hashrate_1h_hs": to_float(pick(row, "hashrate_1hour"), field="hashrate_1hour"),
                   "reject_rate": str(row.get("reject_rate", ""))},
        )

    def _pages(self, method: str, **params: str) -> Iterator[Any]:
        """Every row, moving on by the rows received: the echoed offset and limit may differ
        from what was asked and are not trusted."""
        cursor: Mapping[str, Any] | None = {**params, "offset": 0}
        while cursor is not None:
            page = self._page(method, cursor)
            yield from page.rows
            cursor = page.next

    def _page(self, method: str, cursor: Mapping[str, Any]) -> Page:
        """The page at cursor's offset (with the cursor's other parameters), and the cursor of
        the next one, None once `total` rows are read."""
        offset = to_int(cursor.get("offset") or 0, field="offset")
        params = {key: str(value) for key, value in cursor.items() if key != "offset"}
        body = self._call(method, {**params, "limit": str(PAGE_SIZE), "offset": str(offset)})
        rows = body["data"]
        if not isinstance(rows, list):
            raise SchemaError(f"BTCpool.kz {method}: data is not a list")
        total = to_int(body.get("total"), field=f"BTCpool.kz {method} total")
        after = offset + len(rows)
        return Page(rows, None if not rows or after >= total else {**cursor, "offset": after},
                    pages_total=-(-total // PAGE_SIZE), rows_total=total)

    def _call(
        self, method: str, params: Mapping[str, str] | None = None, *, account: bool = True
    ) -> Record:
        """The envelope of a successful answer; account methods carry the key and the coin."""
        query = {"v": "1", "method": method, **({"currency": self.coin} if account else {}),
                 **(params or {})}
        response = self.ctx.http.request(
            "GET", self.ctx.base_url + PATH, params=query, accept=READABLE,
            headers={"X-API-KEY": self.api_key} if account else None,
        )
        place = f"{where(response.url)} ({method})"
        try:
            body = response.json()
        except SchemaError:
            if response.status < 400:
                raise
            body = None  # an error page: its HTTP status is all there is to go on
        if not isinstance(body, Mapping) or "status" not in body:
            if response.status >= 400:
                raise http.status_error(response) from None
            raise SchemaError(f"{place} answered without a status")
        status = body["status"]
        if not isinstance(status, str):
            raise SchemaError(f"{place} answered with status {shown(status)}")
        if status.strip().upper() != "OK":
            raise self._error(body, status, response, place)
        if "data" not in body:
            raise SchemaError(f"{place} answered without data (fields: {', '.join(body)})")
        return body

    def _error(self, body: Record, status: str, response: http.Response, place: str) -> UpstreamError:
        texts = [body.get(key) for key in ("message", "error", "msg", "data")]
        text = next((t.strip() for t in texts if isinstance(t, str) and t.strip()), "no message")
        # An upstream may quote the key it refuses; the message is shown to users. Scrubbed
        # before shortening, which could otherwise cut the key and leave half of it.
        status, text = (part.replace(self.api_key, "***").strip() for part in (status, text))
        detail = f"(status {status[:40]}: {text[:200]})"
        if response.status in (401, 403) or any(word in detail.lower() for word in KEY_WORDS):
            return CredentialsRejected(f"BTCpool.kz rejected the API key {detail}",
                                       status=response.status)
        return UpstreamError(
            f"{place} answered with an error {detail}", status=response.status,
            retry_after=http.parse_retry_after(response.headers.get("Retry-After")),
        )
