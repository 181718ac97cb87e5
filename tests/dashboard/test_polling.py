from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from dashboard import polling
from dashboard.models import AuditEvent, Health, PollRun, Source
from dashboard.polling import backoff, source_poll, sources_dispatch
from dashboard.services import source_update
from tests import fakes

real_fetch = polling.fetch


def set_mode(source: Source, mode: str) -> None:
    Source.objects.filter(pk=source.pk).update(options={"mode": mode})


def test_a_successful_poll_records_its_run_and_health(source: Source) -> None:
    run = source_poll(source_id=source.pk)
    assert run is not None and run.ok
    assert run.rows == {"readings": 3}
    source.refresh_from_db()
    assert source.health() == Health.OK
    assert source.claimed_until is None
    assert source.next_poll_at > timezone.now()


def test_a_transient_error_keeps_earlier_data_and_backs_off(source: Source) -> None:
    source_poll(source_id=source.pk)
    source.refresh_from_db()
    first_success = source.last_success_at
    stored = AuditEvent.objects.filter(action="fake.ingested").count()
    set_mode(source, "transient")

    run = source_poll(source_id=source.pk)

    assert run.outcome == PollRun.Outcome.TRANSIENT
    assert "HTTP 503" in run.message
    source.refresh_from_db()
    assert source.health() == Health.ERROR
    assert source.last_success_at == first_success
    assert AuditEvent.objects.filter(action="fake.ingested").count() == stored
    assert not source.error_is_permanent
    assert source.next_poll_at > timezone.now()


def test_it_rolls_back_an_ingest_that_fails_half_way(source: Source) -> None:
    set_mode(source, "ingest_fails")
    run = source_poll(source_id=source.pk)
    assert run.outcome == PollRun.Outcome.INTERNAL
    assert not AuditEvent.objects.filter(action="fake.ingested").exists()


def test_a_permanent_error_stops_retries_until_the_source_is_edited(source: Source) -> None:
    set_mode(source, "permanent")
    run = source_poll(source_id=source.pk)
    assert run.outcome == PollRun.Outcome.PERMANENT
    source.refresh_from_db()
    assert source.error_is_permanent and source.next_poll_at is None
    far_future = timezone.now() + timedelta(days=1)
    assert sources_dispatch(now=far_future, enqueue=lambda _: None) == []

    source_update(source=source, label=source.label, base_url="", options={"mode": "ok"},
                  new_credentials={"api_key": "sk_new_key_123"}, interval=60, enabled=True)

    assert sources_dispatch(now=timezone.now(), enqueue=lambda _: None) == [source.pk]


def test_backoff_grows_with_failures_and_is_capped() -> None:
    delays = [backoff(interval=60, failures=n).total_seconds() for n in (1, 2, 3, 10)]
    assert 48 <= delays[0] <= 72
    assert 96 <= delays[1] <= 144
    assert delays[2] > delays[1]
    assert delays[3] <= 3600 * 1.2


def test_backoff_honours_retry_after() -> None:
    assert backoff(interval=15, failures=1, retry_after=600).total_seconds() == 600


def test_dispatch_queues_due_sources_once(source: Source) -> None:
    queued: list[int] = []
    now = timezone.now()
    assert sources_dispatch(now=now, enqueue=queued.append) == [source.pk]
    assert sources_dispatch(now=now + timedelta(seconds=15), enqueue=queued.append) == []
    assert queued == [source.pk]


def test_dispatch_skips_disabled_sources(source: Source) -> None:
    Source.objects.filter(pk=source.pk).update(enabled=False)
    assert sources_dispatch(now=timezone.now(), enqueue=lambda _: None) == []


def test_a_crashing_client_is_reported_without_its_traceback_in_the_page(source, caplog) -> None:
    set_mode(source, "crash")
    run = source_poll(source_id=source.pk)
    assert run.outcome == PollRun.Outcome.INTERNAL
    assert "RuntimeError" in run.message
    assert "sk_live" not in run.message


def test_an_expired_claim_can_be_taken_over(source: Source) -> None:
    # Another worker claimed the source and let its lease run out.
    Source.objects.filter(pk=source.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1), claim_token="expired-holder",
    )
    held: list[tuple[str, bool]] = []

    def fetch_noting_the_holder(**kwargs: Any) -> Any:
        row = Source.objects.get(pk=source.pk)
        held.append((row.claim_token, row.claimed_until is not None and row.claimed_until > timezone.now()))
        return real_fetch(**kwargs)

    with mock.patch.object(polling, "fetch", side_effect=fetch_noting_the_holder):
        run = source_poll(source_id=source.pk)

    # The new poll held the lease while it fetched, under a token of its own...
    [(token, live)] = held
    assert token not in ("", "expired-holder") and live
    # ...ran to the end, and stored what it fetched...
    assert run is not None and run.outcome == PollRun.Outcome.OK and run.rows == {"readings": 3}
    assert PollRun.objects.filter(source=source).count() == 1
    assert AuditEvent.objects.filter(action="fake.ingested").count() == 1
    # ...then let the lease go: nobody holds it now.
    source.refresh_from_db()
    assert (source.claim_token, source.claimed_until) == ("", None)
    assert source.health() == Health.OK


def test_a_held_claim_skips_the_poll(source: Source) -> None:
    Source.objects.filter(pk=source.pk).update(
        claimed_until=timezone.now() + timedelta(minutes=5)
    )
    assert source_poll(source_id=source.pk) is None
    assert not PollRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_polls_run_the_client_once(team) -> None:
    from dashboard.services import source_create

    slow = source_create(team=team, kind="fake", label="Slow", credentials={"api_key": "k-slow"},
                         options={"mode": "slow"})
    fakes.calls["count"] = 0
    results: list[object] = []

    def poll() -> None:
        try:
            results.append(source_poll(source_id=slow.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=poll, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive(), "a poll did not finish"

    assert fakes.calls["count"] == 1
    assert sorted(r is None for r in results) == [False, True]
    assert PollRun.objects.filter(source=slow).count() == 1


def test_a_poll_pauses_the_cycle_collector_and_resumes_it() -> None:
    import gc

    from dashboard import polling

    seen = []
    with polling.cycles_uncollected():
        seen.append(gc.isenabled())
    assert seen == [False] and gc.isenabled()
    with pytest.raises(RuntimeError), polling.cycles_uncollected():
        raise RuntimeError("a poll that fails")
    assert gc.isenabled()
