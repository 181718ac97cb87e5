"""Rows made one at a time for a bulk upsert: what a 100,000-worker poll stores through."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboard.bulk import COPY_MIN_ROWS, LazyRows
from pools import ingest
from pools.models import HashrateSample, Worker
from tests.bench.conftest import fleet

AT = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_lazy_rows_read_like_a_list_and_make_each_row_only_when_read() -> None:
    made = []

    def row(number: int) -> dict[str, int]:
        made.append(number)
        return {"n": number}

    rows = LazyRows(range(5), row)
    assert len(rows) == 5 and made == []
    assert rows[0] == {"n": 0} and rows[1:3] == [{"n": 1}, {"n": 2}]
    assert [r["n"] for r in rows] == [0, 1, 2, 3, 4]
    assert made == [0, 1, 2, 0, 1, 2, 3, 4]


def test_a_poll_above_the_copy_threshold_stores_every_worker_and_sample(source) -> None:
    workers = fleet(COPY_MIN_ROWS + 200, at=AT)
    assert ingest.workers_upsert(source=source, workers=workers, now=AT) == len(workers)
    assert ingest.worker_samples_upsert(source=source, workers=workers, at=AT) == len(workers)
    stored = Worker.objects.get(source=source, name=workers[-1].name)
    assert (stored.hashrate_hs, stored.extra) == (workers[-1].hashrate_hs, workers[-1].extra)
    assert HashrateSample.objects.filter(source=source, at=AT).count() == len(workers)
