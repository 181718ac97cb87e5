"""A source before its first poll: pending everywhere its health shows, never stale, and
polled at once when it is saved."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from dashboard.models import Health, Source
from dashboard.polling import source_poll
from dashboard.services import apitoken_create
from dashboard.tasks import BEAT_TICK_KEY
from tests.conftest import SECRET, client_for

PENDING_BADGE = '<span class="badge badge-pending" title="Waiting for its first poll">Pending</span>'


@pytest.fixture
def queued() -> object:
    with mock.patch("dashboard.tasks.poll_source.delay") as delay:
        yield delay


def test_a_never_polled_source_is_pending_then_its_polls_decide(source) -> None:
    assert source.health() == Health.PENDING
    # Long after it was added, still pending: health speaks of polls, and there was none.
    later = timezone.now() + timedelta(hours=3)
    assert source.health(later) == Health.PENDING and source.first_poll_overdue(later)
    assert not source.first_poll_overdue()
    source_poll(source_id=source.pk)
    source.refresh_from_db()
    assert source.health() == Health.OK
    assert source.health(source.last_success_at + timedelta(hours=1)) == Health.STALE


def test_a_first_poll_that_failed_is_an_error_not_pending(source) -> None:
    Source.objects.filter(pk=source.pk).update(options={"mode": "transient"})
    source_poll(source_id=source.pk)
    source.refresh_from_db()
    assert source.health() == Health.ERROR


def test_pages_say_it_waits_for_its_first_poll(alice, source) -> None:
    client = client_for(alice)
    overview = client.get("/").content.decode()
    assert PENDING_BADGE in overview and "Waiting for its first poll." in overview
    assert "1 waiting for a first poll" in overview and "Stale" not in overview
    for url in ("/sources/", "/settings/sources/", f"/sources/{source.pk}/"):
        body = client.get(url).content.decode()
        assert PENDING_BADGE in body and "Stale" not in body, url
    detail = client.get(f"/sources/{source.pk}/").content.decode()
    assert "Waiting for its first poll: it was queued when the source was saved" in detail


def test_the_overview_adds_no_figures_for_a_pool_not_polled_yet(alice, team) -> None:
    from dashboard.services import source_create

    source_create(team=team, kind="btccom", label="New farm", credentials={"access_key": "ak", "puid": "1"})
    body = client_for(alice).get("/").content.decode()
    assert PENDING_BADGE in body
    assert "hashrate now" not in body and "not reported" not in body


def test_the_page_warns_when_the_first_poll_is_long_overdue(alice, source) -> None:
    Source.objects.filter(pk=source.pk).update(created_at=timezone.now() - timedelta(hours=2))
    body = client_for(alice).get(f"/sources/{source.pk}/").content.decode()
    assert "Still waiting for its first poll" in body and "Celery worker and beat" in body


def test_the_api_and_metrics_say_pending(source, team) -> None:
    _, token = apitoken_create(team=team, name="scripts")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    [row] = Client().get("/api/v1/sources", **auth).json()["sources"]
    assert row["status"] == "pending"
    scrape = Client().get("/metrics", **auth).content.decode()
    # Not up (no data yet), and said so in the help; the example alert waits 10 minutes.
    assert f'hashwatch_source_up{{kind="fake",source="Main farm",source_id="{source.pk}",' \
           f'team="{team.slug}"}} 0.0' in scrape
    assert "or not polled yet" in scrape


def test_healthz_waits_for_a_new_source_but_not_forever(source) -> None:
    cache.set(BEAT_TICK_KEY, timezone.now().isoformat(), timeout=None)
    assert Client().get("/healthz").json()["oldest_stale_source"] is None
    Source.objects.filter(pk=source.pk).update(created_at=timezone.now() - timedelta(hours=2))
    assert Client().get("/healthz").json()["oldest_stale_source"] is not None


def test_adding_a_source_queues_its_first_poll_like_poll_now(alice, team, queued) -> None:
    client = client_for(alice)
    response = client.post("/settings/sources/new/fake/", {
        "label": "New farm", "interval": "60", "enabled": "on", "option_mode": "ok",
        "credential_api_key": SECRET}, follow=True)
    source = Source.objects.get(label="New farm")
    assert queued.call_args == mock.call(source.pk, trigger="created")
    assert "its first poll is on its way" in response.content.decode()
    assert source.poll_requested_at is not None
    # The slot is taken: a press right after does not queue the same poll twice.
    again = client.post(f"/sources/{source.pk}/poll/", follow=True).content.decode()
    assert "can be pressed again in" in again and queued.call_count == 1


def test_a_disabled_new_source_is_not_polled(alice, team, queued) -> None:
    response = client_for(alice).post("/settings/sources/new/fake/", {
        "label": "Spare", "interval": "60", "option_mode": "ok", "credential_api_key": SECRET},
        follow=True)
    assert queued.call_count == 0
    assert "added, disabled: it is not polled" in response.content.decode()


def test_saving_an_edit_polls_with_the_new_settings(alice, source, queued) -> None:
    response = client_for(alice).post(f"/settings/sources/{source.pk}/edit/", {
        "label": "Main farm", "interval": "60", "enabled": "on", "option_mode": "ok",
        "credential_api_key": "sk_live_replaced_0000"}, follow=True)
    assert queued.call_args == mock.call(source.pk, trigger="edited")
    assert "a poll with the new settings is on its way" in response.content.decode()
