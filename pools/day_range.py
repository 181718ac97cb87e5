"""The range of pool days a request asks for: a preset (`range=30d`) or two dates
(`start`, `end`). The Earnings page, its CSV files and /api/v1/earnings read it the same way,
and a range they cannot read is refused with the reason, never replaced by a default."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from pools.charts import parse_moment

CUSTOM = "custom"


class BadRange(ValueError):
    """What is wrong with the asked range, in words that say what to fix."""

    @property
    def message(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class DayRange:
    key: str  # a preset's name, or CUSTOM
    start: date | None  # None: from the first day stored
    end: date

    @property
    def slug(self) -> str:
        """For file names: "30d-2026-11-30", "2026-11-01-to-2026-11-30"."""
        if self.key != CUSTOM:
            return f"{self.key}-{self.end}"
        return f"{self.start or 'first'}-to-{self.end}"


def day_param(params: Mapping[str, str], name: str) -> date | None:
    """A day from YYYY-MM-DD (an ISO time is read as its UTC day); None when not given."""
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        moment = parse_moment(raw)
        if moment is None:
            raise BadRange(f"'{name}' must be a date such as 2026-11-01 (got {raw[:40]!r})") from None
        return moment.date()


def days_in_order(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and start > end:
        raise BadRange(f"'start' ({start}) is after 'end' ({end}): the range must start "
                       "on or before the day it ends")


def day_range_parse(
    params: Mapping[str, str], *, today: date, presets: Mapping[str, int | None], default: str
) -> DayRange:
    """`start` and/or `end` make a custom range (end defaults to today, start to the first
    day stored); otherwise `range` names a preset of the last N days to today."""
    start, end = day_param(params, "start"), day_param(params, "end")
    if start is not None or end is not None:
        end = end or today
        days_in_order(start, end)
        return DayRange(CUSTOM, start, end)
    key = params.get("range") or default
    if key not in presets:
        raise BadRange(f"'range' must be one of {', '.join(presets)} (got {key[:40]!r}), or "
                       "give 'start' and 'end' dates")
    days = presets[key]
    return DayRange(key, today - timedelta(days=days - 1) if days else None, today)
