"""Sign-in: lockout after repeated failures, the authenticator-code step, and their audit trail.

Failures are counted per username and client address in the cache (Redis in production), so
every web process sees the same count. A lock covers one username from one address: someone
guessing at an account cannot lock its owner out everywhere else.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import time
from typing import Any

import pyotp
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters

from dashboard.audit import audit_record, client_ip
from dashboard.models import Membership, Team, TotpDevice

log = logging.getLogger(__name__)

PENDING_KEY = "signin_pending"
PENDING_SECONDS = 300
TOTP_ISSUER = "Hashwatch"


# --- Lockout ---------------------------------------------------------------------------------

def _user_tag(username: str) -> str:
    # Hashed so that cache keys never carry what someone typed as a username.
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _epoch(username: str) -> str:
    """A per-username token inside every lockout key: unlocking replaces it, which drops
    the counts and locks of every address at once without listing cache keys."""
    key = f"auth:epoch:{_user_tag(username)}"
    cache.add(key, secrets.token_hex(4), timeout=None)
    return str(cache.get(key))


def _keys(username: str, ip: str | None) -> tuple[str, str]:
    base = f"{_user_tag(username)}:{_epoch(username)}:{ip or '-'}"
    return f"auth:failures:{base}", f"auth:locked:{base}"


def lock_remaining(username: str, ip: str | None) -> int:
    """Seconds until this username may sign in again from this address (0: not locked)."""
    until = cache.get(_keys(username, ip)[1])
    return max(0, math.ceil(until - time.time())) if until else 0


def failure_record(username: str, ip: str | None) -> bool:
    """Count one failed attempt; True when it locks the username for this address."""
    failures_key, locked_key = _keys(username, ip)
    window = settings.LOGIN_LOCKOUT_SECONDS
    cache.add(failures_key, 0, timeout=window)
    try:
        count = cache.incr(failures_key)
    except ValueError:  # expired between add and incr
        cache.set(failures_key, 1, timeout=window)
        count = 1
    if count < settings.LOGIN_FAILURE_LIMIT:
        return False
    cache.set(locked_key, time.time() + settings.LOGIN_LOCKOUT_SECONDS,
              timeout=settings.LOGIN_LOCKOUT_SECONDS)
    cache.delete(failures_key)
    return True


def failures_clear(username: str, ip: str | None) -> None:
    cache.delete(_keys(username, ip)[0])


def unlock(username: str) -> None:
    """Lift every lock and count for a username (manage.py unlock, a password reset)."""
    cache.set(f"auth:epoch:{_user_tag(username)}", secrets.token_hex(4), timeout=None)


def locked_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return (f"Too many failed sign-ins for this account from your address; try again in "
            f"{minutes} {unit}, or ask an owner/admin to unlock it.")


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


def signin_failed(username: str, request: HttpRequest | None, reason: str) -> None:
    ip = client_ip(request)
    locked = failure_record(username, ip)
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


@receiver(user_login_failed)
def _on_login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None,
                     **kwargs: Any) -> None:
    username = credentials.get("username")
    if username:
        signin_failed(str(username), request, "password")


@receiver(user_logged_in)
def _on_logged_in(sender: Any, request: HttpRequest | None, user: AbstractBaseUser,
                  **kwargs: Any) -> None:
    failures_clear(user.get_username(), client_ip(request))
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
        # The same answer for every name, existing or not: a lock reveals nothing.
        remaining = lock_remaining(username, client_ip(self.request))
        if remaining:
            raise ValidationError(locked_message(remaining), code="locked")


class SignInView(LoginView):
    """Password first; users with an authenticator are only signed in after its code."""

    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if confirmed_device(user) is None:
            return super().form_valid(form)
        self.request.session[PENDING_KEY] = {
            "user_id": user.pk,
            "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[0]),
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
    username, ip = user.get_username(), client_ip(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if lock_remaining(username, ip):
            return _back_to_login(request, username)
        device = confirmed_device(user)
        if device is not None and totp_verify(device, form.cleaned_data["code"]):
            del request.session[PENDING_KEY]
            login(request, user, backend=pending["backend"])
            return redirect(pending["next"] or settings.LOGIN_REDIRECT_URL)
        signin_failed(username, request, "code")
        if lock_remaining(username, ip):
            return _back_to_login(request, username)
        form.add_error("code", "That code is not right, or was already used. Try the next one.")
    return render(request, "registration/login_code.html", {"form": form})


def _back_to_login(request: HttpRequest, username: str) -> HttpResponse:
    request.session.pop(PENDING_KEY, None)
    remaining = lock_remaining(username, client_ip(request))
    return render(request, "registration/login.html",
                  {"form": SignInForm(request), "locked": locked_message(remaining)}, status=429)


def teams_requiring_2fa(user: Any) -> list[Team]:
    return [team for team in user_teams(user) if team.require_2fa]


@login_required
@sensitive_post_parameters("code")
def two_factor(request: HttpRequest) -> HttpResponseBase:
    """Set up, or turn off, the authenticator for the signed-in user."""
    user: Any = request.user
    device = TotpDevice.objects.filter(user=user).first()
    form = CodeForm(request.POST or None)
    if device is not None and device.confirmed:
        return _two_factor_on(request, device, form)
    if request.method == "POST" and device is not None and form.is_valid():
        if totp_verify(device, form.cleaned_data["code"]):
            device.confirmed, device.confirmed_at = True, timezone.now()
            device.save(update_fields=["confirmed", "confirmed_at"])
            audit_user(user, "auth.2fa_enabled", request)
            messages.success(request, "Two-factor sign-in is on. Sign-ins now ask for a code.")
            return redirect("two_factor")
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


def _two_factor_on(request: HttpRequest, device: TotpDevice, form: CodeForm) -> HttpResponse:
    user: Any = request.user
    required_by = teams_requiring_2fa(user)
    if request.method == "POST" and not required_by and form.is_valid():
        if totp_verify(device, form.cleaned_data["code"]):
            device.delete()
            audit_user(user, "auth.2fa_disabled", request)
            messages.success(request, "Two-factor sign-in is off.")
            return redirect("two_factor")
        form.add_error("code", "That code is not right, or was already used.")
    return render(request, "registration/two_factor_on.html",
                  {"form": form, "device": device, "required_by": required_by})
