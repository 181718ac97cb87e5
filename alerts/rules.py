"""Rules: what each kind watches, its defaults, validation, and the services that write rules.

The forms, the CLI and the recommended set all go through `rule_create`, so a kind's defaults
(`RULE_KINDS`, in alerts.kinds and importable from here) and its checks are written once.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from alerts.kinds import HASHRATE_UNITS as HASHRATE_UNITS
from alerts.kinds import PRICE_CONDITIONS, KindSpec, kind_spec
from alerts.kinds import RULE_KINDS as RULE_KINDS
from alerts.models import Alert, AlertState, Rule, RuleKind, Scope, Severity
from dashboard.audit import audit_record
from dashboard.models import Source, Team
from pools.models import Payout


def as_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError({"threshold": [f"{value!r} is not a number"]}) from None
    if not number.is_finite():
        raise ValidationError({"threshold": [f"{value!r} is not a number"]})
    return number


def source_problems(spec: KindSpec, team: Team, scope: str, source: Source | None) -> list[str]:
    if scope not in spec.scopes:
        return [f"a {spec.label.lower()} rule watches one source; choose it"]
    if scope == Scope.TEAM:
        return ["a rule for every source has no source of its own"] if source is not None else []
    if source is None:
        return ["choose the source this rule watches"]
    if source.team_id != team.pk:
        return ["no such source in this team"]
    category = source.kind_spec.category if source.kind in _known_kinds() else ""
    if spec.source_kinds and source.kind not in spec.source_kinds:
        return [f"{spec.label.lower()} rules watch {' or '.join(spec.source_kinds)} sources, "
                f"and {source.label} is a {source.kind} source"]
    if spec.category and category != spec.category:
        return [f"{spec.label.lower()} rules watch {spec.category} sources, "
                f"and {source.label} is not one"]
    return []


def _known_kinds() -> set[str]:
    from dashboard.sources import REGISTRY

    return set(REGISTRY)


def rule_problems(rule: Rule) -> dict[str, list[str]]:
    """What is wrong with a rule, by field, in words that say what to fix."""
    spec = kind_spec(rule.kind)
    problems: dict[str, list[str]] = {}
    if where := source_problems(spec, rule.team, rule.scope, rule.source):
        problems["source"] = where
    params = rule.params if isinstance(rule.params, dict) else {}
    if set(params) - set(spec.params):
        extra = ", ".join(sorted(set(params) - set(spec.params)))
        problems["params"] = [f"{spec.label.lower()} rules take no {extra}"]
    threshold, unit = rule.threshold, rule.threshold_unit
    if spec.threshold_required and threshold is None:
        problems["threshold"] = [f"give the {spec.threshold_label.lower()}"]
    elif threshold is not None and not spec.uses_threshold:
        problems["threshold"] = [f"{spec.label.lower()} rules take no threshold"]
    elif threshold is not None and threshold < 0:
        problems["threshold"] = ["the threshold cannot be negative"]
    if spec.units and unit not in spec.units:
        problems["threshold_unit"] = [f"the unit must be one of: {', '.join(spec.units)}"]
    elif not spec.units and unit:
        problems["threshold_unit"] = [f"{spec.label.lower()} rules take no unit"]
    if rule.kind == RuleKind.HASHRATE_DROP and unit == "%" and threshold is not None \
            and not 0 < threshold < 100:
        problems["threshold"] = ["a percentage of the 24 h average must be between 0 and 100"]
    if rule.kind == RuleKind.WORKERS_ONLINE_BELOW and threshold is not None \
            and threshold != int(threshold):
        problems["threshold"] = ["the number of workers must be a whole number"]
    if rule.kind == RuleKind.HASHRATE_DROP and rule.scope == Scope.TEAM and not params.get("coin"):
        problems.setdefault("params", []).append(
            "a team-wide hashrate rule needs the coin whose hashrate it adds up (e.g. BTC)")
    if "hysteresis_pct" in params:
        try:
            ok = 0 <= float(params["hysteresis_pct"]) <= 50
        except (TypeError, ValueError):
            ok = False
        if not ok:
            problems.setdefault("params", []).append("hysteresis must be a number of points from 0 to 50")
    if rule.kind == RuleKind.PRICE:
        if not str(params.get("product", "")).strip():
            problems.setdefault("params", []).append("give the product, e.g. BTCBRL")
        if params.get("condition") not in PRICE_CONDITIONS:
            problems.setdefault("params", []).append(
                f"the condition must be one of: {', '.join(PRICE_CONDITIONS)}")
    if rule.kind == RuleKind.RESERVE_LOW and (
            not str(params.get("from", "")).strip() or not str(params.get("to", "")).strip()):
        problems.setdefault("params", []).append(
            "give the direction's from and to currencies, e.g. BTC and USDTTRC20")
    if rule.severity not in Severity.values:
        problems["severity"] = [f"the severity must be one of: {', '.join(Severity.values)}"]
    if rule.reminder_minutes is not None and rule.reminder_minutes < 5:
        problems["reminder_minutes"] = ["remind at most every 5 minutes, or leave it blank"]
    if len(rule.label) > 100:
        problems["label"] = ["the label is at most 100 characters"]
    return problems


def rule_validate(rule: Rule) -> None:
    if problems := rule_problems(rule):
        raise ValidationError(problems)


def payout_cursor() -> int:
    """The newest payout row now: a new payout rule announces only payouts stored after it."""
    return int(Payout.objects.aggregate(top=Max("id"))["top"] or 0)


@transaction.atomic
def rule_create(
    *,
    team: Team,
    kind: str,
    source: Source | None = None,
    scope: str | None = None,
    for_minutes: int | None = None,
    threshold: Any = None,
    threshold_unit: str = "",
    params: dict[str, Any] | None = None,
    severity: str | None = None,
    reminder_minutes: int | None = None,
    label: str = "",
    actor: Any = None,
    request: HttpRequest | None = None,
) -> Rule:
    spec = kind_spec(kind)
    defaults = spec.defaults
    if scope is None:
        scope = Scope.SOURCE if source is not None or Scope.TEAM not in spec.scopes else Scope.TEAM
    number = as_decimal(threshold)
    if number is None:
        number = defaults.get("threshold")
        threshold_unit = threshold_unit or defaults.get("threshold_unit", "")
    elif not threshold_unit and spec.units:
        threshold_unit = defaults.get("threshold_unit", spec.units[0])
    merged = {**defaults.get("params", {}), **{k: v for k, v in (params or {}).items()
                                                if v not in (None, "")}}
    if for_minutes is not None and for_minutes < 0:
        raise ValidationError({"for_minutes": ["the delay cannot be negative"]})
    rule = Rule(
        team=team, kind=kind, scope=scope, source=source, label=label.strip(),
        for_minutes=defaults.get("for_minutes", 0) if for_minutes is None else for_minutes,
        threshold=number, threshold_unit=threshold_unit, params=merged,
        severity=severity or defaults.get("severity", Severity.WARNING),
        reminder_minutes=reminder_minutes or None,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    rule_validate(rule)
    if kind == RuleKind.PAYOUT:
        rule.cursor = {"payout_id": payout_cursor()}
    rule.save()
    audit_record(team=team, actor=actor, action="alerts.rule_added", target=rule_describe(rule),
                 detail={"rule_id": rule.pk, "kind": kind}, request=request)
    return rule


EDITABLE = ("source", "scope", "for_minutes", "threshold", "threshold_unit", "params",
            "severity", "reminder_minutes", "label")


@transaction.atomic
def rule_update(*, rule: Rule, actor: Any = None, request: HttpRequest | None = None,
                **changes: Any) -> Rule:
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"these cannot be changed: {', '.join(sorted(unknown))}")
    if "threshold" in changes:
        changes["threshold"] = as_decimal(changes["threshold"])
    if "label" in changes:
        changes["label"] = (changes["label"] or "").strip()
    if "reminder_minutes" in changes:
        changes["reminder_minutes"] = changes["reminder_minutes"] or None
    if changes.get("for_minutes") is not None and changes["for_minutes"] < 0:
        raise ValidationError({"for_minutes": ["the delay cannot be negative"]})
    changed = [name for name, value in changes.items() if getattr(rule, name) != value]
    for name in changed:
        setattr(rule, name, changes[name])
    rule_validate(rule)
    if "source" in changed and rule.source is not None and rule.disabled_note:
        rule.disabled_note = ""  # pointed at a source again: the note no longer holds
    rule.save()
    if changed:
        audit_record(team=rule.team, actor=actor, action="alerts.rule_edited",
                     target=rule_describe(rule),
                     detail={"rule_id": rule.pk, "fields": sorted(changed)}, request=request)
    return rule


@transaction.atomic
def rule_set_enabled(*, rule: Rule, enabled: bool, actor: Any = None,
                     request: HttpRequest | None = None) -> Rule:
    if enabled and rule.scope == Scope.SOURCE and rule.source is None:
        raise ValidationError({"source": ["this rule's source was deleted; choose another source first"]})
    rule.enabled = enabled
    if enabled:
        rule.disabled_note = ""
    rule.save(update_fields=["enabled", "disabled_note", "updated_at"])
    if not enabled:
        # Nothing watches these any more: close them rather than leave them firing forever.
        rule_close_alerts(rule=rule)
    audit_record(team=rule.team, actor=actor,
                 action="alerts.rule_enabled" if enabled else "alerts.rule_disabled",
                 target=rule_describe(rule), detail={"rule_id": rule.pk}, request=request)
    return rule


@transaction.atomic
def rule_delete(*, rule: Rule, actor: Any = None, request: HttpRequest | None = None) -> None:
    audit_record(team=rule.team, actor=actor, action="alerts.rule_deleted",
                 target=rule_describe(rule), detail={"rule_id": rule.pk, "kind": rule.kind},
                 request=request)
    rule.delete()


def rule_close_alerts(*, rule: Rule) -> int:
    """Resolve a rule's open alerts without a message: the rule stopped watching, the
    trouble did not end, so "resolved" would be a lie told to the channels."""
    now = timezone.now()
    return Alert.objects.filter(rule=rule).exclude(state=AlertState.RESOLVED).update(
        state=AlertState.RESOLVED, resolved_at=now, resolve_notified_at=now)


def rules_disable_for_source(*, source: Source) -> int:
    """Called as a source is deleted: its rules stay, disabled, saying why."""
    note = f"Disabled: its source {source.label} was deleted."[:300]
    return Rule.objects.filter(source=source, scope=Scope.SOURCE).update(enabled=False, disabled_note=note)


def recommended_rules(team: Team) -> list[dict[str, Any]]:
    """The set a new team gets in one click: team-wide where a kind allows it."""
    wanted: list[dict[str, Any]] = [
        {"kind": RuleKind.SOURCE_UNHEALTHY, "scope": Scope.TEAM},
        {"kind": RuleKind.WORKER_OFFLINE, "scope": Scope.TEAM},
        {"kind": RuleKind.PAYOUT, "scope": Scope.TEAM},
    ]
    for source in Source.objects.filter(team=team).order_by("label", "id"):
        if source.kind in _known_kinds() and source.kind_spec.category == "pool":
            wanted.append({"kind": RuleKind.HASHRATE_DROP, "scope": Scope.SOURCE, "source": source})
    return wanted


def rules_add_recommended(*, team: Team, actor: Any = None, request: HttpRequest | None = None,
                          rules: list[dict[str, Any]] | None = None) -> list[Rule]:
    """Idempotent: a recommended rule (or one of `rules`, in the same form) the team already
    has (same kind, scope and source) is skipped, whatever its settings became."""
    added = []
    for wanted in recommended_rules(team) if rules is None else rules:
        exists = Rule.objects.filter(team=team, kind=wanted["kind"], scope=wanted["scope"],
                                     source=wanted.get("source")).exists()
        if not exists:
            added.append(rule_create(team=team, actor=actor, request=request, **wanted))
    return added


def threshold_text(rule: Rule) -> str:
    if rule.threshold is None:
        return ""
    return f"{rule.threshold.normalize():f}"


def where_text(rule: Rule) -> str:
    if rule.scope == Scope.TEAM:
        coin = (rule.params or {}).get("coin")
        return f"the team's {coin} sources" if coin and rule.kind == RuleKind.HASHRATE_DROP \
            else "any source"
    return rule.source.label if rule.source is not None else "a deleted source"


def rule_describe(rule: Rule) -> str:
    """The rule in words: "Worker offline for 10 min on BTC.com main"."""
    params, where, level = rule.params or {}, where_text(rule), threshold_text(rule)
    delay = f" for {rule.for_minutes} min" if rule.for_minutes else ""
    kind = rule.kind
    if kind == RuleKind.WORKER_OFFLINE:
        pattern = params.get("name_pattern")
        who = f"Worker matching {pattern}" if pattern else "Worker"
        text = f"{who} offline{delay} on {where}"
    elif kind == RuleKind.HASHRATE_DROP:
        line = f"{level}% of its 24 h average" if rule.threshold_unit == "%" \
            else f"{level} {rule.threshold_unit}"
        text = f"Hashrate below {line}{delay} on {where}"
    elif kind == RuleKind.WORKERS_ONLINE_BELOW:
        text = f"Fewer than {level} workers online{delay} on {where}"
    elif kind == RuleKind.SOURCE_UNHEALTHY:
        who = "Any source" if rule.scope == Scope.TEAM else where
        text = f"{who} failing or stale{delay}"
    elif kind == RuleKind.PAYOUT:
        text = f"Payout arrived on {where}"
    elif kind == RuleKind.NO_PAYOUT:
        text = f"No payout for {level} days on {where}"
    elif kind == RuleKind.PRICE:
        product, condition = params.get("product", "?"), params.get("condition")
        what = f"{product} spread above {level}%" if condition == "spread_above" \
            else f"{product} last price {condition} {level}"
        text = f"{what}{delay} on {where}"
    else:
        text = (f"Reserve of {params.get('from', '?')} → {params.get('to', '?')} below "
                f"{level}{delay} on {where}")
    return rule.label or text
