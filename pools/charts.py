"""Time-series shaping shared by pages and the API: ranges, resolution, downsampling, units.

Pure functions on lists of (time, value): no database here, so the rules are easy to test.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAX_POINTS = 1000

RANGES: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "1y": timedelta(days=365),
}
DEFAULT_RANGE = "24h"

Point = tuple[datetime, float]


@dataclass(frozen=True)
class Line:
    """A series as a chart draws it: epoch milliseconds beside their values. Pages that chart
    many series build these straight from bucket numbers, without a datetime per point."""

    times_ms: list[int]
    values: list[float]

    @classmethod
    def of(cls, points: Sequence[Point]) -> Line:
        return cls([int(at.timestamp() * 1000) for at, _ in points], [value for _, value in points])

    def points(self) -> list[Point]:
        return [(datetime.fromtimestamp(ms / 1000, tz=UTC), value)
                for ms, value in zip(self.times_ms, self.values, strict=True)]

    def __len__(self) -> int:
        return len(self.values)

    @property
    def latest(self) -> float | None:
        return self.values[-1] if self.values else None

HASHRATE_UNITS = [
    (1e18, "EH/s"), (1e15, "PH/s"), (1e12, "TH/s"), (1e9, "GH/s"), (1e6, "MH/s"), (1e3, "kH/s"),
]


@dataclass(frozen=True)
class Unit:
    label: str
    divisor: float

    def format(self, value_hs: float | None, decimals: int = 2) -> str:
        if value_hs is None:
            return "—"
        return f"{value_hs / self.divisor:,.{decimals}f} {self.label}"


def hashrate_unit(largest_hs: float) -> Unit:
    """The unit in which the largest value reads as 1 to 999.99, so axis labels stay short."""
    for divisor, label in HASHRATE_UNITS:
        if largest_hs >= divisor:
            return Unit(label, divisor)
    return Unit("H/s", 1.0)


def format_pool_hashrate(raw: str, raw_unit: str) -> str:
    """A hashrate as the pool sent it (a string in its own unit letter, G/T/P/E, M or H, maybe
    in exponent notation), grouped and rounded as ours are, so the two read alike."""
    letter = raw_unit.strip()[:1].lower()
    label = next((lab for _, lab in HASHRATE_UNITS if lab[0].lower() == letter),
                 "H/s" if letter == "h" else raw_unit)
    try:
        value = float(raw)
    except ValueError:
        return f"{raw} {raw_unit}".strip()
    if label == "H/s":  # plain H/s (BTCpool.kz, often 1e20 and up) scales as ours do
        return format_hashrate(value)
    return Unit(label, 1.0).format(value)


def format_hashrate(value_hs: float | None) -> str:
    if value_hs is None:
        return "—"
    if value_hs == 0:
        return "0 H/s"
    return hashrate_unit(value_hs).format(value_hs)


def lttb(points: Sequence[Point], threshold: int) -> list[Point]:
    """Largest-Triangle-Three-Buckets: cuts a series to `threshold` points while keeping its
    visual shape, peaks and dips included (a plain average would flatten them)."""
    count = len(points)
    if threshold >= count or threshold < 3:
        return list(points)
    xs = [p[0].timestamp() for p in points]
    ys = [p[1] for p in points]
    every = (count - 2) / (threshold - 2)
    sampled, a = [points[0]], 0
    for i in range(threshold - 2):
        avg_start, avg_end = int((i + 1) * every) + 1, min(int((i + 2) * every) + 1, count)
        avg_x = sum(xs[avg_start:avg_end]) / (avg_end - avg_start)
        avg_y = sum(ys[avg_start:avg_end]) / (avg_end - avg_start)
        best, best_area = -1, -1.0
        for j in range(int(i * every) + 1, int((i + 1) * every) + 1):
            area = abs((xs[a] - avg_x) * (ys[j] - ys[a]) - (xs[a] - xs[j]) * (avg_y - ys[a]))
            if area > best_area:
                best, best_area = j, area
        sampled.append(points[best])
        a = best
    sampled.append(points[-1])
    return sampled


def bucket_means(points: Iterable[Point], *, start: datetime, step: timedelta) -> dict[int, float]:
    """One series averaged per bucket of `step` from `start` (bucket number -> mean)."""
    sums: dict[int, list[float]] = defaultdict(list)
    for at, value in points:
        sums[int((at - start).total_seconds() // step.total_seconds())].append(value)
    return {bucket: sum(values) / len(values) for bucket, values in sums.items()}


def carry_sum(per_series: Sequence[dict[int, float]], *, start: datetime, step: timedelta,
              carry: int = 2) -> list[Point]:
    """Add bucketed series; a bucket a series skipped takes that series' previous value for
    up to `carry` buckets, so sources polled at different moments do not saw-tooth."""
    return [(start + step * bucket, value) for bucket, value in carry_buckets(per_series, carry=carry)]


def carry_buckets(per_series: Sequence[dict[int, float]], *, carry: int = 2) -> list[tuple[int, float]]:
    """carry_sum's additions, by bucket number."""
    buckets = sorted({b for values in per_series for b in values})
    if not buckets:
        return []
    total: list[tuple[int, float]] = []
    last: list[tuple[int, float] | None] = [None] * len(per_series)
    for bucket in range(buckets[0], buckets[-1] + 1):
        value, present = 0.0, False
        for i, values in enumerate(per_series):
            if bucket in values:
                last[i] = (bucket, values[bucket])
            held = last[i]
            if held is not None and bucket - held[0] <= carry:
                value += held[1]
                present = True
        if present:
            total.append((bucket, value))
    return total


def bucket_sum(series: Iterable[Sequence[Point]], *, start: datetime, step: timedelta,
               carry: int = 2) -> list[Point]:
    return carry_sum([bucket_means(points, start=start, step=step) for points in series],
                     start=start, step=step, carry=carry)


def parse_moment(value: str) -> datetime | None:
    """An ISO 8601 time or date from a query string; naive means UTC."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
