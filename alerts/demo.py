"""What demo mode's team gets from the alerts app: the recommended rules, with delays short
enough that the simulator's scenario (a few workers drop, a pool answers 500 for a while)
fires and resolves alerts within minutes, and an in-app channel to read them in.

The worker rule watches only the sources whose workers the scenario drops: the simulated
farms also have workers that are dead for good or drop out at random, as real ones do, and a
team-wide rule opened hundreds of alerts about them, burying the few the scenario makes."""

from __future__ import annotations

from collections.abc import Sequence

from alerts import channels, rules
from alerts.models import Channel, RuleKind, Scope
from alerts.transports import IN_APP
from dashboard.models import Source, Team

# Minutes. The recommended delays (10 and 15) suit a farm; a newcomer trying the demo should
# not wait a quarter of an hour to see the feature.
DEMO_DELAYS = {RuleKind.WORKER_OFFLINE: 2, RuleKind.SOURCE_UNHEALTHY: 2, RuleKind.HASHRATE_DROP: 5}


def demo_seed(*, team: Team, troubled: Sequence[Source] = ()) -> None:
    """Idempotent: demo mode runs it at every start; rules the team has keep their settings.
    `troubled`: the sources whose workers the scenario drops (none: watch every source)."""
    wanted = rules.recommended_rules(team)
    if troubled:
        wanted = [rule for rule in wanted if rule["kind"] != RuleKind.WORKER_OFFLINE] + [
            {"kind": RuleKind.WORKER_OFFLINE, "scope": Scope.SOURCE, "source": source}
            for source in troubled]
    for rule in rules.rules_add_recommended(team=team, rules=wanted):
        if rule.kind in DEMO_DELAYS:
            rules.rule_update(rule=rule, for_minutes=DEMO_DELAYS[RuleKind(rule.kind)])
    if not Channel.objects.filter(team=team, kind=IN_APP).exists():
        channels.channel_create(team=team, kind=IN_APP, label="In the app")
