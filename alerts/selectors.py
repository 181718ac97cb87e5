"""Reads of alerts for the pages, the API and the CLI."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When

from alerts.models import Alert, AlertState, Severity
from dashboard.api import iso
from dashboard.models import Source, Team

OPEN = (AlertState.PENDING, AlertState.FIRING)
# Firing first, then pending, then history; within each, the most severe first.
STATE_RANK = Case(When(state=AlertState.FIRING, then=Value(0)), When(state=AlertState.PENDING, then=Value(1)),
                  default=Value(2), output_field=IntegerField())
SEVERITY_RANK = Case(When(rule__severity=Severity.CRITICAL, then=Value(0)),
                     When(rule__severity=Severity.WARNING, then=Value(1)),
                     default=Value(2), output_field=IntegerField())


def alerts_list(*, team: Team, state: str | None = None, source: Source | int | None = None,
                rule: Any = None, kind: str | None = None) -> QuerySet[Alert]:
    rows = Alert.objects.filter(team=team).select_related("rule", "source")
    if state:
        rows = rows.filter(state=state)
    if source is not None:
        rows = rows.filter(source=source)
    if rule is not None:
        rows = rows.filter(rule=rule)
    if kind:
        rows = rows.filter(rule__kind=kind)
    return rows.order_by(STATE_RANK, SEVERITY_RANK, "-started_at", "-pending_since", "-id")


def alerts_open_for_source(*, source: Source) -> QuerySet[Alert]:
    return alerts_list(team=source.team, source=source).filter(state__in=OPEN)


def alerts_open_for_worker(*, source: Source, worker_name: str) -> QuerySet[Alert]:
    return alerts_open_for_source(source=source).filter(
        subject_key=f"worker:{source.pk}:{worker_name}")


def alerts_firing_summary(*, team: Team, worst: int = 5) -> tuple[int, list[Alert]]:
    """How many alerts are firing, and the most severe, newest ones."""
    firing = alerts_list(team=team, state=AlertState.FIRING)
    return firing.count(), list(firing[:worst])


def alert_as_api(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.pk,
        "rule": alert.rule_id,
        "kind": alert.rule.kind,
        "state": alert.state,
        "subject": alert.subject,
        "source": alert.source_id,
        "started_at": iso(alert.started_at),
        "resolved_at": iso(alert.resolved_at),
        "value": alert.value,
    }
