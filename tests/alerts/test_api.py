"""GET /api/v1/alerts: the team's alerts in the documented shape."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from alerts.evaluation import team_evaluate
from alerts.models import Alert
from alerts.rules import rule_create
from alerts.selectors import (
    alerts_firing_summary,
    alerts_list,
    alerts_open_for_source,
    alerts_open_for_worker,
)
from dashboard.models import Source, Team
from dashboard.services import apitoken_create
from tests.alerts.evaluation_helpers import minutes, polled, set_status, workers
from tests.conftest import client_for


@pytest.fixture
def api(team: Team) -> Client:
    _, token = apitoken_create(team=team)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def episodes(team: Team, source: Source) -> Source:
    """55x1 fired and resolved; 55x2 is firing."""
    rule_create(team=team, kind="worker_offline", source=source, for_minutes=0)
    workers(source, ["55x1", "55x2"], down={"55x1"})
    team_evaluate(team=team, now=polled(source, minutes(0)).last_success_at)
    set_status(source, minutes(1), **{"55x1": "online", "55x2": "offline"})
    team_evaluate(team=team, now=polled(source, minutes(1)).last_success_at)
    return source


def test_it_lists_firing_alerts_in_the_documented_shape(api: Client, episodes: Source) -> None:
    body = api.get("/api/v1/alerts?state=firing").json()
    alert = Alert.objects.get(subject="55x2")
    assert body == {"results": [{
        "id": alert.pk, "rule": alert.rule_id, "kind": "worker_offline", "state": "firing",
        "subject": "55x2", "source": episodes.pk, "started_at": "2026-12-01T12:01:00Z",
        "resolved_at": None, "value": "offline"}]}


def test_it_filters_by_state_and_source(api: Client, episodes: Source) -> None:
    resolved = api.get(f"/api/v1/alerts?state=resolved&source={episodes.pk}").json()["results"]
    assert [(r["subject"], r["resolved_at"]) for r in resolved] == [("55x1", "2026-12-01T12:01:00Z")]
    everything = api.get("/api/v1/alerts").json()["results"]
    assert [r["state"] for r in everything] == ["firing", "resolved"]


@pytest.mark.parametrize(("query", "status", "reason"), [
    ("state=burning", 400, "'state' must be one of firing, resolved, pending"),
    ("source=abc", 400, "the 'source' parameter must be a source id"),
])
def test_it_rejects_bad_parameters(api: Client, episodes: Source, query: str, status: int,
                                   reason: str) -> None:
    answer = api.get(f"/api/v1/alerts?{query}")
    assert answer.status_code == status and reason in answer.json()["error"]


def test_another_teams_source_is_404(api: Client, episodes: Source, charlie_source: Source) -> None:
    assert api.get(f"/api/v1/alerts?source={charlie_source.pk}").status_code == 404


def test_another_team_sees_none_of_them(episodes: Source, charlie: User) -> None:
    assert client_for(charlie).get("/api/v1/alerts").json() == {"results": []}


def test_it_needs_a_token_or_a_session(episodes: Source) -> None:
    assert Client().get("/api/v1/alerts").status_code == 401


def test_the_selectors_for_pages(team: Team, episodes: Source) -> None:
    count, worst = alerts_firing_summary(team=team)
    assert count == 1 and [a.subject for a in worst] == ["55x2"]
    assert [a.subject for a in alerts_open_for_source(source=episodes)] == ["55x2"]
    assert [a.subject for a in alerts_open_for_worker(source=episodes, worker_name="55x2")] == ["55x2"]
    assert not alerts_open_for_worker(source=episodes, worker_name="55x1").exists()
    assert [a.state for a in alerts_list(team=team, kind="worker_offline")] == ["firing", "resolved"]
