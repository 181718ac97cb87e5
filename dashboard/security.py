"""Response headers and sign-in requirements that apply to every page."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from dashboard.auth import confirmed_device

# Every script and stylesheet is a static file, so nothing inline needs to be allowed; an
# injected <script> or style attribute simply does not run.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
])


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


class TwoFactorRequiredMiddleware:
    """Members of a team that requires two-factor sign-in use its pages only once their
    authenticator is set up; until then every page leads to the setup page."""

    allowed_names = frozenset({"two_factor", "logout", "team_switch", "healthz"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._must_set_up(request):
            membership = request.membership  # type: ignore[attr-defined]
            messages.warning(request, f"{membership.team.name} requires two-factor sign-in: "
                                      "set it up to continue.")
            return redirect("two_factor")
        return self.get_response(request)

    def _must_set_up(self, request: HttpRequest) -> bool:
        if not request.user.is_authenticated:
            return False
        membership = getattr(request, "membership", None)
        if not membership or not membership.team.require_2fa:
            return False
        if any(request.path == reverse(name) for name in self.allowed_names):
            return False
        return confirmed_device(request.user) is None
