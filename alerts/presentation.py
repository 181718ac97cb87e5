"""The alerts app's entries in the core's registries: the Alerts page in the top bar, the
overview's firing alerts, a source's and a worker's open alerts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alerts import selectors, selectors_pages
from alerts.models import Rule
from dashboard import registries as r
from dashboard.models import Source, Team

PANEL_SHOWN = 10
# Every page of the app marks "Alerts" in the top bar as the current one.
PAGE_NAMES = (
    "alerts", "alert_rules", "alert_rule_add_choose", "alert_rule_add", "alert_rule_edit",
    "alert_rule_delete", "alert_channels", "alert_channel_delete", "alert_silences",
)


def overview_alerts(*, team: Team, earlier: Mapping[str, Any]) -> dict[str, Any] | None:
    """How many alerts fire now and the worst of them; a line inviting to add rules when the
    team has none, so the feature is found; nothing when all is quiet."""
    count, worst = selectors.alerts_firing_summary(team=team)
    if count:
        selectors_pages.alerts_describe(worst)
        return {"alerts_firing": count, "alerts_worst": worst}
    if not Rule.objects.filter(team=team).exists():
        return {"alerts_firing": 0, "alerts_worst": [], "alerts_no_rules": True}
    return None


def source_alerts(*, source: Source) -> dict[str, Any]:
    """The source's open alerts, the worst first; a few, and how many in all."""
    open_alerts = selectors.alerts_open_for_source(source=source)
    alerts = list(open_alerts[:PANEL_SHOWN])
    count = len(alerts) if len(alerts) < PANEL_SHOWN else open_alerts.count()
    selectors_pages.alerts_describe(alerts)
    has_rules = bool(alerts) or Rule.objects.filter(team_id=source.team_id, enabled=True).exists()
    return {"source_alerts": alerts, "source_alerts_count": count,
            "source_alerts_more": count - len(alerts), "source_has_rules": has_rules}


def worker_alerts(*, source: Source, worker_name: str) -> dict[str, Any] | None:
    """Only when something is open: a worker page is busy enough without an empty box."""
    alerts = list(selectors.alerts_open_for_worker(source=source, worker_name=worker_name))
    if not alerts:
        return None
    selectors_pages.alerts_describe(alerts)
    return {"worker_alerts": alerts, "worker_alerts_source": source}


# What the rule, channel and silence services record, in the audit log's words.
AUDIT_SENTENCES = {
    "alerts.rule_added": "added an alert rule",
    "alerts.rule_edited": "edited an alert rule ({fields})",
    "alerts.rule_enabled": "enabled an alert rule",
    "alerts.rule_disabled": "disabled an alert rule",
    "alerts.rule_deleted": "deleted an alert rule and its alerts",
    "alerts.silence_added": "silenced alerts",
    "alerts.silence_ended": "ended a silence early",
    "alerts.channel_added": "added an alert channel ({hint})",
    "alerts.channel_edited": "edited an alert channel ({fields})",
    "alerts.channel_enabled": "resumed an alert channel",
    "alerts.channel_disabled": "paused an alert channel",
    "alerts.channel_deleted": "deleted an alert channel",
    "alerts.channel_tested": "sent a test message",
}


def register() -> None:
    r.nav_item_register(r.NavItem("alerts", "Alerts", "alerts", PAGE_NAMES, order=600))
    # First on the overview: what needs someone now comes before the figures.
    r.overview_section_register(r.OverviewSection(
        "alerts-firing", "alerts/_overview.html", overview_alerts, order=50))
    # First on a source's page, above the history back-fill (50) and the stream (100).
    r.source_panel_register(r.SourcePanel("alerts", "alerts/_source_panel.html", source_alerts, order=10))
    r.audit_group_register(r.AuditGroup("alerts.", "Alerts", AUDIT_SENTENCES))
    r.worker_panel_register(r.WorkerPanel("alerts", "alerts/_worker_panel.html", worker_alerts, order=10))
