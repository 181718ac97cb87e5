from __future__ import annotations

import pytest
from django.test import Client

from dashboard.models import ApiToken, Source
from dashboard.services import apitoken_create
from tests.conftest import client_for


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_it_lists_sources_with_a_token(source: Source, team) -> None:
    _, token = apitoken_create(team=team, name="grafana")
    response = Client().get("/api/v1/sources", **bearer(token))
    assert response.status_code == 200
    assert response.json() == {"sources": [{
        "id": source.pk, "kind": "fake", "label": "Main farm", "status": "pending",
        "last_success_at": None, "last_error": None, "last_error_at": None, "history": [],
    }]}


def test_it_stores_only_a_hash_of_the_token(team) -> None:
    row, token = apitoken_create(team=team)
    stored = ApiToken.objects.get(pk=row.pk)
    assert token not in (stored.token_hash, stored.prefix)
    assert token.startswith(stored.prefix)


def test_it_records_when_a_token_was_last_used(team) -> None:
    row, token = apitoken_create(team=team)
    Client().get("/api/v1/sources", **bearer(token))
    row.refresh_from_db()
    assert row.last_used_at is not None


@pytest.mark.parametrize("header", ["Bearer nope", "Token abc", "Bearer "])
def test_it_rejects_bad_tokens(db, header: str) -> None:
    response = Client().get("/api/v1/sources", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert "error" in response.json()


def test_it_rejects_revoked_tokens(team) -> None:
    from django.utils import timezone

    row, token = apitoken_create(team=team)
    ApiToken.objects.filter(pk=row.pk).update(revoked_at=timezone.now())
    assert Client().get("/api/v1/sources", **bearer(token)).status_code == 401


def test_a_token_sees_only_its_team(source, charlie_source, other_team) -> None:
    _, token = apitoken_create(team=other_team)
    body = Client().get("/api/v1/sources", **bearer(token)).json()
    assert [s["label"] for s in body["sources"]] == ["Charlie's farm"]


def test_it_works_with_a_session(alice, source) -> None:
    body = client_for(alice).get("/api/v1/sources").json()
    assert body["sources"][0]["id"] == source.pk


def test_it_only_answers_get(alice, source) -> None:
    assert client_for(alice).post("/api/v1/sources").status_code == 405
