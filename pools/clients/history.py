"""Back-filling a pool account's history a few pages per poll, resumable.

A poll's regular reads cover the recent days only. Everything older that the upstream keeps
is read by a back-fill: page by page, as each upstream documents its paging, at most
`Plan.pages` pages per poll across the source's datasets, so a long history never holds a
worker for minutes. Where it stopped (the page or offset to read next) comes in with the poll
(`PollContext.state["history"]`, loaded from pools.models.HistoryBackfill) and goes out in
the snapshot, and pools.ingest stores it in the same transaction as the rows it read: a poll
that fails on a page keeps the pages before it, and the next poll goes on from that page.

Clients never touch the database: this module only turns a position and some pages into
rows and a new position.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from dashboard.http import UpstreamError

Row = Any
DEFAULT_PAGES_PER_POLL = 5


@dataclass(frozen=True)
class Position:
    """Where one dataset's back-fill stands. `cursor` is the upstream's own paging position
    ({"page": 3}, {"offset": 200}); `until` is the last day the back-fill reads (fixed when it
    starts, so the date-ranged pages it walks stay the same from poll to poll); `carry` holds
    rows read but not yet handed over because the next page may continue their group (a day
    split over pages, a transaction paying several days)."""

    dataset: str
    cursor: Mapping[str, Any] = field(default_factory=dict)
    until: date | None = None
    carry: tuple[Row, ...] = ()
    pages_done: int = 0
    rows_done: int = 0
    pages_total: int | None = None
    rows_total: int | None = None
    oldest: date | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # Set by this poll: the error that stopped it (kept pages stay stored), else "".
    error: str = ""

    @property
    def done(self) -> bool:
        return self.finished_at is not None


@dataclass(frozen=True)
class Page:
    """One page as an upstream answered it. `next` is the cursor of the page after it, or
    None when this was the last one."""

    rows: list[Row]
    next: Mapping[str, Any] | None
    pages_total: int | None = None
    rows_total: int | None = None


@dataclass
class Plan:
    """What the poll may back-fill: the stored positions by dataset and the pages left in
    this poll's budget."""

    positions: dict[str, Position] = field(default_factory=dict)
    pages: int = DEFAULT_PAGES_PER_POLL
    # The positions this poll leaves behind, for the snapshot.
    results: list[Position] = field(default_factory=list)

    def position(self, dataset: str) -> Position:
        return self.positions.get(dataset) or Position(dataset)

    def done(self, dataset: str) -> bool:
        return self.position(dataset).done


def plan_of(state: Mapping[str, Any]) -> Plan | None:
    """The poll's back-fill plan; None where the poll carries none (a client used on its own,
    as in tests and one-off reads), which then reads only its recent window."""
    plan = state.get("history")
    return plan if isinstance(plan, Plan) else None


def history_of(ctx: Any) -> list[Position]:
    """The positions a poll's back-fill leaves behind, for its snapshot."""
    plan = plan_of(ctx.state)
    return list(plan.results) if plan else []


def cap_start(options: Mapping[str, Any], today: date, *, counting_today: bool = False) -> date | None:
    """The oldest day the `history_days` option allows (today minus that many days, or one
    fewer where today counts as one of them), None without a cap."""
    raw = str(options.get("history_days") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise UpstreamError(f"option history_days must be a whole number of days (got {raw!r})",
                            permanent=True, reason="config")
    return today - timedelta(days=int(raw) - (1 if counting_today else 0))


def backfill(
    plan: Plan, dataset: str, *, now: datetime, fetch: Callable[[Mapping[str, Any]], Page],
    first: Mapping[str, Any], day_of: Callable[[Row], date | None],
    group_of: Callable[[Row], Hashable | None] | None = None, until: date | None = None,
) -> list[Row]:
    """Read `dataset` on from its stored position, as many pages as the plan's budget allows,
    and return the rows read; the new position goes into `plan.results`.

    An upstream error stops the back-fill for this poll without failing it: the rows read
    before it are returned and stored, and the position names the page that failed, so the
    next poll asks for it again.
    """
    start = plan.position(dataset)
    if start.done:
        return []
    cursor: Mapping[str, Any] | None = start.cursor or first
    rows: list[Row] = list(start.carry)
    pages, read, totals, error = 0, 0, (start.pages_total, start.rows_total), ""
    while cursor is not None and plan.pages > 0:
        try:
            page = fetch(cursor)
        except UpstreamError as exc:
            error = exc.message
            break
        plan.pages -= 1
        pages += 1
        read += len(page.rows)
        rows += page.rows
        totals = (page.pages_total or totals[0], page.rows_total or totals[1])
        cursor = page.next
    carry: list[Row] = []
    if cursor is not None and group_of is not None and rows:
        # The next page may hold more of the last row's group: keep the group for then.
        last = group_of(rows[-1])
        while last is not None and rows and group_of(rows[-1]) == last:
            carry.insert(0, rows.pop())
    days = [d for d in map(day_of, rows) if d is not None]
    oldest = min([*days, *([start.oldest] if start.oldest else [])], default=None)
    plan.results.append(replace(
        start, cursor=cursor or {}, until=start.until or until, carry=tuple(carry),
        pages_done=start.pages_done + pages, rows_done=start.rows_done + read, pages_total=totals[0],
        rows_total=totals[1], oldest=oldest, started_at=start.started_at or now,
        finished_at=now if cursor is None else None, error=error,
    ))
    return rows
