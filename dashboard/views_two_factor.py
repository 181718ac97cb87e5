"""The Two-factor sign-in page: set up the authenticator (and receive the recovery codes),
make new recovery codes, turn it off; and the owner's reset of a member's second factor."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.debug import sensitive_post_parameters

from dashboard.auth import (
    CodeForm,
    SecondFactorForm,
    audit_user,
    second_factor_verify,
    totp_new_secret,
    totp_uri,
    totp_verify,
    user_teams,
)
from dashboard.models import Role, SecondFactorReset, Team, TotpDevice
from dashboard.recovery import (
    member_second_factor_reset,
    recovery_codes_issue,
    recovery_codes_left,
    second_factor_remove,
)
from dashboard.teams import team_view
from dashboard.views_team import team_membership

REGENERATE, TURN_OFF = "regenerate", "turn_off"


def teams_requiring_2fa(user: Any) -> list[Team]:
    return [team for team in user_teams(user) if team.require_2fa]


def codes_shown_once(request: HttpRequest, device: TotpDevice, codes: list[str]) -> HttpResponse:
    """The page with the new recovery codes: rendered in answer to the POST, never stored in
    clear nor cached, so leaving or reloading it is the end of them."""
    response = render(request, "registration/two_factor_on.html", {
        "device": device, "new_codes": codes, "codes_left": len(codes),
        "required_by": teams_requiring_2fa(request.user),
    })
    add_never_cache_headers(response)
    return response


@login_required
@sensitive_post_parameters("code")
def two_factor(request: HttpRequest) -> HttpResponseBase:
    """Set up, or manage, the authenticator for the signed-in user."""
    user: Any = request.user
    device = TotpDevice.objects.filter(user=user).first()
    if device is not None and device.confirmed:
        return _two_factor_on(request, device)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and device is not None and form.is_valid():
        if totp_verify(device, form.cleaned_data["code"]):
            device.confirmed, device.confirmed_at = True, timezone.now()
            device.save(update_fields=["confirmed", "confirmed_at"])
            SecondFactorReset.objects.filter(user=user).delete()  # set up again: nothing to tell
            audit_user(user, "auth.2fa_enabled", request)
            messages.success(request, "Two-factor sign-in is on. Sign-ins now ask for a code.")
            return codes_shown_once(request, device, recovery_codes_issue(user=user))
        form.add_error("code", "That code does not match. Check the phone's clock and the "
                               "secret you entered, then try the newest code.")
    else:
        # A fresh secret on every visit: once this page is left, the secret is never shown again.
        device = device or TotpDevice(user=user)
        device.secret = {"base32": totp_new_secret()}  # type: ignore[assignment]
        device.last_used_step = None
        device.save()
    return render(request, "registration/two_factor_setup.html", {
        "form": form, "secret": device.secret["base32"], "uri": totp_uri(device),
        "required_by": teams_requiring_2fa(user),
    })


def _two_factor_on(request: HttpRequest, device: TotpDevice) -> HttpResponse:
    """New recovery codes, or off: either needs a code (authenticator or recovery), so a
    session left open on someone's laptop cannot take the codes or the factor away."""
    user: Any = request.user
    required_by = teams_requiring_2fa(user)
    # A form without an action is the older "turn off" form.
    action = request.POST.get("action") or TURN_OFF
    posted = request.POST if request.method == "POST" else None
    # One form per action, told apart by their ids; both post the field "code".
    forms = {name: SecondFactorForm(posted if name == action else None, auto_id=f"{name}_%s")
             for name in (REGENERATE, TURN_OFF)}
    for each in forms.values():
        each.fields["code"].widget.attrs.pop("autofocus", None)  # two forms: neither grabs focus
    form = forms.get(action)
    if form is not None and form.is_bound and form.is_valid():
        if action == TURN_OFF and required_by:
            form.add_error(None, "Your team requires two-factor sign-in, so it stays on.")
        elif second_factor_verify(user, form.cleaned_data["code"]) is None:
            form.add_error("code", "That code is not right, or was already used.")
        elif action == REGENERATE:
            audit_user(user, "auth.recovery_codes_regenerated", request)
            messages.success(request, "New recovery codes: the old ones no longer work.")
            return codes_shown_once(request, device, recovery_codes_issue(user=user))
        else:
            second_factor_remove(user=user)
            audit_user(user, "auth.2fa_disabled", request)
            messages.success(request, "Two-factor sign-in is off.")
            return redirect("two_factor")
    return render(request, "registration/two_factor_on.html", {
        "regenerate_form": forms[REGENERATE], "turn_off_form": forms[TURN_OFF],
        "device": device, "required_by": required_by,
        "codes_left": recovery_codes_left(user=user),
    })


@team_view(Role.OWNER)
def settings_member_2fa_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then remove a member's authenticator and recovery codes (they lost the
    phone). Not one's own: that is the Two-factor sign-in page's job, with a code."""
    membership = team_membership(request, pk)
    if membership.user_id == request.user.pk or not TotpDevice.objects.filter(
            user_id=membership.user_id, confirmed=True).exists():
        messages.error(request, f"{membership.user.get_username()} has no two-factor sign-in "
                                "an owner can reset.")
        return redirect("settings_members")
    if request.method == "POST":
        member_second_factor_reset(membership=membership, actor=request.user, request=request)
        messages.success(request, f"Two-factor sign-in of {membership.user.get_username()} is "
                                  "reset: their next sign-in asks for the password only and "
                                  "then for a new setup.")
        return redirect("settings_members")
    return render(request, "dashboard/member_2fa_reset.html", {"member": membership})
