"""Demo mode's team: the recommended rules with short delays and an in-app channel, seeded
through the core's demo signal (the simulator never imports the alerts app)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from alerts.demo import DEMO_DELAYS, demo_seed
from alerts.evaluation import team_evaluate
from alerts.models import Alert, Channel, Rule
from alerts.rules import rule_update
from dashboard.models import Source
from dashboard.polling import source_poll
from simulator.demo import DEMO_SCENARIO, DEMO_TEAM, demo_setup
from simulator.server import SimulatorServer


def test_demo_setup_seeds_rules_and_an_in_app_channel(db) -> None:
    login = demo_setup(simulator_url="http://127.0.0.1:9")

    team = login.team
    assert team.slug == DEMO_TEAM
    kinds = set(Rule.objects.filter(team=team).values_list("kind", flat=True))
    assert {"worker_offline", "source_unhealthy", "payout", "hashrate_drop"} <= kinds
    # The worker rule watches the source whose workers the scenario drops, not every farm.
    worker_rules = Rule.objects.filter(team=team, kind="worker_offline")
    assert [(r.scope, r.source.label) for r in worker_rules] == [("source", "BTC.com · alpha-mining")]
    for rule in Rule.objects.filter(team=team, kind__in=list(DEMO_DELAYS)):
        assert rule.for_minutes == DEMO_DELAYS[rule.kind]
    assert list(Channel.objects.filter(team=team).values_list("kind", "enabled")) == [("in_app", True)]


def test_seeding_again_adds_nothing_and_keeps_changes(db) -> None:
    team = demo_setup(simulator_url="http://127.0.0.1:9").team
    rule = Rule.objects.get(team=team, kind="worker_offline")
    rule_update(rule=rule, for_minutes=7)
    before = Rule.objects.filter(team=team).count()

    demo_setup(simulator_url="http://127.0.0.1:9")
    demo_seed(team=team, troubled=[rule.source])

    assert Rule.objects.filter(team=team).count() == before
    assert Rule.objects.get(pk=rule.pk).for_minutes == 7
    assert Channel.objects.filter(team=team).count() == 1


def test_the_demo_opens_with_a_handful_of_alerts_not_hundreds(db, simulator: SimulatorServer) -> None:
    """Every simulated farm has workers dead for good or flaky, as real ones do: a team-wide
    worker rule opened an alert for each of them (some 350). The scenario's alerts remain."""
    team = demo_setup(simulator_url=simulator.url).team
    now = timezone.now()
    # Five minutes into the scenario's cycle: its workers are down and BTCpool.kz fails.
    simulator.simulator.set_scenario(DEMO_SCENARIO, start=now - timedelta(minutes=5))
    try:
        for source in Source.objects.filter(team=team):
            source_poll(source_id=source.pk)
    finally:
        simulator.simulator.set_scenario(None)
    team_evaluate(team=team, now=now)
    # Past the delay, and before the sources (polled once a minute) count as stale.
    team_evaluate(team=team, now=now + timedelta(minutes=DEMO_DELAYS["worker_offline"], seconds=5))

    firing = Alert.objects.filter(rule__team=team, state="firing")
    workers = firing.filter(rule__kind="worker_offline")
    # The scenario's three, the account's two dead workers and a few flaky ones.
    assert 3 <= workers.count() <= 12
    assert set(workers.values_list("source__label", flat=True)) == {"BTC.com · alpha-mining"}
    assert firing.filter(rule__kind="source_unhealthy").count() == 2  # both BTCpool.kz sources
    assert firing.count() <= 15
