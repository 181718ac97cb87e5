"""A source's history back-fill as stored: what a poll starts from, what it leaves, and how
the pages show it. The paging itself is in pools.clients.history."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings

from dashboard.models import Source
from pools.clients.history import DEFAULT_PAGES_PER_POLL, Plan, Position
from pools.models import HistoryBackfill

log = logging.getLogger(__name__)
LABELS = {"earnings": "earnings", "payouts": "payouts", "payout_records": "payout records"}


def source_poll_state(*, source: Source) -> dict[str, Any]:
    """What a poll of `source` starts from: the back-fill positions and this poll's budget.

    New credentials may open another account, whose history is not read yet: a back-fill
    started before they changed starts again (re-reading rows already stored changes nothing).
    """
    changed = source.credentials_changed_at
    positions = {
        row.dataset: position_of(row)
        for row in HistoryBackfill.objects.filter(source=source)
        if changed is None or row.started_at >= changed
    }
    pages = getattr(settings, "HISTORY_PAGES_PER_POLL", DEFAULT_PAGES_PER_POLL)
    return {"history": Plan(positions=positions, pages=pages)}


def position_of(row: HistoryBackfill) -> Position:
    return Position(
        dataset=row.dataset, cursor=row.cursor or {}, until=row.until, carry=tuple(row.carry or ()),
        pages_done=row.pages_done, rows_done=row.rows_done, pages_total=row.pages_total,
        rows_total=row.rows_total, oldest=row.oldest, started_at=row.started_at,
        finished_at=row.finished_at,
    )


def history_store(*, source: Source, positions: Sequence[Position], now: datetime) -> int:
    """Store where each back-fill stands after a poll. An error stays shown until a later
    poll reads on without one."""
    for position in positions:
        if position.error:
            log.warning("source %s: history back-fill of %s stopped at %s: %s", source.pk,
                        position.dataset, dict(position.cursor), position.error)
        HistoryBackfill.objects.update_or_create(source=source, dataset=position.dataset, defaults={
            "cursor": dict(position.cursor), "until": position.until, "carry": list(position.carry),
            "pages_done": position.pages_done, "rows_done": position.rows_done,
            "pages_total": position.pages_total, "rows_total": position.rows_total,
            "oldest": position.oldest, "started_at": position.started_at or now,
            "finished_at": position.finished_at, "updated_at": now,
            "last_error": position.error, "last_error_at": now if position.error else None,
        })
    return len(positions)


def source_history(*, source: Source) -> list[HistoryBackfill]:
    return list(HistoryBackfill.objects.filter(source=source))


def histories_by_source(*, sources: Iterable[Source]) -> dict[int, list[HistoryBackfill]]:
    found: dict[int, list[HistoryBackfill]] = {}
    for row in HistoryBackfill.objects.filter(source__in=list(sources)):
        found.setdefault(row.source_id, []).append(row)
    return found


def history_lines(rows: Sequence[HistoryBackfill]) -> dict[str, Any]:
    """What the source page says of the back-fill: a headline and a line per dataset."""
    lines: list[dict[str, Any]] = []
    for row in rows:
        label = LABELS.get(row.dataset, row.dataset.replace("_", " "))
        read = f"{row.rows_done:,}" + (f" of ~{row.rows_total:,}" if row.rows_total and not row.done else "")
        pages = f"{row.pages_done}" + (f" of {row.pages_total}" if row.pages_total else "")
        lines.append({"row": row, "label": label, "read": read, "pages": pages})
    busy = [line for line in lines if not line["row"].done]
    if busy:
        first = busy[0]
        oldest = first["row"].oldest
        headline = (f"Back-filling {first['label']}: {first['read']} records read"
                    + (f", back to {oldest:%Y-%m-%d}" if oldest else "") + "; continues on the next poll")
    elif lines:
        oldest_days = [line["row"].oldest for line in lines if line["row"].oldest]
        headline = "Complete: all the history the pool keeps is stored" + (
            f", back to {min(oldest_days):%Y-%m-%d}" if oldest_days else "")
    else:
        headline = ""
    return {"lines": lines, "headline": headline, "busy": bool(busy)}


def history_json(row: HistoryBackfill) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat().replace("+00:00", "Z") if moment else None

    return {
        "dataset": row.dataset, "state": "complete" if row.done else "backfilling",
        "oldest": row.oldest.isoformat() if row.oldest else None,
        "pages_done": row.pages_done, "pages_total": row.pages_total,
        "rows_done": row.rows_done, "rows_total": row.rows_total,
        "started_at": iso(row.started_at), "finished_at": iso(row.finished_at),
        "last_error": row.last_error or None,
    }
