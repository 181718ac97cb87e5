"""What the treasury app shows on the core's pages; registered from TreasuryConfig.ready()."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from dashboard import registries as r
from dashboard.models import Source, Team
from pools.selectors import team_earnings, team_pool_sources
from treasury.demo import on_demo_team_ready
from treasury.energy import energy_setup
from treasury.presenters import CSV_HEADERS, csv_texts, profit_charts
from treasury.profitability import profit_totals, source_profit_days

OVERVIEW_DAYS = 30
# A year of 50 sources is 18,000 rows: the page lists the newest (as many as a page of the
# per-day table), the CSV has them all.
PROFIT_ROWS_SHOWN = 50


def earnings_profitability(*, team: Team, sources: Sequence[Source], start: date | None,
                           end: date) -> dict[str, Any] | None:
    """Revenue against energy cost for the Earnings page's sources and days."""
    if not sources:
        return None
    configured = [s for s in sources if energy_setup(source=s, team=team).mode]
    if not configured:
        # Nothing to work out: the page already lists the revenue, and the panel only says
        # how to see the rest (working out a year of 50 sources' days took over a second).
        if not team_earnings(sources=sources, start=start, end=end).exists():
            return None
        return {"profit_rows": [], "profit_unset": list(sources), "profit_sources": sources}
    rows = source_profit_days(team=team, sources=sources, start=start, end=end)
    if not rows:
        return None
    return {"profit_rows": rows[:PROFIT_ROWS_SHOWN] if configured else [], "profit_row_count": len(rows),
            "profit_totals": profit_totals(rows),
            "profit_charts": profit_charts(rows, start=start, end=end),
            "profit_unset": [s for s in sources if s not in configured],
            "profit_sources": sources}


def earnings_csv_columns(*, team: Team, sources: Sequence[Source], start: date | None,
                         end: date) -> dict[tuple[int, Any, str], list[str]] | None:
    """The profit columns, in an export of which some source has its power set."""
    if not any(energy_setup(source=s, team=team).mode for s in sources):
        return None
    rows = source_profit_days(team=team, sources=sources, start=start, end=end)
    return {(row.source.pk, row.day, row.coin): csv_texts(row) for row in rows}


def overview_profitability(*, team: Team, earlier: Mapping[str, Any]) -> dict[str, Any] | None:
    """Today's and the last 30 days' profit, for teams that set power on a source."""
    sources = [s for s in team_pool_sources(team=team) if energy_setup(source=s, team=team).mode]
    if not sources:
        return None
    today = timezone.now().date()
    rows = source_profit_days(team=team, sources=sources, start=today - timedelta(days=OVERVIEW_DAYS - 1),
                              end=today)
    # Pools credit a day after it ends, or as it goes: the newest day that is over, else today.
    latest = max((row.day for row in rows if not row.in_progress), default=None) or max(
        (row.day for row in rows), default=None)
    return {"profit_latest": profit_totals([row for row in rows if row.day == latest]),
            "profit_latest_day": latest, "profit_today": today,
            "profit_month": profit_totals(rows), "profit_days": OVERVIEW_DAYS}


def register() -> None:
    # dispatch_uid: a second ready() (tests) replaces the connection instead of doubling it.
    r.demo_team_ready.connect(on_demo_team_ready, dispatch_uid="treasury.demo_team_ready")
    r.nav_item_register(r.NavItem("treasury", "Treasury", "treasury", order=350))
    r.audit_group_register(r.AuditGroup("treasury.", "Treasury", {
        "treasury.held_set": "set the amount of a coin held elsewhere to {amount}"}))
    r.earnings_panel_register(r.EarningsPanel(
        "profitability", "treasury/_earnings_profitability.html", earnings_profitability, order=100))
    r.earnings_columns_register(r.EarningsColumns("profitability", CSV_HEADERS, earnings_csv_columns))
    # After the pools' totals (100) and the fiat line (200), before the charts (300).
    r.overview_section_register(r.OverviewSection(
        "profitability", "treasury/_overview_profitability.html", overview_profitability, order=250))
