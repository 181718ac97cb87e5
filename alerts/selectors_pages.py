"""Reads the alerts pages need beyond the engine's and the delivery's: the filters of the
Alerts page, rules with their open alerts counted, silences split into now and past, and the
words each alert row shows. Always scoped to a team."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.db.models import Count, Q

from alerts.models import Alert, AlertState, Rule, Silence
from alerts.rules import rule_describe
from dashboard.models import Source, Team

PAST_SILENCES_SHOWN = 20


@dataclass(frozen=True)
class AlertFilters:
    """The Alerts page's filters, read from the query string and checked against the team:
    an id of another team's source or rule is ignored, never looked up elsewhere."""

    sources: list[Source]
    rules: list[Rule]
    source: Source | None = None
    rule: Rule | None = None
    state: str = ""
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, query: Mapping[str, str], *, team: Team) -> AlertFilters:
        sources = list(Source.objects.filter(team=team).order_by("label", "pk"))
        rules = list(Rule.objects.filter(team=team).select_related("source"))
        for each in rules:
            each.description = rule_describe(each)  # type: ignore[attr-defined]
        source = next((s for s in sources if str(s.pk) == query.get("source", "")), None)
        rule = next((r for r in rules if str(r.pk) == query.get("rule", "")), None)
        state = query.get("state", "")
        state = state if state in AlertState.values else ""
        params = {k: v for k, v in (("source", str(source.pk) if source else ""),
                                    ("rule", str(rule.pk) if rule else ""), ("state", state)) if v}
        return cls(sources, rules, source, rule, state, params)

    @property
    def active(self) -> bool:
        return bool(self.params)

    @property
    def query(self) -> str:
        """The filters as a query string, for the pager's links."""
        return urlencode(self.params)


def alerts_describe(alerts: Iterable[Alert]) -> None:
    """Give each alert its rule's words (`rule_text`), computed once per rule."""
    texts: dict[int, str] = {}
    for alert in alerts:
        if alert.rule_id not in texts:
            texts[alert.rule_id] = rule_describe(alert.rule)
        alert.rule_text = texts[alert.rule_id]  # type: ignore[attr-defined]


def rules_with_counts(*, team: Team) -> list[Rule]:
    """The team's rules, each with `open_count`, `firing_count`, `pending_count` (its alerts
    not resolved) and `description`."""
    rules: list[Rule] = list(Rule.objects.filter(team=team).select_related("source").annotate(
        open_count=Count("alerts", filter=~Q(alerts__state=AlertState.RESOLVED)),
        firing_count=Count("alerts", filter=Q(alerts__state=AlertState.FIRING)),
        pending_count=Count("alerts", filter=Q(alerts__state=AlertState.PENDING))))
    for rule in rules:
        rule.description = rule_describe(rule)  # type: ignore[attr-defined]
    return rules


def silences_split(*, team: Team, now: datetime) -> tuple[list[Silence], list[Silence]]:
    """(in force or scheduled, the last past ones), each with `rule_text` where it names a rule."""
    rows = Silence.objects.filter(team=team).select_related("source", "rule", "rule__source", "created_by")
    active = list(rows.filter(ends_at__gt=now).order_by("ends_at", "pk"))
    past = list(rows.filter(ends_at__lte=now).order_by("-ends_at", "-pk")[:PAST_SILENCES_SHOWN])
    for silence in (*active, *past):
        silence.rule_text = rule_describe(silence.rule) if silence.rule else ""  # type: ignore[attr-defined]
        silence.scheduled = silence.starts_at > now  # type: ignore[attr-defined]
    return active, past

