"""Demo mode's team: the recommended rules with short delays and an in-app channel, seeded
through the core's demo signal (the simulator never imports the alerts app)."""

from __future__ import annotations

from alerts.demo import DEMO_DELAYS, demo_seed
from alerts.models import Channel, Rule
from alerts.rules import rule_update
from simulator.demo import DEMO_TEAM, demo_setup


def test_demo_setup_seeds_rules_and_an_in_app_channel(db) -> None:
    login = demo_setup(simulator_url="http://127.0.0.1:9")

    team = login.team
    assert team.slug == DEMO_TEAM
    kinds = set(Rule.objects.filter(team=team).values_list("kind", flat=True))
    assert {"worker_offline", "source_unhealthy", "payout", "hashrate_drop"} <= kinds
    for rule in Rule.objects.filter(team=team, kind__in=list(DEMO_DELAYS)):
        assert rule.for_minutes == DEMO_DELAYS[rule.kind]
    assert list(Channel.objects.filter(team=team).values_list("kind", "enabled")) == [("in_app", True)]


def test_seeding_again_adds_nothing_and_keeps_changes(db) -> None:
    team = demo_setup(simulator_url="http://127.0.0.1:9").team
    rule = Rule.objects.get(team=team, kind="worker_offline")
    rule_update(rule=rule, for_minutes=7)
    before = Rule.objects.filter(team=team).count()

    demo_setup(simulator_url="http://127.0.0.1:9")
    demo_seed(team=team)

    assert Rule.objects.filter(team=team).count() == before
    assert Rule.objects.get(pk=rule.pk).for_minutes == 7
    assert Channel.objects.filter(team=team).count() == 1
