"""The Hashrate page's default view: one total per coin, never a sum across coins, and
every source's chart from one query however many sources there are."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.models import Source, Team
from dashboard.services import source_create
from pools.models import ACCOUNT, HashrateSample, PoolAccount
from tests.conftest import client_for

TERA, GIGA = 1e12, 1e9


def kz_source(team: Team, label: str, coin: str, rate_hs: float) -> Source:
    """A BTCpool.kz account mining `coin`, with an hour of per-minute account samples."""
    source = source_create(team=team, kind="btcpoolkz", label=label, credentials={"api_key": f"k-{label}"},
                           options={"currency": coin})
    now = timezone.now()
    HashrateSample.objects.bulk_create(
        HashrateSample(source=source, worker_name=ACCOUNT, at=now - timedelta(minutes=m), hashrate_hs=rate_hs)
        for m in range(60))
    return source


@pytest.fixture
def mixed_farm(team: Team) -> dict[str, Source]:
    return {
        "btc1": kz_source(team, "BTC one", "BTC", 100 * TERA),
        "btc2": kz_source(team, "BTC two", "BTC", 50 * TERA),
        "bch": kz_source(team, "BCH farm", "BCH", 30 * TERA),
        "ltc": kz_source(team, "LTC farm", "LTC", 2 * GIGA),
    }


def line_values(chart: dict) -> set[float]:
    [line] = chart["spec"]["datasets"]
    return {round(value * chart["spec"]["unit_hs"]) for value in line["values"]}


def test_all_sources_are_totalled_per_coin_not_added_across_coins(alice, mixed_farm) -> None:
    response = client_for(alice).get("/hashrate/")
    totals = {t["coin"]: t for t in response.context["totals"]}
    assert list(totals) == ["BCH", "BTC", "LTC"]
    assert line_values(totals["BTC"]) == {150 * TERA}  # the two BTC sources, and nothing else
    assert line_values(totals["BCH"]) == {30 * TERA}
    assert line_values(totals["LTC"]) == {2 * GIGA}
    assert (totals["BTC"]["sources"], totals["LTC"]["algorithm"], totals["BCH"]["algorithm"]) == (
        2, "Scrypt", "SHA-256")
    body = response.content.decode()
    assert "All sources</h2>" not in body
    assert "BTC total" in body and "LTC total" in body and "never added together" in body
    assert len(response.context["charts"]) == 4


def test_a_source_mining_several_coins_is_in_no_coin_total(alice, team, mixed_farm) -> None:
    multi = kz_source(team, "Mixed pool", "BTC", 70 * TERA)
    PoolAccount.objects.create(source=multi, account_id="m", name="Mixed", updated_at=timezone.now(),
                               hashrate_by_coin={"BTC": 40 * TERA, "BCH": 30 * TERA})
    response = client_for(alice).get("/hashrate/")
    totals = {t["coin"]: t for t in response.context["totals"]}
    assert line_values(totals["BTC"]) == {150 * TERA}
    assert response.context["several_coins"] == [multi]
    assert "Mixed pool mines several coins at once" in response.content.decode()


def test_one_query_reads_every_sources_hashrate(alice, team, mixed_farm) -> None:
    client = client_for(alice)
    for extra in range(6):
        kz_source(team, f"More {extra}", "BTC", TERA)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/hashrate/?range=24h")
    assert len(response.context["charts"]) == 10
    series_reads = [q["sql"] for q in queries if "pools_hashrate" in q["sql"]]
    assert len(series_reads) == 1, series_reads
    assert "averages over 5 min per point" in response.content.decode()


def test_one_source_keeps_its_full_resolution(alice, mixed_farm) -> None:
    response = client_for(alice).get(f"/hashrate/?source={mixed_farm['ltc'].pk}")
    [chart] = response.context["charts"]
    assert len(chart["spec"]["datasets"][0]["times"]) == 60
    assert response.context["totals"] == []
    assert "at most 1,000 points per line" in response.content.decode()
