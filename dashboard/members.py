"""Team administration: invitations, members and their roles, API token revocation,
password changes. Each write leaves an audit event; none carries a secret."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from dashboard.audit import audit_record
from dashboard.models import ApiToken, Invitation, Membership, Role, Team, hash_token

INVITATION_LIFETIME = timedelta(days=7)
LAST_OWNER_MESSAGE = "{team} needs at least one owner. Make someone else an owner first."


def invitation_create(
    *,
    team: Team,
    email: str,
    role: str,
    accept_url: Callable[[str], str],
    actor: Any,
    request: HttpRequest | None = None,
) -> Invitation:
    """Store the invitation and mail its link; `accept_url` turns the token into that link,
    which exists nowhere else once the mail is sent."""
    email = email.strip().lower()
    problems = invitation_problems(team=team, email=email, role=role)
    if problems:
        raise ValidationError(problems)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        team=team, email=email, role=role, token_hash=hash_token(token), invited_by=actor,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    context = {"invitation": invitation, "inviter": actor.get_username(),
               "link": accept_url(token), "days": INVITATION_LIFETIME.days}
    send_mail(
        subject=f"You are invited to {team.name} on Hashwatch",
        message=render_to_string("dashboard/invitation_email.txt", context),
        from_email=None, recipient_list=[email],
    )
    audit_record(team=team, actor=actor, action="member.invited", target=email,
                 detail={"invitation_id": invitation.pk, "role": role}, request=request)
    return invitation


def invitation_problems(*, team: Team, email: str, role: str) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except ValidationError:
        problems["email"] = ["enter an email address like name@example.com"]
    else:
        if team.memberships.filter(user__email__iexact=email).exists():
            problems["email"] = [f"someone with {email} is already a member of {team}"]
        elif invitations_pending(team=team).filter(email=email).exists():
            problems["email"] = [f"{email} already has a pending invitation; revoke it to "
                                 "send a new one"]
    if role not in Role.values:
        problems["role"] = [f"choose one of {', '.join(Role.values)}"]
    return problems


def invitations_pending(*, team: Team) -> Any:
    return team.invitations.filter(accepted_at__isnull=True, expires_at__gt=timezone.now())


def invitation_get_by_token(*, token: str) -> Invitation | None:
    return Invitation.objects.select_related("team").filter(token_hash=hash_token(token)).first()


def invitation_accept(
    *, invitation: Invitation, user: Any, request: HttpRequest | None = None
) -> Membership:
    """Single use: the row is locked, so two clicks on one link make one membership."""
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise ValidationError("This invitation has already been used. Ask a team owner "
                                  "for a new one.")
        if locked.expired:
            raise ValidationError("This invitation has expired. Ask a team owner for a new one.")
        locked.accepted_at, locked.accepted_by = timezone.now(), user
        locked.save(update_fields=["accepted_at", "accepted_by"])
        membership, created = Membership.objects.get_or_create(
            team=locked.team, user=user, defaults={"role": locked.role}
        )
    if created:
        audit_record(team=locked.team, actor=user, action="member.joined",
                     target=user.get_username(),
                     detail={"invitation_id": locked.pk, "role": locked.role}, request=request)
    return membership


def invitation_revoke(
    *, invitation: Invitation, actor: Any, request: HttpRequest | None = None
) -> None:
    audit_record(team=invitation.team, actor=actor, action="invitation.revoked",
                 target=invitation.email, detail={"invitation_id": invitation.pk},
                 request=request)
    invitation.delete()


def _ensure_another_owner(membership: Membership) -> None:
    """Called inside a transaction: the owners are locked, so two owners demoting each other
    at the same moment cannot leave the team with none."""
    if membership.role != Role.OWNER:
        return
    owners = list(
        Membership.objects.select_for_update().filter(team=membership.team_id, role=Role.OWNER)
    )
    if len(owners) <= 1:
        raise ValidationError(LAST_OWNER_MESSAGE.format(team=membership.team))


def member_set_role(
    *, membership: Membership, role: str, actor: Any, request: HttpRequest | None = None
) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": [f"choose one of {', '.join(Role.values)}"]})
    old = membership.role
    if old == role:
        return membership
    with transaction.atomic():
        if role != Role.OWNER:
            _ensure_another_owner(membership)
        membership.role = role
        membership.save(update_fields=["role"])
    audit_record(team=membership.team, actor=actor, action="member.role_changed",
                 target=membership.user.get_username(), detail={"from": old, "to": role},
                 request=request)
    return membership


def member_remove(
    *, membership: Membership, actor: Any, request: HttpRequest | None = None
) -> None:
    leaving = membership.user_id == getattr(actor, "pk", None)
    with transaction.atomic():
        _ensure_another_owner(membership)
        membership.delete()
    audit_record(team=membership.team, actor=actor,
                 action="member.left" if leaving else "member.removed",
                 target=membership.user.get_username(), detail={"role": membership.role},
                 request=request)


def apitoken_revoke(*, token: ApiToken, actor: Any, request: HttpRequest | None = None) -> None:
    if token.revoked_at is not None:
        return
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(team=token.team, actor=actor, action="apitoken.revoked", target=token.name,
                 detail={"prefix": token.prefix}, request=request)


def password_changed_record(*, user: Any, how: str, request: HttpRequest | None = None) -> None:
    """A password belongs to a person, not a team: every team they are in sees the event."""
    for membership in Membership.objects.filter(user=user).select_related("team"):
        audit_record(team=membership.team, actor=user, action="password.changed",
                     target=user.get_username(), detail={"how": how}, request=request)

