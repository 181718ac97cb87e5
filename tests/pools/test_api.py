"""The pool API against data polled from the simulator: the numbers the pages show."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from dashboard.services import apitoken_create
from pools.models import DailyEarning, Payout, PoolAccount, Worker
from tests.conftest import client_for


@pytest.fixture
def api(team, polled_sources) -> Client:
    _, token = apitoken_create(team=team)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_workers_lists_every_worker_with_the_stored_numbers(api, polled_sources) -> None:
    alpha = polled_sources[0]
    body = api.get(f"/api/v1/workers?source={alpha.pk}").json()
    assert body["count"] == Worker.objects.filter(source=alpha).count() == 100
    first = Worker.objects.filter(source=alpha).order_by("name").first()
    assert body["results"][0] == {
        "name": first.name, "status": first.status, "pool_status": first.pool_status,
        "hashrate_hs": first.hashrate_hs, "hashrate_24h_hs": first.hashrate_24h_hs,
        "last_share_at": first.last_share_at.isoformat().replace("+00:00", "Z"), "listed": True,
    }
    assert len(body["results"]) == 100
    assert api.get(f"/api/v1/workers?source={alpha.pk}&page=2").status_code == 404


def test_workers_filters_by_status_and_name(api, polled_sources) -> None:
    alpha = polled_sources[0]
    online = api.get(f"/api/v1/workers?source={alpha.pk}&status=online").json()
    assert online["count"] == Worker.objects.filter(source=alpha, status="online").count()
    assert {w["status"] for w in online["results"]} == {"online"}
    rack = api.get(f"/api/v1/workers?source={alpha.pk}&q=rack3").json()
    assert rack["count"] == 20


@pytest.mark.parametrize(("query", "status"), [
    ("status=sleeping", 400), ("page=0", 400), ("page=99", 404), ("", 400),
])
def test_workers_rejects_bad_parameters(api, polled_sources, query, status) -> None:
    source = f"source={polled_sources[0].pk}&" if query != "" else ""
    response = api.get(f"/api/v1/workers?{source}{query}")
    assert response.status_code == status
    assert response.json()["error"]


def test_hashrate_is_in_hs_and_matches_the_account(api, polled_sources) -> None:
    alpha = polled_sources[0]
    body = api.get(f"/api/v1/hashrate?source={alpha.pk}").json()
    assert body["unit"] == "H/s"
    assert body["series"][-1]["v"] == PoolAccount.objects.get(source=alpha).hashrate_hs
    assert body["series"][-1]["t"].endswith("Z")


def test_hashrate_of_one_worker_and_an_empty_range(api, polled_sources) -> None:
    alpha = polled_sources[0]
    worker = Worker.objects.filter(source=alpha).first()
    body = api.get(f"/api/v1/hashrate?source={alpha.pk}&worker={worker.name}").json()
    assert body["series"][-1]["v"] == worker.hashrate_hs
    empty = api.get(f"/api/v1/hashrate?source={alpha.pk}&start=2020-01-01&end=2020-01-02").json()
    assert empty == {"unit": "H/s", "series": []}
    assert api.get(f"/api/v1/hashrate?source={alpha.pk}&worker=nobody").status_code == 404
    assert api.get(f"/api/v1/hashrate?source={alpha.pk}&start=yesterday").status_code == 400
    assert api.get(f"/api/v1/hashrate?source={alpha.pk}&points=5000").status_code == 400


def test_earnings_and_payouts_are_exact_decimal_strings(api, polled_sources) -> None:
    alpha = polled_sources[0]
    earnings = api.get(f"/api/v1/earnings?source={alpha.pk}&start=2026-01-01").json()["results"]
    stored = DailyEarning.objects.filter(source=alpha, date__gte="2026-01-01")
    assert len(earnings) == stored.count() > 0
    assert sum(Decimal(r["amount"]) for r in earnings) == sum(r.amount for r in stored)
    assert all("e" not in r["amount"].lower() for r in earnings)
    payouts = api.get(f"/api/v1/payouts?source={alpha.pk}").json()["results"]
    assert len(payouts) == Payout.objects.filter(source=alpha).count()
    assert payouts[0]["tx"] and payouts[0]["address"].startswith("bc1")


def test_another_teams_source_is_404(polled_sources, charlie, other_team) -> None:
    _, token = apitoken_create(team=other_team)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    for path in ("hashrate", "workers", "earnings", "payouts"):
        assert client.get(f"/api/v1/{path}?source={polled_sources[0].pk}").status_code == 404


def test_pages_and_api_agree_on_the_worker_count(alice, api, polled_sources) -> None:
    page = client_for(alice).get("/workers/").content.decode()
    total = sum(api.get(f"/api/v1/workers?source={s.pk}").json()["count"] for s in polled_sources)
    assert f"All <strong>{total}</strong>" in page


def test_the_api_serves_every_pool_kind(team, all_pools) -> None:
    from pools.models import Worker as StoredWorker

    _, token = apitoken_create(team=team)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    for source in all_pools:
        workers = client.get(f"/api/v1/workers?source={source.pk}").json()
        assert workers["count"] == StoredWorker.objects.filter(source=source).count() > 0
        series = client.get(f"/api/v1/hashrate?source={source.pk}").json()["series"]
        assert series[-1]["v"] == PoolAccount.objects.get(source=source).hashrate_hs
    kz_ltc = all_pools[2]
    earnings = client.get(f"/api/v1/earnings?source={kz_ltc.pk}").json()["results"]
    assert earnings and {row["coin"] for row in earnings} == {"LTC"}
    assert len(earnings) >= 90  # the first poll back-filled history_days
