"""Evaluation: judge every enabled rule of a team, move its alerts along, queue the messages.

An alert is pending from the first evaluation that sees the trouble, fires once it has lasted
the rule's `for` delay, and resolves when the judge calls its subject clear (a subject the
judge holds, or whose source it could not judge, stays as it is). What is said about it is
recorded on the row (`notified_at`, `reminded_at`, `resolve_notified_at`) in the same
transaction as the Delivery rows, so a repeated, late or concurrent evaluation never says it
twice: the team's TeamEvaluation row is locked for the whole evaluation, and the second of two
evaluators finds the first one's work done.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from alerts.copying import copy_worthwhile, ids_any, rows_copy
from alerts.judges import JUDGES, Context, Judgement
from alerts.messages import Outbox
from alerts.models import Alert, AlertState, Rule, RuleKind, Scope, Silence, TeamEvaluation
from alerts.silences import silence_matches, silences_active
from dashboard.models import Source, Team
from dashboard.sources import REGISTRY

log = logging.getLogger(__name__)

# An alert that fired more than FLAP_LIMIT times within FLAP_WINDOW is flapping: it is
# reported once and then quiet until it has stayed firing (or resolved) for a whole window.
FLAP_WINDOW = timedelta(hours=1)
FLAP_LIMIT = 4
OPEN = (AlertState.PENDING, AlertState.FIRING)
# How often a troubled alert's last_seen_at is rewritten: on every poll it would be thousands
# of row writes a minute for a farm that is down, to say what its state already says.
SEEN_EVERY = timedelta(minutes=10)


@dataclass
class Evaluation:
    team_id: int
    now: datetime
    team_slug: str = ""
    rules: int = 0
    pending: int = 0
    fired: int = 0
    resolved: int = 0
    reminded: int = 0
    flapping: int = 0
    news: int = 0
    deliveries: list[Any] = field(default_factory=list)
    disabled_rules: list[int] = field(default_factory=list)
    failed_rules: list[int] = field(default_factory=list)


class Changes:
    """Field changes to existing alerts, written as one UPDATE per distinct set of values
    (a few per rule however many workers), not one per row."""

    def __init__(self) -> None:
        self.by_pk: dict[int, dict[str, Any]] = {}

    def set(self, alert: Alert, **fields: Any) -> None:
        for name, value in fields.items():
            setattr(alert, name, value)
        if alert.pk is not None:
            self.by_pk.setdefault(alert.pk, {}).update(fields)

    def save(self) -> None:
        groups: dict[tuple[tuple[str, Any], ...], list[int]] = {}
        for pk, fields in self.by_pk.items():
            groups.setdefault(tuple(sorted(fields.items())), []).append(pk)
        for signature, pks in groups.items():
            Alert.objects.filter(pk__in=ids_any(pks)).update(**dict(signature))


def rule_disable_orphan(rule: Rule) -> None:
    note = "Disabled: its source was deleted; choose another source to enable it again."
    Rule.objects.filter(pk=rule.pk).update(enabled=False, disabled_note=note)


class RuleRun:
    """One rule's judgement applied to its open alerts."""

    def __init__(self, rule: Rule, ctx: Context, silences: Sequence[Silence], outbox: Outbox,
                 result: Evaluation) -> None:
        self.rule, self.ctx, self.result = rule, ctx, result
        # What this rule has to say, handed to the team's outbox only once its rows are saved.
        self.shared = outbox
        self.outbox = Outbox(rules=outbox.rules, sources=outbox.sources)
        self.now = ctx.now
        self.silences = [s for s in silences if s.rule_id in (None, rule.pk)]
        self.changes = Changes()
        self.created: list[Alert] = []
        self.dropped: list[int] = []

    def quiet(self, source_id: int | None, worker: str) -> bool:
        return bool(self.silences) and silence_matches(
            silences=self.silences, rule_id=self.rule.pk, source_id=source_id,
            worker_name=worker) is not None

    def worker_of(self, alert: Alert) -> str:
        return alert.subject if self.rule.kind == RuleKind.WORKER_OFFLINE else ""

    def run(self, judgement: Judgement) -> None:
        rule, now = self.rule, self.now
        # Every time read costs a parse per row: what an open alert never needs stays unread.
        rows = Alert.objects.filter(rule=rule, state__in=OPEN).defer(
            "team", "resolved_at", "resolve_notified_at")
        open_alerts = {a.subject_key: a for a in rows}
        delay = timedelta(minutes=rule.for_minutes)
        to_fire: list[Alert] = []
        for key, finding in judgement.troubled.items():
            quiet = self.quiet(finding.source_id, finding.worker)
            alert = open_alerts.get(key)
            if alert is None:
                alert = Alert(team_id=rule.team_id, rule=rule, source_id=finding.source_id,
                              subject_key=key[:300], subject=finding.subject[:300],
                              pending_since=now, last_seen_at=now, value=finding.value[:100],
                              message=finding.message[:500], silenced=quiet)
                self.created.append(alert)
                if not delay:
                    to_fire.append(alert)
                continue
            if now - alert.last_seen_at >= SEEN_EVERY:
                self.changes.set(alert, last_seen_at=now)
            seen = (finding.value[:100], finding.message[:500], quiet)
            if (alert.value, alert.message, alert.silenced) != seen:
                self.changes.set(alert, value=seen[0], message=seen[1], silenced=quiet)
            if alert.state == AlertState.PENDING and now - alert.pending_since >= delay:
                to_fire.append(alert)
        self.fire(to_fire)
        for key, alert in open_alerts.items():
            if key in judgement.troubled or key in judgement.held:
                if alert.state == AlertState.FIRING:
                    self.speak(alert)
            elif alert.source_id in judgement.closed:
                self.close(alert, quietly=True)
            elif alert.source_id not in judgement.unjudged:
                self.close(alert, quietly=False)
        for alert in self.created:
            if alert.state == AlertState.FIRING:
                self.speak(alert)
        self.result.pending += sum(a.state == AlertState.PENDING for a in self.created)
        self.news(judgement)
        if judgement.all_down:
            self.outbox.all_down.update({(rule.pk, sid): n for sid, n in judgement.all_down.items()})
        self.save()
        self.shared.absorb(self.outbox)

    def fire(self, alerts: list[Alert]) -> None:
        if not alerts:
            return
        # The rule's recent episodes, all of them: a `subject_key IN (...)` of a whole farm's
        # keys costs more to send and plan than the episodes of the others cost to read.
        history = {row["subject_key"]: row for row in Alert.objects.filter(
            rule=self.rule, started_at__gte=self.now - FLAP_WINDOW,
        ).order_by().values("subject_key").annotate(
            n=Count("id"), flapped=Count("id", filter=Q(flapping=True)))}
        for alert in alerts:
            earlier = history.get(alert.subject_key, {"n": 0, "flapped": 0})
            flapping = earlier["n"] >= FLAP_LIMIT
            self.changes.set(alert, state=AlertState.FIRING, started_at=self.now, flapping=flapping)
            self.result.fired += 1
            if flapping and not earlier["flapped"] and not alert.silenced:
                self.outbox.flapping.append(alert)  # once: the next episodes inherit the flag
                self.result.flapping += 1

    def speak(self, alert: Alert) -> None:
        """A firing alert's due message: its first (once neither silenced nor flapping any
        more), or a reminder."""
        now = self.now
        if alert.flapping and alert.started_at and alert.started_at <= now - FLAP_WINDOW:
            self.changes.set(alert, flapping=False)  # firing steadily for a whole window: settled
        if alert.silenced or alert.flapping:
            return
        if alert.notified_at is None:
            self.changes.set(alert, notified_at=now)
            self.outbox.firing.append(alert)
            return
        every = self.rule.reminder_minutes
        last = alert.reminded_at or alert.notified_at
        if every and now - last >= timedelta(minutes=every):
            self.changes.set(alert, reminded_at=now)
            self.outbox.reminders.append(alert)
            self.result.reminded += 1

    def close(self, alert: Alert, *, quietly: bool) -> None:
        if alert.state == AlertState.PENDING:
            self.dropped.append(alert.pk)  # never fired: not an episode worth keeping
            return
        self.result.resolved += 1
        silenced = self.quiet(alert.source_id, self.worker_of(alert))
        told = (not quietly and alert.notified_at is not None and not silenced and not alert.flapping)
        self.changes.set(alert, state=AlertState.RESOLVED, resolved_at=self.now,
                         silenced=silenced, resolve_notified_at=self.now if told or quietly else None)
        if told:
            self.outbox.resolved.append(alert)

    def news(self, judgement: Judgement) -> None:
        for source_id, text in judgement.news:
            if not self.quiet(source_id, ""):
                self.outbox.news.append(text)
                self.result.news += 1
        if judgement.cursor is not None:
            Rule.objects.filter(pk=self.rule.pk).update(cursor=judgement.cursor)

    def save(self) -> None:
        if self.dropped:
            Alert.objects.filter(pk__in=ids_any(self.dropped), state=AlertState.PENDING).delete()
        if self.created:
            alerts_insert(self.rule, self.created)
        self.changes.save()


def alerts_insert(rule: Rule, alerts: list[Alert]) -> None:
    """Insert a rule's new alerts. A whole farm going down is thousands of rows at once, and
    preparing each value through the ORM would cost more than the rest of the evaluation:
    those go through COPY, then their ids are read back by their (rule, subject) key."""
    if not copy_worthwhile(len(alerts)):
        Alert.objects.bulk_create(alerts, batch_size=2000)
        return
    fields = [f for f in Alert._meta.concrete_fields if not f.primary_key]
    rows_copy(Alert, [str(f.column) for f in fields],
              ([getattr(alert, f.attname) for f in fields] for alert in alerts))
    # Every open alert of the rule rather than `subject_key IN (thousands of keys)`: a
    # statement that size costs more to send and plan than the few extra rows cost to read.
    ids = dict(Alert.objects.filter(rule=rule, state__in=OPEN).values_list("subject_key", "pk"))
    for alert in alerts:
        alert.pk = ids[alert.subject_key]
        alert._state.adding = False


def team_context(team: Team, now: datetime) -> Context:
    sources = {s.pk: s for s in Source.objects.filter(team=team)}
    categories = {pk: REGISTRY[s.kind].category if s.kind in REGISTRY else ""
                  for pk, s in sources.items()}
    return Context(now=now, sources=sources, categories=categories)


def team_evaluate(*, team: Team, now: datetime | None = None) -> Evaluation:
    """Evaluate every enabled rule of the team and queue what is to be said. Sends nothing:
    the caller sends (deliveries_send) after this transaction has committed."""
    now = now or timezone.now()
    TeamEvaluation.objects.bulk_create([TeamEvaluation(team=team)], ignore_conflicts=True)
    with transaction.atomic():
        book = TeamEvaluation.objects.select_for_update().get(team=team)
        if book.last_evaluated_at and now < book.last_evaluated_at:
            # The clock went back (or a late task runs): time does not, for the alerts.
            now = book.last_evaluated_at
        result = Evaluation(team_id=team.pk, now=now, team_slug=team.slug)
        ctx = team_context(team, now)
        rules = list(Rule.objects.filter(team=team, enabled=True))
        outbox = Outbox(rules={r.pk: r for r in rules}, sources=ctx.sources)
        silences = list(silences_active(team=team, now=now))
        for rule in rules:
            if rule.scope == Scope.SOURCE and rule.source_id not in ctx.sources:
                rule_disable_orphan(rule)
                result.disabled_rules.append(rule.pk)
                continue
            result.rules += 1
            try:
                with transaction.atomic():  # a savepoint: one broken rule spoils no other
                    RuleRun(rule, ctx, silences, outbox, result).run(JUDGES[rule.kind](rule, ctx))
            except Exception:
                log.exception("evaluating alert rule %s of team %s failed", rule.pk, team.slug)
                result.failed_rules.append(rule.pk)
        result.deliveries = outbox.queue(team=team, now=now)
        book.last_evaluated_at = now
        book.save(update_fields=["last_evaluated_at"])
    return result


def teams_evaluate(*, now: datetime | None = None) -> list[Evaluation]:
    """Every team with an enabled rule, each in its own transaction."""
    teams = Team.objects.filter(alert_rules__enabled=True).distinct().order_by("pk")
    return [team_evaluate(team=team, now=now) for team in teams]

