"""The claim a poll holds on its source: a lease with a token, renewed while the poll runs.

Taking the claim writes a fresh random token beside `claimed_until`. Every write the poll
makes afterwards (its ingest, its PollRun, releasing the claim) first locks the source row and
checks that the token is still its own, in the same transaction: a poll that outlived its lease
and was taken over stores nothing, so two polls of one source never both commit.

A heartbeat thread renews the lease while the poll waits on a slow upstream, so a long but
healthy poll keeps its source; a worker that dies stops renewing, and the lease expires.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone

from dashboard.models import Source

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another poll took this source over: this one must not write anything."""


def lease_seconds() -> int:
    return int(settings.POLL_CLAIM_SECONDS)


def source_claim(*, source_id: int, now: datetime) -> str | None:
    """Take the source for one poll: its claim token, or None if another poll holds it.

    A conditional UPDATE is atomic on Postgres and SQLite alike, and the lease expires, so a
    worker killed mid-poll never blocks its source for good.
    """
    token = uuid.uuid4().hex
    claimed = Source.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), pk=source_id
    ).update(claimed_until=now + timedelta(seconds=lease_seconds()), claim_token=token)
    return token if claimed == 1 else None


def lease_renew(*, source_id: int, token: str) -> bool:
    """Extend the lease from now; False when the token is no longer the source's."""
    until = timezone.now() + timedelta(seconds=lease_seconds())
    return Source.objects.filter(pk=source_id, claim_token=token).update(claimed_until=until) == 1


def lease_hold(*, source_id: int, token: str) -> None:
    """Lock the source row for the rest of the current transaction if this poll still holds
    it; raise LeaseLost otherwise. Call inside transaction.atomic()."""
    held = (
        Source.objects.select_for_update()
        .filter(pk=source_id, claim_token=token)
        .values_list("pk", flat=True)
    )
    if not list(held):
        raise LeaseLost(f"source {source_id} was taken over by another poll")


class Heartbeat:
    """Renews a lease every third of its length from a thread of its own (with its own
    database connection), until stopped. `lost` is set once the lease is found taken over;
    a failed renewal (database unreachable) is retried at the next beat."""

    def __init__(self, *, source_id: int, token: str, every: float | None = None):
        self.source_id = source_id
        self.token = token
        self.every = every if every is not None else lease_seconds() / 3
        self.lost = threading.Event()
        self.renewals = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"lease-heartbeat-{source_id}", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every):
                try:
                    if lease_renew(source_id=self.source_id, token=self.token):
                        self.renewals += 1
                        continue
                    log.warning("poll of source %s lost its claim to another poll", self.source_id)
                    self.lost.set()
                    return
                except DatabaseError as error:
                    log.warning("could not renew the claim on source %s: the database was "
                                "unreachable (%s)", self.source_id, str(error).strip())
                    connection.close()
        finally:
            connection.close()

