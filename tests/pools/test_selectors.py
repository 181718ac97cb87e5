from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pools.models import HashrateSample
from pools.selectors import hashrate_series, series_resolution, team_hashrate_series, team_pool_overview

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_a_range_without_data_is_an_empty_series(source) -> None:
    assert hashrate_series(source=source, start=NOW - timedelta(days=30), end=NOW) == []
    assert team_hashrate_series(sources=[source], start=NOW - timedelta(hours=1), end=NOW) == []


def test_the_resolution_follows_the_range() -> None:
    assert series_resolution(start=NOW - timedelta(hours=24), end=NOW) == "raw"
    assert series_resolution(start=NOW - timedelta(days=30), end=NOW) == "hour"
    assert series_resolution(start=NOW - timedelta(days=365), end=NOW) == "day"


def test_a_long_raw_range_is_cut_to_1000_points_with_its_peak(source) -> None:
    rows = [HashrateSample(source=source, at=NOW - timedelta(seconds=30 * i), hashrate_hs=1e15)
            for i in range(2880)]
    rows[1000].hashrate_hs = 9e15
    HashrateSample.objects.bulk_create(rows)
    series = hashrate_series(source=source, start=NOW - timedelta(hours=24), end=NOW)
    assert len(series) == 1000
    assert max(v for _, v in series) == 9e15


def test_the_overview_adds_up_the_accounts(polled_sources) -> None:
    from pools.models import PoolAccount

    overview = team_pool_overview(sources=polled_sources)
    (btc,) = overview.coins
    assert btc.coin == "BTC" and btc.sources == 2
    assert btc.hashrate_hs == sum(a.hashrate_hs for a in PoolAccount.objects.all())
    assert sum(overview.worker_counts.values()) == 150
