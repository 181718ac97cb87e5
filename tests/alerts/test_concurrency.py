"""Two evaluators of one team at once, against Postgres: the second waits for the first's
lock, then finds its work done, so the team gets one message, not two."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from alerts import evaluation
from alerts.evaluation import team_evaluate
from alerts.models import Alert, AlertState, Delivery
from alerts.rules import rule_create
from dashboard.models import Source, Team
from tests.alerts.evaluation_helpers import inbox, minutes, polled, workers


def someone_waits_for_a_lock() -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        return bool(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_two_evaluators_at_once_send_one_message(team: Team, source: Source,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    inbox(team)
    rule_create(team=team, kind="worker_offline", source=source, for_minutes=0)
    workers(source, ["55x1", "55x2"], down={"55x1"})
    polled(source, minutes(0))
    inside, go = threading.Event(), threading.Event()
    original = evaluation.RuleRun.run

    def held_run(self: evaluation.RuleRun, judgement: object) -> None:
        if not inside.is_set():
            inside.set()  # the first evaluator holds the team's lock here until told to go on
            assert go.wait(30)
        original(self, judgement)  # type: ignore[arg-type]

    monkeypatch.setattr(evaluation.RuleRun, "run", held_run)
    results: list[evaluation.Evaluation] = []
    errors: list[BaseException] = []

    def evaluate() -> None:
        try:
            results.append(team_evaluate(team=team, now=minutes(0)))
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    first = threading.Thread(target=evaluate)
    first.start()
    assert inside.wait(30)
    second = threading.Thread(target=evaluate)
    second.start()
    deadline = time.monotonic() + 30
    while not someone_waits_for_a_lock():  # the second evaluator is blocked on the team's row
        assert time.monotonic() < deadline, "the second evaluator never waited for the lock"
        time.sleep(0.01)
    go.set()
    first.join(30)
    second.join(30)
    assert not errors, errors
    assert sorted(len(r.deliveries) for r in results) == [0, 1]
    assert Delivery.objects.count() == 1
    assert Alert.objects.get().state == AlertState.FIRING
