""""Poll now" respects what the scheduler respects: a disabled source, an upstream's request
to wait (Retry-After), a refused key, and a per-source cooldown kept in the database so every
web process sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from dashboard.models import Source


@dataclass(frozen=True)
class Refusal:
    message: str
    # disabled | wait (Retry-After) | refused (a refused key: retried only when confirmed) |
    # busy (being polled) | cooldown
    reason: str
    # The few words a table cell has room for; the message when empty.
    short: str = ""

    @property
    def lasting(self) -> bool:
        """Whether it holds long enough for pages to show it instead of the button."""
        return self.reason in ("disabled", "wait", "refused")


def local_time(moment: datetime, *, source: Source, now: datetime) -> str:
    """14:45 in the team's zone (with the date when it is not today there)."""
    zone = ZoneInfo(source.team.timezone or "UTC")
    local, today = moment.astimezone(zone), now.astimezone(zone)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def source_poll_now_refusal(
    *, source: Source, now: datetime, confirm_retry: bool = False
) -> Refusal | None:
    """Why "Poll now" may not poll this source now, in words; None when it may."""
    if not source.enabled:
        return Refusal(f"{source.label} is disabled, so it is not polled; enable it in its "
                       "settings first.", "disabled")
    if source.wait_until and source.wait_until > now:
        asked = (f"{source.kind_label} asked us to wait until "
                 f"{local_time(source.wait_until, source=source, now=now)}")
        return Refusal(f"{asked}; {source.label} will be polled then.", "wait", asked)
    if source.error_is_permanent and not confirm_retry:
        return Refusal(f"Polling {source.label} is paused: {source.kind_label} refused its "
                       f"settings ({source.last_error}). Edit the source, or confirm a retry "
                       "with the same key.", "refused")
    if source.claimed_until and source.claimed_until > now:
        return Refusal(f"{source.label} is being polled right now; its result appears here "
                       "shortly.", "busy")
    cooldown = timedelta(seconds=settings.POLL_NOW_COOLDOWN_SECONDS)
    if source.poll_requested_at and source.poll_requested_at + cooldown > now:
        return cooldown_refusal(source=source, now=now)
    return None


def cooldown_refusal(*, source: Source, now: datetime) -> Refusal:
    cooldown = timedelta(seconds=settings.POLL_NOW_COOLDOWN_SECONDS)
    requested = source.poll_requested_at or now
    left = max(1, int((requested + cooldown - now).total_seconds()))
    return Refusal(f"A poll of {source.label} was requested moments ago; Poll now can be "
                   f"pressed again in {left} s.", "cooldown")


def source_poll_now_request(
    *, source: Source, now: datetime, confirm_retry: bool = False
) -> Refusal | None:
    """Take the source's "Poll now" slot, or say why not. The conditional UPDATE makes two
    presses at once (two tabs, two web processes) queue one poll."""
    refusal = source_poll_now_refusal(source=source, now=now, confirm_retry=confirm_retry)
    if refusal:
        return refusal
    cooldown = timedelta(seconds=settings.POLL_NOW_COOLDOWN_SECONDS)
    taken = Source.objects.filter(
        Q(poll_requested_at__isnull=True) | Q(poll_requested_at__lte=now - cooldown),
        pk=source.pk,
    ).update(poll_requested_at=now)
    if not taken:
        source.refresh_from_db(fields=["poll_requested_at"])
        return cooldown_refusal(source=source, now=now)
    source.poll_requested_at = now
    return None


def source_poll_now_release(*, source: Source, requested_at: datetime) -> None:
    """Give the slot back when the poll could not be queued (the broker is away), so the
    next press is not refused for a poll that never happened."""
    Source.objects.filter(pk=source.pk, poll_requested_at=requested_at).update(poll_requested_at=None)
    source.poll_requested_at = None
