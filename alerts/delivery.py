"""The outbox: messages queued inside the evaluation's transaction, sent after it.

`deliveries_queue` writes one Delivery per channel in the caller's transaction, so a rolled
back evaluation sends nothing. `deliveries_send` runs outside any transaction: it claims each
due row with a conditional UPDATE on (status, claim_token), the way a poll claims its source,
so two senders never send one message twice; then it sends, each channel in its own thread
with a timeout, so a channel that hangs or answers 500 never holds up the others; then it
records what happened. A failed message is retried with exponential backoff and jitter; after
MAX_ATTEMPTS it is marked failed and its channel broken, which the Channels page shows, and
from then on the channel's messages are failed with that reason instead of quietly queued.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from alerts.copying import copy_worthwhile, rows_copy
from alerts.models import Alert, Channel, ChannelStatus, Delivery, DeliveryKind, DeliveryStatus
from alerts.transports import IN_APP, SEND_TIMEOUT_SECONDS, ChannelSendError, channel_transmit
from dashboard.models import Team

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_MAX_SECONDS = 3600.0
# Each delivery's wait is scaled by a random factor in this range, so messages that failed
# together (a service's outage) do not all come back at the same second.
BACKOFF_JITTER = (0.75, 1.25)
# A round starts no new send after this many seconds; a send still running a timeout later
# is recorded as unanswered. The claim outlasts both, so no other sender takes the row while
# it may still be on its way.
ROUND_SECONDS = 30.0
CLAIM_SECONDS = 180
PARALLEL_CHANNELS = 8
BATCH = 200

OPEN = (DeliveryStatus.QUEUED, DeliveryStatus.RETRYING)


# Queueing -----------------------------------------------------------------------------


def deliveries_queue(*, team: Team, kind: str, title: str, body: str,
                     alerts: Iterable[Alert] = (), channels: Iterable[Channel | int] | None = None,
                     now: datetime | None = None) -> list[Delivery]:
    """One Delivery per enabled, not broken channel of the team (of `channels`, if given),
    in the caller's transaction; nothing is sent here."""
    now = now or timezone.now()
    targets = Channel.objects.filter(team=team, enabled=True).exclude(status=ChannelStatus.BROKEN)
    if channels is not None:
        targets = targets.filter(pk__in=[c.pk if isinstance(c, Channel) else c for c in channels])
    deliveries = Delivery.objects.bulk_create([
        Delivery(team=team, channel=channel, kind=kind, title=title[:250], body=body,
                 created_at=now, next_attempt_at=now)
        for channel in targets.order_by("id")
    ])
    alert_ids = [alert.pk for alert in alerts]
    if alert_ids and deliveries:
        link = Delivery.alerts.through
        pairs = [(d.pk, a) for d in deliveries for a in alert_ids]
        if copy_worthwhile(len(pairs)):
            rows_copy(link, ["delivery_id", "alert_id"], pairs)
        else:
            link.objects.bulk_create([link(delivery_id=d, alert_id=a) for d, a in pairs])
    return deliveries


def delivery_queue_test(*, channel: Channel, now: datetime | None = None) -> Delivery:
    """A test message to one channel, whatever its state (that is how one checks a fix)."""
    now = now or timezone.now()
    team = channel.team
    return Delivery.objects.create(
        team=team, channel=channel, kind=DeliveryKind.TEST, created_at=now, next_attempt_at=now,
        title="Test message from Hashwatch",
        body=(f"This is a test of the channel \u201c{channel.label}\u201d of {team.name}. "
              "If you can read it, alerts will reach you here."))


# Sending ------------------------------------------------------------------------------


@dataclass
class _Outcome:
    started: bool = False
    error: str | None = None
    done: bool = False


@dataclass
class _ChannelJob:
    channel: Channel
    deliveries: list[Delivery]
    outcomes: dict[int, _Outcome] = field(default_factory=dict)


def backoff_seconds(attempts: int) -> float:
    """The wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min... up to an hour,
    each with jitter."""
    delay = min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS)
    return delay * random.uniform(*BACKOFF_JITTER)


def deliveries_send(*, now: datetime | None = None, limit: int | None = None,
                    ids: Sequence[int] | None = None) -> int:
    """Send what is due (or the due ones among `ids`); the number sent. Call it outside any
    transaction: each claim must be visible to other senders as soon as it is made."""
    now = now or timezone.now()
    claimed = _claim(now=now, limit=limit or BATCH, ids=ids)
    if not claimed:
        return 0
    deliveries = list(Delivery.objects.select_related("channel", "team")
                      .filter(pk__in=claimed).order_by("created_at", "id"))
    jobs: dict[int, _ChannelJob] = {}
    sent = 0
    for delivery in deliveries:
        channel = delivery.channel
        is_test = delivery.kind == DeliveryKind.TEST
        if not is_test and not channel.enabled:
            _finish_failed(delivery, claimed[delivery.pk], now=now,
                           error="not sent: the channel was turned off")
        elif not is_test and channel.status == ChannelStatus.BROKEN:
            _finish_failed(delivery, claimed[delivery.pk], now=now,
                           error="not sent: the channel gave up after repeated failures; "
                                 "fix it and turn it on again")
        elif channel.kind == IN_APP:
            sent += _finish_sent(delivery, claimed[delivery.pk], now=now)
        else:
            jobs.setdefault(channel.pk, _ChannelJob(channel, [])).deliveries.append(delivery)
    if jobs:
        sent += _send_jobs(list(jobs.values()), claimed=claimed, now=now)
    return sent


def _claim(*, now: datetime, limit: int, ids: Sequence[int] | None) -> dict[int, str]:
    due = (Q(status__in=OPEN, next_attempt_at__lte=now)
           | Q(status=DeliveryStatus.SENDING, claimed_until__lt=now))
    rows = Delivery.objects.filter(due)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    claimed: dict[int, str] = {}
    for pk, status, token in rows.order_by("next_attempt_at", "id").values_list(
            "pk", "status", "claim_token")[:limit]:
        new_token = secrets.token_hex(16)
        # Only the sender whose UPDATE still sees the row as it read it gets it; the other's
        # UPDATE waits for the row lock, then finds the token changed and matches nothing.
        if Delivery.objects.filter(pk=pk, status=status, claim_token=token).update(
                status=DeliveryStatus.SENDING, claim_token=new_token,
                claimed_until=now + timedelta(seconds=CLAIM_SECONDS)):
            claimed[pk] = new_token
    return claimed


def _send_jobs(jobs: list[_ChannelJob], *, claimed: dict[int, str], now: datetime) -> int:
    deadline = time.monotonic() + ROUND_SECONDS
    lock = threading.Lock()

    def run(job: _ChannelJob) -> None:
        for delivery in job.deliveries:
            # After a failure the channel's other messages wait for its retry, and no send
            # starts once the round is over: they go back to the queue untouched.
            if time.monotonic() > deadline or any(o.error for o in job.outcomes.values()):
                return
            outcome = _Outcome(started=True)
            with lock:
                job.outcomes[delivery.pk] = outcome
            try:
                channel_transmit(channel=job.channel, title=delivery.title, body=delivery.body,
                                 timeout=SEND_TIMEOUT_SECONDS)
            except ChannelSendError as exc:
                outcome.error = str(exc)
            except Exception as exc:  # a plugin's bug must not lose the round's results
                outcome.error = f"unexpected error: {type(exc).__name__}"
                log.exception("Sending delivery %s failed unexpectedly", delivery.pk)
            outcome.done = True

    executor = ThreadPoolExecutor(max_workers=min(PARALLEL_CHANNELS, len(jobs)),
                                  thread_name_prefix="alerts-send")
    try:
        futures = [executor.submit(run, job) for job in jobs]
        futures_wait(futures, timeout=ROUND_SECONDS + 2 * SEND_TIMEOUT_SECONDS + 1)
    finally:
        # A send stuck past every timeout is left to finish on its own; it is recorded now.
        executor.shutdown(wait=False, cancel_futures=True)

    sent = 0
    for job in jobs:
        retry_at: datetime | None = None
        for delivery in job.deliveries:
            token = claimed[delivery.pk]
            with lock:
                outcome = job.outcomes.get(delivery.pk)
            if outcome is None:
                _release(delivery, token, next_attempt_at=retry_at)
            elif not outcome.done:
                retry_at = _finish_error(
                    delivery, token, now=now,
                    error=f"no answer within {SEND_TIMEOUT_SECONDS:g} seconds") or retry_at
            elif outcome.error is not None:
                retry_at = _finish_error(delivery, token, now=now, error=outcome.error) or retry_at
            else:
                sent += _finish_sent(delivery, token, now=now)
    return sent


def _finish_sent(delivery: Delivery, token: str, *, now: datetime) -> int:
    updated = Delivery.objects.filter(pk=delivery.pk, claim_token=token).update(
        status=DeliveryStatus.SENT, sent_at=now, attempts=delivery.attempts + 1, last_error="",
        claim_token="", claimed_until=None)
    Channel.objects.filter(pk=delivery.channel_id).update(
        status=ChannelStatus.OK, last_delivery_at=now, last_error="", last_error_at=None)
    return updated


def _finish_error(delivery: Delivery, token: str, *, now: datetime, error: str) -> datetime | None:
    """Record a failed attempt; the time of the retry, if there is one."""
    attempts = delivery.attempts + 1
    channel = delivery.channel
    error = error[:500]
    channels = Channel.objects.filter(pk=channel.pk)
    if delivery.kind == DeliveryKind.TEST:
        # A test is one attempt, shown at once; it says nothing new about scheduled messages.
        _finish_failed(delivery, token, now=now, error=error, attempts=attempts)
        channels.update(last_error=error, last_error_at=now)
        return None
    if attempts >= MAX_ATTEMPTS:
        _finish_failed(delivery, token, now=now, error=error, attempts=attempts)
        channels.update(status=ChannelStatus.BROKEN, last_error=error, last_error_at=now)
        log.error("Channel %s (%s) of team %s gave up after %s failed attempts: %s",
                  channel.pk, channel.hint, delivery.team_id, attempts, error)
        return None
    retry_at = now + timedelta(seconds=backoff_seconds(attempts))
    Delivery.objects.filter(pk=delivery.pk, claim_token=token).update(
        status=DeliveryStatus.RETRYING, attempts=attempts, last_error=error,
        next_attempt_at=retry_at, claim_token="", claimed_until=None)
    channels.exclude(status=ChannelStatus.BROKEN).update(
        status=ChannelStatus.FAILING, last_error=error, last_error_at=now)
    log.warning("Delivery %s to channel %s (%s) failed, attempt %s of %s, retrying at %s: %s",
                delivery.pk, channel.pk, channel.hint, attempts, MAX_ATTEMPTS,
                retry_at.isoformat(timespec="seconds"), error)
    return retry_at


def _finish_failed(delivery: Delivery, token: str, *, now: datetime, error: str,
                   attempts: int | None = None) -> None:
    Delivery.objects.filter(pk=delivery.pk, claim_token=token).update(
        status=DeliveryStatus.FAILED, last_error=error[:500],
        attempts=delivery.attempts if attempts is None else attempts,
        claim_token="", claimed_until=None)


def _release(delivery: Delivery, token: str, *, next_attempt_at: datetime | None) -> None:
    """Back to the queue without an attempt counted (the round ended, or the channel failed
    on an earlier message and this one waits for the same retry)."""
    changes: dict[str, object] = {
        "status": DeliveryStatus.RETRYING if delivery.attempts else DeliveryStatus.QUEUED,
        "claim_token": "", "claimed_until": None}
    if next_attempt_at is not None:
        changes["next_attempt_at"] = next_attempt_at
    Delivery.objects.filter(pk=delivery.pk, claim_token=token).update(**changes)


# Reading ------------------------------------------------------------------------------


def deliveries_for_team(*, team: Team, channel: Channel | None = None,
                        status: str | None = None, kind: str | None = None) -> QuerySet[Delivery]:
    """The delivery log, newest first."""
    rows = Delivery.objects.filter(team=team).select_related("channel")
    if channel is not None:
        rows = rows.filter(channel=channel)
    if status:
        rows = rows.filter(status=status)
    if kind:
        rows = rows.filter(kind=kind)
    return rows.order_by("-created_at", "-id")


def deliveries_inbox(*, team: Team) -> QuerySet[Delivery]:
    """The in-app channels' messages, newest first, for the Alerts page."""
    return deliveries_for_team(team=team).filter(channel__kind=IN_APP)


def channel_last_delivery(*, channel: Channel) -> Delivery | None:
    return deliveries_for_team(team=channel.team, channel=channel).first()
