"""Thin Celery tasks: take ids, call services in dashboard.polling."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from dashboard import shared_cache
from dashboard.models import PollRun
from dashboard.polling import source_poll, sources_dispatch

log = logging.getLogger(__name__)

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


def poll_enqueue(*, source_id: int, trigger: str) -> bool:
    """Queue a poll from a page; False when the broker (Redis) cannot be reached, so the page
    can say so instead of failing: the scheduled polls take over once the broker is back."""
    try:
        poll_source.delay(source_id, trigger=trigger)
    except OperationalError as exc:
        log.warning("Could not queue a poll of source %s (%s): the broker is unreachable: %s",
                    source_id, trigger, exc)
        return False
    return True
