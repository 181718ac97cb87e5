"""The API tokens page: created once and shown once, listed, revoked."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from dashboard.models import ApiToken, AuditEvent
from dashboard.services import apitoken_create
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def created_token(body: str) -> str:
    match = re.search(r'id="new-token-value"[^>]*value="(hw_[^"]+)"', body)
    assert match, body
    return match.group(1)


def test_a_token_is_shown_once_and_works(alice, team, source) -> None:
    client = client_for(alice)
    response = client.post("/settings/api-tokens/", {"name": "Grafana"})
    assert "no-store" in response["Cache-Control"]
    token = created_token(response.content.decode())
    row = ApiToken.objects.get(team=team)
    assert row.name == "Grafana" and row.read_only and row.created_by == alice
    assert token not in client.get("/settings/api-tokens/").content.decode()
    api = Client().get("/api/v1/sources", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.status_code == 200
    listing = client.get("/settings/api-tokens/").content.decode()
    assert row.prefix in listing and "Read-only" in listing and "Active" in listing


def test_revoking_a_token_stops_it(carol, team) -> None:
    row, token = apitoken_create(team=team, name="Old script", actor=carol)
    client = client_for(carol)
    response = client.post(f"/settings/api-tokens/{row.pk}/revoke/", follow=True)
    assert "is revoked" in response.content.decode()
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert Client().get("/api/v1/sources", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    event = AuditEvent.objects.get(action="apitoken.revoked")
    assert event.detail == {"prefix": row.prefix} and token not in str(event.detail)
    assert "Revoked" in client.get("/settings/api-tokens/").content.decode()


def test_revoke_needs_post(alice, team) -> None:
    row, _ = apitoken_create(team=team, actor=alice)
    assert client_for(alice).get(f"/settings/api-tokens/{row.pk}/revoke/").status_code == 405


def test_viewers_get_403_and_other_teams_404(bob, charlie, alice, team) -> None:
    row, _ = apitoken_create(team=team, actor=alice)
    assert client_for(bob).get("/settings/api-tokens/").status_code == 403
    assert client_for(bob).post(f"/settings/api-tokens/{row.pk}/revoke/").status_code == 403
    assert client_for(charlie).post(f"/settings/api-tokens/{row.pk}/revoke/").status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None
    assert row.prefix not in client_for(charlie).get("/settings/api-tokens/").content.decode()
