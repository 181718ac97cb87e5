"""What demo mode's team gets from the alerts app: the recommended rules, with delays short
enough that the simulator's scenario (a few workers drop, a pool answers 500 for a while)
fires and resolves alerts within minutes, and an in-app channel to read them in."""

from __future__ import annotations

from alerts import channels, rules
from alerts.models import Channel, RuleKind
from alerts.transports import IN_APP
from dashboard.models import Team

# Minutes. The recommended delays (10 and 15) suit a farm; a newcomer trying the demo should
# not wait a quarter of an hour to see the feature.
DEMO_DELAYS = {RuleKind.WORKER_OFFLINE: 2, RuleKind.SOURCE_UNHEALTHY: 2, RuleKind.HASHRATE_DROP: 5}


def demo_seed(*, team: Team) -> None:
    """Idempotent: demo mode runs it at every start; rules the team has keep their settings."""
    for rule in rules.rules_add_recommended(team=team):
        if rule.kind in DEMO_DELAYS:
            rules.rule_update(rule=rule, for_minutes=DEMO_DELAYS[RuleKind(rule.kind)])
    if not Channel.objects.filter(team=team, kind=IN_APP).exists():
        channels.channel_create(team=team, kind=IN_APP, label="In the app")
