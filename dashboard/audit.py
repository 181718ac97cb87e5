"""Audit events: who did what to a team, from where. Never a secret in `detail`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from ipware.ip import get_client_ip

from dashboard.models import AuditEvent, Team


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address, through TRUSTED_PROXY_COUNT proxies (see settings). The sign-in
    lockout keys on it too (AXES_CLIENT_IP_CALLABLE), so the audit log names the same address."""
    if request is None:
        return None
    address, _ = get_client_ip(request, proxy_count=settings.AXES_IPWARE_PROXY_COUNT,
                               request_header_order=settings.AXES_IPWARE_META_PRECEDENCE_ORDER)
    # A request that came round the proxies (a probe, a misconfiguration) has no usable
    # X-Forwarded-For: the socket's address is the best there is.
    return address or request.META.get("REMOTE_ADDR") or None


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
