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


def test_the_team_total_matches_adding_the_sources_by_hand(team, source) -> None:
    from dashboard.services import source_create
    from pools.charts import bucket_sum

    other = source_create(team=team, kind="fake", label="Second", credentials={"api_key": "k2"})
    start, end = NOW - timedelta(hours=24), NOW
    series = {}
    for offset, (s, level) in enumerate(((source, 1e15), (other, 4e14))):
        points = [(start + timedelta(minutes=m, seconds=17 * offset), level * (1 + (m % 7) / 100))
                  for m in range(0, 24 * 60, 1 + offset)]
        HashrateSample.objects.bulk_create(HashrateSample(source=s, at=t, hashrate_hs=v) for t, v in points)
        series[s.pk] = points
    total = team_hashrate_series(sources=[source, other], start=start, end=end)
    by_hand = bucket_sum(series.values(), start=start, step=(end - start) / 288)
    assert len(total) == len(by_hand) > 250
    assert all(abs(a[1] - b[1]) < 1e-3 * b[1] and a[0] == b[0] for a, b in zip(total, by_hand, strict=True))
