"""Thin Celery tasks: take ids, call services in dashboard.polling."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from dashboard import shared_cache
from dashboard.models import PollRun
from dashboard.polling import source_poll, sources_dispatch

BEAT_TICK_KEY = "beat:last_tick"


@shared_task(ignore_result=True)
def dispatch_due_sources() -> int:
    now = timezone.now()
    # With the cache away only /healthz loses the tick; the polls are dispatched all the same.
    shared_cache.set(BEAT_TICK_KEY, now.isoformat(), timeout=None)
    return len(sources_dispatch(now=now, enqueue=poll_source.delay))


@shared_task(ignore_result=True)
def poll_source(source_id: int, trigger: str = "schedule") -> None:
    source_poll(source_id=source_id, trigger=trigger)


@shared_task(ignore_result=True)
def prune_poll_runs() -> int:
    cutoff = timezone.now() - timedelta(days=settings.POLL_RUN_RETENTION_DAYS)
    deleted, _ = PollRun.objects.filter(started_at__lt=cutoff).delete()
    return deleted
