"""The rule kinds: what each watches, which fields it uses, in which words, and its
defaults. Forms and the CLI read `RULE_KINDS` (also importable from alerts.rules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from alerts.models import RuleKind, Scope, Severity

# Hashrate units a threshold may be given in; "%" means "of the trailing 24 h average".
HASHRATE_UNITS = {"H/s": 1.0, "KH/s": 1e3, "MH/s": 1e6, "GH/s": 1e9, "TH/s": 1e12,
                  "PH/s": 1e15, "EH/s": 1e18}
PRICE_CONDITIONS = ("above", "below", "spread_above")
DEFAULT_HYSTERESIS_PCT = 5


@dataclass(frozen=True)
class KindSpec:
    """What a form needs to know about a kind: which fields it uses, in which words."""

    kind: str
    label: str
    help: str
    category: str = "pool"  # the category of source it watches: pool, exchange or "" (any)
    source_kinds: tuple[str, ...] = ()  # only these source kinds, when not empty
    scopes: tuple[str, ...] = (Scope.SOURCE, Scope.TEAM)
    uses_for: bool = True
    uses_threshold: bool = False
    threshold_required: bool = False
    threshold_label: str = ""
    units: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)


RULE_KINDS: dict[str, KindSpec] = {spec.kind: spec for spec in (
    KindSpec(
        RuleKind.WORKER_OFFLINE, "Worker offline",
        "A worker is offline or dead for at least this long; resolves when it is back. "
        "An optional name pattern (shell style, e.g. rack1-*) limits it to some workers.",
        params=("name_pattern",), defaults={"for_minutes": 10, "severity": Severity.WARNING}),
    KindSpec(
        RuleKind.HASHRATE_DROP, "Hashrate drop",
        "The hashrate is below a level for this long: a percentage of its own trailing 24 h "
        "average (70 % by default) or an absolute value. It resolves only once the hashrate "
        "is back above the line by the hysteresis (5 points by default), so it does not flap.",
        uses_threshold=True, threshold_label="Below", units=("%", *HASHRATE_UNITS),
        params=("coin", "hysteresis_pct"),
        defaults={"for_minutes": 15, "threshold": Decimal(70), "threshold_unit": "%",
                  "severity": Severity.WARNING}),
    KindSpec(
        RuleKind.WORKERS_ONLINE_BELOW, "Workers online below",
        "Fewer than this many workers are online on a source.",
        uses_threshold=True, threshold_required=True, threshold_label="Fewer than (workers)",
        defaults={"for_minutes": 5, "severity": Severity.WARNING}),
    KindSpec(
        RuleKind.SOURCE_UNHEALTHY, "Source unhealthy",
        "A source's last poll failed (wrong key, rate limit, unreachable...) or it has not "
        "succeeded for 2.5 intervals, for this long. While it lasts, the source's worker and "
        "hashrate rules wait instead of judging stale data.",
        category="", defaults={"for_minutes": 15, "severity": Severity.CRITICAL}),
    KindSpec(
        RuleKind.PAYOUT, "Payout arrived",
        "A message for each new payout (payouts already stored when the rule is added are "
        "not announced).", uses_for=False, defaults={"for_minutes": 0, "severity": Severity.INFO}),
    KindSpec(
        RuleKind.NO_PAYOUT, "No payout",
        "No payout for this many days.", uses_for=False, uses_threshold=True,
        threshold_required=True, threshold_label="Days without a payout",
        defaults={"for_minutes": 0, "threshold": Decimal(3), "severity": Severity.WARNING}),
    KindSpec(
        RuleKind.PRICE, "Price",
        "A product's last price is above or below a level, or its spread (ask - bid, in % "
        "of the bid) is above a percentage.",
        category="exchange", source_kinds=("flowbtc",), scopes=(Scope.SOURCE,),
        uses_threshold=True, threshold_required=True, threshold_label="Level or spread %",
        params=("product", "condition", "hysteresis_pct"),
        defaults={"for_minutes": 0, "severity": Severity.INFO, "params": {"condition": "above"}}),
    KindSpec(
        RuleKind.RESERVE_LOW, "Exchanger reserve low",
        "An exchanger direction's reserve (in the currency it gives out) is below an amount.",
        category="exchange", source_kinds=("btcchange24",), scopes=(Scope.SOURCE,),
        uses_threshold=True, threshold_required=True, threshold_label="Reserve below",
        params=("from", "to"), defaults={"for_minutes": 0, "severity": Severity.WARNING}),
)}


def kind_spec(kind: str) -> KindSpec:
    try:
        return RULE_KINDS[kind]
    except KeyError:
        raise ValidationError(
            {"kind": [f"unknown kind {kind!r}; use one of: {', '.join(RULE_KINDS)}"]}) from None
