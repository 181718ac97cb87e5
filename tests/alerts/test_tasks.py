"""The alerts app's tasks and receivers: evaluation after every poll without ever failing it,
the beat entries, the queue they run on, and rules of a deleted source."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from celery import current_app
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnreachable

from alerts import evaluation, tasks
from alerts.channels import channel_create
from alerts.delivery import deliveries_queue
from alerts.models import Delivery, Rule
from alerts.rules import rule_create
from dashboard.models import Source
from dashboard.polling import source_poll
from dashboard.services import source_delete


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """What the tasks would have queued, instead of a broker."""
    calls: dict[str, list[Any]] = {"evaluate_team": [], "send_deliveries": []}
    monkeypatch.setattr(tasks.evaluate_team, "delay", lambda *a: calls["evaluate_team"].append(a))
    monkeypatch.setattr(tasks.send_deliveries, "delay", lambda *a: calls["send_deliveries"].append(a))
    return calls


def broker_down(*args: Any, **kwargs: Any) -> None:
    raise BrokerUnreachable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_a_poll_queues_the_evaluation_of_its_team(
        source: Source, queued, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        source_poll(source_id=source.pk)
    assert queued["evaluate_team"] == [(source.team_id,)]


def test_a_failed_poll_is_evaluated_too(team, queued, django_capture_on_commit_callbacks) -> None:
    from dashboard.services import source_create

    failing = source_create(team=team, kind="fake", label="Failing", credentials={"api_key": "k"},
                            options={"mode": "transient"})
    with django_capture_on_commit_callbacks(execute=True):
        source_poll(source_id=failing.pk)
    assert queued["evaluate_team"] == [(team.pk,)]


def test_a_broker_that_is_down_never_fails_the_poll(
        source: Source, monkeypatch, caplog, django_capture_on_commit_callbacks) -> None:
    monkeypatch.setattr(tasks.evaluate_team, "delay", broker_down)
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        run = source_poll(source_id=source.pk)
    assert run is not None and run.outcome == "ok"
    source.refresh_from_db()
    assert source.status == "ok"
    assert f"Could not queue the alert evaluation of team {source.team_id}" in caplog.text


def test_an_unexpected_error_never_fails_the_poll(
        source: Source, monkeypatch, caplog, django_capture_on_commit_callbacks) -> None:
    def crash(**kwargs: Any) -> bool:
        raise RuntimeError("boom")

    monkeypatch.setattr(tasks, "evaluate_team_enqueue", crash)
    with django_capture_on_commit_callbacks(execute=True):
        run = source_poll(source_id=source.pk)
    assert run is not None and run.outcome == "ok"
    assert "Could not queue the alert evaluation after a poll" in caplog.text


def evaluated(*, deliveries: int) -> Any:
    """An evaluation's result that queued this many messages."""
    return evaluation.Evaluation(team_id=0, now=timezone.now(), deliveries=[object()] * deliveries)


def test_evaluate_team_evaluates_then_queues_the_sending(team, queued, monkeypatch) -> None:
    seen: list[Any] = []

    def evaluate(*, team, now=None):
        seen.append(team)
        return evaluated(deliveries=1)

    monkeypatch.setattr(evaluation, "team_evaluate", evaluate)
    tasks.evaluate_team(team.pk)

    assert seen == [team]
    assert queued["send_deliveries"] == [()]


def test_evaluate_team_with_nothing_to_say_queues_no_sending(team, queued, monkeypatch) -> None:
    monkeypatch.setattr(evaluation, "team_evaluate",
                        lambda *, team, now=None: evaluated(deliveries=0))
    tasks.evaluate_team(team.pk)
    assert queued["send_deliveries"] == []


def test_a_real_evaluation_queues_the_sending_only_when_an_alert_fires(
        team, source: Source, queued) -> None:
    channel_create(team=team, kind="in_app")
    rule_create(team=team, kind="source_unhealthy", source=source, for_minutes=0)
    tasks.evaluate_team(team.pk)  # a source never polled is pending, not unhealthy
    assert queued["send_deliveries"] == []

    Source.objects.filter(pk=source.pk).update(
        last_error="HTTP 500", last_error_at=timezone.now(), consecutive_failures=3,
        last_poll_at=timezone.now())
    tasks.evaluate_team(team.pk)
    assert Delivery.objects.filter(team=team).exists()
    assert queued["send_deliveries"] == [()]


def test_evaluate_team_of_a_deleted_team_does_nothing(queued, monkeypatch, db) -> None:
    monkeypatch.setattr(evaluation, "team_evaluate", lambda **kw: pytest.fail("evaluated"))
    tasks.evaluate_team(987654)
    assert queued["send_deliveries"] == []


def test_evaluate_all_evaluates_every_team_and_queues_the_sending(
        queued, monkeypatch, db) -> None:
    calls: list[Any] = []

    def evaluate_all(*, now=None):
        calls.append(now)
        return [evaluated(deliveries=0), evaluated(deliveries=2)]

    monkeypatch.setattr(evaluation, "teams_evaluate", evaluate_all)
    tasks.evaluate_all()
    assert calls == [None] and queued["send_deliveries"] == [()]


def test_evaluate_all_with_nothing_to_say_queues_no_sending(queued, monkeypatch, db) -> None:
    monkeypatch.setattr(evaluation, "teams_evaluate",
                        lambda *, now=None: [evaluated(deliveries=0), evaluated(deliveries=0)])
    tasks.evaluate_all()
    assert queued["send_deliveries"] == []


def test_a_broker_down_after_evaluation_is_logged(team, monkeypatch, caplog) -> None:
    monkeypatch.setattr(evaluation, "team_evaluate", lambda **kw: evaluated(deliveries=1))
    monkeypatch.setattr(tasks.send_deliveries, "delay", broker_down)
    tasks.evaluate_team(team.pk)
    assert "Could not queue the sending of alert messages" in caplog.text


def test_send_deliveries_sends_what_is_due(team) -> None:
    channel_create(team=team, kind="in_app")
    deliveries_queue(team=team, kind="firing", title="1 worker offline", body="w1")
    assert tasks.send_deliveries() == 1
    assert Delivery.objects.get().status == "sent"


@pytest.mark.parametrize("name", ["alerts.evaluate_team", "alerts.evaluate_all", "alerts.send_deliveries"])
def test_alert_tasks_run_on_the_housekeeping_queue(name: str, db) -> None:
    route = current_app.amqp.router.route({}, name, (1,), {})
    assert route["queue"].name == "maintenance"
    # docker-compose.yml runs a worker on it (tests/dashboard/test_compose.py checks the list).
    assert "maintenance" in {q.name for q in settings.CELERY_TASK_QUEUES}


def test_beat_evaluates_every_minute_and_retries_sends() -> None:
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["alerts.evaluate_all"] == 60.0
    assert schedule["alerts.send_deliveries"] <= 60.0
    registered = current_app.tasks
    assert {"alerts.evaluate_team", "alerts.evaluate_all", "alerts.send_deliveries"} <= set(registered)


def test_deleting_a_source_disables_its_rules_with_a_note(team, source: Source, alice) -> None:
    rule = rule_create(team=team, kind="source_unhealthy", source=source)
    source_delete(source=source, actor=alice)
    rule = Rule.objects.get(pk=rule.pk)
    assert not rule.enabled and rule.source is None
    assert source.label in rule.disabled_note
