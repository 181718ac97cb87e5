"""The source page and the JSON API say how far a source's history back-fill has come."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client

from dashboard.models import Source, Team
from dashboard.services import apitoken_create, source_create
from pools import models as m
from tests.conftest import client_for

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def pool(team: Team) -> Source:
    return source_create(team=team, kind="btccom", label="Spica",
                         credentials={"access_key": "r_AKtest123456", "puid": "88888"})


def backfill(source: Source, dataset: str, **fields: object) -> m.HistoryBackfill:
    defaults: dict[str, object] = {"started_at": NOW, "updated_at": NOW, **fields}
    return m.HistoryBackfill.objects.create(source=source, dataset=dataset, **defaults)


def test_the_source_page_shows_a_back_fill_under_way(alice: User, pool: Source) -> None:
    backfill(pool, "earnings", cursor={"page": 3}, pages_done=2, pages_total=3, rows_done=100,
             rows_total=120, oldest=date(2026, 8, 27), last_error="could not connect to "
             "us-pool.api.btc.com/v1/account/earn-history", last_error_at=NOW)
    page = client_for(alice).get(f"/sources/{pool.pk}/").content.decode()

    assert ("Back-filling earnings: 100 of ~120 records read, back to 2026-08-27; "
            "continues on the next poll.") in page
    assert "Stopped at page 3: could not connect to us-pool.api.btc.com/v1/account/earn-history" in page
    assert "2 of 3" in page


def test_the_source_page_shows_a_complete_back_fill(bob: User, pool: Source) -> None:
    backfill(pool, "earnings", pages_done=3, pages_total=3, rows_done=120, rows_total=120,
             oldest=date(2026, 8, 7), finished_at=NOW)
    page = client_for(bob).get(f"/sources/{pool.pk}/").content.decode()
    assert "Complete: all the history the pool keeps is stored, back to 2026-08-07." in page
    assert "Stopped at" not in page


def test_a_pool_never_polled_says_what_its_first_polls_do(alice: User, pool: Source) -> None:
    page = client_for(alice).get(f"/sources/{pool.pk}/").content.decode()
    assert "The first polls back-fill all the history the pool keeps" in page


def test_the_htmx_refresh_carries_the_progress(alice: User, pool: Source) -> None:
    backfill(pool, "earnings", cursor={"page": 2}, pages_done=1, rows_done=50, rows_total=120)
    fragment = client_for(alice).get(f"/sources/{pool.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "Back-filling earnings: 50 of ~120 records read" in fragment


def test_the_sources_api_lists_each_back_fill(team: Team, pool: Source, other_team: Team) -> None:
    backfill(pool, "earnings", pages_done=3, pages_total=3, rows_done=120, rows_total=120,
             oldest=date(2026, 8, 7), finished_at=NOW)
    backfill(pool, "payouts", cursor={"offset": 30}, pages_done=1, rows_done=30, rows_total=90,
             last_error="BTCpool.kz answered HTTP 502", last_error_at=NOW)
    theirs = source_create(team=other_team, kind="btccom", label="Theirs",
                           credentials={"access_key": "x_other", "puid": "1"})
    backfill(theirs, "earnings", rows_done=1)
    _, token = apitoken_create(team=team, name="scripts")
    body = Client().get("/api/v1/sources", HTTP_AUTHORIZATION=f"Bearer {token}").json()

    [source] = body["sources"]
    assert source["history"] == [
        {"dataset": "earnings", "state": "complete", "oldest": "2026-08-07", "pages_done": 3,
         "pages_total": 3, "rows_done": 120, "rows_total": 120, "started_at": "2026-12-04T12:00:00Z",
         "finished_at": "2026-12-04T12:00:00Z", "last_error": None},
        {"dataset": "payouts", "state": "backfilling", "oldest": None, "pages_done": 1,
         "pages_total": None, "rows_done": 30, "rows_total": 90, "started_at": "2026-12-04T12:00:00Z",
         "finished_at": None, "last_error": "BTCpool.kz answered HTTP 502"},
    ]
