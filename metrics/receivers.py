"""The poll signal, counted for the failure counter of /metrics (see metrics.models)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from dashboard.models import PollRun, Source
from dashboard.registries import poll_finished
from metrics.models import SourcePollCount


def source_poll_count_increment(*, source_id: int, failed: bool) -> None:
    """One more poll (and failure) of the source. Two polls of one source never finish at
    once (the lease), but a retry after a lost insert race costs nothing."""
    now = timezone.now()
    step = {"polls": F("polls") + 1, "failures": F("failures") + int(failed), "updated_at": now}
    if SourcePollCount.objects.filter(source_id=source_id).update(**step):
        return
    try:
        with transaction.atomic():
            SourcePollCount.objects.create(source_id=source_id, polls=1, failures=int(failed),
                                           updated_at=now)
    except IntegrityError:
        # Another process created the row first, or the source was deleted meanwhile (then
        # this update finds nothing, which is right).
        SourcePollCount.objects.filter(source_id=source_id).update(**step)


def poll_counted(sender: Any, *, source: Source, run: PollRun, outcome: str, **kwargs: Any) -> None:
    source_poll_count_increment(source_id=source.pk, failed=outcome != PollRun.Outcome.OK)


def connect() -> None:
    poll_finished.connect(poll_counted, dispatch_uid="metrics.poll_counted")
