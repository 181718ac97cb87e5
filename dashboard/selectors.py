"""Reads for the dashboard core: sources and their poll history, always scoped to a team."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from dashboard.models import Health, PollRun, Source, Team


def team_sources_list(*, team: Team) -> QuerySet[Source]:
    return Source.objects.filter(team=team).order_by("label", "id")


def team_source_get(*, team: Team, pk: int) -> Source:
    """Another team's source is a 404, never a 403: ids must not leak what exists."""
    return get_object_or_404(Source, team=team, pk=pk)


def source_runs_recent(*, source: Source, limit: int = 20) -> list[PollRun]:
    return list(source.poll_runs.order_by("-started_at")[:limit])


@dataclass(frozen=True)
class SourceRow:
    source: Source
    health: Health


@dataclass(frozen=True)
class HealthSummary:
    rows: list[SourceRow]
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def needs_attention(self) -> list[SourceRow]:
        return [row for row in self.rows if row.health in (Health.ERROR, Health.STALE)]


def team_health_summary(*, team: Team) -> HealthSummary:
    now = timezone.now()
    rows = [SourceRow(source, source.health(now)) for source in team_sources_list(team=team)]
    counts = Counter(row.health.value for row in rows)
    return HealthSummary(rows, {health.value: counts.get(health.value, 0) for health in Health})
