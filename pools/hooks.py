"""What the pools app shows on the core's pages; registered from PoolsConfig.ready()."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import reverse
from django.utils import timezone

from dashboard import registries as r
from dashboard.models import Membership, Source, Team
from exchanges.fiat import team_current_prices
from pools import selectors
from pools.charts import RANGES
from pools.history import histories_by_source, history_json, history_lines, source_history
from pools.presenters import coin_fiat, hashrate_chart
from pools.views import SPARSE_POINTS


def overview_totals(*, team: Team, earlier: Mapping[str, Any]) -> dict[str, Any] | None:
    """Per coin: hashrate, earnings, balances (valued at current prices) and workers.

    Also tells later sections `unpriced_balances`: balances are shown that no price values."""
    sources = selectors.sources_with_figures(selectors.team_pool_sources(team=team))
    if not sources:
        return None
    figures = selectors.team_pool_overview(sources=sources)
    # Balances are worth what the coins fetch now: the current price, named with its age.
    with_balance = [c.coin for c in figures.coins if c.has_balance]
    prices = team_current_prices(team=team, coins=with_balance, now=timezone.now())
    for coin in figures.coins:
        coin.fiat = coin_fiat(coin, prices.get(coin.coin, []))  # type: ignore[attr-defined]
    return {"pools": figures, "pool_sources": sources,
            "unpriced_balances": bool(with_balance) and not prices}


def overview_charts(*, team: Team, earlier: Mapping[str, Any]) -> dict[str, Any] | None:
    """The team's last 24 h of hashrate, one chart per coin."""
    figures, sources = earlier.get("pools"), earlier.get("pool_sources")
    if figures is None or sources is None:
        return None
    end = timezone.now()
    start = end - RANGES["24h"]
    enabled = [s for s in sources if s.enabled]
    # A source mining several coins has one hashrate series for all of them: it is charted
    # on the Hashrate page, not inside one coin's total.
    groups = selectors.sources_by_coin(sources=enabled, accounts=figures.accounts)
    grid = selectors.sources_hashrate_grid(
        sources=[s for group in groups.by_coin.values() for s in group], start=start, end=end)
    charts = []
    for coin in figures.coins:
        points = grid.total(groups.by_coin.get(coin.coin, []))
        charts.append({"coin": coin.coin, "chart_id": f"chart-overview-{coin.coin}", "has_data": bool(points),
                       "sparse": len(points) < SPARSE_POINTS,
                       "spec": hashrate_chart([(f"{coin.coin} hashrate", points)], start=start, end=end)})
    return {"pool_charts": charts, "multi_coin_sources": groups.several}


def pool_figures_url(*, source: Source, membership: Membership | None) -> str | None:
    return reverse("pool_page", args=[source.pk]) if source.kind_spec.category == "pool" else None


def upstream_actions_url(*, source: Source, membership: Membership | None) -> str | None:
    if source.kind != "sbicrypto" or not source.credentials.get("api_key"):
        return None
    if not (membership and membership.can_manage_sources):
        return None
    return reverse("source_actions", args=[source.pk])


def history_panel(*, source: Source) -> dict[str, Any] | None:
    """How far the source's history back-fill has come (pool sources only)."""
    if source.kind_spec.category != "pool":
        return None
    return {"source": source, **history_lines(source_history(source=source))}


def history_api(*, sources: list[Source]) -> dict[int, list[dict[str, Any]]]:
    """`history` on /api/v1/sources: each pool source's back-fill progress ([] where none)."""
    return {pk: [history_json(row) for row in rows]
            for pk, rows in histories_by_source(sources=sources).items()}


def register() -> None:
    r.overview_section_register(r.OverviewSection(
        "pool-totals", "pools/_overview_totals.html", overview_totals, order=100,
        head_template="pools/_chart_head.html"))
    r.overview_section_register(r.OverviewSection(
        "pool-charts", "pools/_overview_charts.html", overview_charts, order=300,
        head_template="pools/_chart_head.html"))
    r.source_link_register(r.SourceLink("pool-figures", "Pool figures", pool_figures_url, order=100))
    r.source_link_register(r.SourceLink("upstream-actions", "Upstream actions", upstream_actions_url,
                                        order=400))
    # Before the exchanges' stream panel (order 100): a source is one or the other anyway.
    r.source_panel_register(r.SourcePanel("history", "pools/_history.html", history_panel, order=50))
    r.source_api_field_register(r.SourceApiField("history", history_api, default=[]))
    r.nav_item_register(r.NavItem("hashrate", "Hashrate", "hashrate", order=100))
    r.nav_item_register(r.NavItem("workers", "Workers", "workers", ("workers", "worker_detail"), order=200))
    r.nav_item_register(r.NavItem("earnings", "Earnings", "earnings", order=300))
    r.nav_item_register(r.NavItem("pools", "Pool figures", "pool_index", ("pool_index", "pool_page"),
                                  order=350))
