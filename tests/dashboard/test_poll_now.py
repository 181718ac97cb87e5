"""'Poll now' respects what the scheduler respects."""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnreachable

from dashboard.models import PollRun, Source, Team
from dashboard.polling import Failure, poll_record
from tests.conftest import client_for


@pytest.fixture
def queued() -> object:
    with mock.patch("dashboard.tasks.poll_source.delay") as delay:
        yield delay


def press(user: object, source: Source, **data: str) -> object:
    return client_for(user).post(f"/sources/{source.pk}/poll/", data, follow=True)


def test_it_queues_a_poll_and_then_rests_for_the_cooldown(alice, source, queued) -> None:
    first = press(alice, source)
    assert "is queued" in first.content.decode()
    second = press(alice, source)
    assert "can be pressed again in" in second.content.decode()
    assert queued.call_count == 1
    source.refresh_from_db()
    assert source.poll_requested_at is not None


def test_the_cooldown_ends(alice, source, queued, settings) -> None:
    press(alice, source)
    Source.objects.filter(pk=source.pk).update(
        poll_requested_at=timezone.now() - timedelta(seconds=settings.POLL_NOW_COOLDOWN_SECONDS + 1))
    press(alice, source)
    assert queued.call_count == 2


def test_it_refuses_a_disabled_source_and_shows_no_button(alice, source, queued) -> None:
    Source.objects.filter(pk=source.pk).update(enabled=False)
    response = client_for(alice).post(f"/sources/{source.pk}/poll/")
    assert response.status_code == 409
    assert "is disabled, so it is not polled" in response.content.decode()
    assert queued.call_count == 0
    for url in ("/sources/", f"/sources/{source.pk}/"):
        assert "Poll now" not in client_for(alice).get(url).content.decode()


def test_it_says_when_an_upstream_that_asked_to_wait_is_polled(alice, source, queued) -> None:
    Team.objects.filter(pk=source.team_id).update(timezone="Europe/Berlin")
    wait_until = timezone.now().replace(microsecond=0) + timedelta(minutes=10)
    Source.objects.filter(pk=source.pk).update(wait_until=wait_until)
    local = wait_until.astimezone(ZoneInfo("Europe/Berlin"))
    words = f"Fake upstream asked us to wait until {local:%H:%M}"
    if local.date() != timezone.now().astimezone(local.tzinfo).date():
        words = f"Fake upstream asked us to wait until {local:%Y-%m-%d %H:%M}"

    response = press(alice, source)

    assert words in response.content.decode()
    assert queued.call_count == 0
    for url in ("/sources/", f"/sources/{source.pk}/"):
        body = client_for(alice).get(url).content.decode()
        assert words in body and ">Poll now<" not in body


def test_a_refused_key_needs_an_edit_or_a_confirmed_retry(alice, source, queued) -> None:
    Source.objects.filter(pk=source.pk).update(
        error_is_permanent=True, last_error="fake.invalid rejected the credentials (HTTP 401)",
        last_error_at=timezone.now())

    refused = press(alice, source)
    assert "Edit the source, or confirm a retry with the same key" in refused.content.decode()
    assert queued.call_count == 0
    page = client_for(alice).get(f"/sources/{source.pk}/").content.decode()
    assert "Retry with the same key" in page and "data-confirm" in page

    press(alice, source, confirm_retry="1")
    assert queued.call_count == 1


def test_a_viewer_cannot_press_it(bob, source, queued) -> None:
    response = client_for(bob).post(f"/sources/{source.pk}/poll/")
    assert response.status_code == 403
    assert queued.call_count == 0


def test_a_rate_limited_poll_records_when_the_upstream_lets_us_back(source: Source) -> None:
    started: datetime = timezone.now()
    poll_record(source=source, started=started, duration_ms=5, rows={}, trigger="schedule",
                failure=Failure(PollRun.Outcome.TRANSIENT, "rate limited", retry_after=600))
    source.refresh_from_db()
    assert source.wait_until - started >= timedelta(seconds=599)
    assert source.next_poll_at >= source.wait_until


def test_a_poll_the_broker_refused_does_not_take_the_cooldown(alice, source) -> None:
    with mock.patch("dashboard.tasks.poll_source.delay",
                    side_effect=BrokerUnreachable("connection refused")) as delay:
        first = press(alice, source)
        assert "could not be queued" in first.content.decode()
        source.refresh_from_db()
        assert source.poll_requested_at is None
        second = press(alice, source)
    assert "can be pressed again in" not in second.content.decode()
    assert delay.call_count == 2
