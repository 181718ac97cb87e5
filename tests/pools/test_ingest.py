"""Storing pool polls: upserts on natural keys, missing workers, exact amounts, suspect jumps."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import models

from dashboard import bulk
from dashboard.models import Source, Team
from dashboard.services import source_create
from pools import models as m
from pools.clients.base import (
    AccountInfo,
    Balance,
    DailyEarning,
    FoundBlock,
    HashrateSample,
    Payout,
    PoolCoinFigures,
    PoolSnapshot,
    PoolStats,
    WorkerCounts,
    WorkerState,
)
from pools.ingest import pool_snapshot_ingest

NOW = datetime(2024, 3, 3, 12, 0, 0, 250_000, tzinfo=UTC)
T = 1e12
TABLES: list[type[models.Model]] = [
    m.Worker, m.HashrateSample, m.DailyEarning, m.Payout, m.Balance, m.PoolStat, m.PoolCoinStat,
    m.PoolAccount,
]
BLOCK = FoundBlock(840_000, "00" * 32, datetime(2024, 3, 3, 9, 30, tzinfo=UTC), Decimal("3.12500000"))


@pytest.fixture
def pool(team: Team) -> Source:
    return source_create(team=team, kind="btccom", label="BTC.com",
                         credentials={"access_key": "ak", "puid": "1"})


def worker(name: str, rate: float = 100 * T, status: str = "online") -> WorkerState:
    return WorkerState(
        name=name, status=status, pool_status={"online": "ACTIVE"}.get(status, "INACTIVE"),
        hashrate_hs=rate, hashrate_24h_hs=rate * 0.9, last_share_at=NOW - timedelta(seconds=30),
        raw_hashrate=str(rate / T), raw_unit="T", extra={"reject_percent": 0.1},
    )


def snapshot_of(
    workers: list[WorkerState] | None = None, *, at: datetime = NOW, rate: float = 350 * T,
    **fields: Any,
) -> PoolSnapshot:
    workers = [worker("rig-a"), worker("rig-b", 250 * T)] if workers is None else workers
    counts = WorkerCounts(online=len(workers), offline=0, dead=0, total=len(workers))
    defaults: dict[str, Any] = {
        "hashrate_hs": rate,
        "hashrate_samples": [
            HashrateSample(at, "1m", rate, str(rate / T), "T"),
            HashrateSample(at, "15m", rate * 1.01, str(rate * 1.01 / T), "T"),
        ],
        "worker_counts": counts,
        "workers": workers,
        "earnings": [DailyEarning(date(2024, 3, 2), "BTC", Decimal("0.00048731"),
                                  {"payment_mode": "FPPS"})],
        "payouts": [Payout(datetime(2024, 3, 2, 3, 0, tzinfo=UTC), "BTC", Decimal("0.01"),
                           "bc1qpayout", "ab" * 32)],
        "balances": [Balance("BTC", Decimal("0.00123"), Decimal("1.5"), today=Decimal("0.0004"))],
        "pool_stats": [PoolStats("node", "BTC", 9e18, workers=1000, users=50,
                                 reject_rates={"1h": 0.002}, raw_hashrate="9", raw_unit="E")],
        "pool_figures": [PoolCoinFigures(
            "BTC", as_of=datetime(2024, 3, 3, 11, 45, tzinfo=UTC), pool_hashrate_hs=9e18,
            network_hashrate_hs=6e20, network_difficulty=8.3e13, miners=50, workers=1000,
            fee_percent=Decimal("1.5"), luck={"7d": 103.2, "30d": 98.7}, blocks=[BLOCK],
            payout_rate=Decimal("6.2E-7"), payout_rate_unit="BTC/TH/day", usd_rate=Decimal("64000.5"),
        )],
        "coin_hashrates": {"BTC": 300 * T, "BCH": 50 * T},
        "account": AccountInfo("1", "alice", "bc1qpayout", "us", {"user_id": 1}),
    }
    return PoolSnapshot(fetched_at=at, **(defaults | fields))


def table_rows(*, skip: tuple[str, ...] = ()) -> dict[str, list[dict[str, Any]]]:
    return {
        model.__name__: [
            {k: v for k, v in row.items() if k not in skip}
            for row in model._default_manager.order_by("pk").values()
        ]
        for model in TABLES
    }


def test_it_stores_a_snapshot(pool: Source) -> None:
    counts = pool_snapshot_ingest(source=pool, snapshot=snapshot_of(), now=NOW)

    assert counts == {
        "workers": 2, "workers_missing": 0, "hashrate_samples": 3, "daily_earnings": 1,
        "payouts": 1, "balances": 1, "pool_stats": 1, "pool_coin_stats": 1, "pool_account": 1,
        "daily_prices": 1, "history_backfills": 0,
    }
    rig = m.Worker.objects.get(source=pool, name="rig-b")
    assert (rig.status, rig.pool_status, rig.hashrate_hs) == ("online", "ACTIVE", 250 * T)
    assert (rig.raw_hashrate, rig.raw_unit, rig.extra) == ("250.0", "T", {"reject_percent": 0.1})
    assert rig.first_seen_at == rig.last_seen_at == NOW and rig.seen
    account = m.HashrateSample.objects.get(source=pool, worker_name="")
    assert (account.hashrate_hs, account.avg_window, account.raw_unit) == (350 * T, "1m", "T")
    assert account.at == NOW.replace(microsecond=0) and not account.suspect
    pool_account = m.PoolAccount.objects.get(source=pool)
    assert (pool_account.name, pool_account.workers_total) == ("alice", 2)


def test_a_payout_s_fee_and_the_pool_s_5m_hashrate_are_stored_and_an_unknown_total_stays_unknown(
        pool: Source) -> None:
    fee = Decimal("0.00004124")
    snapshot = replace(
        snapshot_of(),
        payouts=[Payout(NOW, "BTC", Decimal("0.01"), "bc1qpayout", "cd" * 32, fee=fee)],
        balances=[Balance("BTC", Decimal("0.00123"), None)],
        pool_stats=[PoolStats("node", "BTC", 9e18, hashrate_5m_hs=8.5e18, hashrate_15m_hs=8e18)])
    pool_snapshot_ingest(source=pool, snapshot=snapshot, now=NOW)
    assert m.Payout.objects.get(source=pool).fee == fee
    assert m.Balance.objects.get(source=pool).paid_total is None
    stat = m.PoolStat.objects.get(source=pool)
    assert (stat.hashrate_hs, stat.hashrate_5m_hs, stat.hashrate_15m_hs) == (9e18, 8.5e18, 8e18)


def test_it_stores_the_pools_figures_per_coin(pool: Source) -> None:
    pool_snapshot_ingest(source=pool, snapshot=snapshot_of(), now=NOW)

    stat = m.PoolCoinStat.objects.get(source=pool, coin="BTC")
    assert (stat.pool_hashrate_hs, stat.network_hashrate_hs, stat.network_difficulty) == (9e18, 6e20, 8.3e13)
    assert (stat.miners, stat.workers, stat.fee_percent) == (50, 1000, Decimal("1.5"))
    assert stat.luck == {"7d": 103.2, "30d": 98.7}
    assert stat.blocks == [{"height": 840_000, "hash": "00" * 32, "found_at": "2024-03-03T09:30:00+00:00",
                            "reward": "3.125"}]
    assert (stat.payout_rate, stat.payout_rate_unit) == (Decimal("0.00000062"), "BTC/TH/day")
    assert stat.usd_rate == Decimal("64000.5")
    assert (stat.as_of, stat.updated_at) == (datetime(2024, 3, 3, 11, 45, tzinfo=UTC), NOW)
    assert m.PoolAccount.objects.get(source=pool).hashrate_by_coin == {"BTC": 300 * T, "BCH": 50 * T}


def test_the_pools_figures_are_the_latest_polls(pool: Source) -> None:
    pool_snapshot_ingest(source=pool, snapshot=snapshot_of(), now=NOW)
    later = NOW + timedelta(minutes=1)
    figures = [PoolCoinFigures("BTC", pool_hashrate_hs=8e18), PoolCoinFigures("BCH", miners=7)]

    counts = pool_snapshot_ingest(source=pool, snapshot=snapshot_of(
        at=later, pool_figures=figures, coin_hashrates={}), now=later)

    assert counts["pool_coin_stats"] == 2
    btc, bch = (m.PoolCoinStat.objects.get(source=pool, coin=coin) for coin in ("BTC", "BCH"))
    # A figure this poll did not read is empty, not the last poll's.
    assert (btc.pool_hashrate_hs, btc.luck, btc.blocks) == (8e18, {}, [])
    assert btc.payout_rate is None and btc.as_of is None
    assert (bch.miners, bch.updated_at) == (7, later)
    assert m.PoolAccount.objects.get(source=pool).hashrate_by_coin == {}


def test_only_the_latest_found_blocks_are_kept(pool: Source) -> None:
    blocks = [FoundBlock(900 - n, f"{n:064x}", None, None) for n in range(30)]

    pool_snapshot_ingest(source=pool, snapshot=snapshot_of(
        pool_figures=[PoolCoinFigures("BTC", blocks=blocks)]), now=NOW)

    stored = m.PoolCoinStat.objects.get(source=pool).blocks
    assert [b["height"] for b in stored] == list(range(900, 880, -1))
    assert stored[0] == {"height": 900, "hash": "0" * 64, "found_at": None, "reward": None}


def test_polling_the_same_snapshot_twice_changes_nothing(pool: Source) -> None:
    pool_snapshot_ingest(source=pool, snapshot=snapshot_of(), now=NOW)
    first = table_rows()

    again = pool_snapshot_ingest(source=pool, snapshot=snapshot_of(), now=NOW)

    assert table_rows() == first
    assert again["workers"] == 2 and again["workers_missing"] == 0


def test_a_later_poll_of_the_same_data_only_moves_the_poll_times(pool: Source) -> None:
    pool_snapshot_ingest(source=pool, snapshot=snapshot_of(), now=NOW)
    first = table_rows(skip=("last_seen_at", "updated_at"))

    pool_snapshot_ingest(source=pool, snapshot=snapshot_of(), now=NOW + timedelta(minutes=1))

    assert table_rows(skip=("last_seen_at", "updated_at")) == first
    assert set(m.Worker.objects.values_list("last_seen_at", flat=True)) == {NOW + timedelta(minutes=1)}


def test_a_worker_that_disappears_is_kept_and_marked_until_it_returns(pool: Source) -> None:
    later, latest = NOW + timedelta(minutes=1), NOW + timedelta(minutes=2)
    pool_snapshot_ingest(source=pool, snapshot=snapshot_of(), now=NOW)

    counts = pool_snapshot_ingest(
        source=pool, snapshot=snapshot_of([worker("rig-a")], at=later), now=later
    )

    gone = m.Worker.objects.get(source=pool, name="rig-b")
    assert counts["workers_missing"] == 1
    assert gone.missing_since == later and not gone.seen
    assert gone.last_seen_at == NOW and gone.hashrate_hs == 250 * T
    assert m.Worker.objects.get(source=pool, name="rig-a").missing_since is None

    counts = pool_snapshot_ingest(source=pool, snapshot=snapshot_of(at=latest), now=latest)

    back = m.Worker.objects.get(source=pool, name="rig-b")
    assert counts["workers_missing"] == 0
    assert back.missing_since is None and back.last_seen_at == latest
    assert back.first_seen_at == NOW


def test_a_missing_worker_keeps_the_time_it_went_missing(pool: Source) -> None:
    pool_snapshot_ingest(source=pool, snapshot=snapshot_of(), now=NOW)
    for minutes in (1, 2):
        moment = NOW + timedelta(minutes=minutes)
        pool_snapshot_ingest(source=pool, snapshot=snapshot_of([worker("rig-a")], at=moment),
                             now=moment)

    assert m.Worker.objects.get(name="rig-b").missing_since == NOW + timedelta(minutes=1)


def test_an_empty_worker_list_while_the_pool_counts_workers_marks_nobody(pool: Source) -> None:
    pool_snapshot_ingest(source=pool, snapshot=snapshot_of(), now=NOW)
    later = NOW + timedelta(minutes=1)
    failed_listing = snapshot_of([], at=later, worker_counts=WorkerCounts(2, 0, 0, 2))

    counts = pool_snapshot_ingest(source=pool, snapshot=failed_listing, now=later)

    assert counts["workers_missing"] == 0
    assert not m.Worker.objects.filter(missing_since__isnull=False).exists()


def test_a_pool_that_counts_no_workers_marks_them_all(pool: Source) -> None:
    pool_snapshot_ingest(source=pool, snapshot=snapshot_of(), now=NOW)
    later = NOW + timedelta(minutes=1)

    counts = pool_snapshot_ingest(source=pool, snapshot=snapshot_of([], at=later), now=later)

    assert counts["workers_missing"] == 2


def test_amounts_are_exact_decimals(pool: Source) -> None:
    amount, tiny = Decimal("13.80002903"), Decimal("0.000000000001")
    snapshot = snapshot_of(
        earnings=[DailyEarning(date(2024, 3, 1), "BTC", amount, {"pps": Decimal("1.00000001")}),
                  DailyEarning(date(2024, 3, 2), "BTC", tiny)],
        payouts=[Payout(NOW, "BTC", amount, "bc1q", "tx1")],
        balances=[Balance("BTC", unpaid=amount, paid_total=Decimal("123456789.123456789012"))],
    )

    pool_snapshot_ingest(source=pool, snapshot=snapshot, now=NOW)

    earnings = dict(m.DailyEarning.objects.values_list("date", "amount"))
    assert earnings == {date(2024, 3, 1): amount, date(2024, 3, 2): tiny}
    assert m.DailyEarning.objects.get(date=date(2024, 3, 1)).extra == {"pps": "1.00000001"}
    assert m.Payout.objects.get().amount == amount
    balance = m.Balance.objects.get()
    assert balance.unpaid == amount and balance.paid_total == Decimal("123456789.123456789012")


def test_payouts_are_deduplicated_by_tx(pool: Source) -> None:
    tx = "cd" * 32
    first = Payout(NOW, "BTC", Decimal("0.01"), "bc1q", tx)
    pool_snapshot_ingest(source=pool, snapshot=snapshot_of(payouts=[first, first]), now=NOW)
    settled = Payout(NOW, "BTC", Decimal("0.02"), "bc1q", tx)

    pool_snapshot_ingest(source=pool, snapshot=snapshot_of(payouts=[settled]), now=NOW)

    assert list(m.Payout.objects.values_list("tx", "amount")) == [(tx, Decimal("0.02"))]


def test_payouts_without_a_tx_are_keyed_by_time_amount_and_address(pool: Source) -> None:
    untraced = [Payout(NOW, "BTC", Decimal("0.50"), "bc1q", ""),
                Payout(NOW, "BTC", Decimal("0.5"), "bc1q", ""),
                Payout(NOW + timedelta(days=1), "BTC", Decimal("0.5"), "bc1q", "")]

    for _ in range(2):
        pool_snapshot_ingest(source=pool, snapshot=snapshot_of(payouts=untraced), now=NOW)

    assert m.Payout.objects.count() == 2
    assert set(m.Payout.objects.values_list("tx", flat=True)) == {""}


def test_a_1000x_jump_in_account_hashrate_is_flagged(
    pool: Source, caplog: pytest.LogCaptureFixture
) -> None:
    rates = [100 * T, 120 * T, 120_000 * T, 110 * T, 0.0, 100 * T]
    for minute, rate in enumerate(rates):
        moment = NOW + timedelta(minutes=minute)
        with caplog.at_level(logging.WARNING, logger="pools.ingest"):
            pool_snapshot_ingest(source=pool, snapshot=snapshot_of(at=moment, rate=rate), now=moment)

    flags = list(m.HashrateSample.objects.filter(worker_name="").order_by("at")
                 .values_list("suspect", flat=True))
    # The bad reading and the return from it; switching off and on is no unit error.
    assert flags == [False, False, True, True, False, False]
    assert "jumped from 1.2e+14 to 1.2e+17 H/s" in caplog.text


def test_a_repeated_poll_keeps_its_suspect_flag(pool: Source) -> None:
    pool_snapshot_ingest(source=pool, snapshot=snapshot_of(rate=1 * T), now=NOW)
    later = NOW + timedelta(minutes=1)
    for _ in range(2):
        pool_snapshot_ingest(source=pool, snapshot=snapshot_of(at=later, rate=5000 * T), now=later)

    assert m.HashrateSample.objects.get(worker_name="", at=later.replace(microsecond=0)).suspect


def test_the_account_series_uses_the_shortest_window_reported(pool: Source) -> None:
    snapshot = snapshot_of(hashrate_hs=None, hashrate_samples=[
        HashrateSample(NOW, "24h", 90 * T, "90", "T"), HashrateSample(NOW, "15m", 80 * T, "80", "T"),
    ])

    pool_snapshot_ingest(source=pool, snapshot=snapshot, now=NOW)

    account = m.HashrateSample.objects.get(worker_name="")
    assert (account.avg_window, account.hashrate_hs, account.raw_value) == ("15m", 80 * T, "80")


def test_the_account_keeps_its_identity_when_account_info_fails(pool: Source) -> None:
    pool_snapshot_ingest(source=pool, snapshot=snapshot_of(), now=NOW)
    later = NOW + timedelta(minutes=1)

    pool_snapshot_ingest(
        source=pool, snapshot=snapshot_of(at=later, account=None, worker_counts=None), now=later
    )

    account = m.PoolAccount.objects.get(source=pool)
    assert (account.name, account.payout_address) == ("alice", "bc1qpayout")
    assert account.workers_total is None and account.updated_at == later


def test_account_info_is_stored_without_secret_fields(pool: Source) -> None:
    info = AccountInfo("1", "alice", "bc1q", extra={"user_id": 1, "access_key": "ak"})

    pool_snapshot_ingest(source=pool, snapshot=snapshot_of(account=info), now=NOW)

    assert m.PoolAccount.objects.get(source=pool).info == {"user_id": 1}


def test_deleting_the_source_deletes_its_data(pool: Source, team: Team) -> None:
    other = source_create(team=team, kind="btccom", label="Second",
                          credentials={"access_key": "ak2", "puid": "2"})
    for source in (pool, other):
        pool_snapshot_ingest(source=source, snapshot=snapshot_of(), now=NOW)
    m.HashrateHourly.objects.create(source=pool, bucket=NOW, hashrate_avg=1, hashrate_min=1,
                                    hashrate_max=1, samples=1)
    m.HashrateDaily.objects.create(source=pool, bucket=NOW, hashrate_avg=1, hashrate_min=1,
                                   hashrate_max=1, samples=1)

    pool.delete()

    for model in [*TABLES, m.HashrateHourly, m.HashrateDaily]:
        assert not model._default_manager.filter(source_id=pool.pk).exists(), model.__name__
    assert m.Worker.objects.filter(source=other).count() == 2


def test_it_ingests_5000_workers_in_one_call(
    pool: Source, django_assert_max_num_queries: Any
) -> None:
    workers = [worker(f"rig-{n:05d}", rate=n * 1e9) for n in range(5000)]

    with django_assert_max_num_queries(30):
        counts = pool_snapshot_ingest(source=pool, snapshot=snapshot_of(workers), now=NOW)

    assert counts["workers"] == 5000 and counts["hashrate_samples"] == 5001
    assert m.Worker.objects.filter(source=pool).count() == 5000
    assert m.HashrateSample.objects.get(worker_name="rig-04999").hashrate_hs == 4999e9


def test_the_copy_path_stores_what_the_portable_path_stores(
    pool: Source, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large batches go through COPY on Postgres, small ones and SQLite through bulk_create."""
    portable = source_create(team=team, kind="btccom", label="Portable",
                             credentials={"access_key": "ak2", "puid": "2"})
    workers = [worker(f"rig-{n:04d}", rate=n * 1e9, status=("online", "dead")[n % 2])
               for n in range(1500)]
    for source, threshold in ((pool, bulk.COPY_MIN_ROWS), (portable, 10**9)):
        monkeypatch.setattr(bulk, "COPY_MIN_ROWS", threshold)
        for minute in (0, 1):  # an insert, then an update of every row
            moment = NOW + timedelta(minutes=minute)
            pool_snapshot_ingest(source=source, snapshot=snapshot_of(workers, at=moment), now=moment)

    def stored(source: Source) -> dict[str, list[tuple[Any, ...]]]:
        return {
            "workers": list(m.Worker.objects.filter(source=source).order_by("name").values_list(
                "name", "status", "hashrate_hs", "hashrate_24h_hs", "last_share_at", "raw_hashrate",
                "extra", "first_seen_at", "last_seen_at", "missing_since")),
            "samples": list(m.HashrateSample.objects.filter(source=source)
                            .order_by("worker_name", "at").values_list(
                "worker_name", "at", "hashrate_hs", "avg_window", "raw_value", "raw_unit", "suspect")),
        }

    copied = stored(pool)
    assert copied == stored(portable)
    assert len(copied["workers"]) == 1500 and len(copied["samples"]) == 2 * 1501
