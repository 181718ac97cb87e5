"""What the exchanges app shows on the core's pages and adds to /healthz; registered from
ExchangesConfig.ready()."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils.dateparse import parse_datetime

from dashboard import registries as r
from dashboard.models import Membership, Source, Team
from exchanges.fiat import fiat_hint
from exchanges.live import feed_unavailable, stream_status, stream_statuses

STREAM_KIND = "flowbtc"  # the kind the stream service serves (exchanges.stream.KIND)


def overview_fiat_line(*, team: Team, earlier: Mapping[str, Any]) -> dict[str, Any] | None:
    """Under balances that no price values: which source would value them."""
    if not earlier.get("unpriced_balances"):
        return None
    return {"fiat_hint": fiat_hint(team=team)}


def stream_panel(*, source: Source) -> dict[str, Any]:
    """What the FlowBTC stream service last said of this source; {"running": False} when
    no stream reports on it ("unavailable" when the cache it reports to is unreachable)."""
    status = stream_status(source_id=source.pk)
    if status is None:
        return {"stream": {"running": False, "unavailable": feed_unavailable()}}
    times = {key: parse_datetime(status[key]) if status.get(key) else None
             for key in ("since", "last_event_at")}
    return {"stream": {**status, **times, "running": True}}


def streams_health(*, now: datetime) -> r.HealthReport:
    """How many enabled sources want the live stream, and for how many it is reporting;
    degraded while one is missing."""
    ids = list(Source.objects.filter(enabled=True, kind=STREAM_KIND).values_list("pk", flat=True))
    # shared_cache turns an unreachable Redis into a miss: no stream counts as running.
    running = len(stream_statuses(source_ids=ids)) if ids else 0
    return r.HealthReport({"expected": len(ids), "running": running},
                          "degraded" if running < len(ids) else "ok")


def markets_url(*, source: Source, membership: Membership | None) -> str | None:
    return f"{reverse('markets')}?source={source.pk}" if source.kind == "flowbtc" else None


def rates_url(*, source: Source, membership: Membership | None) -> str | None:
    return f"{reverse('exchanger')}?source={source.pk}" if source.kind == "btcchange24" else None


def register() -> None:
    r.overview_section_register(r.OverviewSection(
        "fiat-line", "exchanges/_overview_fiat.html", overview_fiat_line, order=200))
    r.source_panel_register(r.SourcePanel(
        "stream", "exchanges/_source_stream.html", stream_panel, kinds=(STREAM_KIND,)))
    r.source_link_register(r.SourceLink("markets", "Markets", markets_url, order=200))
    r.source_link_register(r.SourceLink("rates", "Rates", rates_url, order=300))
    r.nav_item_register(r.NavItem("markets", "Markets", "markets", order=400))
    r.nav_item_register(r.NavItem("exchanger", "Exchanger", "exchanger", order=500))
    r.health_check_register(r.HealthCheck(
        "streams", streams_health, idle={"expected": 0, "running": 0}))
