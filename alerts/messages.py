"""What one evaluation has to say, grouped into one message per kind and channel.

Everything that fired in an evaluation goes out as one "firing" message per channel, however
many rules and workers it covers; what resolved goes out as one "resolved" message, and so do
reminders, flapping notices and payout news. Workers are grouped per rule and source ("20
workers offline on BTC.com main: 55x1, 55x2, ... and 10 more"), and a source whose every
worker is down says so instead of listing them all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alerts.delivery import deliveries_queue
from alerts.models import Alert, DeliveryKind, Rule, RuleKind, Severity
from dashboard.models import Source, Team

NAMES_LISTED = 10
SEVERITY_ORDER: dict[str, int] = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
KIND_WORDS: dict[str, str] = {
    RuleKind.HASHRATE_DROP: "hashrate drop", RuleKind.WORKERS_ONLINE_BELOW: "workers online",
    RuleKind.SOURCE_UNHEALTHY: "source health", RuleKind.NO_PAYOUT: "no payout",
    RuleKind.PRICE: "price", RuleKind.RESERVE_LOW: "reserve", RuleKind.WORKER_OFFLINE: "worker offline",
}


def natural(text: str) -> list[Any]:
    """55x2 before 55x10, as people number their machines."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def names_text(names: Sequence[str]) -> str:
    shown = ", ".join(names[:NAMES_LISTED])
    more = len(names) - NAMES_LISTED
    return f"{shown}, ... and {more} more" if more > 0 else shown


@dataclass
class Outbox:
    rules: dict[int, Rule]
    sources: dict[int, Source]
    firing: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)
    reminders: list[Alert] = field(default_factory=list)
    flapping: list[Alert] = field(default_factory=list)
    news: list[str] = field(default_factory=list)
    # (rule id, source id) -> number of workers, where every listed worker is down
    all_down: dict[tuple[int, int], int] = field(default_factory=dict)

    def absorb(self, other: Outbox) -> None:
        self.firing += other.firing
        self.resolved += other.resolved
        self.reminders += other.reminders
        self.flapping += other.flapping
        self.news += other.news
        self.all_down.update(other.all_down)

    def where(self, alert: Alert) -> str:
        if alert.source_id is None:
            return "the team's sources"  # a team-wide subject, such as one coin's hashrate
        source = self.sources.get(alert.source_id)
        return source.label if source is not None else "a deleted source"

    def groups(self, alerts: Sequence[Alert]) -> list[tuple[Rule, list[Alert]]]:
        grouped: dict[tuple[int, int | None], list[Alert]] = {}
        for alert in alerts:
            grouped.setdefault((alert.rule_id, alert.source_id), []).append(alert)
        ordered = sorted(grouped.items(), key=lambda item: (
            SEVERITY_ORDER.get(self.rules[item[0][0]].severity, 9), self.rules[item[0][0]].kind,
            self.where(item[1][0])))
        return [(self.rules[rule_id], sorted(group, key=lambda a: natural(a.subject)))
                for (rule_id, _), group in ordered]

    def line(self, rule: Rule, alert: Alert) -> str:
        if rule.kind in (RuleKind.PRICE, RuleKind.RESERVE_LOW):
            return f"{alert.subject} on {self.where(alert)}: {alert.message}"
        if rule.kind == RuleKind.SOURCE_UNHEALTHY:
            return f"{alert.subject} {alert.message}"
        return f"{alert.subject}: {alert.message}"

    def firing_lines(self, alerts: Sequence[Alert], *, still: bool = False) -> list[str]:
        lines = []
        for rule, group in self.groups(alerts):
            if rule.kind != RuleKind.WORKER_OFFLINE:
                lines += [("Still: " if still else "") + self.line(rule, a) for a in group]
                continue
            where = self.where(group[0])
            everyone = self.all_down.get((rule.pk, group[0].source_id or 0))
            if everyone and not still:
                lines.append(f"all {everyone} workers offline on {where}: pool- or site-wide problem")
            elif len(group) == 1:
                lines.append(f"Worker {group[0].subject} {group[0].value} on {where}"
                             + (" (still)" if still else ""))
            else:
                lines.append(f"{len(group)} workers {'still ' if still else ''}offline on {where}: "
                             f"{names_text([a.subject for a in group])}")
        return lines

    def resolved_lines(self) -> list[str]:
        lines = []
        for rule, group in self.groups(self.resolved):
            if rule.kind == RuleKind.WORKER_OFFLINE:
                noun = "Worker" if len(group) == 1 else f"{len(group)} workers"
                names = names_text([a.subject for a in group])
                lines.append(f"{noun} back on {self.where(group[0])}: {names}")
            else:
                lines += [f"{a.subject}: {KIND_WORDS.get(rule.kind, rule.kind)} back to normal"
                          + (f" ({a.value})" if a.value else "") for a in group]
        return lines

    def flapping_lines(self) -> list[str]:
        return [f"{alert.subject} ({KIND_WORDS.get(self.rules[alert.rule_id].kind, '')} on "
                f"{self.where(alert)}) keeps firing and resolving: held as flapping, no more "
                "messages about it until it settles" for alert in self.flapping]

    def queue(self, *, team: Team, now: datetime) -> list:
        """One Delivery per channel for each kind of message that has something to say."""
        messages: list[tuple[str, str, Callable[[], list[str]], Sequence[Alert]]] = [
            (DeliveryKind.FIRING, "Firing", lambda: self.firing_lines(self.firing), self.firing),
            (DeliveryKind.RESOLVED, "Resolved", self.resolved_lines, self.resolved),
            (DeliveryKind.REMINDER, "Still firing",
             lambda: self.firing_lines(self.reminders, still=True), self.reminders),
            (DeliveryKind.FLAPPING, "Flapping", self.flapping_lines, self.flapping),
            (DeliveryKind.INFO, "Payout", lambda: list(self.news), ()),
        ]
        deliveries: list = []
        for kind, word, compose, alerts in messages:
            if not alerts and not (kind == DeliveryKind.INFO and self.news):
                continue
            lines = compose()
            title = f"{word}: {lines[0]}" + (f" (and {len(lines) - 1} more)" if len(lines) > 1 else "")
            deliveries += deliveries_queue(team=team, kind=kind, title=title[:250],
                                           body="\n".join(lines), alerts=alerts, now=now)
        return deliveries
