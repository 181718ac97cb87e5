"""The polling engine through a real Celery worker, Redis broker and Postgres."""

from __future__ import annotations

import pytest

from dashboard.models import PollRun, Source
from dashboard.services import source_create
from dashboard.tasks import dispatch_due_sources
from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e


def test_beat_dispatch_and_poll_run_on_a_real_worker(team, celery_worker_process) -> None:
    ok = source_create(team=team, kind="fake", label="Good", credentials={"api_key": "k-good"})
    bad = source_create(team=team, kind="fake", label="Bad", credentials={"api_key": "k-bad"},
                        options={"mode": "permanent"})

    dispatch_due_sources.delay()

    wait_for(lambda: PollRun.objects.filter(source__in=[ok, bad]).count() == 2,
             timeout=60, what="both polls to be recorded by the worker")
    ok.refresh_from_db()
    bad.refresh_from_db()
    assert ok.status == "ok" and ok.poll_runs.get().rows == {"readings": 3}
    assert bad.status == "error" and bad.error_is_permanent
    assert Source.objects.filter(claimed_until__isnull=False).count() == 0
