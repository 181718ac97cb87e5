"""The source page of a FlowBTC source says what the live stream is doing."""

from __future__ import annotations

from django.utils import timezone

from dashboard.models import Team
from dashboard.services import source_create
from exchanges.live import stream_status_publish
from tests.conftest import client_for

PASSWORD = "flow-password-91e3"


def flowbtc(team: Team):  # type: ignore[no-untyped-def]
    return source_create(team=team, kind="flowbtc", label="FlowBTC",
                         credentials={"username": "trader", "password": PASSWORD})


def test_it_says_when_no_stream_runs(team: Team, bob) -> None:
    source = flowbtc(team)
    body = client_for(bob).get(f"/sources/{source.pk}/").content.decode()
    assert "No stream service reports on this source" in body
    assert "manage.py stream flowbtc" in body
    assert f'href="/markets/?source={source.pk}"' in body


def test_it_shows_the_connection_and_the_account(team: Team, bob) -> None:
    source = flowbtc(team)
    now = timezone.now().isoformat()
    stream_status_publish(source_id=source.pk, status={
        "connected": True, "since": now, "last_event_at": now, "authenticated": True,
        "account_id": 104, "error": None, "products": ["BTCBRL", "ETHBRL"]})
    body = client_for(bob).get(f"/sources/{source.pk}/").content.decode()
    assert "connected" in body and "account 104" in body and "BTCBRL, ETHBRL" in body
    assert PASSWORD not in body


def test_it_shows_a_refused_login(team: Team, bob) -> None:
    source = flowbtc(team)
    now = timezone.now().isoformat()
    stream_status_publish(source_id=source.pk, status={
        "connected": True, "since": now, "last_event_at": now, "authenticated": False,
        "account_id": None, "error": "FlowBTC refused the login for trader", "products": ["BTCBRL"]})
    body = client_for(bob).get(f"/sources/{source.pk}/").content.decode()
    assert "sign-in refused" in body and "FlowBTC refused the login for trader" in body


def test_pools_have_no_stream_panel(source, bob) -> None:
    body = client_for(bob).get(f"/sources/{source.pk}/").content.decode()
    assert 'id="source-stream"' not in body
