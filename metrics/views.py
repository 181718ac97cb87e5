"""GET /metrics: the token's team in the Prometheus exposition format."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from prometheus_client.exposition import choose_encoder

from dashboard.api import ApiError, token_team
from metrics.collectors import scrape_registry

UNAUTHORIZED_HINT = ("send 'Authorization: Bearer <token>' with an API token of the team "
                     "(python manage.py apitoken create --team SLUG)")


def unauthorized(message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=401, content_type="text/plain; charset=utf-8")
    response["WWW-Authenticate"] = 'Bearer realm="hashwatch"'
    return response


@csrf_exempt  # a GET that changes nothing, from a scraper without a session
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    # A token only, never the session: the scrape names one team, and a browser's session
    # would quietly answer for whichever team its switcher was last set to.
    try:
        team = token_team(request)
    except ApiError as error:
        return unauthorized(error.message)
    if team is None:
        return unauthorized(UNAUTHORIZED_HINT)
    registry = scrape_registry(team=team, now=timezone.now())
    # Prometheus asks for OpenMetrics; curl and older scrapers get the classic text format.
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    response = HttpResponse(encoder(registry), content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
