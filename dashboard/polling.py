"""Polling a source: claim it, fetch through its client, ingest in one transaction, record.

Scheduling lives in the database (Source.next_poll_at), not in Celery retries: the beat
dispatcher finds due sources every 15 s, so a backoff survives worker restarts and shows on
the Sources page.
"""

from __future__ import annotations

import gc
import logging
import random
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from dashboard.http import HttpClient, UpstreamError
from dashboard.lease import Heartbeat, LeaseLost, lease_hold, source_claim
from dashboard.models import PollRun, Source
from dashboard.registries import poll_finished_send
from dashboard.sources import PollContext, UnknownKind, get_kind

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
# How long a poll keeps trying to record its outcome while the database is unreachable.
RECORD_PATIENCE_SECONDS = 60.0


@dataclass(frozen=True)
class Failure:
    outcome: str
    message: str
    retry_after: float | None = None


def http_client(
    *, deadline: float | None = None, guard: Callable[[], None] | None = None
) -> HttpClient:
    return HttpClient(
        timeout=(5.0, float(getattr(settings, "HTTP_TIMEOUT_SECONDS", 30))),
        retries=getattr(settings, "HTTP_RETRIES", 2),
        backoff=getattr(settings, "HTTP_BACKOFF_SECONDS", 0.5),
        deadline=deadline, guard=guard,
    )


DATABASE_DOWN = ("the database was unreachable while this poll was being stored, so nothing "
                 "was stored; the next poll fetches the data again")


def source_poll(
    *, source_id: int, trigger: str = "schedule", at: datetime | None = None
) -> PollRun | None:
    """Poll one source once. Returns its PollRun, or None when another poll has the source
    (or took it over before this one could store anything).

    `at` is the moment the poll stands for, when not now: demo mode fills a week of history
    by polling its simulated upstreams, which answer as they would have then, through this
    same path. The claim is real-time either way; only the data and the PollRun are dated
    `at`, and listeners are not told (a poll of the past is history, not news)."""
    claimed_at = timezone.now()
    token = source_claim(source_id=source_id, now=claimed_at)
    if token is None:
        log.info("source %s is being polled elsewhere; skipped", source_id)
        return None
    started = at or claimed_at
    clock = time.monotonic()
    deadline = clock + settings.POLL_DEADLINE_SECONDS
    source = Source.objects.select_related("team").get(pk=source_id)
    with Heartbeat(source_id=source_id, token=token) as heartbeat:
        def guard() -> None:
            if heartbeat.lost.is_set():
                raise LeaseLost(f"source {source_id} was taken over by another poll")

        fence = Fence(token=token, started=started, clock=clock, trigger=trigger)
        try:
            with cycles_uncollected():
                snapshot = fetch(source=source, now=started,
                                 http=http_client(deadline=deadline, guard=guard))
                guard()
                with transaction.atomic():
                    lease_hold(source_id=source_id, token=token)
                    rows = dict(get_kind(source.kind).load_ingest()(
                        source=source, snapshot=snapshot, now=started))
                    return poll_record(source=source, started=started, rows=rows, failure=None,
                                       trigger=trigger, duration_ms=fence.elapsed_ms(),
                                       announce=at is None)
        except LeaseLost:
            log.warning("poll of source %s was taken over by another poll; it stored nothing",
                        source_id)
            return None
        except Exception as error:
            failure = poll_failure(error, source)
        return poll_record_fenced(source=source, fence=fence, failure=failure, announce=at is None)


@contextmanager
def cycles_uncollected() -> Iterator[None]:
    """Python's cycle collector paused while a poll builds its rows. Parsing 100,000 workers
    allocates enough objects to set off a full collection again and again, each walking the
    whole growing heap: over a second of a big poll. The rows hold no cycles, so reference
    counting frees them as before; the collector resumes when the poll ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def poll_failure(error: Exception, source: Source) -> Failure:
    """What went wrong, in the words shown on the source's page."""
    if isinstance(error, UpstreamError):
        outcome = (
            PollRun.Outcome.PERMANENT if error.permanent
            else PollRun.Outcome.SCHEMA if error.reason == "schema"
            else PollRun.Outcome.TRANSIENT
        )
        return Failure(outcome, scrub(error.message, source), error.retry_after)
    if isinstance(error, UnknownKind):
        return Failure(PollRun.Outcome.PERMANENT, str(error))
    if isinstance(error, SoftTimeLimitExceeded):
        return Failure(PollRun.Outcome.TRANSIENT, (
            f"the poll was stopped after running past its time limit "
            f"({settings.POLL_DEADLINE_SECONDS} s); the upstream may be hanging"))
    if isinstance(error, OperationalError | InterfaceError):
        log.error("poll of source %s could not reach the database: %s", source.pk, error)
        return Failure(PollRun.Outcome.TRANSIENT, DATABASE_DOWN)
    # A bug, not an upstream problem: the traceback goes to the log, scrubbed, since an
    # exception's message may quote a key; the page gets a short reason.
    log.error("poll of source %s crashed:\n%s", source.pk, scrub(traceback.format_exc(), source))
    return Failure(
        PollRun.Outcome.INTERNAL,
        scrub(f"internal error while polling ({type(error).__name__}); see the worker log", source),
    )


def fetch(*, source: Source, now: datetime, http: HttpClient,
          state: Mapping[str, Any] | None = None) -> Any:
    """One fetch through the kind's client; `state` replaces what earlier polls left (a
    connection test starts from none)."""
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
        http=http,
        now=now,
        last_success_at=source.last_success_at,
        state=spec.poll_state(source) if state is None else state,
    )
    return spec.load_client()(ctx).fetch()


@dataclass(frozen=True)
class Fence:
    """What a poll needs to record its outcome under its claim."""

    token: str
    started: datetime
    clock: float
    trigger: str

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.clock) * 1000)


def poll_record_fenced(
    *, source: Source, fence: Fence, failure: Failure, announce: bool = True
) -> PollRun | None:
    """Record a failed poll if this poll still holds its source. While the database is
    unreachable, keep trying for RECORD_PATIENCE seconds, then say so in the log: the lease
    expires by itself and the next poll tries again."""
    patience = time.monotonic() + RECORD_PATIENCE_SECONDS
    pause = 0.5
    while True:
        try:
            with transaction.atomic():
                lease_hold(source_id=source.pk, token=fence.token)
                return poll_record(source=source, started=fence.started, rows={},
                                   failure=failure, trigger=fence.trigger,
                                   duration_ms=fence.elapsed_ms(), announce=announce)
        except LeaseLost:
            log.warning("poll of source %s was taken over by another poll; its failure (%s) "
                        "is not recorded", source.pk, failure.message)
            return None
        except (OperationalError, InterfaceError) as error:
            failure = Failure(PollRun.Outcome.TRANSIENT, DATABASE_DOWN)
            if connection.in_atomic_block or time.monotonic() > patience:
                log.error("poll of source %s could not be recorded: the database was "
                          "unreachable (%s)", source.pk, str(error).strip())
                return None
            connection.close()  # reconnect on the next try
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


def poll_record(
    *,
    source: Source,
    started: datetime,
    duration_ms: int,
    rows: dict[str, int],
    failure: Failure | None,
    trigger: str,
    announce: bool = True,
) -> PollRun:
    """Store the run and the source's new state, and release its claim. The caller holds
    the source row (lease_hold) in the same transaction."""
    # From the poll's own start, so that a poll dated in the past finishes in the past too.
    finished = started + timedelta(milliseconds=duration_ms)
    run = PollRun.objects.create(
        source=source, started_at=started, finished_at=finished, duration_ms=duration_ms,
        outcome=failure.outcome if failure else PollRun.Outcome.OK,
        message=failure.message if failure else "", rows=rows, trigger=trigger,
    )
    update: dict[str, object] = {
        "claimed_until": None, "claim_token": "", "last_poll_at": started,
        "last_duration_ms": duration_ms, "wait_until": None,
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
        if failure.retry_after:
            update["wait_until"] = finished + timedelta(seconds=failure.retry_after)
        log.warning("poll of source %s failed (%s): %s", source.pk, failure.outcome,
                    failure.message)
    Source.objects.filter(pk=source.pk).update(**update)
    for name, value in update.items():
        setattr(source, name, value)
    # Listeners (alerts, metrics) hear of the poll once this transaction has committed.
    if announce:
        poll_finished_send(source=source, run=run)
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
