"""What the feature apps register is what the core's pages, /healthz and listeners get."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboard import health, polling, registries
from dashboard.models import PollRun, Source, Team
from dashboard.polling import source_poll
from dashboard.registries import (
    AuditGroup,
    HealthCheck,
    HealthReport,
    NavItem,
    OverviewSection,
    SourceLink,
    SourcePanel,
    WorkerPanel,
    poll_finished,
)
from tests.conftest import client_for

# A fragment that prints one line of text from its context.
TEXT_TEMPLATE = "exchanges/_overview_fiat.html"


def text(value: str) -> dict[str, Any]:
    return {"fiat_hint": {"text": value}}


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Register entries for one test; the registries are as they were afterwards."""

    def register(table: dict[str, Any], entry: Any) -> None:
        monkeypatch.setitem(table, entry.name, entry)

    return register


# Overview sections ---------------------------------------------------------------------


def test_a_registered_overview_section_is_shown_in_its_place(source: Source, bob, registered) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, Any] = {}

    def first(*, team: Team, earlier: Any) -> dict[str, Any]:
        seen["team"], seen["summary"] = team, earlier["summary"]
        return {**text("Section before the tiles"), "first_figure": 42}

    def last(*, team: Team, earlier: Any) -> dict[str, Any]:
        seen["first_figure"] = earlier["first_figure"]
        return text("Section after the tiles")

    registered(registries.OVERVIEW_SECTIONS, OverviewSection("test-first", TEXT_TEMPLATE, first, order=1))
    registered(registries.OVERVIEW_SECTIONS, OverviewSection("test-last", TEXT_TEMPLATE, last, order=5000))
    registered(registries.OVERVIEW_SECTIONS, OverviewSection(
        "test-hidden", TEXT_TEMPLATE, lambda **_: None, order=2))

    body = client_for(bob).get("/").content.decode()

    assert body.index("Section before the tiles") < body.index("<h2>Sources") < body.index(
        "Section after the tiles")
    assert seen == {"team": source.team, "summary": seen["summary"], "first_figure": 42}
    assert seen["summary"].total == 1


def test_the_htmx_refresh_renders_the_sections_too(source: Source, bob, registered) -> None:  # type: ignore[no-untyped-def]
    registered(registries.OVERVIEW_SECTIONS, OverviewSection(
        "test", TEXT_TEMPLATE, lambda **_: text("Refreshed section"), order=1))
    response = client_for(bob).get("/", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="overview-live"')
    assert "Refreshed section" in body


def test_a_team_without_sources_asks_no_section(team: Team, bob, registered) -> None:  # type: ignore[no-untyped-def]
    def boom(**_: Any) -> None:
        raise AssertionError("asked for a section with no source to show")

    registered(registries.OVERVIEW_SECTIONS, OverviewSection("test", TEXT_TEMPLATE, boom))
    assert "No sources yet" in client_for(bob).get("/").content.decode()


def test_the_apps_register_their_sections_in_order() -> None:
    names = [s.name for s in registries.overview_sections()]
    assert names == ["alerts-firing", "pool-totals", "fiat-line", "profitability", "pool-charts", "sources"]
    assert registries.overview_head_templates() == ["pools/_chart_head.html"]


# A source's page and the top bar -------------------------------------------------------


def test_a_registered_panel_shows_for_its_kinds_only(source: Source, bob, registered) -> None:  # type: ignore[no-untyped-def]
    registered(registries.SOURCE_PANELS, SourcePanel(
        "test", TEXT_TEMPLATE, lambda *, source: text(f"Panel of {source.label}"), kinds=("fake",)))
    registered(registries.SOURCE_PANELS, SourcePanel(
        "test-other", TEXT_TEMPLATE, lambda **_: text("Panel of another kind"), kinds=("btccom",)))
    body = client_for(bob).get(f"/sources/{source.pk}/").content.decode()
    assert "Panel of Main farm" in body
    assert "Panel of another kind" not in body


def test_a_registered_worker_panel_shows_on_the_worker_page(source: Source, bob, registered) -> None:  # type: ignore[no-untyped-def]
    from pools.models import Worker

    now = timezone.now()
    worker = Worker.objects.create(source=source, name="rig-07", status="online", hashrate_hs=1e12,
                                   first_seen_at=now, last_seen_at=now)
    seen: dict[str, Any] = {}

    def panel(*, source: Source, worker_name: str) -> dict[str, Any]:
        seen["source"], seen["worker_name"] = source, worker_name
        return text(f"Panel of {worker_name} on {source.label}")

    registered(registries.WORKER_PANELS, WorkerPanel("test", TEXT_TEMPLATE, panel))
    registered(registries.WORKER_PANELS, WorkerPanel("test-hidden", TEXT_TEMPLATE, lambda **_: None))
    body = client_for(bob).get(f"/workers/{worker.pk}/").content.decode()
    assert "Panel of rig-07 on Main farm" in body
    assert seen == {"source": source, "worker_name": "rig-07"}


def test_a_registered_link_shows_when_it_has_an_address(source: Source, bob, alice, registered) -> None:  # type: ignore[no-untyped-def]
    def manage_only(*, source: Source, membership: Any) -> str | None:
        return "/somewhere/" if membership.can_manage_sources else None

    registered(registries.SOURCE_LINKS, SourceLink("test", "Elsewhere", manage_only))
    page = f"/sources/{source.pk}/"
    assert 'href="/somewhere/">Elsewhere</a>' in client_for(alice).get(page).content.decode()
    assert "Elsewhere" not in client_for(bob).get(page).content.decode()


def test_a_registered_nav_item_is_in_the_top_bar(source: Source, bob, registered) -> None:  # type: ignore[no-untyped-def]
    registered(registries.NAV_ITEMS, NavItem("test", "Settings too", "settings_team",
                                             current=("sources",), order=1))
    body = client_for(bob).get("/sources/").content.decode()
    assert f'<a href="{reverse("settings_team")}" aria-current="page">Settings too</a>' in body
    assert body.index("Settings too") < body.index(">Hashrate</a>")


# The audit log -------------------------------------------------------------------------


def test_a_registered_audit_group_names_and_filters_its_actions(alice, team, registered) -> None:  # type: ignore[no-untyped-def]
    from dashboard.audit import audit_record

    registered(registries.AUDIT_GROUPS, AuditGroup(
        "gadget.", "Gadgets", {"gadget.wound": "wound a gadget up ({turns} turns)"}))
    audit_record(team=team, actor=alice, action="gadget.wound", target="Clock", detail={"turns": 3})
    audit_record(team=team, actor=alice, action="gadget.unknown", target="Other")
    audit_record(team=team, actor=alice, action="team.edited", target="Team", detail={"fields": ["name"]})
    client = client_for(alice)
    body = client.get("/settings/audit/").content.decode()
    assert '<option value="gadget."' in body
    assert "wound a gadget up (3 turns)" in body and "gadget.unknown" in body
    body = client.get("/settings/audit/?action=gadget.").content.decode()
    assert "Clock" in body and "Other" in body and "edited the team settings" not in body


# Health checks -------------------------------------------------------------------------


def test_healthz_keeps_its_keys(db: None) -> None:
    body = Client().get("/healthz").json()
    assert list(body) == ["status", "database", "redis", "beat", "oldest_stale_source", "streams"]


@pytest.mark.parametrize(("status", "overall", "code"), [
    ("ok", "ok", 200), ("degraded", "degraded", 200), ("down", "down", 503)])
def test_a_registered_check_adds_its_key_and_verdict(db: None, registered, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                     status: str, overall: str, code: int) -> None:
    monkeypatch.setattr(health, "beat_status", lambda now: {"last_tick": "x", "age_seconds": 1})
    registered(registries.HEALTH_CHECKS, HealthCheck(
        "widgets", lambda *, now: HealthReport({"spinning": 3}, status)))  # type: ignore[arg-type]
    response = Client().get("/healthz")
    assert response.status_code == code
    assert response.json()["widgets"] == {"spinning": 3}
    assert response.json()["status"] == overall


def test_a_failing_check_degrades_instead_of_failing(db: None, registered) -> None:  # type: ignore[no-untyped-def]
    def broken(*, now: object) -> HealthReport:
        raise OperationalError("the widget table is gone")

    registered(registries.HEALTH_CHECKS, HealthCheck("widgets", broken, idle={"spinning": 0}))
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["widgets"] == {"spinning": 0} and response.json()["status"] == "degraded"


def test_checks_are_not_run_without_a_database(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "database_status", lambda: health.DOWN)
    body = Client().get("/healthz").json()
    assert body["status"] == "down" and body["streams"] == {"expected": 0, "running": 0}


def test_a_check_cannot_take_a_core_key() -> None:
    with pytest.raises(ValueError, match="status"):
        registries.health_check_register(HealthCheck("status", lambda **_: HealthReport(None)))


# The poll signal -----------------------------------------------------------------------


@pytest.fixture
def finished() -> Iterator[list[dict[str, Any]]]:
    calls: list[dict[str, Any]] = []

    def receiver(sender: type, **kwargs: Any) -> None:
        calls.append({"sender": sender, **kwargs})

    poll_finished.connect(receiver, dispatch_uid="test-receiver")
    yield calls
    poll_finished.disconnect(dispatch_uid="test-receiver")


def set_mode(source: Source, mode: str) -> None:
    Source.objects.filter(pk=source.pk).update(options={"mode": mode})


@pytest.mark.parametrize(("mode", "outcome"), [
    ("ok", PollRun.Outcome.OK), ("transient", PollRun.Outcome.TRANSIENT),
    ("permanent", PollRun.Outcome.PERMANENT), ("ingest_fails", PollRun.Outcome.INTERNAL)])
def test_each_poll_sends_poll_finished_once(source: Source, finished: list[dict[str, Any]],
                                            django_capture_on_commit_callbacks: Any,
                                            mode: str, outcome: str) -> None:
    set_mode(source, mode)
    with django_capture_on_commit_callbacks(execute=True):
        run = source_poll(source_id=source.pk, trigger="manual")
    assert run is not None and run.outcome == outcome
    assert len(finished) == 1
    call = finished[0]
    assert call["sender"] is Source and call["outcome"] == outcome and call["run"] == run
    assert call["source"].pk == source.pk
    assert call["source"].last_poll_at == run.started_at  # the source as the poll left it


def test_it_waits_for_the_commit(source: Source, finished: list[dict[str, Any]],
                                 django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        source_poll(source_id=source.pk)
    assert finished == [] and len(callbacks) == 1
    callbacks[0]()
    assert [call["outcome"] for call in finished] == [PollRun.Outcome.OK]


def test_it_is_sent_at_once_outside_a_transaction(transactional_db: None, source: Source,
                                                  finished: list[dict[str, Any]]) -> None:
    run = source_poll(source_id=source.pk)
    assert [call["run"] for call in finished] == [run]


def test_a_poll_that_did_not_run_sends_nothing(source: Source, finished: list[dict[str, Any]],
                                               django_capture_on_commit_callbacks: Any) -> None:
    Source.objects.filter(pk=source.pk).update(claimed_until=timezone.now() + timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert source_poll(source_id=source.pk) is None
    assert finished == []


def test_a_failing_receiver_does_not_fail_the_poll(source: Source, finished: list[dict[str, Any]],
                                                   django_capture_on_commit_callbacks: Any,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    def broken(sender: type, **kwargs: Any) -> None:
        raise RuntimeError("listener bug")

    poll_finished.connect(broken, dispatch_uid="test-broken")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run = source_poll(source_id=source.pk)
    finally:
        poll_finished.disconnect(dispatch_uid="test-broken")
    assert run is not None and run.ok
    assert len(finished) == 1
    assert "poll_finished receiver" in caplog.text and "listener bug" in caplog.text


@pytest.mark.parametrize("mode", ["ok", "transient"])
def test_a_poll_of_a_past_moment_is_dated_then_and_not_announced(
        source: Source, finished: list[dict[str, Any]], django_capture_on_commit_callbacks: Any,
        mode: str) -> None:
    """Demo mode's history: the data and the run are dated at the moment the poll stands
    for, and listeners (alerts, metrics) hear nothing of the past."""
    set_mode(source, mode)
    seen: list[datetime] = []
    real_fetch = polling.fetch

    def fetch(*, source: Source, now: datetime, http: Any) -> Any:
        seen.append(now)
        return real_fetch(source=source, now=now, http=http)

    past = timezone.now() - timedelta(days=3)
    with mock.patch.object(polling, "fetch", fetch), \
            django_capture_on_commit_callbacks(execute=True):
        run = source_poll(source_id=source.pk, trigger="backfill", at=past)
    assert run is not None and run.started_at == past
    assert past <= run.finished_at < past + timedelta(minutes=1)
    assert seen == [past]
    assert finished == []
    source.refresh_from_db()
    assert source.last_poll_at == past and source.claimed_until is None
