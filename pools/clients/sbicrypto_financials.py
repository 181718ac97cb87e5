"""SBI Crypto FINANCIALS reads: daily earnings (v2), payout records (v1 earnings), transaction
payouts and estimated revenue, folded into earnings per (day, coin), payouts per transaction
and one balance per coin.

A key without the FINANCIALS permission (HTTP 403) is a valid read-only key: its poll goes on
without these, and the snapshot's problems say why they are missing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from dashboard.http import CredentialsRejected, UpstreamError
from dashboard.sources import PollContext
from pools.clients import base
from pools.clients.base import as_object, parse_records, pick, to_decimal, unique_by
from pools.clients.history import Plan, backfill, cap_start, plan_of
from pools.clients.sbicrypto_api import (
    Record,
    SbiApi,
    coin_code,
    mhs,
    moment,
    required_moment,
    text,
)

T = TypeVar("T")

EARNINGS_V1 = "/api/external/v1/earnings"
EARNINGS_V2 = "/api/external/v2/earnings"
REVENUE = "/api/external/v1/revenue"
PAYOUTS = "/api/external/v1/payouts"
PAID = frozenset({"POSTED", "CONFIRMED"})  # sent to the chain
OWED = frozenset({"PENDING", "NEW"})  # earned, not sent yet
# Balances add up the earnings of this many days; every poll reads at least these days, so a
# balance is the same whichever poll computed it. SBI reports no lifetime totals. Older days
# come from the back-fill.
RECENT_DAYS = 30
# The financial lists take a date range and say nothing of when an account began: without a
# history_days cap the back-fill asks from the first day any bitcoin was mined.
EARLIEST = date(2009, 1, 3)


@dataclass(frozen=True)
class Part:
    """One subaccount's (or virtual subaccount's) earning for one UTC day."""

    id: str
    day: date
    coin: str
    subaccount: str
    vsubaccount: str
    net: Decimal
    gross: Decimal | None
    fees: Decimal | None
    fee_percent: Decimal | None
    scheme: str
    state: str
    tx: str
    paid_at: datetime | None
    hashrate_hs: float | None


@dataclass(frozen=True)
class History:
    """What the back-fill read in one poll."""

    parts: list[Part]
    records: list[tuple[str, base.Payout | None]]
    transactions: list[base.Payout]


@dataclass(frozen=True)
class Money:
    earnings: list[base.DailyEarning]
    payouts: list[base.Payout]
    balances: list[base.Balance]
    revenue: list[dict[str, Any]]  # the estimates per subaccount, for the account's info


def history_window(ctx: PollContext) -> tuple[date, date]:
    """The UTC days a poll's own window reads: RECENT_DAYS on a first poll; later, from the
    day before the last success (overlapping, so payment states that settled since are
    updated), and never fewer than RECENT_DAYS; never before the `history_days` cap."""
    today = ctx.now.astimezone(UTC).date()
    first = today - timedelta(days=RECENT_DAYS - 1)
    if ctx.last_success_at is not None:
        first = min(first, ctx.last_success_at.astimezone(UTC).date() - timedelta(days=1))
    cap = cap_start(ctx.options, today, counting_today=True)
    return (max(first, cap) if cap else first), today


class Financials:
    def __init__(self, api: SbiApi, ctx: PollContext, problems: list[str]):
        self.api = api
        self.ctx = ctx
        self.problems = problems

    def read(self, coins: Iterable[str]) -> Money:
        first, last = history_window(self.ctx)
        # v2 and the payout list take dates in the account's time zone: a day more on each side
        # covers any zone, and the rows are then kept by their UTC day.
        dates = {"startDate": (first - timedelta(days=1)).isoformat(),
                 "endDate": (last + timedelta(days=1)).isoformat()}
        parts = self._try("earnings", lambda: [
            p for p in self.earning_parts(**dates) if first <= p.day <= last])
        records = self._try("payout records", lambda: self.payout_records(first, last))
        transactions = self._try("payouts", lambda: self.transactions(**dates))
        revenue = self._try("revenue", self.revenue) or []
        older = History([], [], [])
        if plan := plan_of(self.ctx.state):
            older = self.history(plan, last, skip={
                name for name, read in (("earnings", parts), ("payout_records", records),
                                        ("payouts", transactions)) if read is None})
        payouts = merged_payouts(unique_by([*(records or []), *older.records], key=lambda r: r[0] or r),
                                 [*(transactions or []), *older.transactions])
        balances = [] if parts is None else self.balances(parts, payouts, revenue, coins, last)
        every = unique_by([*(parts or []), *older.parts], key=part_key)
        return Money(daily_earnings(every), payouts, balances, revenue)

    def history(self, plan: Plan, today: date, *, skip: set[str]) -> History:
        """The back-fill's pages of the three lists, each over one fixed date range from the
        cap (or EARLIEST) to the day it began, 0-based pages as the document gives them. A
        list the key may not read (skip) waits until it may."""
        cap = cap_start(self.ctx.options, today, counting_today=True)
        oldest = (cap or EARLIEST).isoformat()

        def walk(dataset: str, path: str, span: tuple[str, str], parse: Callable[[Record], T],
                 day: Callable[[T], date | None], group: Callable[[Record], Any] | None) -> list[T]:
            if dataset in skip:
                return []
            until = plan.position(dataset).until or today
            rows = backfill(
                plan, dataset, now=self.ctx.now, until=until,
                first={span[0]: oldest, span[1]: (until + timedelta(days=1)).isoformat(), "page": 0},
                fetch=lambda cursor: self.api.page(path, cursor),
                day_of=lambda row: optional_day(row, parse, day), group_of=group,
            )
            return parse_records(rows, parse, what=f"SBI Crypto {dataset.replace('_', ' ')}",
                                 problems=self.problems)

        parts = walk("earnings", EARNINGS_V2, ("startDate", "endDate"), self._part,
                     lambda p: p.day, lambda row: str(row.get("earningsFor") or "")[:10] or None)
        records = walk("payout_records", EARNINGS_V1, ("fromDate", "toDate"), self._record,
                       lambda r: r[1].paid_at.date() if r[1] and r[1].paid_at else None,
                       lambda row: str(row.get("blockchainId") or "") or None)
        transactions = walk("payouts", PAYOUTS, ("startDate", "endDate"), self._transaction,
                            lambda p: p.paid_at.date() if p and p.paid_at else None, None)
        return History([p for p in parts if cap is None or p.day >= cap], records,
                       [t for t in transactions if t])

    def earning_parts(self, **dates: str) -> list[Part]:
        rows = parse_records(self.api.pages(EARNINGS_V2, **dates), self._part,
                             what="SBI Crypto earnings", problems=self.problems)
        # A row repeats when pages shift between two requests.
        return unique_by(rows, key=part_key)

    def payout_records(self, first: date, last: date) -> list[tuple[str, base.Payout | None]]:
        """Payouts per subaccount address by record id, one transaction possibly paying
        several."""
        rows = parse_records(self.api.pages(EARNINGS_V1, fromDate=first.isoformat(),
                                            toDate=last.isoformat()),
                             self._record, what="SBI Crypto payout records", problems=self.problems)
        return unique_by(rows, key=lambda row: row[0] or row)

    def transactions(self, **dates: str) -> list[base.Payout]:
        rows = parse_records(self.api.pages(PAYOUTS, **dates), self._transaction,
                             what="SBI Crypto payouts", problems=self.problems)
        return [payout for payout in rows if payout]

    def revenue(self) -> list[dict[str, Any]]:
        """Estimated revenue per subaccount for yesterday and today (UTC), oldest first."""
        body = as_object(self.api.get(REVENUE), what="revenue")
        by_date = as_object(pick(body, "estimatedRevenues"), what="estimatedRevenues")
        rows: list[dict[str, Any]] = []
        for key, estimates in by_date.items():
            day = required_moment({"revenue date": key}, "revenue date").date()

            def parse(row: Record, day: date = day) -> dict[str, Any]:
                return {"date": day, "subaccount": text(row, "subaccountName"),
                        "coin": coin_code(row, "coin"),
                        "amount": to_decimal(pick(row, "amount"), field="amount")}

            rows += parse_records(estimates or [], parse, what="SBI Crypto revenue",
                                  problems=self.problems)
        return sorted(rows, key=lambda row: (row["date"], row["subaccount"], row["coin"]))

    def balances(self, parts: list[Part], payouts: list[base.Payout], revenue: list[dict[str, Any]],
                 coins: Iterable[str], today: date) -> list[base.Balance]:
        """Per coin: owed-but-unsent and paid over RECENT_DAYS, the revenue estimates (the
        later of their two days is today), and the latest payout."""
        recent = [p for p in parts if p.day > today - timedelta(days=RECENT_DAYS)]
        days = sorted({row["date"] for row in revenue})
        estimate = {(d, row["coin"]): Decimal(0) for row in revenue for d in ("today", "yesterday")}
        for row in revenue:
            when = "today" if row["date"] == days[-1] else "yesterday"
            estimate[(when, row["coin"])] += row["amount"]
        balances = []
        for coin in sorted({*coins, *(p.coin for p in recent), *(c for _, c in estimate)}):
            owed = sum((p.net for p in recent if p.coin == coin and p.state in OWED), Decimal(0))
            paid = sum((p.net for p in recent if p.coin == coin and p.state in PAID), Decimal(0))
            today_estimate = estimate.get(("today", coin))
            balances.append(base.Balance(
                coin=coin, unpaid=owed + (today_estimate or 0), paid_total=paid,
                today=today_estimate, yesterday=estimate.get(("yesterday", coin)), pending=owed,
                last_paid_at=max((p.paid_at for p in payouts if p.coin == coin and p.paid_at),
                                 default=None),
            ))
        return balances

    def _part(self, row: Record) -> Part:
        rate = row.get("hashrate")
        return Part(
            id=text(row, "earningsId"), day=required_moment(row, "earningsFor").date(),
            coin=coin_code(row, "coin"), subaccount=text(row, "subaccountName"),
            vsubaccount=text(row, "vSubaccountName"),
            net=to_decimal(pick(row, "netOwed"), field="netOwed"),
            gross=optional_decimal(row, "grossOwed"), fees=optional_decimal(row, "feesPaid"),
            fee_percent=optional_decimal(row, "fee"), scheme=text(row, "earningScheme"),
            state=text(row, "state").upper(), tx=text(row, "txId"),
            paid_at=moment(row.get("paidOn"), field="paidOn"),
            hashrate_hs=None if rate is None else mhs(rate, field="hashrate"),
        )

    def _record(self, row: Record) -> tuple[str, base.Payout | None]:
        tx, status = text(row, "blockchainId"), text(row, "status").upper()
        amount = to_decimal(pick(row, "amount"), field="amount")
        if status not in PAID or not tx:
            return text(row, "id"), None  # not on the chain yet; a later poll records it
        # `created` is when the payout was computed, the nearest this record has to a pay time.
        paid_at = moment(row.get("created"), field="created")
        return text(row, "id"), base.Payout(paid_at, coin_code(row, "coin"), amount,
                                            text(row, "payoutAddress"), tx)

    def _transaction(self, row: Record) -> base.Payout | None:
        tx, state = text(row, "txId"), text(row, "state").upper()
        amount = to_decimal(pick(row, "amount"), field="amount")
        if state not in PAID or not tx:
            return None
        details = [d for d in row.get("details") or [] if isinstance(d, dict)]
        addresses = {text(detail, "address") for detail in details} - {""}
        return base.Payout(moment(row.get("paidOn"), field="paidOn"), coin_code(row, "coin"), amount,
                           addresses.pop() if len(addresses) == 1 else "", tx,
                           fee=optional_decimal(row, "txFee"))

    def _try(self, what: str, read: Callable[[], T]) -> T | None:
        try:
            return read()
        except CredentialsRejected as error:
            if error.status != 403:
                raise
            self.problems.append(f"SBI Crypto {what} skipped: {error.message}")
            return None


def part_key(part: Part) -> Any:
    return part.id or (part.day, part.coin, part.subaccount, part.vsubaccount)


def optional_day(row: Any, parse: Callable[[Record], T], day: Callable[[T], date | None]) -> date | None:
    """The day of a raw row, for the back-fill's progress; None for a row that does not parse
    (its parser reports it)."""
    try:
        return day(parse(as_object(row, what="the record")))
    except UpstreamError:
        return None


def optional_decimal(row: Record, key: str) -> Decimal | None:
    value = row.get(key)
    return None if value is None else to_decimal(value, field=key)


def daily_earnings(parts: list[Part]) -> list[base.DailyEarning]:
    """One earning per (day, coin), summed over subaccounts, with each part in extra."""
    groups: dict[tuple[date, str], list[Part]] = defaultdict(list)
    for part in parts:
        groups[(part.day, part.coin)].append(part)
    return [
        base.DailyEarning(day, coin, sum((p.net for p in group), Decimal(0)), {"subaccounts": [
            {k: v for k, v in asdict(p).items() if k not in ("day", "coin")}
            for p in sorted(group, key=lambda p: (p.subaccount, p.vsubaccount, p.id))
        ]})
        for (day, coin), group in sorted(groups.items(), reverse=True)
    ]


def merged_payouts(records: list[tuple[str, base.Payout | None]],
                   transactions: list[base.Payout]) -> list[base.Payout]:
    """One payout per chain transaction. The transaction list is authoritative; the per-address
    records (by record id, each read once) add the transactions it lacks (all of them for a key
    that may not read it)."""
    by_tx: dict[str, base.Payout] = {}
    for payout in (payout for _, payout in records if payout):
        if earlier := by_tx.get(payout.tx):
            address = earlier.address if earlier.address == payout.address else ""
            payout = replace(earlier, amount=earlier.amount + payout.amount, address=address)
        by_tx[payout.tx] = payout
    return list((by_tx | {payout.tx: payout for payout in transactions}).values())
