"""Who may scrape: a team API token, and nothing else."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client

from dashboard.members import apitoken_revoke
from dashboard.models import ApiToken, Source, Team
from dashboard.services import apitoken_create
from tests.conftest import client_for
from tests.metrics.conftest import bearer


def assert_unauthorized(response: object) -> None:
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert response["WWW-Authenticate"].startswith("Bearer")  # type: ignore[index]
    assert b"hashwatch_" not in response.content  # type: ignore[attr-defined]


def test_it_rejects_a_scrape_without_a_token(source: Source) -> None:
    assert_unauthorized(Client().get("/metrics"))


def test_it_rejects_an_unknown_token(source: Source) -> None:
    assert_unauthorized(Client().get("/metrics", **bearer("hw_not-a-real-token")))


def test_it_rejects_another_scheme(source: Source) -> None:
    _, token = apitoken_create(team=source.team)
    assert_unauthorized(Client().get("/metrics", HTTP_AUTHORIZATION=f"Basic {token}"))


def test_it_rejects_a_revoked_token(source: Source, alice: User) -> None:
    row, token = apitoken_create(team=source.team)
    assert Client().get("/metrics", **bearer(token)).status_code == 200
    apitoken_revoke(token=ApiToken.objects.get(pk=row.pk), actor=alice)
    assert_unauthorized(Client().get("/metrics", **bearer(token)))


def test_a_session_is_not_enough(source: Source, alice: User) -> None:
    # The scrape names one team by its token; a browser session would answer for whichever
    # team its switcher last chose.
    assert_unauthorized(client_for(alice).get("/metrics"))


def test_it_only_reads(team: Team) -> None:
    _, token = apitoken_create(team=team)
    assert Client().post("/metrics", **bearer(token)).status_code == 405


def test_the_scrape_is_never_cached(team: Team) -> None:
    _, token = apitoken_create(team=team)
    response = Client().get("/metrics", **bearer(token))
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert response["Cache-Control"] == "no-store"
