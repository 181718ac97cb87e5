"""Rules, the alerts they raise, where they are sent, and what was sent.

A rule watches one source (or every source of its team, where its kind allows). Evaluating it
yields subjects (a worker, a source, a product, an exchanger direction) that are in trouble or
not; each subject in trouble has one open Alert row (pending, then firing), which becomes
history once resolved. A later episode of the same trouble is a new row, so the history keeps
every episode with its times. Messages go through Channels (an Apprise URL, encrypted like the
source keys), one Delivery per channel and message, which is also the delivery log.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from dashboard.crypto import EncryptedJSONField
from dashboard.models import Source, Team


class RuleKind(models.TextChoices):
    WORKER_OFFLINE = "worker_offline", "Worker offline"
    HASHRATE_DROP = "hashrate_drop", "Hashrate drop"
    WORKERS_ONLINE_BELOW = "workers_online_below", "Workers online below"
    SOURCE_UNHEALTHY = "source_unhealthy", "Source unhealthy"
    PAYOUT = "payout", "Payout arrived"
    NO_PAYOUT = "no_payout", "No payout"
    PRICE = "price", "Price"
    RESERVE_LOW = "reserve_low", "Exchanger reserve low"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class Scope(models.TextChoices):
    SOURCE = "source", "One source"
    TEAM = "team", "Every source of the team"


class Rule(models.Model):
    """What to watch and when to speak.

    `threshold` means, by kind: workers (workers_online_below), an absolute hashrate in
    `threshold_unit` or a percentage of the trailing 24 h average when the unit is "%"
    (hashrate_drop), days (no_payout), a price level or a spread in % (price), an amount
    (reserve_low). Kind-specific settings live in `params`: `name_pattern` (worker rules, a
    shell-style pattern), `coin` (team-wide hashrate per coin), `product` and `condition`
    ("above", "below", "spread_above") for price, `from`/`to` for reserve_low, and
    `hysteresis_pct` (how far past the line a value must come back before it resolves).
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="alert_rules")
    kind = models.CharField(max_length=32, choices=RuleKind.choices)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.SOURCE)
    # SET_NULL, not CASCADE: a rule whose source is deleted stays, disabled with a note, so the
    # team sees what it no longer watches (a scope "source" rule without a source never runs).
    source = models.ForeignKey(
        Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="alert_rules")
    label = models.CharField(max_length=100, blank=True, help_text="Blank: described from the kind.")
    enabled = models.BooleanField(default=True)
    disabled_note = models.CharField(max_length=300, blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.WARNING)
    for_minutes = models.PositiveIntegerField(
        default=0, help_text="How long the trouble must last before the alert fires.")
    threshold = models.DecimalField(max_digits=30, decimal_places=12, null=True, blank=True)
    threshold_unit = models.CharField(max_length=8, blank=True)
    params = models.JSONField(default=dict, blank=True)
    reminder_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Repeat while firing, every this many minutes. Blank: never.")
    # What evaluation has already seen, so it speaks once about each thing: for payout
    # rules, {"payout_id": N}, the newest payout row already announced (or already stored
    # when the rule was added, so a new rule does not announce the whole history).
    cursor = models.JSONField(default=dict, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "id"]
        indexes = [models.Index(fields=["team", "enabled"])]

    def __str__(self) -> str:
        return self.label or self.get_kind_display()


class AlertState(models.TextChoices):
    PENDING = "pending", "Pending"
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"


class Alert(models.Model):
    """One episode of one rule's trouble with one subject."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="alerts")
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="alerts")
    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts")
    # A stable key within the rule ("worker:55x1", "source:12", "product:BTCBRL",
    # "direction:BTC>USDT"); `subject` is what people read (the worker's name, the label).
    subject_key = models.CharField(max_length=300)
    subject = models.CharField(max_length=300)
    state = models.CharField(max_length=8, choices=AlertState.choices, default=AlertState.PENDING)
    pending_since = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True, help_text="When it fired.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    value = models.CharField(max_length=100, blank=True, help_text="The last value seen, with its unit.")
    message = models.CharField(max_length=500, blank=True, help_text="The trouble in words.")
    last_seen_at = models.DateTimeField(default=timezone.now, help_text="Last evaluation that saw it.")
    notified_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    resolve_notified_at = models.DateTimeField(null=True, blank=True)
    flapping = models.BooleanField(default=False)
    silenced = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at", "-pending_since", "-id"]
        constraints = [
            # Never two open episodes of the same rule and subject, whoever evaluates.
            models.UniqueConstraint(
                fields=["rule", "subject_key"], condition=~Q(state="resolved"),
                name="alerts_one_open_per_rule_subject"),
        ]
        indexes = [
            models.Index(fields=["team", "state"]),
            models.Index(fields=["source", "state"]),
            models.Index(fields=["rule", "subject_key", "resolved_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.rule}: {self.subject} ({self.state})"


class ChannelStatus(models.TextChoices):
    OK = "ok", "Working"
    FAILING = "failing", "Failing, retrying"
    BROKEN = "broken", "Gave up"


class Channel(models.Model):
    """Where messages go. `secret["url"]` is the Apprise URL (it holds tokens), encrypted at
    rest and never shown back; `hint` is its scheme and host, for telling channels apart.
    Kind "in_app" has no URL: its messages are kept for the Alerts page."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="alert_channels")
    kind = models.CharField(max_length=16, default="apprise")
    label = models.CharField(max_length=100)
    secret = EncryptedJSONField(blank=True)
    hint = models.CharField(max_length=200, blank=True)
    enabled = models.BooleanField(default=True)
    status = models.CharField(max_length=8, choices=ChannelStatus.choices, default=ChannelStatus.OK)
    last_delivery_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label", "id"]

    def __str__(self) -> str:
        return self.label


class Silence(models.Model):
    """Quiet for a while: alerts that match still change state but send nothing."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="alert_silences")
    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    worker_pattern = models.CharField(max_length=200, blank=True)
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ends_at", "-id"]

    def __str__(self) -> str:
        return self.reason


class DeliveryKind(models.TextChoices):
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"
    REMINDER = "reminder", "Reminder"
    FLAPPING = "flapping", "Flapping"
    INFO = "info", "Info"
    TEST = "test", "Test message"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    RETRYING = "retrying", "Retrying"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One message to one channel: the outbox and the delivery log in one.

    Written in the evaluation's transaction, sent after it: a sender claims a row with a
    conditional update on (status, claim_token), so two workers never send it twice."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="alert_deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=10, choices=DeliveryKind.choices)
    title = models.CharField(max_length=250)
    body = models.TextField()
    alerts = models.ManyToManyField(Alert, blank=True, related_name="deliveries")
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["channel", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.channel} ({self.status})"


class TeamEvaluation(models.Model):
    """A team's evaluation bookkeeping; its row is locked while one worker evaluates the
    team, so two workers evaluating at once take turns instead of both sending."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="alert_evaluation")
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    last_payout_seen_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"evaluation of {self.team}"
