from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from dashboard.crypto import EncryptedJSONField


class Team(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True)
    timezone = models.CharField(
        max_length=64, default="UTC", help_text="Used for display and for what 'today' means."
    )
    require_2fa = models.BooleanField(
        "Require two-factor sign-in", default=False,
        help_text="Members without an authenticator app set up are sent to set one up first.",
    )
    # The default for pool sources that set no electricity price of their own.
    electricity_price = models.DecimalField(
        "Electricity price per kWh", max_digits=20, decimal_places=8, null=True, blank=True,
        help_text="What a kWh costs the team; a pool source's own price overrides it. "
                  "Empty: no energy cost is computed.",
    )
    electricity_currency = models.CharField(
        max_length=10, blank=True, help_text="The currency of the electricity price, e.g. BRL or USD.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    VIEWER = "viewer", "Viewer"


ROLE_RANK = {Role.VIEWER: 0, Role.ADMIN: 1, Role.OWNER: 2}


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_team_user_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]

    @property
    def can_manage_sources(self) -> bool:
        return self.has_role(Role.ADMIN)


class Health(models.TextChoices):
    OK = "ok", "OK"
    ERROR = "error", "Error"
    STALE = "stale", "Stale"
    DISABLED = "disabled", "Disabled"
    # Added and not polled yet: nothing is wrong, and nothing is known either.
    PENDING = "pending", "Pending"


class Source(models.Model):
    """One upstream account (or public feed) of a team, polled on its own schedule."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="sources")
    kind = models.CharField(max_length=32)
    label = models.CharField(max_length=100)
    base_url = models.CharField(
        max_length=300,
        blank=True,
        help_text="Leave empty for the provider's documented address.",
    )
    options = models.JSONField(default=dict, blank=True)
    credentials = EncryptedJSONField(blank=True, default="")
    credentials_changed_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    interval = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(15)], help_text="Seconds between polls."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Poll state, written only by dashboard.polling.
    next_poll_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # Fences the lease: only the poll holding this token may store its results, record its
    # run or release the claim, so a poll whose lease was taken over cannot overwrite the next.
    claim_token = models.CharField(max_length=32, blank=True)
    # The upstream asked us (Retry-After) not to call before this time; "Poll now" respects it.
    wait_until = models.DateTimeField(null=True, blank=True)
    # The last "Poll now", kept in the database so its cooldown holds across web processes.
    poll_requested_at = models.DateTimeField(null=True, blank=True)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # A permanent error (rejected key, documented fatal code) stops automatic polls until
    # somebody edits the source; retrying a wrong key only gets an account locked.
    error_is_permanent = models.BooleanField(default=False)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["label", "id"]
        indexes = [models.Index(fields=["enabled", "next_poll_at"], name="source_due_idx")]
        constraints = [
            models.UniqueConstraint(fields=["team", "label"], name="source_team_label_unique")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def kind_spec(self) -> Any:
        from dashboard.sources import get_kind

        return get_kind(self.kind)

    @property
    def kind_label(self) -> str:
        from dashboard.sources import REGISTRY

        spec = REGISTRY.get(self.kind)
        return spec.label if spec else self.kind

    @property
    def effective_base_url(self) -> str:
        return (self.base_url or self.kind_spec.default_base_url(self.options)).rstrip("/")

    @property
    def stale_after(self) -> timedelta:
        return timedelta(seconds=self.interval * 2.5)

    def health(self, now: Any = None) -> Health:
        now = now or timezone.now()
        if not self.enabled:
            return Health.DISABLED
        if self.last_error_at and (
            not self.last_success_at or self.last_error_at >= self.last_success_at
        ):
            return Health.ERROR
        if self.last_success_at is None:
            # Staleness is measured from a success; before the first poll there is none to
            # be late after, so a new source waits instead of alarming.
            return Health.STALE if self.polled else Health.PENDING
        if now - self.last_success_at > self.stale_after:
            return Health.STALE
        return Health.OK

    def first_poll_overdue(self, now: Any = None) -> bool:
        """Still waiting for a first poll long after it was due: the workers may be down."""
        now = now or timezone.now()
        return self.health(now) == Health.PENDING and now - self.created_at > self.stale_after

    @property
    def polled(self) -> bool:
        return self.last_poll_at is not None or self.last_error_at is not None

    @property
    def status(self) -> str:
        return self.health().value


class PollRun(models.Model):
    class Outcome(models.TextChoices):
        OK = "ok", "OK"
        TRANSIENT = "transient", "Temporary error"
        PERMANENT = "permanent", "Permanent error"
        SCHEMA = "schema", "Unexpected answer"
        INTERNAL = "internal", "Internal error"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="poll_runs")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    message = models.TextField(blank=True)
    rows = models.JSONField(default=dict, blank=True)
    trigger = models.CharField(max_length=20, default="schedule")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["source", "-started_at"], name="pollrun_source_recent_idx")]

    def __str__(self) -> str:
        return f"{self.source} at {self.started_at:%Y-%m-%d %H:%M:%S}: {self.outcome}"

    @property
    def ok(self) -> bool:
        return self.outcome == self.Outcome.OK

    @property
    def row_total(self) -> int:
        return sum(v for v in self.rows.values() if isinstance(v, int))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for /api/v1/, scoped to one team; only its hash is stored."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise it.")
    token_hash = models.CharField(max_length=64, unique=True)
    read_only = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditEvent(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(max_length=150, blank=True, help_text="Who, kept if deleted.")
    action = models.CharField(
        max_length=50, validators=[RegexValidator(r"^[a-z_.]+$")], db_index=True
    )
    target = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["team", "-created_at"], name="audit_team_recent_idx")]

    def __str__(self) -> str:
        return f"{self.actor_label or 'system'} {self.action} {self.target}"


class Invitation(models.Model):
    """A one-time link that lets whoever holds it join a team; only its hash is stored."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} to {self.team} ({self.role})"

    @property
    def expired(self) -> bool:
        return self.accepted_at is None and timezone.now() >= self.expires_at

    @property
    def pending(self) -> bool:
        return self.accepted_at is None and not self.expired


class TotpDevice(models.Model):
    """A user's authenticator app (RFC 6238). The secret is encrypted and never shown again
    once confirmed; last_used_step keeps a code from being accepted twice."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device"
    )
    secret = EncryptedJSONField(help_text='{"base32": ...}, encrypted at rest.')
    confirmed = models.BooleanField(default=False)
    last_used_step = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Authenticator of {self.user}"


class RecoveryCode(models.Model):
    """A one-time code that stands in for the authenticator when the phone is lost. Only a
    keyed hash is stored (dashboard/recovery.py); a used code keeps its row, so the page can
    say how many are left and the audit trail when one was used."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="recoverycode_user_hash_unique"),
        ]

    def __str__(self) -> str:
        return f"Recovery code of {self.user}{' (used)' if self.used_at else ''}"


class SecondFactorReset(models.Model):
    """An owner removed a member's authenticator (the phone was lost): the member is told so
    at their next sign-in, once, and asked to set it up again."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="second_factor_reset"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    reset_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reset_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Second factor of {self.user} reset"
