"""Audit events: who did what to a team, from where. Never a secret in `detail`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest

from dashboard.models import AuditEvent, Team


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


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
