from datetime import UTC, datetime, timedelta

from pools.charts import bucket_sum, hashrate_unit, lttb

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def series(values: list[float], step: int = 60) -> list[tuple[datetime, float]]:
    return [(T0 + timedelta(seconds=i * step), v) for i, v in enumerate(values)]


def test_downsampling_keeps_peaks_and_dips() -> None:
    values = [100.0] * 5000
    values[1234], values[3456] = 900.0, 5.0
    cut = lttb(series(values), 1000)
    assert len(cut) == 1000
    assert max(v for _, v in cut) == 900.0
    assert min(v for _, v in cut) == 5.0
    assert cut[0] == series(values)[0] and cut[-1] == series(values)[-1]


def test_downsampling_leaves_short_series_alone() -> None:
    short = series([1.0, 2.0, 3.0])
    assert lttb(short, 1000) == short


def test_an_empty_series_stays_empty() -> None:
    assert lttb([], 1000) == []
    assert bucket_sum([], start=T0, step=timedelta(minutes=5)) == []


def test_units_follow_the_data() -> None:
    assert hashrate_unit(2.5e15).label == "PH/s"
    assert hashrate_unit(999e12).label == "TH/s"
    assert hashrate_unit(0).label == "H/s"
    assert hashrate_unit(1.2e17).format(1.2e17) == "120.00 PH/s"


def test_team_total_adds_sources_polled_at_different_moments() -> None:
    a = [(T0 + timedelta(minutes=m), 100.0) for m in range(0, 30, 1)]
    b = [(T0 + timedelta(minutes=m, seconds=30), 50.0) for m in range(0, 30, 2)]
    total = bucket_sum([a, b], start=T0, step=timedelta(minutes=1))
    assert {v for _, v in total} == {150.0}
