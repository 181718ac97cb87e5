"""Thin Celery tasks: take ids, call services in dashboard.polling."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnreachable

from dashboard import shared_cache
from dashboard.models import PollRun, Source
from dashboard.polling import source_poll, sources_dispatch
from dashboard.sources import REGISTRY

log = logging.getLogger(__name__)

BEAT_TICK_KEY = "beat:last_tick"
DISPATCH_QUEUE = "dispatch"
# Queue per source category (the kind's app): a hanging pool never delays a market feed.
POLL_QUEUES = {"pool": "pools", "exchange": "markets"}


def poll_queue(kind: str) -> str:
    spec = REGISTRY.get(kind)
    return POLL_QUEUES.get(spec.category if spec else "pool", "pools")


def route_task(name: str, args: Any, kwargs: Any, options: Any, task: Any = None,
               **kw: Any) -> dict[str, str] | None:
    """Celery router: the dispatcher on its own queue, each poll on its kind's queue (one
    primary-key lookup per queued poll)."""
    if name == dispatch_due_sources.name:
        return {"queue": DISPATCH_QUEUE}
    if name == poll_source.name:
        source_id: int = args[0] if args else (kwargs or {}).get("source_id", 0)
        kind = Source.objects.filter(pk=source_id).values_list("kind", flat=True).first()
        return {"queue": poll_queue(kind or "")}
    return None


@shared_task(ignore_result=True)
def dispatch_due_sources() -> int:
    now = timezone.now()
    # With the cache away only /healthz loses the tick; the polls are dispatched all the same.
    shared_cache.set(BEAT_TICK_KEY, now.isoformat(), timeout=None)
    return len(sources_dispatch(now=now, enqueue=poll_source.delay))


# The poll stops itself at POLL_DEADLINE_SECONDS; these limits only catch a poll stuck where
# that deadline cannot reach (a trickling response, a hung database call).
@shared_task(
    ignore_result=True,
    soft_time_limit=settings.POLL_DEADLINE_SECONDS + 30,
    time_limit=settings.POLL_DEADLINE_SECONDS + 120,
)
def poll_source(source_id: int, trigger: str = "schedule") -> None:
    try:
        source_poll(source_id=source_id, trigger=trigger)
    except (OperationalError, InterfaceError) as error:
        # Before the poll could claim its source: nothing was fetched, and the dispatcher
        # queues it again on a later tick.
        log.error("poll of source %s did not start: the database was unreachable (%s)",
                  source_id, str(error).strip())


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
    except BrokerUnreachable as exc:
        log.warning("Could not queue a poll of source %s (%s): the broker is unreachable: %s",
                    source_id, trigger, exc)
        return False
    return True
