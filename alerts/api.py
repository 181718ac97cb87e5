"""GET /api/v1/alerts (see DESIGN.md): the team's alerts, firing or resolved."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from alerts.models import AlertState
from alerts.selectors import alert_as_api, alerts_list
from dashboard.api import ApiError, api_view, source_param

API_LIMIT = 500
STATES = (AlertState.FIRING, AlertState.RESOLVED, AlertState.PENDING)


@api_view
def alerts(request: HttpRequest) -> dict[str, Any]:
    team = request.api_team  # type: ignore[attr-defined]
    state = request.GET.get("state", "")
    if state and state not in STATES:
        raise ApiError(400, f"'state' must be one of {', '.join(STATES)}")
    source = source_param(request) if "source" in request.GET else None
    rows = alerts_list(team=team, state=state or None, source=source)
    return {"results": [alert_as_api(alert) for alert in rows[:API_LIMIT]]}
