"""Polling a source: claim it, fetch through its client, ingest in one transaction, record.

Scheduling lives in the database (Source.next_poll_at), not in Celery retries: the beat
dispatcher finds due sources every 15 s, so a backoff survives worker restarts and shows on
the Sources page.
"""

from __future__ import annotations

import logging
import random
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dashboard.http import HttpClient, UpstreamError
from dashboard.models import PollRun, Source
from dashboard.sources import PollContext, UnknownKind, get_kind

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class Failure:
    outcome: str
    message: str
    retry_after: float | None = None


def source_claim(*, source_id: int, now: datetime) -> bool:
    """Take the source for one poll; False if another worker holds it.

    A conditional UPDATE is atomic on Postgres and SQLite alike, and the lease expires, so a
    worker killed mid-poll never blocks its source for good.
    """
    lease = now + timedelta(seconds=settings.POLL_CLAIM_SECONDS)
    claimed = Source.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), pk=source_id
    ).update(claimed_until=lease)
    return claimed == 1


def http_client() -> HttpClient:
    return HttpClient(
        retries=getattr(settings, "HTTP_RETRIES", 2),
        backoff=getattr(settings, "HTTP_BACKOFF_SECONDS", 0.5),
    )


def source_poll(*, source_id: int, trigger: str = "schedule") -> PollRun | None:
    """Poll one source once. Returns its PollRun, or None when another worker has it."""
    started = timezone.now()
    if not source_claim(source_id=source_id, now=started):
        log.info("source %s is being polled elsewhere; skipped", source_id)
        return None
    clock = time.monotonic()
    source = Source.objects.select_related("team").get(pk=source_id)
    rows: dict[str, int] = {}
    failure: Failure | None = None
    try:
        rows = fetch_and_ingest(source=source, now=started)
    except UpstreamError as error:
        outcome = (
            PollRun.Outcome.PERMANENT if error.permanent
            else PollRun.Outcome.SCHEMA if error.reason == "schema"
            else PollRun.Outcome.TRANSIENT
        )
        failure = Failure(outcome, scrub(error.message, source), error.retry_after)
    except UnknownKind as error:
        failure = Failure(PollRun.Outcome.PERMANENT, str(error))
    except Exception as error:
        # A bug, not an upstream problem: the traceback goes to the log, scrubbed, since an
        # exception's message may quote a key; the page gets a short reason.
        log.error("poll of source %s crashed:\n%s", source_id, scrub(traceback.format_exc(), source))
        failure = Failure(
            PollRun.Outcome.INTERNAL,
            scrub(f"internal error while polling ({type(error).__name__}); see the worker log",
                  source),
        )
    duration_ms = int((time.monotonic() - clock) * 1000)
    return poll_record(
        source=source, started=started, duration_ms=duration_ms, rows=rows,
        failure=failure, trigger=trigger,
    )


def fetch_and_ingest(*, source: Source, now: datetime) -> dict[str, int]:
    spec = get_kind(source.kind)
    if source.credentials.unreadable:
        raise UpstreamError(
            "the stored credentials cannot be decrypted with the configured "
            "FIELD_ENCRYPTION_KEYS; enter them again in the source's settings",
            permanent=True, reason="credentials",
        )
    ctx = PollContext(
        base_url=source.effective_base_url,
        credentials=source.credentials,
        options={**spec.default_options(), **source.options},
        http=http_client(),
        now=now,
        last_success_at=source.last_success_at,
        state=spec.poll_state(source),
    )
    snapshot = spec.load_client()(ctx).fetch()
    ingest = spec.load_ingest()
    with transaction.atomic():
        counts = ingest(source=source, snapshot=snapshot, now=now)
    return dict(counts)


def poll_record(
    *,
    source: Source,
    started: datetime,
    duration_ms: int,
    rows: dict[str, int],
    failure: Failure | None,
    trigger: str,
) -> PollRun:
    finished = timezone.now()
    run = PollRun.objects.create(
        source=source, started_at=started, finished_at=finished, duration_ms=duration_ms,
        outcome=failure.outcome if failure else PollRun.Outcome.OK,
        message=failure.message if failure else "", rows=rows, trigger=trigger,
    )
    update: dict[str, object] = {
        "claimed_until": None, "last_poll_at": started, "last_duration_ms": duration_ms,
    }
    if failure is None:
        update |= {
            "last_success_at": finished, "consecutive_failures": 0, "error_is_permanent": False,
            "next_poll_at": started + timedelta(seconds=source.interval),
        }
    else:
        failures = source.consecutive_failures + 1
        permanent = failure.outcome == PollRun.Outcome.PERMANENT
        update |= {
            "last_error": failure.message, "last_error_at": finished,
            "consecutive_failures": failures, "error_is_permanent": permanent,
            "next_poll_at": None if permanent else finished + backoff(
                interval=source.interval, failures=failures, retry_after=failure.retry_after
            ),
        }
        log.warning("poll of source %s failed (%s): %s", source.pk, failure.outcome,
                    failure.message)
    Source.objects.filter(pk=source.pk).update(**update)
    for name, value in update.items():
        setattr(source, name, value)
    return run


def backoff(*, interval: int, failures: int, retry_after: float | None = None) -> timedelta:
    """Exponential in the number of failures, capped at an hour, with ±20 % jitter so
    sources that failed together (an upstream outage) do not retry in lockstep."""
    base = min(timedelta(seconds=interval * 2 ** (failures - 1)), MAX_BACKOFF)
    delay = base * random.uniform(0.8, 1.2)
    if retry_after:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay


def scrub(message: str, source: Source) -> str:
    """Remove any credential value from a message before it is stored or shown."""
    for value in source.credentials.values():
        if value and len(value) >= 4:
            message = message.replace(value, "[redacted]")
    return message


def due_sources(*, now: datetime) -> list[tuple[int, int]]:
    """(id, interval) of the sources whose time has come, that no worker holds and no
    permanent error blocks."""
    return list(
        Source.objects.filter(enabled=True, error_is_permanent=False)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .values_list("pk", "interval")
    )


def sources_dispatch(*, now: datetime, enqueue: Callable[[int], object]) -> list[int]:
    """Queue a poll for every due source, pushing next_poll_at ahead first so a slow queue
    does not get the same source queued again on every tick."""
    due = due_sources(now=now)
    by_interval: dict[int, list[int]] = defaultdict(list)
    for source_id, interval in due:
        by_interval[interval].append(source_id)
    for interval, ids in by_interval.items():
        Source.objects.filter(pk__in=ids).update(next_poll_at=now + timedelta(seconds=interval))
    for source_id, _ in due:
        enqueue(source_id)
    return [source_id for source_id, _ in due]


def source_mark_edited(source: Source) -> None:
    """An edit may have fixed what a permanent error complained about: poll again soon."""
    source.error_is_permanent = False
    source.next_poll_at = None
    source.consecutive_failures = 0
