"""JSON API, /api/v1/. Team-scoped: a bearer token's team, or the signed-in user's current
team. Hashrate in H/s, amounts as decimal strings, times ISO 8601 UTC (see DESIGN.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from dashboard.models import Health, Source, Team
from dashboard.registries import source_api_extras
from dashboard.selectors import team_sources_list
from dashboard.services import apitoken_authenticate


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def token_team(request: HttpRequest) -> Team | None:
    """The team of the request's bearer token; None without an Authorization header. A
    malformed header, or a token that is unknown or revoked, is a 401."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Authorization must be 'Bearer <token>'")
    row = apitoken_authenticate(token.strip())
    if row is None:
        raise ApiError(401, "the token is unknown or revoked")
    return row.team


def api_team(request: HttpRequest) -> Team:
    team = token_team(request)
    if team is not None:
        return team
    if request.user.is_authenticated:
        membership = request.membership  # type: ignore[attr-defined]
        if membership:
            return membership.team
        raise ApiError(403, "you are not a member of any team")
    raise ApiError(401, "sign in or send 'Authorization: Bearer <token>'")


def api_view(view: Callable[..., dict[str, Any]]) -> Callable[..., HttpResponse]:
    @csrf_exempt  # read-only GETs; a session alone cannot change anything here
    @require_GET
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            request.api_team = api_team(request)  # type: ignore[attr-defined]
            return JsonResponse(view(request, *args, **kwargs))
        except ApiError as error:
            response = JsonResponse({"error": error.message}, status=error.status)
            if error.status == 401:
                response["WWW-Authenticate"] = 'Bearer realm="hashwatch"'
            return response

    return wrapped


def source_param(request: HttpRequest) -> Source:
    """The `source` query parameter, resolved within the caller's team (else 404)."""
    raw = request.GET.get("source", "")
    if not raw.isdigit():
        raise ApiError(400, "the 'source' parameter must be a source id (see /api/v1/sources)")
    source = Source.objects.filter(team=request.api_team, pk=int(raw)).first()  # type: ignore[attr-defined]
    if source is None:
        raise ApiError(404, f"no source {raw} in this team")
    return source


def source_json(source: Source) -> dict[str, Any]:
    health = source.health()
    return {
        "id": source.pk,
        "kind": source.kind,
        "label": source.label,
        "status": health.value,
        "last_success_at": iso(source.last_success_at),
        # Only while it stands: a script alarming on a non-null value must not fire on an
        # error that a later poll already healed.
        "last_error": source.last_error if health == Health.ERROR else None,
        "last_error_at": iso(source.last_error_at),
    }


@api_view
def sources(request: HttpRequest) -> dict[str, Any]:
    team = request.api_team  # type: ignore[attr-defined]
    listed = list(team_sources_list(team=team))
    # What the feature apps add to each source (pools: how far its history back-fill has come).
    extras = source_api_extras(sources=listed)
    return {"sources": [{**source_json(source), **extras[source.pk]} for source in listed]}
