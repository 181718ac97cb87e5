"""Team administration pages: members and invitations, the audit log, API tokens, and the
password pages Django provides, wired to our templates and audit log."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from dashboard import members, services
from dashboard.auth import unlock
from dashboard.models import (
    ApiToken,
    AuditEvent,
    Invitation,
    Membership,
    Role,
    Team,
    TotpDevice,
)
from dashboard.pages import page
from dashboard.registries import audit_groups
from dashboard.teams import SESSION_TEAM_KEY, team_view

AUDIT_PAGE_SIZE = 50
AUDIT_GROUPS = [
    ("member.", "Members"),
    ("invitation.", "Invitations"),
    ("source.", "Sources"),
    ("apitoken.", "API tokens"),
    ("password.", "Passwords"),
    ("auth.", "Sign-ins"),
    ("upstream.", "Pool actions"),
    ("team.", "Team settings"),
]
# What each action says in the audit log; {names} come from the event's detail.
AUDIT_SENTENCES = {
    "member.invited": "invited someone as {role}",
    "member.joined": "joined the team as {role}",
    "member.role_changed": "changed a role from {from} to {to}",
    "member.removed": "removed a member",
    "member.left": "left the team",
    "invitation.revoked": "revoked an invitation",
    "password.changed": "changed their password ({how})",
    "apitoken.created": "created an API token ({prefix}…)",
    "apitoken.revoked": "revoked an API token ({prefix}…)",
    "auth.signin": "signed in",
    "auth.signin_failed": "failed to sign in ({reason})",
    "auth.locked": "was locked out after failed sign-ins",
    "auth.2fa_enabled": "turned on two-factor sign-in",
    "auth.2fa_disabled": "turned off two-factor sign-in",
    "auth.recovery_code_used": "signed in with a recovery code ({left} left)",
    "auth.recovery_codes_regenerated": "made new recovery codes (the old ones stopped working)",
    "member.2fa_reset": "reset a member's two-factor sign-in",
    "team.edited": "edited the team settings ({fields})",
    "source.added": "added a source",
    "source.edited": "edited a source ({fields})",
    "source.credentials_replaced": "replaced a source's credentials ({fields})",
    "source.enabled": "enabled a source",
    "source.disabled": "disabled a source",
    "source.deleted": "deleted a source and its data",
    "source.poll_requested": "asked for a poll",
}


class _Detail(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def audit_group_choices() -> list[tuple[str, str]]:
    """The audit log's filter: the core's groups, then the feature apps'."""
    return AUDIT_GROUPS + [(group.name, group.label) for group in audit_groups()]


def audit_sentence(event: AuditEvent) -> str:
    template = AUDIT_SENTENCES.get(event.action)
    if template is None:
        for group in audit_groups():
            if event.action.startswith(group.name):
                template = group.sentences.get(event.action)
                break
    if template is None:
        return event.action
    detail = _Detail({
        key: ", ".join(map(str, value)) if isinstance(value, list) else value
        for key, value in (event.detail or {}).items()
    })
    return template.format_map(detail)


def service_errors(form: BaseForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, error.messages)


# Members and invitations


class InviteForm(forms.Form):
    email = forms.EmailField(help_text="The link goes to this address and works once, "
                                       f"for {members.INVITATION_LIFETIME.days} days.")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


def members_page(request: HttpRequest, invite_form: InviteForm | None = None) -> HttpResponse:
    team: Team = request.team  # type: ignore[attr-defined]
    context = {
        "members": team.memberships.select_related("user").order_by("role", "user__username"),
        "roles": Role.choices,
        "is_owner": request.membership.role == Role.OWNER,  # type: ignore[attr-defined]
        "invite_form": invite_form or InviteForm(),
        "invitations": members.invitations_pending(team=team).select_related("invited_by"),
        "two_factor_ids": set(TotpDevice.objects.filter(
            user__memberships__team=team, confirmed=True).values_list("user_id", flat=True)),
    }
    return render(request, "dashboard/members.html", context)


@team_view()
def settings_members(request: HttpRequest) -> HttpResponse:
    return members_page(request)


@require_POST
@team_view(Role.OWNER)
def settings_members_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = members.invitation_create(
                team=request.team, email=form.cleaned_data["email"],  # type: ignore[attr-defined]
                role=form.cleaned_data["role"], actor=request.user, request=request,
                accept_url=lambda token: request.build_absolute_uri(
                    reverse("invitation_accept", args=[token])),
            )
        except ValidationError as error:
            service_errors(form, error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("settings_members")
    return members_page(request, form)


def team_membership(request: HttpRequest, pk: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "team"), team=request.team, pk=pk  # type: ignore[attr-defined]
    )


@require_POST
@team_view(Role.OWNER)
def settings_member_role(request: HttpRequest, pk: int) -> HttpResponse:
    membership = team_membership(request, pk)
    try:
        members.member_set_role(membership=membership, role=request.POST.get("role", ""),
                                actor=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{membership.user.get_username()} is now "
                                  f"{membership.get_role_display().lower()}.")
    return redirect("settings_members")


@require_POST
@team_view(Role.OWNER)
def settings_member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = team_membership(request, pk)
    if membership.user_id == request.user.pk:
        return settings_member_leave(request)
    try:
        members.member_remove(membership=membership, actor=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{membership.user.get_username()} was removed from "
                                  f"{membership.team}.")
    return redirect("settings_members")


@require_POST
@team_view()
def settings_member_leave(request: HttpRequest) -> HttpResponse:
    membership = team_membership(request, request.membership.pk)  # type: ignore[attr-defined]
    try:
        members.member_remove(membership=membership, actor=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("settings_members")
    request.session.pop(SESSION_TEAM_KEY, None)
    messages.success(request, f"You left {membership.team}.")
    return redirect("overview")


@require_POST
@team_view(Role.OWNER)
def settings_invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, team=request.team, pk=pk,  # type: ignore[attr-defined]
                                   accepted_at__isnull=True)
    members.invitation_revoke(invitation=invitation, actor=request.user, request=request)
    messages.success(request, f"The invitation to {invitation.email} no longer works.")
    return redirect("settings_members")


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = ("username",)


def invitation_problem(invitation: Invitation | None) -> str:
    if invitation is None:
        return ("This invitation link is not valid. It may have been revoked or copied "
                "incompletely; ask a team owner for a new one.")
    if invitation.accepted_at is not None:
        return "This invitation has already been used. Ask a team owner for a new one."
    if invitation.expired:
        return "This invitation has expired. Ask a team owner for a new one."
    return ""


def join(request: HttpRequest, invitation: Invitation, user: Any) -> HttpResponse:
    try:
        members.invitation_accept(invitation=invitation, user=user, request=request)
    except ValidationError as error:
        return render(request, "dashboard/invitation.html",
                      {"problem": " ".join(error.messages)}, status=410)
    request.session[SESSION_TEAM_KEY] = invitation.team_id
    messages.success(request, f"Welcome to {invitation.team}.")
    return redirect("overview")


@never_cache
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Opening the link changes nothing (mail scanners open links); a button press joins."""
    invitation = members.invitation_get_by_token(token=token)
    if problem := invitation_problem(invitation):
        status = 404 if invitation is None else 410
        return render(request, "dashboard/invitation.html", {"problem": problem}, status=status)
    assert invitation is not None
    action = request.POST.get("action") if request.method == "POST" else None
    if request.user.is_authenticated:
        if action == "join":
            return join(request, invitation, request.user)
        already = invitation.team.memberships.filter(user=request.user).exists()
        return render(request, "dashboard/invitation.html",
                      {"invitation": invitation, "already_member": already})
    # Signing in posts to the sign-in page itself, so lockout and two-factor checks apply,
    # and comes back here to press Join.
    signin = AuthenticationForm(request)
    signup = SignupForm(data=request.POST if action == "signup" else None, prefix="signup")
    if action == "signup" and signup.is_valid():
        user = signup.save(commit=False)
        user.email = invitation.email
        user.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return join(request, invitation, user)
    return render(request, "dashboard/invitation.html",
                  {"invitation": invitation, "signin": signin, "signup": signup})


# Audit log


@team_view(Role.ADMIN)
def settings_audit(request: HttpRequest) -> HttpResponse:
    team: Team = request.team  # type: ignore[attr-defined]
    events = team.audit_events.all()
    group = request.GET.get("action", "")
    groups = audit_group_choices()
    if group in dict(groups):
        events = events.filter(action__startswith=group)
    else:
        group = ""
    who = request.GET.get("who", "")
    if who.isdigit():
        events = events.filter(actor_id=int(who))
    else:
        who = ""
    people = (team.audit_events.exclude(actor=None).order_by("actor_label")
              .values_list("actor_id", "actor_label").distinct())
    events_page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    for event in events_page:
        event.sentence = audit_sentence(event)  # type: ignore[attr-defined]
    context = {
        "events_page": events_page, "groups": groups, "group": group, "who": who,
        "people": [(str(pk), label) for pk, label in people],
        "query": urlencode({k: v for k, v in (("action", group), ("who", who)) if v}),
    }
    return page(request, "dashboard/audit_log.html", context, "audit-table")


# API tokens


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, required=False,
                           help_text="What uses it, e.g. \"Grafana\" or \"payout script\".")


@team_view(Role.ADMIN)
def settings_api_tokens(request: HttpRequest) -> HttpResponse:
    team: Team = request.team  # type: ignore[attr-defined]
    form = TokenForm(request.POST or None)
    created: tuple[ApiToken, str] | None = None
    if request.method == "POST" and form.is_valid():
        created = services.apitoken_create(team=team, name=form.cleaned_data["name"].strip(),
                                           actor=request.user, request=request)
        form = TokenForm()
    context = {
        "form": form,
        "tokens": team.api_tokens.select_related("created_by"),
        "new_token": created[1] if created else "",
        "new_row": created[0] if created else None,
    }
    response = render(request, "dashboard/api_tokens.html", context)
    if created:
        # The token is in this page only: no cache may keep a copy.
        add_never_cache_headers(response)
    return response


@require_POST
@team_view(Role.ADMIN)
def settings_api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, team=request.team, pk=pk)  # type: ignore[attr-defined]
    members.apitoken_revoke(token=token, actor=request.user, request=request)
    messages.success(request, f"{token.name} ({token.prefix}…) is revoked; requests with it "
                              "now get 401.")
    return redirect("settings_api_tokens")


# Passwords


class PasswordChangeView(auth_views.PasswordChangeView):
    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        members.password_changed_record(user=form.user, how="changed", request=self.request)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        members.password_changed_record(user=form.user, how="reset by email",
                                        request=self.request)
        # Proving control of the mailbox is the unlock path for a locked-out owner.
        unlock(form.user.get_username())
        return response
