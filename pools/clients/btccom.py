"""BTC.com pool: pool stats, account info, earnings, payouts, hashrate and workers.

Every answer is an envelope `{"err_no", "err_msg", "data"}`, often with HTTP 200 on errors; the
document's prose calls the same fields `error_no` and `error_msg`, so either name is read.
Hashrates come as a value plus a unit letter (newer answers add `*_pure`, in H/s); amounts
are integers in satoshi.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from dashboard.http import CredentialsRejected, SchemaError, UpstreamError, in_order, where
from dashboard.sources import PollContext
from pools.clients import base
from pools.clients.base import (
    as_object,
    from_yyyymmdd,
    pick,
    satoshi_to_btc,
    to_float,
    to_int,
    unique_by,
)
from pools.clients.history import Page, backfill, cap_start, history_of, plan_of

T = TypeVar("T")
Record = Mapping[str, Any]

COIN = "BTC"
PAGE_SIZE = 50  # the largest page the API allows
# Worker pages in flight at once: enough to hide the round trips of a big farm's list, few
# enough to stay a polite client (429s are honoured and retried like any other).
WORKER_PAGES_AT_ONCE = 4
EARN_HISTORY = "/v1/account/earn-history"
RECENT_DAYS = 30  # a first poll's own window; older days come from the back-fill
OVERLAP_DAYS = 2  # re-read before the last success: a day the pool revised or a poll missed
STATUSES = {"ACTIVE": "online", "INACTIVE": "offline", "DEAD": "dead"}
CREDENTIAL_ERRORS = {
    20001: "BTC.com rejected the access key and puid",
    20002: "BTC.com gives this access key no permission on the puid",
    401: "BTC.com rejected the access key",
}
PARAMETER_ERROR = 1  # our parameters are fixed, so a malformed puid is the likely cause
# The envelope's fields as the examples name them, then as the prose does.
ERROR_NUMBER = ("err_no", "error_no")
ERROR_MESSAGE = ("err_msg", "error_msg")


def error_number(body: Record, url: str) -> tuple[str, int]:
    """(field name, number) of the envelope's error: the first non-zero under either name, so
    an error is never hidden by a 0 under the other; (ERROR_NUMBER[0], 0) for success."""
    for name in ERROR_NUMBER:
        try:
            number = to_int(body.get(name) or 0, field=name)
        except SchemaError as exc:
            raise SchemaError(f"{where(url)}: {exc.message}") from None
        if number:
            return name, number
    return ERROR_NUMBER[0], 0


def error_message(body: Record) -> Any:
    return next((body[name] for name in ERROR_MESSAGE if body.get(name) not in (None, "")), None)


def flatten(message: Any) -> str:
    """err_msg as text: a string, a list, or an object such as {"note": ["..."]}."""
    if isinstance(message, Mapping):
        return "; ".join(f"{key}: {flatten(value)}" for key, value in message.items())
    if isinstance(message, list):
        return "; ".join(flatten(item) for item in message)
    return "" if message is None else str(message)


def hashrate(record: Record, key: str, unit_key: str) -> tuple[float, str, str]:
    """(H/s, raw value, raw unit), preferring the exact `<key>_pure` H/s when present."""
    pure = record.get(f"{key}_pure")
    if pure is not None:
        return to_float(pure, field=f"{key}_pure"), str(pure), "H"
    value, unit = pick(record, key), pick(record, unit_key)
    return base.hashrate_from_unit(value, unit, field=key), str(value), str(unit)


def moment(value: Any, *, field: str) -> datetime | None:
    """BTC.com times: "0" for none, else epoch seconds or "YYYY-MM-DD HH:MM:SS" in UTC."""
    if value in (None, "", "0", 0):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        return base.from_epoch(value, field=field)
    return base.from_utc_text(value, field=field)


def pool_figures(stats: base.PoolStats | None) -> list[base.PoolCoinFigures]:
    """The pool's figures from its stats, all nodes' where they were read: BTC.com publishes
    hashrate, workers and users, nothing about the network, luck, blocks or fees."""
    if stats is None:
        return []
    return [base.PoolCoinFigures(coin=stats.coin, pool_hashrate_hs=stats.hashrate_hs,
                                 miners=stats.users, workers=stats.workers)]


class BtcComClient:
    def __init__(self, ctx: PollContext) -> None:
        self.ctx = ctx
        self.problems: list[str] = []  # records left out because they did not parse
        access_key, puid = ctx.credentials.get("access_key"), ctx.credentials.get("puid")
        if not access_key or not puid:
            raise CredentialsRejected("BTC.com needs an access key and a puid")
        self.auth = {"access_key": access_key, "puid": puid}

    def fetch(self) -> base.PoolSnapshot:
        self.problems = []
        account, balance = self.account_info(), self.earn_stats()
        counts, stats_samples = self.worker_stats()
        # realtime/hashrate is the account's own 15m figure, so it wins over worker/stats'.
        samples = {s.window: s for s in [*stats_samples, *self.realtime_hashrate()]}
        workers, (earnings, payouts) = self.workers(), self.earn_history()
        node, merged = self.pool_stats(), self.pool_stats(merge=True)

        def rate(window: str) -> float | None:
            return samples[window].hashrate_hs if window in samples else None

        return base.PoolSnapshot(
            fetched_at=self.ctx.now, hashrate_hs=rate("1m"), hashrate_15m_hs=rate("15m"),
            hashrate_24h_hs=rate("24h"), hashrate_samples=list(samples.values()),
            worker_counts=counts, workers=workers, earnings=earnings, payouts=payouts,
            balances=[balance] if balance else [], pool_stats=[p for p in (node, merged) if p],
            pool_figures=pool_figures(merged or node), account=account, problems=self.problems,
            history=history_of(self.ctx),
        )

    def pool_stats(self, merge: bool = False) -> base.PoolStats | None:
        def parse(data: Record) -> base.PoolStats:
            shares = as_object(pick(data, "shares"), what="shares")
            now, raw, unit = hashrate(shares, "shares_1m", "shares_unit")
            rejects = as_object(data.get("reject") or {}, what="reject")
            five = hashrate(shares, "shares_5m", "shares_unit")[0] if "shares_5m" in shares else None
            return base.PoolStats(
                scope="all" if merge else "node", coin=COIN, hashrate_hs=now, hashrate_5m_hs=five,
                hashrate_15m_hs=hashrate(shares, "shares_15m", "shares_unit")[0],
                workers=to_int(pick(data, "workers"), field="workers"),
                users=to_int(pick(data, "users"), field="users"),
                reject_rates={k: to_float(v, field=f"reject {k}") for k, v in rejects.items()},
                raw_hashrate=raw, raw_unit=unit,
            )

        path = "/public/v1/pool/stats/merge" if merge else "/public/v1/pool/stats"
        return self._one(path, parse, auth=False)

    def account_info(self) -> base.AccountInfo | None:
        def parse(data: Record) -> base.AccountInfo:
            return base.AccountInfo(
                account_id=str(pick(data, "user_id")), name=str(pick(data, "user_name")),
                payout_address=str(data.get("address") or "").strip(),
                region=str(data.get("region") or ""),
                # Contact details are personal data the dashboard never shows.
                extra={k: v for k, v in data.items() if k != "contact"},
            )

        return self._one("/v1/account/info", parse)

    def earn_stats(self) -> base.Balance | None:
        def parse(data: Record) -> base.Balance:
            btc = {key: satoshi_to_btc(pick(data, key), field=key) for key in (
                "unpaid", "total_paid", "earnings_today", "earnings_yesterday", "pending_payouts")}
            return base.Balance(
                coin=COIN, unpaid=btc["unpaid"], paid_total=btc["total_paid"],
                today=btc["earnings_today"], yesterday=btc["earnings_yesterday"],
                pending=btc["pending_payouts"],
                last_paid_at=moment(data.get("last_payment_time"), field="last_payment_time"),
            )

        return self._one("/v1/account/earn-stats", parse)

    def earn_history(self) -> tuple[list[base.DailyEarning], list[base.Payout]]:
        """The recent window's earnings, newest first, then the back-fill's older ones, and
        the payouts among them, one per tx."""
        plan = plan_of(self.ctx.state)
        # A back-fill that has not begun reads from page 1, the very pages of the window.
        fresh = plan is not None and not plan.done("earnings") and plan.pages > 0 and int(
            plan.position("earnings").cursor.get("page") or 1) == 1
        records = [] if fresh else list(since(self._pages(EARN_HISTORY, "list"), history_start(self.ctx)))
        if plan:
            records += backfill(plan, "earnings", now=self.ctx.now, fetch=self._history_page,
                                first={"page": 1}, day_of=row_day, group_of=row_tx)
        rows = unique_by(base.parse_records(
            records, self._earning, what="BTC.com earn-history", problems=self.problems,
        ), key=lambda row: row[0].date)
        payouts: dict[str, base.Payout] = {}
        for payout in (payout for _, payout in rows if payout):
            if earlier := payouts.get(payout.tx):  # one transaction paying several days
                payout = replace(earlier, amount=earlier.amount + payout.amount)
            payouts[payout.tx] = payout
        return [earning for earning, _ in rows], list(payouts.values())

    def _history_page(self, cursor: Mapping[str, Any]) -> Page:
        """One page of earn-history for the back-fill: pages run from 1 to page_count, newest
        day first, so days added since the back-fill began push rows onto later pages, to be
        read twice rather than missed."""
        number = to_int(cursor.get("page") or 1, field="page")
        data = as_object(self._call(EARN_HISTORY, page=number, page_size=PAGE_SIZE),
                         what=f"data from {EARN_HISTORY}")
        rows = pick(data, "list") or []
        if not isinstance(rows, list):
            raise SchemaError(f"{EARN_HISTORY}: list is not a list")
        count = to_int(pick(data, "page_count"), field="page_count")
        total = data.get("total_count")
        cap = cap_start(self.ctx.options, self.ctx.now.date())
        kept = list(since(rows, cap)) if cap else rows
        last = not rows or number >= count or len(kept) < len(rows)
        return Page(kept, None if last else {"page": number + 1}, pages_total=count,
                    rows_total=None if total is None else to_int(total, field="total_count"))

    def realtime_hashrate(self) -> list[base.HashrateSample]:
        def parse(data: Record) -> list[base.HashrateSample]:
            return [self._sample(data, "15m", "shares_15m", "shares_15m_unit"),
                    self._sample(data, "24h", "shares_1d", "shares_1d_unit")]

        return self._one("/v1/realtime/hashrate", parse) or []

    def worker_stats(self) -> tuple[base.WorkerCounts | None, list[base.HashrateSample]]:
        def parse(data: Record) -> tuple[base.WorkerCounts, list[base.HashrateSample]]:
            count = {key: to_int(pick(data, key), field=key) for key in (
                "workers_active", "workers_inactive", "workers_dead", "workers_total")}
            windows = (("1m", "shares_1m"), ("5m", "shares_5m"), ("15m", "shares_15m"))
            return base.WorkerCounts(
                online=count["workers_active"], offline=count["workers_inactive"],
                dead=count["workers_dead"], total=count["workers_total"],
            ), [self._sample(data, window, key, "shares_unit") for window, key in windows]

        return self._one("/v1/worker/stats", parse) or (None, [])

    def workers(self) -> list[base.WorkerState]:
        """Every worker, whatever its status, once per name."""
        return unique_by(base.parse_records(
            self._pages("/v1/worker", "data", at_once=WORKER_PAGES_AT_ONCE, status="all"), self._worker,
            what="BTC.com worker list", problems=self.problems,
        ), key=lambda worker: worker.name)

    def _sample(self, data: Record, window: str, key: str, unit: str) -> base.HashrateSample:
        return base.HashrateSample(self.ctx.now, window, *hashrate(data, key, unit))

    def _earning(self, row: Record) -> tuple[base.DailyEarning, base.Payout | None]:
        earning = base.DailyEarning(
            date=base.from_yyyymmdd(pick(row, "date")), coin=COIN,
            amount=satoshi_to_btc(pick(row, "earnings"), field="earnings"),
            extra={k: row[k] for k in ("payment_mode", "diff", "earnings_rate") if k in row},
        )
        tx = str(row.get("payment_tx") or "").strip()
        paid = satoshi_to_btc(row.get("paid_amount") or 0, field="paid_amount")
        # A paid amount without a transaction is not settled yet; a later poll records it.
        if not tx or paid <= 0:
            return earning, None
        paid_at = moment(row.get("payment_time"), field="payment_time")
        address = str(row.get("address") or "").strip()
        return earning, base.Payout(paid_at, COIN, paid, address, tx)

    def _worker(self, row: Record) -> base.WorkerState:
        name, word = str(pick(row, "worker_name")).strip(), str(pick(row, "status"))
        if not name:
            raise SchemaError("worker_name is empty")
        if word.upper() not in STATUSES:
            raise SchemaError(f"worker {name}: unknown status {word!r}")
        now, raw, unit = hashrate(row, "shares_1m", "shares_unit")
        day = hashrate(row, "shares_1d", "shares_1d_unit")[0] if "shares_1d" in row else None
        last_share = base.from_epoch(row.get("last_share_time") or 0, field="last_share_time")
        return base.WorkerState(
            name=name, status=STATUSES[word.upper()], pool_status=word, hashrate_hs=now,
            hashrate_24h_hs=day, last_share_at=last_share, raw_hashrate=raw, raw_unit=unit,
            extra={
                "worker_id": str(row.get("worker_id", "")),  # signed 64-bit: unsafe in JSON
                "hashrate_5m_hs": hashrate(row, "shares_5m", "shares_unit")[0],
                "hashrate_15m_hs": hashrate(row, "shares_15m", "shares_unit")[0],
                **{k: row[k] for k in ("reject_percent", "accept_count", "group_name") if k in row},
            },
        )

    def _one(self, path: str, parse: Callable[[Record], T], *, auth: bool = True) -> T | None:
        """Parse a single-record answer; a bad field leaves the record out, noted in problems."""
        data = as_object(self._call(path, auth=auth), what=f"data from {path}")
        try:
            return parse(data)
        except SchemaError as exc:
            self.problems.append(f"BTC.com {path} skipped: {exc.message}")
            return None

    def _pages(self, path: str, key: str, *, at_once: int = 1, **params: Any) -> Iterator[Any]:
        """Rows of every page, fetched lazily: a consumer that stops stops the requests.

        The first page tells how many there are; with `at_once` above 1 the others are then
        fetched that many at a time (still yielded in order), since a list of 100,000 workers
        is 2,000 pages and each waits a round trip. A list that grew while it was read is
        followed page by page, as is every list with `at_once` 1."""
        def page(number: int) -> tuple[list[Any], int]:
            return self._page(path, key, number, params)

        number, (rows, count) = 1, page(1)
        yield from rows
        if at_once > 1 and rows and count > 1:
            for last in in_order(page, range(2, count + 1), at_once=at_once):
                yield from last[0]
            number, (rows, count) = count, last  # as the last page reports them
        while rows and number < count:
            number += 1
            rows, count = page(number)
            yield from rows

    def _page(self, path: str, key: str, number: int, params: Mapping[str, Any]) -> tuple[list[Any], int]:
        """One page's rows and the page count it reports."""
        data = as_object(self._call(path, page=number, page_size=PAGE_SIZE, **params),
                         what=f"data from {path}")
        rows = pick(data, key) or []
        if not isinstance(rows, list):
            raise SchemaError(f"{path}: {key} is not a list")
        return rows, to_int(pick(data, "page_count"), field="page_count")

    def _call(self, path: str, *, auth: bool = True, **params: Any) -> Any:
        url = self.ctx.base_url + path
        body = self.ctx.http.get_json(url, params={**self.auth, **params} if auth else params)
        if not isinstance(body, Mapping):
            raise SchemaError(f"{where(url)} answered with JSON that is not an object")
        self._raise_for_error(body, url)
        if "data" not in body:
            raise SchemaError(f"{where(url)} answered without data (fields: {', '.join(body)})")
        return body["data"]

    def _raise_for_error(self, body: Record, url: str) -> None:
        name, number = error_number(body, url)
        if number == 0:
            return
        text = flatten(error_message(body)) or "no message"
        for secret in self.auth.values():  # an upstream may echo the parameters it refuses
            text = text.replace(secret, "***")
        detail = f"({name} {number}: {text[:200]})"
        if number in CREDENTIAL_ERRORS:
            raise CredentialsRejected(f"{CREDENTIAL_ERRORS[number]} {detail}")
        if number == PARAMETER_ERROR:
            raise UpstreamError(f"{where(url)} refused our parameters {detail}; check the puid",
                                permanent=True, reason="rejected")
        raise UpstreamError(f"{where(url)} answered with an error {detail}")


def history_start(ctx: PollContext) -> date:
    """The oldest day a poll's own window reads: RECENT_DAYS back on the first poll; later,
    OVERLAP_DAYS before the last success; never before the `history_days` cap. Older days
    are the back-fill's."""
    today = ctx.now.date()
    if ctx.last_success_at is None:
        start = today - timedelta(days=RECENT_DAYS)
    else:
        start = ctx.last_success_at.date() - timedelta(days=OVERLAP_DAYS)
    cap = cap_start(ctx.options, today)
    return max(start, cap) if cap else start


def row_day(row: Any) -> date | None:
    try:
        return from_yyyymmdd(pick(row, "date")) if isinstance(row, Mapping) else None
    except SchemaError:
        return None


def row_tx(row: Any) -> str | None:
    """The payment a history row belongs to: one transaction may pay several days."""
    tx = str(row.get("payment_tx") or "").strip() if isinstance(row, Mapping) else ""
    return tx or None


def since(rows: Iterable[Any], start: date) -> Iterator[Any]:
    """Newest-first history rows down to `start`; a row whose date does not parse is passed
    on for the parser to report."""
    for row in rows:
        try:
            day = from_yyyymmdd(pick(row, "date"), field="date") if isinstance(row, Mapping) else None
        except SchemaError:
            day = None
        if day is not None and day < start:
            return
        yield row
