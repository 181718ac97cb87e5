"""The alerts pages' forms. A rule's form is built from its kind's metadata in
`alerts.rules.RULE_KINDS`, so a new kind brings its fields, not form code; the services
validate what the form lets through and their messages land on the fields they name."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from alerts.kinds import DEFAULT_HYSTERESIS_PCT, RULE_KINDS, KindSpec
from alerts.models import Rule, Scope, Severity
from alerts.rules import rule_describe
from dashboard.models import Source, Team
from dashboard.sources import REGISTRY

EVERY_SOURCE = ""
# Form field name -> the key in Rule.params it edits.
PARAM_FIELDS = {
    "name_pattern": "name_pattern", "coin": "coin", "product": "product", "condition": "condition",
    "direction_from": "from", "direction_to": "to", "hysteresis_pct": "hysteresis_pct",
}


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """A service's ValidationError on the form: on the field it names, else above the form
    (the kind's own settings are checked together, under "params", in words naming them)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, [sentence(m) for m in error.messages])
        return
    for name, problems in error.message_dict.items():
        form.add_error(name if name in form.fields else None, [sentence(p) for p in problems])


def sentence(message: str) -> str:
    message = message.strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith((".", "?", "!")) else ".")


class RuleForm(forms.Form):
    """One kind's rule: the fields its KindSpec says it uses, with the kind's defaults."""

    source = forms.ChoiceField(required=False, error_messages={
        "required": "Pick the source this rule watches.",
        "invalid_choice": "Pick one of the listed sources."})
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.WARNING,
                                 help_text="How the alert is marked; info suits good news such "
                                           "as payouts.")
    for_minutes = forms.IntegerField(
        min_value=0, max_value=7 * 24 * 60, label="For (minutes)",
        help_text="How long the trouble must last before the alert fires: brief blips stay quiet.")
    threshold = forms.DecimalField(max_digits=30, decimal_places=12, required=False)
    threshold_unit = forms.ChoiceField(required=False, label="Unit")
    name_pattern = forms.CharField(
        max_length=200, required=False, label="Worker name pattern",
        help_text="Only workers whose name matches, e.g. rack1-* or *-s19. Empty: every worker.")
    coin = forms.CharField(max_length=10, required=False,
                           help_text="For every source: the coin whose total hashrate is watched, "
                                     "e.g. BTC. For one source: leave empty.")
    product = forms.CharField(max_length=20, required=False, help_text="The market, e.g. BTCBRL.")
    condition = forms.ChoiceField(required=False, choices=[
        ("above", "Last price above the level"), ("below", "Last price below the level"),
        ("spread_above", "Spread above the percentage")])
    direction_from = forms.CharField(max_length=20, required=False, label="From currency",
                                     help_text="What the exchanger takes, e.g. BTC.")
    direction_to = forms.CharField(max_length=20, required=False, label="To currency",
                                   help_text="What it gives out, e.g. USDTTRC20.")
    hysteresis_pct = forms.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=50, required=False,
        label="Hysteresis (points)",
        help_text="How far back past the line the value must come before the alert resolves, "
                  "so it does not flap around the line.")
    reminder_minutes = forms.IntegerField(
        min_value=5, max_value=7 * 24 * 60, required=False, label="Remind every (minutes)",
        help_text="Repeat the message while the alert keeps firing. Empty: never.")
    label = forms.CharField(max_length=100, required=False, label="Name",
                            help_text="Leave empty to name the rule from what it watches.")

    def __init__(self, *args: Any, team: Team, kind: str, rule: Rule | None = None,
                 **kwargs: Any) -> None:
        self.team, self.kind, self.rule = team, kind, rule
        self.spec = RULE_KINDS[kind]
        kwargs.setdefault("initial", rule_initial(rule) if rule else kind_initial(self.spec))
        super().__init__(*args, **kwargs)
        used = set(kind_fields(self.spec))
        for name in [*PARAM_FIELDS, "for_minutes", "threshold", "threshold_unit"]:
            if name not in used:
                del self.fields[name]
        self.sources = kind_sources(self.spec, team=team)
        choices = [(str(s.pk), s.label) for s in self.sources]
        if kind_allows_team_scope(self.spec):
            choices.insert(0, (EVERY_SOURCE, "Every source of the team"))
        else:
            choices.insert(0, (EVERY_SOURCE, "Pick a source…" if self.sources
                               else "No source of a suitable kind yet"))
            self.fields["source"].required = True
        self.fields["source"].choices = choices  # type: ignore[attr-defined]
        self.fields["source"].help_text = source_help(self.spec)
        if "threshold" in self.fields:
            field = self.fields["threshold"]
            field.label = self.spec.threshold_label or "Threshold"
            field.required = self.spec.threshold_required
            field.error_messages["required"] = f"Give a value for “{field.label}”."
        if "hysteresis_pct" in self.fields:
            self.fields["hysteresis_pct"].widget.attrs["placeholder"] = f"{DEFAULT_HYSTERESIS_PCT} (default)"
        if "threshold_unit" in self.fields:
            self.fields["threshold_unit"].choices = [  # type: ignore[attr-defined]
                (u, "% of its own 24 h average" if u == "%" else u) for u in self.spec.units]

    @property
    def no_sources(self) -> str:
        """Why this kind cannot be added yet, if the team has no source it may watch."""
        if self.sources or kind_allows_team_scope(self.spec):
            return ""
        return (f"{self.spec.label} rules watch {source_kinds_text(self.spec)} sources, and the "
                "team has none yet.")

    @property
    def kind_label(self) -> str:
        return self.spec.label

    @property
    def kind_help(self) -> str:
        return self.spec.help

    def clean_source(self) -> Source | None:
        value = self.cleaned_data.get("source") or EVERY_SOURCE
        if value == EVERY_SOURCE:
            return None
        source = next((s for s in self.sources if str(s.pk) == value), None)
        if source is None:
            raise ValidationError("Pick one of the listed sources.")
        return source

    def service_arguments(self) -> dict[str, Any]:
        """What rule_create and rule_update take, from the cleaned form."""
        data = self.cleaned_data
        params = dict(self.rule.params) if self.rule else {}
        for field, key in PARAM_FIELDS.items():
            if field not in self.fields:
                continue
            value = data.get(field)
            if value in (None, ""):
                params.pop(key, None)
            elif field == "hysteresis_pct":
                params[key] = float(value)  # JSON has no Decimal; the engine reads a number
            else:
                params[key] = value.strip() if isinstance(value, str) else value
        source = data.get("source")
        arguments: dict[str, Any] = {
            "source": source, "scope": Scope.SOURCE if source is not None else Scope.TEAM,
            "label": data.get("label", ""), "severity": data["severity"], "params": params,
            "reminder_minutes": data.get("reminder_minutes"),
        }
        for name in ("for_minutes", "threshold", "threshold_unit"):
            if name in self.fields:
                arguments[name] = data.get(name)
        return arguments

    def source_fields(self) -> list[forms.BoundField]:
        return [self["source"]]

    def detail_fields(self) -> list[forms.BoundField]:
        """The kind's own fields, shown together under "What counts as trouble"."""
        names = ["threshold", "threshold_unit", *PARAM_FIELDS]
        return [self[name] for name in names if name in self.fields]

    def common_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("for_minutes", "severity", "reminder_minutes", "label")
                if name in self.fields]


def source_kinds_text(spec: KindSpec) -> str:
    if spec.source_kinds:
        return " or ".join(REGISTRY[k].label if k in REGISTRY else k for k in spec.source_kinds)
    return spec.category or "any"


def source_help(spec: KindSpec) -> str:
    if spec.source_kinds:
        return f"Rules of this kind watch {source_kinds_text(spec)} sources."
    if kind_allows_team_scope(spec):
        return "One source, or every source of the team, including those added later."
    return "Which source this rule watches."


def rule_initial(rule: Rule) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "source": str(rule.source_id) if rule.source_id else EVERY_SOURCE, "label": rule.label,
        "severity": rule.severity, "for_minutes": rule.for_minutes,
        "threshold": f"{rule.threshold.normalize():f}" if rule.threshold is not None else None,
        "threshold_unit": rule.threshold_unit, "reminder_minutes": rule.reminder_minutes,
    }
    for field, key in PARAM_FIELDS.items():
        if key in rule.params:
            initial[field] = rule.params[key]
    return initial


# Reading RULE_KINDS ---------------------------------------------------------------------------


def kind_fields(spec: KindSpec) -> tuple[str, ...]:
    """The form fields a kind uses beyond the common ones."""
    names = [*(("for_minutes",) if spec.uses_for else ()),
             *(("threshold",) if spec.uses_threshold else ()),
             *(("threshold_unit",) if spec.units else ())]
    back = {param: field for field, param in PARAM_FIELDS.items()}
    return (*names, *(back[param] for param in spec.params if param in back))


def kind_initial(spec: KindSpec) -> dict[str, Any]:
    defaults = dict(spec.defaults)
    params = defaults.pop("params", {}) or {}
    initial = {"severity": Severity.WARNING, **defaults}
    if "hysteresis_pct" in spec.params:
        initial["hysteresis_pct"] = DEFAULT_HYSTERESIS_PCT
    for field, key in PARAM_FIELDS.items():
        if key in params:
            initial[field] = params[key]
    return initial


def kind_allows_team_scope(spec: KindSpec) -> bool:
    return Scope.TEAM in spec.scopes


def kind_sources(spec: KindSpec, *, team: Team) -> list[Source]:
    """The team's sources a rule of this kind may watch."""
    sources = Source.objects.filter(team=team).order_by("label", "pk")
    return [s for s in sources if (not spec.source_kinds or s.kind in spec.source_kinds)
            and (not spec.category or (s.kind in REGISTRY and s.kind_spec.category == spec.category))]


# Channels and silences -----------------------------------------------------------------------


class ChannelForm(forms.Form):
    label = forms.CharField(max_length=100, required=False,
                            help_text="How this channel is named here, e.g. \"Ops Telegram\". "
                                      "Empty: named after its address.")
    kind = forms.ChoiceField(
        label="Where", initial="apprise", widget=forms.RadioSelect,
        choices=[("apprise", "An Apprise URL: Telegram, Discord, Slack, ntfy, Pushover, Matrix, "
                             "webhooks and about a hundred more"),
                 ("email", "Email, through this server's mail settings"),
                 ("in_app", "In the app: kept on the Alerts page, sends nothing")])
    url = forms.CharField(
        max_length=2000, required=False, label="Apprise URL", strip=True,
        # render_value=False: the URL holds tokens; it never travels back to the browser.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="For example tgram://bottoken/ChatID, discord://webhook_id/token, "
                  "ntfys://ntfy.sh/topic or json://host/path. Stored encrypted and never shown "
                  "again; only its scheme and host are.")
    addresses = forms.CharField(
        max_length=2000, required=False, label="Email addresses",
        help_text="For email: one or more addresses, separated by commas.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == "apprise" and not data.get("url"):
            self.add_error("url", "Paste the channel's Apprise URL; see the examples below the field.")
        if kind == "email" and not data.get("addresses"):
            self.add_error("addresses", "Give at least one email address.")
        return data

    def address(self) -> str:
        """What channel_create takes as `url` for the chosen kind."""
        kind = self.cleaned_data["kind"]
        return {"apprise": self.cleaned_data["url"], "email": self.cleaned_data["addresses"]}.get(kind, "")


class SilenceForm(forms.Form):
    source = forms.ChoiceField(required=False, help_text="Quiet everything about this source.")
    rule = forms.ChoiceField(required=False, help_text="Quiet only this rule's alerts.")
    worker_pattern = forms.CharField(
        max_length=200, required=False, label="Worker name pattern",
        help_text="Quiet the workers whose name matches, e.g. rack3-* during its maintenance.")
    ends_at = forms.DateTimeField(
        label="Until", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        help_text="In the team's time zone. Alerts still change state meanwhile; nothing is sent.")
    reason = forms.CharField(max_length=300,
                             help_text="Why, for whoever wonders later, e.g. \"PSU swap in rack 3\".")

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        self.team = team
        self.zone = ZoneInfo(team.timezone)
        soon = timezone.now().astimezone(self.zone) + timedelta(hours=2)
        kwargs.setdefault("initial", {"ends_at": soon.replace(second=0, microsecond=0, tzinfo=None)})
        super().__init__(*args, **kwargs)
        sources = Source.objects.filter(team=team).order_by("label", "pk")
        source_field: Any = self.fields["source"]
        source_field.choices = [("", "Any source"), *((str(s.pk), s.label) for s in sources)]
        rules = Rule.objects.filter(team=team).select_related("source")
        rule_field: Any = self.fields["rule"]
        rule_field.choices = [("", "Any rule"), *((str(r.pk), rule_choice_label(r)) for r in rules)]

    def clean_source(self) -> Source | None:
        value = self.cleaned_data.get("source")
        return Source.objects.filter(team=self.team, pk=int(value)).first() if value else None

    def clean_rule(self) -> Rule | None:
        value = self.cleaned_data.get("rule")
        return Rule.objects.filter(team=self.team, pk=int(value)).first() if value else None

    def clean_ends_at(self) -> datetime:
        value: datetime = self.cleaned_data["ends_at"]
        # The browser sends the wall time the user read in the team's zone, not the server's.
        # Django made it aware in the server's zone: keep the wall time, take the team's zone.
        naive = value if timezone.is_naive(value) else timezone.make_naive(value)
        local = naive.replace(tzinfo=self.zone)
        if local <= timezone.now():
            raise ValidationError("Pick a time in the future: a silence that already ended quiets nothing.")
        return local

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("source") or data.get("rule") or data.get("worker_pattern")):
            raise ValidationError("Say what to silence: a source, a rule or a worker name pattern "
                                  "(or several: all of them must match).")
        return data


def rule_choice_label(rule: Rule) -> str:
    text = rule_describe(rule)
    return text if rule.enabled else f"{text} (disabled)"
