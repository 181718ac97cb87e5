"""The engine over time: for-delay, grouping, resolve, reminders, flapping, silences, outages.

Time is passed in (`now=`), never slept; the channel is an in-app one, so the Delivery rows
are the messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts import judges
from alerts.copying import COPY_MIN_ROWS
from alerts.evaluation import Evaluation, team_evaluate, teams_evaluate
from alerts.models import Alert, AlertState, Delivery, Rule, Silence
from alerts.rules import rule_create
from dashboard.models import Source, Team
from tests.alerts.evaluation_helpers import (
    T0,
    failed,
    inbox,
    minutes,
    polled,
    sent,
    set_status,
    workers,
)

NAMES = [f"55x{i}" for i in range(1, 26)]


def evaluate(team: Team, source: Source, at_minute: float) -> Evaluation:
    """A poll succeeded just now, then the team is evaluated."""
    polled(source, minutes(at_minute))
    return team_evaluate(team=team, now=minutes(at_minute))


def test_it_waits_for_the_delay_then_fires_once_and_resolves(team: Team, source: Source) -> None:
    inbox(team)
    rule_create(team=team, kind="worker_offline", source=source)  # 10 minutes
    workers(source, NAMES, down={"55x1"})
    first = evaluate(team, source, 0)
    alert = Alert.objects.get()
    assert (alert.state, alert.subject, alert.value) == (AlertState.PENDING, "55x1", "offline")
    assert first.pending == 1 and sent() == []
    evaluate(team, source, 9)
    assert Alert.objects.get().state == AlertState.PENDING and sent() == []
    fired = evaluate(team, source, 10)
    alert.refresh_from_db()
    assert alert.state == AlertState.FIRING and alert.started_at == minutes(10)
    assert fired.fired == 1
    [message] = sent()
    assert message.kind == "firing"
    assert message.title == "Firing: Worker 55x1 offline on Main farm"
    assert list(message.alerts.all()) == [alert]
    evaluate(team, source, 11)
    evaluate(team, source, 30)
    assert len(sent()) == 1, "no repeat while it stays firing (reminders are off by default)"
    set_status(source, minutes(31), **{"55x1": "online"})
    evaluate(team, source, 31)
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED and alert.resolved_at == minutes(31)
    [resolved] = sent("resolved")
    assert resolved.body == "Worker back on Main farm: 55x1"


def test_trouble_that_ends_before_the_delay_leaves_nothing(team: Team, source: Source) -> None:
    inbox(team)
    rule_create(team=team, kind="worker_offline", source=source)
    workers(source, NAMES, down={"55x1"})
    evaluate(team, source, 0)
    set_status(source, minutes(5), **{"55x1": "online"})
    evaluate(team, source, 5)
    assert not Alert.objects.exists() and sent() == []


def test_everything_new_goes_out_as_one_message_per_channel(team: Team, source: Source) -> None:
    inbox(team, "Inbox")
    inbox(team, "Second inbox")
    rule_create(team=team, kind="worker_offline", source=source, for_minutes=0)
    rule_create(team=team, kind="workers_online_below", source=source, threshold=10, for_minutes=0)
    workers(source, NAMES, down=set(NAMES[:20]))
    evaluate(team, source, 0)
    messages = sent()
    assert len(messages) == 2 and {m.channel.label for m in messages} == {"Inbox", "Second inbox"}
    body = messages[0].body.splitlines()
    assert body == [
        "20 workers offline on Main farm: 55x1, 55x2, 55x3, 55x4, 55x5, 55x6, 55x7, 55x8, "
        "55x9, 55x10, ... and 10 more",
        "Main farm: 5 workers online, fewer than 10",
    ]
    assert messages[0].alerts.count() == 21
    set_status(source, minutes(1), **{name: "online" for name in NAMES[:20]})
    evaluate(team, source, 1)
    resolved = sent("resolved")
    assert len(resolved) == 2
    assert resolved[0].body.splitlines() == [
        "20 workers back on Main farm: 55x1, 55x2, 55x3, 55x4, 55x5, 55x6, 55x7, 55x8, 55x9, "
        "55x10, ... and 10 more",
        "Main farm: workers online back to normal (5 online)",
    ]


def test_every_worker_down_is_one_line_not_a_list(team: Team, source: Source) -> None:
    inbox(team)
    rule_create(team=team, kind="worker_offline", source=source, for_minutes=0)
    names = [f"w{i:03d}" for i in range(130)]
    workers(source, names, down=set(names))
    evaluate(team, source, 0)
    [message] = sent()
    assert message.body == "all 130 workers offline on Main farm: pool- or site-wide problem"
    assert Alert.objects.filter(state=AlertState.FIRING).count() == 130


def test_a_name_pattern_limits_the_rule(team: Team, source: Source) -> None:
    inbox(team)
    rule_create(team=team, kind="worker_offline", source=source, for_minutes=0,
                params={"name_pattern": "rack1-*"})
    workers(source, ["rack1-a", "rack1-b", "rack2-a"], down={"rack1-a", "rack2-a"})
    evaluate(team, source, 0)
    assert list(Alert.objects.values_list("subject", flat=True)) == ["rack1-a"]


def test_reminders_come_at_the_chosen_interval(team: Team, source: Source) -> None:
    inbox(team)
    rule_create(team=team, kind="worker_offline", source=source, for_minutes=0, reminder_minutes=30)
    workers(source, NAMES, down={"55x1"})
    evaluate(team, source, 0)
    evaluate(team, source, 29)
    assert sent("reminder") == []
    evaluate(team, source, 30)
    [reminder] = sent("reminder")
    assert reminder.title == "Still firing: Worker 55x1 offline on Main farm (still)"
    evaluate(team, source, 45)
    assert len(sent("reminder")) == 1
    evaluate(team, source, 60)
    assert len(sent("reminder")) == 2


def flap(team: Team, source: Source, episodes: int, *, end_down: bool = False) -> None:
    """55x1 goes down and comes back every 6 minutes; with end_down, the last time it stays down."""
    inbox(team)
    rule_create(team=team, kind="worker_offline", source=source, for_minutes=0)
    workers(source, NAMES, down=set())
    for episode in range(episodes):
        set_status(source, minutes(episode * 6), **{"55x1": "offline"})
        evaluate(team, source, episode * 6)
        if not (end_down and episode == episodes - 1):
            set_status(source, minutes(episode * 6 + 3), **{"55x1": "online"})
            evaluate(team, source, episode * 6 + 3)


def test_an_alert_that_keeps_flapping_is_reported_once_then_held(team: Team, source: Source) -> None:
    flap(team, source, 7)
    # Four ordinary episodes, then the fifth firing within the hour is flapping.
    assert len(sent("firing")) == 4 and len(sent("resolved")) == 4
    [flapping] = sent("flapping")
    assert "55x1" in flapping.body and "held as flapping" in flapping.body
    assert Alert.objects.filter(flapping=True).count() == 3
    # It settles: an hour later a new episode speaks again.
    set_status(source, minutes(200), **{"55x1": "offline"})
    evaluate(team, source, 200)
    assert len(sent("firing")) == 5


def test_a_flapping_alert_that_stays_firing_for_an_hour_speaks(team: Team, source: Source) -> None:
    flap(team, source, 5, end_down=True)
    assert len(sent("firing")) == 4 and len(sent("flapping")) == 1
    evaluate(team, source, 50)
    assert len(sent("firing")) == 4
    evaluate(team, source, 24 + 61)
    assert len(sent("firing")) == 5


def test_silenced_alerts_change_state_but_send_nothing(team: Team, source: Source) -> None:
    inbox(team)
    rule_create(team=team, kind="worker_offline", source=source, for_minutes=0)
    workers(source, NAMES, down={"55x2"})
    Silence.objects.create(team=team, ends_at=T0 + timedelta(minutes=30), starts_at=T0 - timedelta(minutes=1),
                           reason="maintenance", source=source, worker_pattern="55x2")
    evaluate(team, source, 0)
    alert = Alert.objects.get()
    assert alert.state == AlertState.FIRING and alert.silenced
    assert sent() == []
    # The silence ends with the trouble still there: now it is said, once.
    evaluate(team, source, 31)
    assert [m.title for m in sent()] == ["Firing: Worker 55x2 offline on Main farm"]


def test_a_resolution_inside_a_silence_sends_nothing(team: Team, source: Source) -> None:
    inbox(team)
    rule = rule_create(team=team, kind="worker_offline", source=source, for_minutes=0)
    workers(source, NAMES, down={"55x3"})
    evaluate(team, source, 0)
    assert len(sent("firing")) == 1
    Silence.objects.create(team=team, ends_at=T0 + timedelta(hours=2), starts_at=T0, reason="swap", rule=rule)
    set_status(source, minutes(5), **{"55x3": "online"})
    evaluate(team, source, 5)
    assert Alert.objects.get().state == AlertState.RESOLVED
    assert sent("resolved") == []


def test_during_a_source_outage_only_source_unhealthy_speaks(team: Team, source: Source) -> None:
    inbox(team)
    rule_create(team=team, kind="worker_offline", source=source, for_minutes=0)
    rule_create(team=team, kind="source_unhealthy", for_minutes=5)
    workers(source, NAMES, down={"55x1"})
    evaluate(team, source, 0)
    assert len(sent("firing")) == 1
    # The pool stops answering; what is stored is the last good poll's picture.
    for minute in (1, 3, 6):
        failed(source, minutes(minute), "fake.invalid rejected the credentials (HTTP 401)", permanent=True)
        set_status(source, minutes(minute), **{"55x1": "online", "55x2": "offline"})
        team_evaluate(team=team, now=minutes(minute))
    worker_alerts = Alert.objects.filter(rule__kind="worker_offline")
    assert [(a.subject, a.state) for a in worker_alerts] == [("55x1", AlertState.FIRING)]
    unhealthy = Alert.objects.get(rule__kind="source_unhealthy")
    assert unhealthy.state == AlertState.FIRING and unhealthy.value == "error"
    [_, outage] = sent("firing")
    assert outage.body == ("Main farm in error: fake.invalid rejected the credentials (HTTP 401) "
                           "(polls stopped until the source is edited)")
    assert sent("resolved") == []
    # Back: the worker rule judges fresh data again, the outage resolves.
    evaluate(team, source, 7)
    assert {a.subject: a.state for a in Alert.objects.all()} == {
        "55x1": AlertState.RESOLVED, "55x2": AlertState.FIRING, "Main farm": AlertState.RESOLVED}


def test_a_stale_source_says_since_when(team: Team, source: Source) -> None:
    inbox(team)
    rule_create(team=team, kind="source_unhealthy", source=source, for_minutes=0)
    polled(source, minutes(0))
    team_evaluate(team=team, now=minutes(2))
    assert sent() == []
    team_evaluate(team=team, now=minutes(3))
    [message] = sent()
    assert message.body == ("Main farm stale: no successful poll since 2026-12-01 12:00 UTC "
                            "(one expected every 60 s)")


def test_a_source_never_polled_is_pending_not_stale(team: Team, source: Source) -> None:
    rule_create(team=team, kind="source_unhealthy", for_minutes=0)
    team_evaluate(team=team, now=minutes(60))
    assert not Alert.objects.exists()


def test_repeating_an_evaluation_or_a_clock_jump_sends_no_duplicate(team: Team, source: Source) -> None:
    inbox(team)
    rule_create(team=team, kind="worker_offline", source=source)
    workers(source, NAMES, down={"55x1"})
    evaluate(team, source, 0)
    evaluate(team, source, 10)
    evaluate(team, source, 10)
    polled(source, minutes(4))
    back = team_evaluate(team=team, now=minutes(4))  # the clock went back
    assert back.now == minutes(10)
    evaluate(team, source, 600)  # a long gap: missed beats
    assert len(sent()) == 1
    assert Alert.objects.get().state == AlertState.FIRING


def test_a_rule_on_a_deleted_source_is_disabled_with_a_note(team: Team, source: Source) -> None:
    rule = rule_create(team=team, kind="worker_offline", source=source)
    other = rule_create(team=team, kind="source_unhealthy")
    Source.objects.filter(pk=source.pk).delete()  # the deletion signal disables it
    result = team_evaluate(team=team, now=minutes(0))
    rule.refresh_from_db()
    assert not rule.enabled and rule.disabled_note == "Disabled: its source Main farm was deleted."
    assert result.failed_rules == []
    assert Rule.objects.get(pk=other.pk).enabled


def test_a_rule_that_lost_its_source_unseen_is_disabled_not_an_error(team: Team, source: Source) -> None:
    """Should the deletion signal ever be missed, evaluation does the same, and raises nothing."""
    rule = rule_create(team=team, kind="worker_offline", source=source)
    Rule.objects.filter(pk=rule.pk).update(source=None)
    result = team_evaluate(team=team, now=minutes(0))
    rule.refresh_from_db()
    assert not rule.enabled and "source was deleted" in rule.disabled_note
    assert result.disabled_rules == [rule.pk] and result.failed_rules == []


def test_a_disabled_source_closes_its_alerts_quietly(team: Team, source: Source) -> None:
    inbox(team)
    rule_create(team=team, kind="worker_offline", source=source, for_minutes=0)
    workers(source, NAMES, down={"55x1"})
    evaluate(team, source, 0)
    Source.objects.filter(pk=source.pk).update(enabled=False)
    team_evaluate(team=team, now=minutes(1))
    assert Alert.objects.get().state == AlertState.RESOLVED
    assert sent("resolved") == []


def test_queries_do_not_grow_with_workers(team: Team, source: Source) -> None:
    rule_create(team=team, kind="worker_offline", source=source, for_minutes=0)
    inbox(team)
    workers(source, [f"w{i}" for i in range(10)], down={"w1"})
    polled(source, minutes(0))
    with CaptureQueriesContext(connection) as few:
        team_evaluate(team=team, now=minutes(0))
    workers(source, [f"w{i}" for i in range(400)], down={"w1"} | {f"w{i}" for i in range(0, 400, 3)})
    polled(source, minutes(1))
    with CaptureQueriesContext(connection) as many:
        team_evaluate(team=team, now=minutes(1))
    assert len(many) <= len(few) + 2, "\n".join(q["sql"][:90] for q in many)


def test_one_failing_rule_spoils_no_other(team: Team, source: Source,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    inbox(team)
    broken = rule_create(team=team, kind="workers_online_below", source=source, threshold=30, for_minutes=0)
    rule_create(team=team, kind="worker_offline", source=source, for_minutes=0)
    workers(source, NAMES, down={"55x1"})

    def boom(rule: Rule, ctx: object) -> None:
        raise RuntimeError("a bug in one judge")

    monkeypatch.setitem(judges.JUDGES, "workers_online_below", boom)
    result = evaluate(team, source, 0)
    assert result.failed_rules == [broken.pk]
    assert [m.title for m in sent()] == ["Firing: Worker 55x1 offline on Main farm"]


def test_teams_evaluate_takes_every_team_with_an_enabled_rule(team: Team, source: Source,
                                                              other_team: Team) -> None:
    rule_create(team=team, kind="worker_offline", source=source)
    quiet = rule_create(team=other_team, kind="source_unhealthy")
    quiet.enabled = False
    quiet.save()
    assert [e.team_id for e in teams_evaluate(now=minutes(0))] == [team.pk]


def test_a_farm_outage_past_the_bulk_threshold_starts_fires_and_clears(team: Team, source: Source) -> None:
    """Enough workers down that the alerts, their updates and their links go in bulk (COPY,
    one array of ids): every one is still started, fired, linked and dropped as one by one."""
    inbox(team)
    rule_create(team=team, kind="worker_offline", source=source)  # 10 minutes
    names = [f"w{i}" for i in range(COPY_MIN_ROWS + 20)]
    down = set(names[:COPY_MIN_ROWS + 10])
    workers(source, names, down=down)
    evaluate(team, source, 0)
    assert Alert.objects.filter(state=AlertState.PENDING).count() == len(down)
    evaluate(team, source, 11)
    assert Alert.objects.filter(state=AlertState.FIRING).count() == len(down)
    [firing] = Delivery.objects.filter(kind="firing")
    assert firing.alerts.count() == len(down)
    workers(source, names, down=set(names[:5]))
    evaluate(team, source, 12)
    assert Alert.objects.filter(state=AlertState.FIRING).count() == 5
    assert Alert.objects.filter(state=AlertState.RESOLVED).count() == len(down) - 5
