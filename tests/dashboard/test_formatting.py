from datetime import UTC, datetime, timedelta

import pytest

from dashboard.templatetags.hashwatch import duration_ms, relative

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("seconds", "text"), [
    (5, "just now"), (50, "1 min ago"), (180, "3 min ago"), (3599, "60 min ago"),
    (7200, "2 h ago"), (3 * 86400, "3 d ago"), (800 * 86400, "2 y ago"), (-120, "in 2 min"),
])
def test_relative_times_read_naturally(seconds: int, text: str) -> None:
    assert relative(NOW - timedelta(seconds=seconds), NOW) == text


def test_durations_pick_a_readable_unit() -> None:
    assert [duration_ms(v) for v in (None, 12, 1500, 125_000)] == ["—", "12 ms", "1.5 s", "2 min 5 s"]
