"""Which team a request acts for, and who may do what in it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject

from dashboard.models import Membership, Role

SESSION_TEAM_KEY = "team_id"


def current_membership(request: HttpRequest) -> Membership | None:
    """The membership of the team chosen in the switcher, else the user's first team."""
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=user).select_related("team").order_by(
        "team__name", "team_id"
    )
    chosen = request.session.get(SESSION_TEAM_KEY)
    if chosen is not None:
        membership = memberships.filter(team_id=chosen).first()
        if membership:
            return membership
    return memberships.first()


class CurrentTeamMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = SimpleLazyObject(lambda: current_membership(request))  # type: ignore[attr-defined]
        return self.get_response(request)


def team_context(request: HttpRequest) -> dict[str, Any]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    membership = request.membership  # type: ignore[attr-defined]
    if not membership:
        return {"membership": None, "team": None, "all_memberships": []}
    return {
        "membership": membership,
        "team": membership.team,
        "all_memberships": Membership.objects.filter(user=request.user)
        .select_related("team")
        .order_by("team__name"),
    }


def team_view(role: str = Role.VIEWER) -> Callable[..., Callable[..., HttpResponse]]:
    """Require a signed-in member of the current team with at least `role`.

    Sets request.team and request.membership. Viewers asking for an admin action get 403;
    objects of other teams are looked up through request.team, so they answer 404.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = request.membership  # type: ignore[attr-defined]
            if not membership:
                return render(request, "dashboard/no_team.html", status=403)
            if not membership.has_role(role):
                raise PermissionDenied(f"This needs the {role} role in {membership.team}.")
            request.team = membership.team  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
