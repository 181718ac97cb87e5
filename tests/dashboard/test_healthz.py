"""/healthz: public, no names or secrets, 503 only when the app cannot work at all."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from dashboard import health
from dashboard.models import Source, Team
from dashboard.services import source_create
from dashboard.tasks import BEAT_TICK_KEY
from exchanges.live import stream_status_publish


@pytest.fixture
def beat_ticking() -> None:
    cache.set(BEAT_TICK_KEY, timezone.now().isoformat(), timeout=None)


def test_all_well(db: None, beat_ticking: None) -> None:
    response = Client().get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok" and body["database"] == "ok" and body["redis"] == "ok"
    assert body["beat"]["age_seconds"] <= 5 and body["beat"]["last_tick"]
    assert body["oldest_stale_source"] is None


def test_a_stale_source_degrades_without_naming_it(source: Source, beat_ticking: None) -> None:
    Source.objects.filter(pk=source.pk).update(created_at=timezone.now() - timedelta(hours=2))
    response = Client().get("/healthz")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "degraded"
    assert 7000 <= body["oldest_stale_source"]["age_seconds"] <= 7300
    assert source.label not in response.content.decode()
    assert source.team.name not in response.content.decode()


def test_a_flowbtc_source_without_its_stream_degrades(team: Team, beat_ticking: None) -> None:
    source = source_create(team=team, kind="flowbtc", label="FlowBTC", credentials={})
    Source.objects.filter(pk=source.pk).update(last_success_at=timezone.now())

    body = Client().get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["streams"] == {"expected": 1, "running": 0}

    stream_status_publish(source_id=source.pk, status={"connected": True})
    body = Client().get("/healthz").json()
    assert body["status"] == "ok" and body["streams"] == {"expected": 1, "running": 1}


def test_no_beat_tick_degrades(db: None) -> None:
    cache.delete(BEAT_TICK_KEY)
    body = Client().get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["beat"] == {"last_tick": None, "age_seconds": None}


def test_an_unreachable_database_is_a_503(db: None, beat_ticking: None,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "database_status", lambda: health.DOWN)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "down" and response.json()["database"] == "down"


def test_an_unreachable_redis_broker_is_a_503(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "redis_status", lambda: health.DOWN)
    assert Client().get("/healthz").status_code == 503


def test_without_redis_it_says_not_used(db: None, beat_ticking: None, settings: object) -> None:
    settings.REDIS_URL = None  # type: ignore[attr-defined]
    settings.CELERY_BROKER_URL = "filesystem://"  # type: ignore[attr-defined]
    body = Client().get("/healthz").json()
    assert body["redis"] == "not used" and body["status"] == "ok"


def test_a_real_database_failure_is_caught(db: None) -> None:
    refused = OperationalError("connection refused")
    with mock.patch.object(health.connection, "cursor", side_effect=refused):
        assert health.database_status() == health.DOWN


def test_a_real_redis_failure_is_caught(settings: object) -> None:
    settings.CACHES = {"default": {  # type: ignore[attr-defined]
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0"}}
    assert health.redis_status() == health.DOWN
