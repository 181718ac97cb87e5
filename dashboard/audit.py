"""Audit events: who did what to a team, from where. Never a secret in `detail`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from ipware.ip import get_client_ip

from dashboard.models import AuditEvent, Team


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the outermost of TRUSTED_PROXY_COUNT proxies saw it: the
    TRUSTED_PROXY_COUNT-th entry of X-Forwarded-For from the right, each proxy having added
    the address it was reached from. Entries further left are whatever the client wrote, and
    are ignored. The sign-in lockout keys on this too (AXES_CLIENT_IP_CALLABLE)."""
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    # ipware counts the proxies listed in the header, and the nearest one is not listed
    # there (it is REMOTE_ADDR): one fewer. Not strict, so a longer header is fine.
    address, _ = get_client_ip(request, proxy_count=proxies - 1, strict=False,
                               request_header_order=["HTTP_X_FORWARDED_FOR"])
    # A request that came round the proxies (a probe, a misconfiguration) has no usable
    # X-Forwarded-For: the socket's address is the best there is.
    return address or remote


def audit_record(
    *,
    team: Team,
    action: str,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    target: str = "",
    detail: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    user: Any = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
        team=team,
        actor=user,
        actor_label=user.get_username() if user else "system",
        action=action,
        target=target[:200],
        detail=detail or {},
        ip=client_ip(request),
    )
