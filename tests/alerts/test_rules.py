from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from alerts.models import Alert, AlertState, Rule, Silence
from alerts.rules import (
    RULE_KINDS,
    rule_create,
    rule_delete,
    rule_describe,
    rule_set_enabled,
    rule_update,
    rules_add_recommended,
    rules_disable_for_source,
)
from alerts.silences import silence_create, silence_end, silence_matches, silences_active
from dashboard.models import AuditEvent, Source, Team
from dashboard.services import source_create, source_delete
from pools.models import Payout


def test_every_model_kind_has_a_spec() -> None:
    from alerts.models import RuleKind

    assert set(RULE_KINDS) == set(RuleKind.values)


def test_it_fills_defaults_per_kind(team: Team, source: Source, alice: User) -> None:
    rule = rule_create(team=team, kind="worker_offline", source=source, actor=alice)
    assert (rule.for_minutes, rule.scope, rule.severity) == (10, "source", "warning")
    assert rule_describe(rule) == "Worker offline for 10 min on Main farm"
    drop = rule_create(team=team, kind="hashrate_drop", source=source)
    assert (drop.threshold, drop.threshold_unit, drop.for_minutes) == (Decimal(70), "%", 15)
    assert rule_describe(drop) == "Hashrate below 70% of its 24 h average for 15 min on Main farm"
    unhealthy = rule_create(team=team, kind="source_unhealthy")
    assert (unhealthy.scope, unhealthy.for_minutes) == ("team", 15)
    event = AuditEvent.objects.get(action="alerts.rule_added", detail__rule_id=rule.pk)
    assert event.actor == alice


def test_it_rejects_unknown_kind(team: Team) -> None:
    with pytest.raises(ValidationError, match="unknown kind 'nope'; use one of: worker_offline"):
        rule_create(team=team, kind="nope")


def test_it_rejects_another_teams_source(team: Team, charlie_source: Source) -> None:
    with pytest.raises(ValidationError, match="no such source in this team"):
        rule_create(team=team, kind="worker_offline", source=charlie_source)


def test_it_rejects_missing_threshold_with_words(team: Team, source: Source) -> None:
    with pytest.raises(ValidationError) as error:
        rule_create(team=team, kind="workers_online_below", source=source)
    assert error.value.message_dict["threshold"] == ["give the fewer than (workers)"]


def test_it_rejects_bad_threshold_and_unit(team: Team, source: Source) -> None:
    with pytest.raises(ValidationError, match="'abc' is not a number"):
        rule_create(team=team, kind="hashrate_drop", source=source, threshold="abc")
    with pytest.raises(ValidationError, match="between 0 and 100"):
        rule_create(team=team, kind="hashrate_drop", source=source, threshold=150)
    with pytest.raises(ValidationError, match="the unit must be one of"):
        rule_create(team=team, kind="hashrate_drop", source=source, threshold=5, threshold_unit="bananas")
    rule = rule_create(team=team, kind="hashrate_drop", source=source, threshold=500, threshold_unit="TH/s")
    assert rule_describe(rule) == "Hashrate below 500 TH/s for 15 min on Main farm"


def test_price_rules_need_an_exchange_source_and_product(team: Team, source: Source) -> None:
    with pytest.raises(ValidationError, match="flowbtc sources"):
        rule_create(team=team, kind="price", source=source, threshold=1, params={"product": "BTCBRL"})
    flow = source_create(team=team, kind="flowbtc", label="FlowBTC", credentials={})
    with pytest.raises(ValidationError, match="give the product"):
        rule_create(team=team, kind="price", source=flow, threshold=1)
    with pytest.raises(ValidationError, match="the condition must be one of"):
        rule_create(team=team, kind="price", source=flow, threshold=1,
                    params={"product": "BTCBRL", "condition": "sideways"})
    rule = rule_create(team=team, kind="price", source=flow, threshold=350000,
                       params={"product": "BTCBRL", "condition": "below"})
    assert rule_describe(rule) == "BTCBRL last price below 350000 on FlowBTC"


def test_team_hashrate_rule_needs_a_coin(team: Team) -> None:
    with pytest.raises(ValidationError, match="needs the coin"):
        rule_create(team=team, kind="hashrate_drop", scope="team")
    rule = rule_create(team=team, kind="hashrate_drop", scope="team", params={"coin": "BTC"})
    assert "the team's BTC sources" in rule_describe(rule)


def test_it_updates_and_audits_what_changed(team: Team, source: Source, alice: User) -> None:
    rule = rule_create(team=team, kind="worker_offline", source=source)
    rule_update(rule=rule, for_minutes=20, params={"name_pattern": "rack1-*"}, actor=alice)
    rule.refresh_from_db()
    assert rule_describe(rule) == "Worker matching rack1-* offline for 20 min on Main farm"
    event = AuditEvent.objects.get(action="alerts.rule_edited")
    assert event.detail["fields"] == ["for_minutes", "params"]
    with pytest.raises(ValidationError, match="take no coin"):
        rule_update(rule=rule, params={"coin": "BTC"})
    with pytest.raises(ValidationError, match="cannot be changed: team"):
        rule_update(rule=rule, team=team)


def test_disabling_closes_open_alerts_quietly(team: Team, source: Source, alice: User) -> None:
    rule = rule_create(team=team, kind="worker_offline", source=source)
    Alert.objects.create(team=team, rule=rule, source=source, subject_key="worker:a", subject="a",
                         state=AlertState.FIRING, started_at=timezone.now())
    rule_set_enabled(rule=rule, enabled=False, actor=alice)
    alert = Alert.objects.get()
    assert alert.state == AlertState.RESOLVED and alert.resolve_notified_at is not None
    assert AuditEvent.objects.filter(action="alerts.rule_disabled").exists()
    rule_set_enabled(rule=rule, enabled=True, actor=alice)
    assert Rule.objects.get().enabled


def test_recommended_rules_are_idempotent(team: Team, source: Source) -> None:
    first = rules_add_recommended(team=team)
    assert sorted(r.kind for r in first) == ["hashrate_drop", "payout", "source_unhealthy", "worker_offline"]
    assert rules_add_recommended(team=team) == []
    assert Rule.objects.filter(team=team).count() == 4


def test_payout_rule_starts_after_the_stored_history(team: Team, source: Source) -> None:
    Payout.objects.create(source=source, key="tx1", coin="BTC", amount=Decimal("0.1"),
                          paid_at=timezone.now())
    rule = rule_create(team=team, kind="payout")
    assert rule.cursor == {"payout_id": Payout.objects.get().pk}


def test_a_deleted_source_disables_its_rules_with_a_note(team: Team, source: Source) -> None:
    rule = rule_create(team=team, kind="worker_offline", source=source)
    team_rule = rule_create(team=team, kind="worker_offline", scope="team")
    assert rules_disable_for_source(source=source) == 1
    source_delete(source=source)
    rule.refresh_from_db()
    team_rule.refresh_from_db()
    assert rule.source is None and not rule.enabled
    assert rule.disabled_note == "Disabled: its source Main farm was deleted."
    assert team_rule.enabled
    assert rule_describe(rule) == "Worker offline for 10 min on a deleted source"
    with pytest.raises(ValidationError, match="source was deleted"):
        rule_set_enabled(rule=rule, enabled=True)


def test_it_deletes_and_audits(team: Team, source: Source) -> None:
    rule = rule_create(team=team, kind="worker_offline", source=source)
    rule_delete(rule=rule)
    assert not Rule.objects.exists()
    assert AuditEvent.objects.filter(action="alerts.rule_deleted").exists()


def test_silence_validation_and_matching(team: Team, source: Source, alice: User,
                                         charlie_source: Source) -> None:
    now = timezone.now()
    rule = rule_create(team=team, kind="worker_offline", source=source)
    with pytest.raises(ValidationError, match="say why"):
        silence_create(team=team, ends_at=now + timedelta(hours=1), reason=" ")
    with pytest.raises(ValidationError, match="already past"):
        silence_create(team=team, ends_at=now - timedelta(minutes=1), reason="x")
    with pytest.raises(ValidationError, match="no such source"):
        silence_create(team=team, ends_at=now + timedelta(hours=1), reason="x", source=charlie_source)
    silence = silence_create(team=team, ends_at=now + timedelta(hours=1), reason="rack 1 maintenance",
                             source=source, worker_pattern="rack1-*", actor=alice)
    active = list(silences_active(team=team))
    assert active == [silence]
    assert silence_matches(silences=active, rule_id=rule.pk, source_id=source.pk, worker_name="rack1-07")
    assert not silence_matches(silences=active, rule_id=rule.pk, source_id=source.pk, worker_name="rack2-01")
    assert not silence_matches(silences=active, rule_id=rule.pk, source_id=source.pk)
    assert not silence_matches(silences=active, rule_id=rule.pk, source_id=source.pk + 1,
                               worker_name="rack1-07")
    assert not silence_matches(silences=active, rule_id=rule.pk, source_id=source.pk,
                               worker_name="rack1-07", now=now + timedelta(hours=2))
    silence_end(silence=silence, actor=alice)
    assert not silences_active(team=team, now=timezone.now() + timedelta(seconds=1)).exists()
    assert AuditEvent.objects.filter(action__in=["alerts.silence_added", "alerts.silence_ended"]).count() == 2
    assert Silence.objects.get().ends_at <= timezone.now()


def test_a_rule_silence_covers_every_subject_of_the_rule(team: Team, source: Source) -> None:
    rule = rule_create(team=team, kind="source_unhealthy")
    silence = silence_create(team=team, ends_at=timezone.now() + timedelta(hours=1), reason="upgrade",
                             rule=rule)
    assert silence_matches(silences=[silence], rule_id=rule.pk, source_id=source.pk)
    assert not silence_matches(silences=[silence], rule_id=rule.pk + 1, source_id=source.pk)
