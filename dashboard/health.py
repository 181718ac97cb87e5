"""/healthz: is this install working? Public, so it names no source, team or secret."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dashboard import shared_cache
from dashboard.models import Health, Source
from dashboard.registries import HealthReport, health_reports
from dashboard.tasks import BEAT_TICK_KEY

log = logging.getLogger(__name__)

# Beat dispatches every 15 s; a minute and a half without a tick means it is not running.
BEAT_LATE_SECONDS = 90
OK, DOWN, NOT_USED = "ok", "down", "not used"


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        log.exception("Health check: the database is unreachable")
        return DOWN
    return OK


def redis_status() -> str:
    if not settings.REDIS_URL:
        return NOT_USED
    # The outage itself is logged once by shared_cache, not on every probe.
    return OK if shared_cache.ping() else DOWN


def broker_uses_redis() -> bool:
    return bool(settings.CELERY_BROKER_URL and settings.CELERY_BROKER_URL.startswith("redis"))


def beat_status(now: datetime) -> dict[str, Any]:
    tick = shared_cache.get(BEAT_TICK_KEY)
    if not tick:
        return {"last_tick": None, "age_seconds": None}
    return {"last_tick": tick,
            "age_seconds": round((now - datetime.fromisoformat(tick)).total_seconds())}


def oldest_stale_source(now: datetime) -> dict[str, int] | None:
    ages = [
        (now - (source.last_success_at or source.created_at)).total_seconds()
        for source in Source.objects.filter(enabled=True).only(
            "enabled", "interval", "created_at", "last_success_at", "last_error_at", "last_poll_at")
        # A first poll long overdue counts too: a new source on a stopped worker is stale.
        if source.health(now) == Health.STALE or source.first_poll_overdue(now)
    ]
    return {"age_seconds": round(max(ages))} if ages else None


def overall(database: str, redis: str, beat: dict[str, Any], stale: dict[str, int] | None,
            reports: dict[str, HealthReport]) -> str:
    if database == DOWN or (redis == DOWN and broker_uses_redis()):
        return "down"
    if any(report.status == "down" for report in reports.values()):
        return "down"
    beat_late = beat["age_seconds"] is None or beat["age_seconds"] > BEAT_LATE_SECONDS
    if redis == DOWN or beat_late or stale or any(r.status == "degraded" for r in reports.values()):
        return "degraded"
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    now = timezone.now()
    database, redis = database_status(), redis_status()
    beat = beat_status(now)
    stale = oldest_stale_source(now) if database == OK else None
    # The feature apps' checks (e.g. "streams": the FlowBTC stream service), after the core's.
    reports = health_reports(now=now, database_up=database == OK)
    status = overall(database, redis, beat, stale, reports)
    body = {"status": status, "database": database, "redis": redis, "beat": beat,
            "oldest_stale_source": stale, **{name: report.value for name, report in reports.items()}}
    return JsonResponse(body, status=503 if status == "down" else 200)
