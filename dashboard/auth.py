"""Sign-in: lockout after repeated failures, the second-factor step (an authenticator code or
a recovery code), and their audit trail.

Failures are counted by django-axes in Postgres (settings: AXES_*), so every web process sees
the same count and it holds with Redis down. A lock covers one username from one address:
someone guessing at an account cannot lock its owner out everywhere else.
"""

from __future__ import annotations

import hmac
import logging
import math
import time
from datetime import timedelta
from typing import Any

import pyotp
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_credentials
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.db.models import Max, Q
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters

from dashboard.audit import audit_record, client_ip
from dashboard.models import Membership, Team, TotpDevice
from dashboard.recovery import (
    looks_like_recovery_code,
    recovery_code_use,
    recovery_codes_left,
    second_factor_reset_take,
)

log = logging.getLogger(__name__)

PENDING_KEY = "signin_pending"
PENDING_SECONDS = 300
TOTP_ISSUER = "Hashwatch"


# --- Lockout ---------------------------------------------------------------------------------

def failure_limit(request: HttpRequest | None = None, credentials: Any = None) -> int:
    """AXES_FAILURE_LIMIT: read when used, so LOGIN_FAILURE_LIMIT stays the one setting."""
    return int(settings.LOGIN_FAILURE_LIMIT)


def lockout_period(request: HttpRequest | None = None) -> timedelta:
    """AXES_COOLOFF_TIME: how long failures count, and how long a lock lasts."""
    return timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)


def lock_remaining(request: HttpRequest, username: str) -> int:
    """Seconds until this username may sign in again from this request's address (0: not locked)."""
    credentials = get_credentials(username)
    if not AxesProxyHandler.is_locked(request, credentials):
        return 0
    # The lock runs from the newest failure that counted (a refused attempt adds none).
    newest = AccessAttempt.objects.filter(
        username=username, ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
    ).aggregate(newest=Max("attempt_time"))["newest"]
    if newest is None:
        return 0
    period = get_cool_off(request) or lockout_period()
    return max(1, math.ceil((newest + period - timezone.now()).total_seconds()))


def unlock(username: str) -> int:
    """Lift every lock and count for a username, from every address (manage.py unlock, a
    password reset). Returns how many address records were cleared."""
    return AxesProxyHandler.reset_attempts(username=username)


def locked_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return (f"Too many failed sign-ins for this account from your address; try again in "
            f"{minutes} {unit}, or ask an owner/admin to unlock it.")


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict[str, Any] | None = None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the sign-in page saying why and for how long, on any login form
    (this one, the admin's) that ran into the lock."""
    username = str((credentials or {}).get("username") or request.POST.get("username") or "")
    remaining = lock_remaining(request, username) if username else 0
    return render(request, "registration/login.html",
                  {"form": SignInForm(request),
                   "locked": locked_message(remaining or settings.LOGIN_LOCKOUT_SECONDS)},
                  status=429)


# --- Audit -----------------------------------------------------------------------------------

def user_teams(user: AbstractBaseUser) -> list[Team]:
    return [m.team for m in Membership.objects.filter(user_id=user.pk).select_related("team")]


def audit_user(user: AbstractBaseUser, action: str, request: HttpRequest | None,
               detail: dict[str, Any] | None = None) -> None:
    """One event per team of the user: each team's owners see what concerns their members."""
    for team in user_teams(user):
        audit_record(team=team, action=action, actor=user, target=user.get_username(),
                     detail=detail, request=request)


def user_by_name(username: str) -> AbstractBaseUser | None:
    model = get_user_model()
    try:
        return model._default_manager.get_by_natural_key(username)
    except model.DoesNotExist:
        return None


def signin_failed(username: str, request: HttpRequest, reason: str) -> None:
    """A wrong authenticator code counts like a wrong password: the same signal, so axes
    counts it and the receiver below audits it."""
    user_login_failed.send(sender=__name__, credentials=get_credentials(username),
                           request=request, reason=reason)


def _failure_audit(username: str, request: HttpRequest | None, reason: str) -> None:
    if request is not None and getattr(request, "axes_failures_since_start", None) is None \
            and getattr(request, "axes_locked_out", False):
        return  # refused by the lock before any password check: not another attempt
    ip = client_ip(request)
    locked = bool(getattr(request, "axes_locked_out", False))
    user = user_by_name(username)
    if user is None:
        # Nothing is stored for a name that is not an account: it may be a mistyped password.
        log.info("Failed sign-in for an unknown username from %s%s", ip or "unknown address",
                 " (now locked)" if locked else "")
        return
    audit_user(user, "auth.signin_failed", request, {"reason": reason})
    if locked:
        audit_user(user, "auth.locked", request,
                   {"seconds": settings.LOGIN_LOCKOUT_SECONDS})


# Connected after axes's own receivers (INSTALLED_APPS order), so the attempt is counted and
# the request says whether it locked the pair by the time these run.
@receiver(user_login_failed)
def _on_login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None,
                     reason: str = "password", **kwargs: Any) -> None:
    username = credentials.get("username")
    if username:
        _failure_audit(str(username), request, reason)


@receiver(user_logged_in)
def _on_logged_in(sender: Any, request: HttpRequest | None, user: AbstractBaseUser,
                  **kwargs: Any) -> None:
    # axes clears this pair's count (AXES_RESET_ON_SUCCESS).
    audit_user(user, "auth.signin", request)


# --- Authenticator codes ---------------------------------------------------------------------

def totp_new_secret() -> str:
    return pyotp.random_base32()


def totp_for(device: TotpDevice) -> pyotp.TOTP:
    return pyotp.TOTP(device.secret["base32"])


def totp_uri(device: TotpDevice) -> str:
    return totp_for(device).provisioning_uri(name=device.user.get_username(), issuer_name=TOTP_ISSUER)


def totp_verify(device: TotpDevice, code: str) -> bool:
    """Accept a code of the current step or one either side (clock drift), once only."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return False
    totp = totp_for(device)
    now_step = int(time.time()) // totp.interval
    for step in (now_step - 1, now_step, now_step + 1):
        if device.last_used_step is not None and step <= device.last_used_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            # Conditional update: two requests racing with the same code cannot both win.
            claimed = TotpDevice.objects.filter(pk=device.pk).filter(
                Q(last_used_step__isnull=True) | Q(last_used_step__lt=step)
            ).update(last_used_step=step)
            device.last_used_step = step
            return claimed == 1
    return False


def confirmed_device(user: Any) -> TotpDevice | None:
    return TotpDevice.objects.filter(user_id=user.pk, confirmed=True).first()


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Authentication code", max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "autofocus": True, "pattern": "[0-9 ]*"}),
        help_text="The 6-digit code your authenticator app shows for Hashwatch.",
    )


class SecondFactorForm(forms.Form):
    """An authenticator code, or one of the recovery codes in its place."""

    code = forms.CharField(
        label="Authentication code", max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True,
                                      "autocapitalize": "none", "spellcheck": "false"}),
        help_text="The 6-digit code your authenticator app shows for Hashwatch, or one of "
                  "your recovery codes (like abcde-fghjk) if you lost the phone.",
    )


def second_factor_verify(user: Any, code: str) -> str | None:
    """Which second factor the code is ("totp" or "recovery_code"), or None if it is neither
    (or was used already)."""
    if looks_like_recovery_code(code):
        return "recovery_code" if recovery_code_use(user=user, code=code) else None
    device = confirmed_device(user)
    return "totp" if device is not None and totp_verify(device, code) else None


def recovery_codes_left_message(left: int) -> str:
    if left == 0:
        return ("That was your last recovery code. Make new ones on the Two-factor sign-in "
                "page now, or set up the authenticator again.")
    codes = "code" if left == 1 else "codes"
    return (f"Signed in with a recovery code; {left} {codes} left. If the phone is lost, set "
            "up the authenticator again on the Two-factor sign-in page.")


# --- Views -----------------------------------------------------------------------------------

class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match. Check both and try again.",
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username:
            self._refuse_if_locked(username)
        try:
            return super().clean()
        except ValidationError:
            if username:
                self._refuse_if_locked(username)
            raise

    def _refuse_if_locked(self, username: str) -> None:
        # The same answer for every name, existing or not: a lock reveals nothing. Checked
        # before the password, so an attempt while locked is neither counted nor audited.
        remaining = lock_remaining(self.request, username) if self.request is not None else 0
        if remaining:
            raise ValidationError(locked_message(remaining), code="locked")


class SignInView(LoginView):
    """Password first; users with an authenticator are only signed in after its code."""

    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if confirmed_device(user) is None:
            response = super().form_valid(form)
            reset = second_factor_reset_take(user=user)
            if reset is None:
                return response
            by = reset.reset_by.get_username() if reset.reset_by else "An owner"
            messages.warning(self.request, (
                f"{by} ({reset.team.name}) reset your two-factor sign-in on {reset.reset_at.day} "
                f"{reset.reset_at:%b %Y}, so this sign-in asked for no code. Set it up "
                "again with your new phone."))
            return redirect("two_factor")
        self.request.session[PENDING_KEY] = {
            "user_id": user.pk,
            "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[-1]),
            "next": self.get_redirect_url() or "",
            "expires": time.time() + PENDING_SECONDS,
        }
        return redirect("login_code")


def _pending_user(request: HttpRequest) -> tuple[dict[str, Any], Any] | None:
    pending = request.session.get(PENDING_KEY)
    if not pending or pending["expires"] < time.time():
        return None
    user = get_user_model()._default_manager.filter(pk=pending["user_id"], is_active=True).first()
    return (pending, user) if user else None


@sensitive_post_parameters("code")
def signin_code(request: HttpRequest) -> HttpResponse:
    found = _pending_user(request)
    if found is None:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, "Sign in again: the code step timed out.")
        return redirect("login")
    pending, user = found
    username = user.get_username()
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if lock_remaining(request, username):
            return _back_to_login(request, username)
        code = form.cleaned_data["code"]
        used = second_factor_verify(user, code)
        if used is not None:
            del request.session[PENDING_KEY]
            login(request, user, backend=pending["backend"])
            if used == "recovery_code":
                left = recovery_codes_left(user=user)
                audit_user(user, "auth.recovery_code_used", request, {"left": left})
                messages.warning(request, recovery_codes_left_message(left))
            return redirect(pending["next"] or settings.LOGIN_REDIRECT_URL)
        # A wrong recovery code counts towards the lock like a wrong authenticator code.
        signin_failed(username, request,
                      "recovery code" if looks_like_recovery_code(code) else "code")
        if lock_remaining(request, username):
            return _back_to_login(request, username)
        form.add_error("code", "That code is not right, or was already used. Try the next one, "
                               "or a recovery code you have not used yet.")
    return render(request, "registration/login_code.html", {"form": form})


def _back_to_login(request: HttpRequest, username: str) -> HttpResponse:
    request.session.pop(PENDING_KEY, None)
    return lockout_response(request, credentials=get_credentials(username))
