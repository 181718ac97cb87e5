"""Silences: maintenance windows. An alert a silence matches still changes state (the
Alerts page stays true) but no message is sent about it while the silence lasts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from alerts.models import Rule, Silence
from dashboard.audit import audit_record
from dashboard.models import Source, Team


def silence_describe(silence: Silence) -> str:
    parts = []
    if silence.rule_id is not None:
        parts.append(f"rule {silence.rule}")
    if silence.source_id is not None:
        parts.append(f"source {silence.source}")
    if silence.worker_pattern:
        parts.append(f"workers {silence.worker_pattern}")
    what = ", ".join(parts) or "every alert of the team"
    return f"{what} until {silence.ends_at:%Y-%m-%d %H:%M} UTC: {silence.reason}"


@transaction.atomic
def silence_create(
    *,
    team: Team,
    ends_at: datetime,
    reason: str,
    source: Source | None = None,
    rule: Rule | None = None,
    worker_pattern: str = "",
    starts_at: datetime | None = None,
    actor: Any = None,
    request: HttpRequest | None = None,
) -> Silence:
    now = timezone.now()
    starts_at = starts_at or now
    reason, worker_pattern = (reason or "").strip(), (worker_pattern or "").strip()
    problems: dict[str, list[str]] = {}
    if not reason:
        problems["reason"] = ["say why (e.g. \"rack 3 maintenance\"), so the team knows"]
    elif len(reason) > 300:
        problems["reason"] = ["the reason is at most 300 characters"]
    if ends_at is None:
        problems["ends_at"] = ["give the time the silence ends"]
    elif ends_at <= now:
        problems["ends_at"] = ["the end is already past; choose a time in the future"]
    elif ends_at <= starts_at:
        problems["ends_at"] = ["the end must be after the start"]
    if source is not None and source.team_id != team.pk:
        problems["source"] = ["no such source in this team"]
    if rule is not None and rule.team_id != team.pk:
        problems["rule"] = ["no such rule in this team"]
    if len(worker_pattern) > 200:
        problems["worker_pattern"] = ["the pattern is at most 200 characters"]
    if problems:
        raise ValidationError(problems)
    silence = Silence.objects.create(
        team=team, source=source, rule=rule, worker_pattern=worker_pattern,
        starts_at=starts_at, ends_at=ends_at, reason=reason,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    audit_record(team=team, actor=actor, action="alerts.silence_added",
                 target=silence_describe(silence), detail={"silence_id": silence.pk},
                 request=request)
    return silence


@transaction.atomic
def silence_end(*, silence: Silence, actor: Any = None, request: HttpRequest | None = None) -> Silence:
    now = timezone.now()
    if silence.ends_at > now:
        silence.ends_at = max(now, silence.starts_at)
        silence.save(update_fields=["ends_at"])
        audit_record(team=silence.team, actor=actor, action="alerts.silence_ended",
                     target=silence_describe(silence), detail={"silence_id": silence.pk},
                     request=request)
    return silence


def silences_active(*, team: Team, now: datetime | None = None) -> QuerySet[Silence]:
    now = now or timezone.now()
    return Silence.objects.filter(team=team, starts_at__lte=now, ends_at__gt=now)


def silence_matches(
    *,
    silences: Iterable[Silence],
    rule_id: int,
    source_id: int | None,
    worker_name: str = "",
    now: datetime | None = None,
) -> Silence | None:
    """The first silence (of those given) that covers this rule, source and worker, if any.

    Every condition a silence sets must hold: a silence for one source and a worker pattern
    quiets those workers of that source only. A worker pattern matches worker alerts only
    (shell style, case-sensitive, as worker names are)."""
    for silence in silences:
        if now is not None and not silence.starts_at <= now < silence.ends_at:
            continue
        if silence.rule_id is not None and silence.rule_id != rule_id:
            continue
        if silence.source_id is not None and silence.source_id != source_id:
            continue
        if silence.worker_pattern and not (worker_name and fnmatchcase(worker_name, silence.worker_pattern)):
            continue
        return silence
    return None
