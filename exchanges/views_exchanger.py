"""The Exchanger page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from dashboard.teams import team_view
from dashboard.views import page


@team_view()
def exchanger(request: HttpRequest) -> HttpResponse:
    return page(request, "exchanges/exchanger.html", {})
