"""Where alert messages go: the channel services, their validation, and the list.

Three kinds of channel:

- `apprise`: an Apprise URL (json://, ntfys://, tgram://, mailtos://, ... about a hundred
  services). The URL holds tokens: it is stored encrypted (`secret["url"]`), never shown back,
  and never written to a log or an error message; `hint` (scheme and host, when the host is a
  real host name rather than a token) is what people see.
- `email`: addresses (`secret["to"]`), sent through Django's own email settings
  (EMAIL_BACKEND, EMAIL_HOST...), for installs that already have a mail relay configured.
- `in_app`: no address; its messages are kept for the Alerts page.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import apprise
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from alerts.delivery import deliveries_send, delivery_queue_test
from alerts.models import Channel, ChannelStatus, Delivery
from alerts.transports import APPRISE, EMAIL, IN_APP, apprise_records, scrub, url_hint
from dashboard.audit import audit_record
from dashboard.models import Team

KINDS = {APPRISE: "Apprise URL", EMAIL: "Email (this server's mail settings)", IN_APP: "In the app"}
MAX_EMAIL_ADDRESSES = 20


# Validation --------------------------------------------------------------------------------


def channel_validate(url: str) -> str:
    """The display hint of a usable Apprise URL, or ValidationError saying what is wrong
    (the message never repeats the URL's tokens)."""
    url = (url or "").strip()
    if not url:
        raise ValidationError("Enter an Apprise URL, such as json://host/path or ntfys://ntfy.sh/topic.")
    scheme, sep, _ = url.partition("://")
    if not sep or not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9+.-]*", scheme):
        raise ValidationError(
            "This is not an Apprise URL: it must start with a service's scheme and ://, "
            "such as json://, ntfys://, tgram:// or mailtos://.")
    scheme = scheme.lower()
    manager = apprise.manager_plugins.NotificationManager()
    if scheme not in manager:
        raise ValidationError(
            f"Apprise knows no service with the scheme {scheme}://; see "
            "https://github.com/caronc/apprise/wiki for the list.")
    if not manager[scheme].enabled:
        raise ValidationError(
            f"{scheme}:// needs a library this server does not have installed.")
    with apprise_records() as records:
        try:
            plugin = apprise.Apprise.instantiate(url, suppress_exceptions=False)
        except Exception as exc:  # Apprise raises TypeError and its own kinds for bad parts
            reason = scrub(str(exc), url) or "it is incomplete"
            raise ValidationError(f"Apprise cannot use this {scheme}:// URL: {reason}") from None
    if plugin is None:
        errors = [message for level, message in records if level >= logging.WARNING]
        said = scrub(errors[-1], url) if errors else "it is incomplete"
        raise ValidationError(f"Apprise cannot use this {scheme}:// URL: {said}")
    return url_hint(url)


def emails_validate(addresses: str | list[str]) -> list[str]:
    """The addresses of an email channel, from a comma- or space-separated string."""
    if isinstance(addresses, str):
        items = [a for a in re.split(r"[,;\s]+", addresses.removeprefix("mailto:")) if a]
    else:
        items = [a.strip() for a in addresses if a.strip()]
    if not items:
        raise ValidationError("Enter at least one email address.")
    if len(items) > MAX_EMAIL_ADDRESSES:
        raise ValidationError(f"At most {MAX_EMAIL_ADDRESSES} addresses per channel.")
    for item in items:
        try:
            validate_email(item)
        except ValidationError:
            raise ValidationError(f"{item!r} is not an email address.") from None
    return list(dict.fromkeys(items))


@dataclass(frozen=True)
class ChannelTarget:
    secret: dict[str, Any]
    hint: str
    label: str


def channel_target(*, kind: str, url: str) -> ChannelTarget:
    """What a channel of `kind` stores for `url`, or ValidationError saying what to fix."""
    if kind == APPRISE:
        hint = channel_validate(url)
        return ChannelTarget({"url": url.strip()}, hint, hint)
    if kind == EMAIL:
        to = emails_validate(url)
        hint = f"email to {to[0]}" + (f" and {len(to) - 1} more" if len(to) > 1 else "")
        return ChannelTarget({"to": to}, hint, f"Email to {to[0]}")
    if kind == IN_APP:
        if url:
            raise ValidationError("An in-app channel takes no URL.")
        return ChannelTarget({}, "in the app", "In the app")
    raise ValidationError(f"Unknown channel kind {kind!r}; use one of: {', '.join(KINDS)}.")


def _clean_label(label: str, default: str) -> str:
    label = (label or "").strip() or default
    if len(label) > 100:
        raise ValidationError("The label is longer than 100 characters.")
    return label


# Services --------------------------------------------------------------------------------


def channel_create(*, team: Team, url: str = "", label: str = "", kind: str = APPRISE,
                   actor: Any = None, request: HttpRequest | None = None) -> Channel:
    target = channel_target(kind=kind, url=url)
    label = _clean_label(label, target.label)
    with transaction.atomic():
        channel = Channel.objects.create(
            team=team, kind=kind, label=label, secret=target.secret, hint=target.hint,
            created_by=actor if actor is not None and actor.is_authenticated else None)
        audit_record(team=team, actor=actor, action="alerts.channel_added", target=label,
                     detail={"kind": kind, "hint": target.hint}, request=request)
    return channel


def channel_update(*, channel: Channel, label: str | None = None, url: str | None = None,
                   actor: Any = None, request: HttpRequest | None = None) -> Channel:
    """Rename, or replace the address (a new address starts afresh: status ok)."""
    changed: list[str] = []
    if label is not None and label.strip() != channel.label:
        channel.label = _clean_label(label, channel.label)
        changed.append("label")
    if url:
        target = channel_target(kind=channel.kind, url=url)
        channel.secret, channel.hint = target.secret, target.hint
        channel.status, channel.last_error, channel.last_error_at = ChannelStatus.OK, "", None
        changed += ["secret", "hint", "status", "last_error", "last_error_at"]
    if not changed:
        return channel
    with transaction.atomic():
        channel.save(update_fields=changed)
        audit_record(team=channel.team, actor=actor, action="alerts.channel_edited",
                     target=channel.label,
                     detail={"fields": [f for f in changed if f in ("label", "secret")],
                             "hint": channel.hint}, request=request)
    return channel


def channel_set_enabled(*, channel: Channel, enabled: bool, actor: Any = None,
                        request: HttpRequest | None = None) -> Channel:
    """Turn a channel on or off. Turning a broken channel on again gives it a fresh start."""
    channel.enabled = enabled
    fields = ["enabled"]
    if enabled and channel.status != ChannelStatus.OK:
        channel.status = ChannelStatus.OK
        fields.append("status")
    with transaction.atomic():
        channel.save(update_fields=fields)
        audit_record(team=channel.team, actor=actor,
                     action="alerts.channel_enabled" if enabled else "alerts.channel_disabled",
                     target=channel.label, request=request)
    return channel


def channel_delete(*, channel: Channel, actor: Any = None, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        audit_record(team=channel.team, actor=actor, action="alerts.channel_deleted",
                     target=channel.label, detail={"kind": channel.kind, "hint": channel.hint},
                     request=request)
        channel.delete()


def channel_test(*, channel: Channel, actor: Any = None, request: HttpRequest | None = None) -> Delivery:
    """Queue a test message to this channel and send it at once (one attempt, no retries);
    the Delivery comes back with its status and, if it failed, the error."""
    delivery = delivery_queue_test(channel=channel)
    audit_record(team=channel.team, actor=actor, action="alerts.channel_tested",
                 target=channel.label, request=request)
    deliveries_send(ids=[delivery.pk])
    delivery.refresh_from_db()
    return delivery


# Selectors -------------------------------------------------------------------------------


def channels_for_team(*, team: Team) -> QuerySet[Channel]:
    return Channel.objects.filter(team=team).order_by("label", "id")


