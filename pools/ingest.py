"""Store one pool poll: bulk upserts on natural keys, so polling the same data again changes
nothing. Called by dashboard.polling inside the poll's transaction; never does HTTP."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from dashboard.bulk import LazyRows, upsert
from dashboard.models import Source
from exchanges.ingest import daily_price_row, daily_prices_store
from pools import models as m
from pools.clients import base
from pools.history import history_store

log = logging.getLogger(__name__)
Row = dict[str, Any]

MAX_BLOCKS = 20  # found blocks kept per coin: the pool's recent ones, not its history
SUSPECT_RATIO = 1000.0
WINDOW_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

WORKER_UPDATE_FIELDS = [
    "status", "pool_status", "hashrate_hs", "hashrate_24h_hs", "last_share_at", "raw_hashrate",
    "raw_unit", "extra", "last_seen_at", "missing_since",
]
SAMPLE_UPDATE_FIELDS = ["hashrate_hs", "avg_window", "raw_value", "raw_unit", "suspect"]
POOL_COIN_STAT_UPDATE_FIELDS = [
    "as_of", "pool_hashrate_hs", "network_hashrate_hs", "network_difficulty", "miners", "workers",
    "fee_percent", "luck", "blocks", "payout_rate", "payout_rate_unit", "usd_rate", "name",
    "algorithm", "paid_daily", "updated_at",
]


def pool_snapshot_ingest(*, source: Source, snapshot: base.PoolSnapshot, now: datetime) -> dict[str, int]:
    """Store everything one poll returned; returns the rows written per table."""
    at = poll_moment(snapshot.fetched_at)
    # One per name, since a single upsert statement cannot touch the same row twice; and
    # never the name "", which is the account's own hashrate series.
    workers = base.unique_by((w for w in snapshot.workers if w.name), key=lambda w: w.name)
    for problem in snapshot.problems:
        log.warning("source %s: %s", source.pk, problem)
    return {
        "workers": workers_upsert(source=source, workers=workers, now=now),
        "workers_missing": workers_mark_missing(source=source, snapshot=snapshot, now=now),
        "hashrate_samples": (
            account_samples_upsert(source=source, snapshot=snapshot, at=at)
            + worker_samples_upsert(source=source, workers=workers, at=at)
        ),
        "daily_earnings": earnings_upsert(source=source, earnings=snapshot.earnings),
        "payouts": payouts_upsert(source=source, payouts=snapshot.payouts),
        "balances": balances_upsert(source=source, balances=snapshot.balances, now=now),
        "pool_stats": pool_stats_upsert(source=source, stats=snapshot.pool_stats, at=at),
        "pool_coin_stats": pool_coin_stats_upsert(source=source, figures=snapshot.pool_figures, now=now),
        "pool_account": pool_account_upsert(source=source, snapshot=snapshot, now=now),
        "daily_prices": usd_prices_store(source=source, figures=snapshot.pool_figures, now=now),
        "history_backfills": history_store(source=source, positions=snapshot.history, now=now),
    }


def poll_moment(moment: datetime) -> datetime:
    """Whole seconds in UTC: the key of a poll's samples, equal however often it is stored."""
    return moment.astimezone(UTC).replace(microsecond=0)


def workers_upsert(*, source: Source, workers: Sequence[base.WorkerState], now: datetime) -> int:
    def row(worker: base.WorkerState) -> Row:
        return {
            "source_id": source.pk, "name": worker.name, "status": worker.status,
            "pool_status": worker.pool_status, "hashrate_hs": worker.hashrate_hs,
            "hashrate_24h_hs": worker.hashrate_24h_hs, "last_share_at": worker.last_share_at,
            "raw_hashrate": worker.raw_hashrate, "raw_unit": worker.raw_unit, "extra": worker.extra,
            "first_seen_at": now, "last_seen_at": now, "missing_since": None,
        }

    return upsert(m.Worker, LazyRows(workers, row), unique=["source", "name"],
                  update=WORKER_UPDATE_FIELDS)


def workers_mark_missing(*, source: Source, snapshot: base.PoolSnapshot, now: datetime) -> int:
    """Mark the workers this poll did not list; they were stamped with last_seen_at=now
    just before if it did, so no list of 30,000 names goes into the query."""
    counts = snapshot.worker_counts
    # An empty list while the pool counts workers (or gives no count) is a failed worker
    # listing, not a farm that vanished: leave every worker as it was.
    if not snapshot.workers and (counts is None or counts.total > 0):
        return 0
    return m.Worker.objects.filter(
        source=source, missing_since__isnull=True, last_seen_at__lt=now
    ).update(missing_since=now)


def sample_row(*, source: Source, worker_name: str, at: datetime, hashrate_hs: float,
               avg_window: str = "", raw_value: str = "", raw_unit: str = "") -> Row:
    return {
        "source_id": source.pk, "worker_name": worker_name, "at": at, "hashrate_hs": hashrate_hs,
        "avg_window": avg_window, "raw_value": raw_value, "raw_unit": raw_unit, "suspect": False,
    }


def worker_samples_upsert(*, source: Source, workers: Sequence[base.WorkerState], at: datetime) -> int:
    def row(worker: base.WorkerState) -> Row:
        return sample_row(source=source, worker_name=worker.name, at=at, hashrate_hs=worker.hashrate_hs,
                          raw_value=worker.raw_hashrate, raw_unit=worker.raw_unit)

    return samples_upsert(LazyRows(workers, row))


def samples_upsert(rows: Sequence[Row]) -> int:
    return upsert(
        m.HashrateSample, rows, unique=["source", "worker_name", "at"], update=SAMPLE_UPDATE_FIELDS
    )


def account_samples_upsert(*, source: Source, snapshot: base.PoolSnapshot, at: datetime) -> int:
    rows = account_samples(source=source, snapshot=snapshot, at=at)
    flag_suspects(source=source, rows=rows)
    return samples_upsert(rows)


def account_samples(*, source: Source, snapshot: base.PoolSnapshot, at: datetime) -> list[Row]:
    """The account series, from the pool's shortest averaging window: one row per reading
    time (one per poll for pools that report only the present), oldest first."""
    readings = shortest_window(snapshot.hashrate_samples)
    if not readings:
        if snapshot.hashrate_hs is None:
            return []
        return [sample_row(source=source, worker_name=m.ACCOUNT, at=at, hashrate_hs=snapshot.hashrate_hs)]
    by_moment = {
        poll_moment(reading.at): sample_row(
            source=source, worker_name=m.ACCOUNT, at=poll_moment(reading.at),
            hashrate_hs=reading.hashrate_hs, avg_window=reading.window, raw_value=reading.raw_value,
            raw_unit=reading.raw_unit,
        )
        for reading in readings
    }
    return [by_moment[moment] for moment in sorted(by_moment)]


def shortest_window(samples: Sequence[base.HashrateSample]) -> list[base.HashrateSample]:
    if not samples:
        return []
    shortest = min((sample.window for sample in samples), key=window_seconds)
    return [sample for sample in samples if sample.window == shortest]


def window_seconds(window: str) -> float:
    """ "15m" -> 900; a window we cannot read sorts last."""
    number, unit = window[:-1], window[-1:].lower()
    if not number.isdigit() or unit not in WINDOW_SECONDS:
        return float("inf")
    return int(number) * WINDOW_SECONDS[unit]


def flag_suspects(*, source: Source, rows: Sequence[Row]) -> None:
    """Mark a reading 1000x above or below the one before it: the sign of a unit read wrong
    rather than of a farm that grew. Compared with the reading just before, flagged or not,
    so one bad reading marks itself and the one after it, never a run of them."""
    if not rows:
        return
    previous = (
        m.HashrateSample.objects.filter(source=source, worker_name=m.ACCOUNT, at__lt=rows[0]["at"])
        .order_by("-at").values_list("hashrate_hs", flat=True).first()
    )
    for row in rows:
        if previous is not None and is_jump(previous, row["hashrate_hs"]):
            row["suspect"] = True
            log.warning(
                "source %s: account hashrate jumped from %g to %g H/s at %s; sample marked suspect",
                source.pk, previous, row["hashrate_hs"], row["at"].isoformat(),
            )
        previous = row["hashrate_hs"]


def is_jump(before: float, after: float) -> bool:
    # Zero is a farm switched off or on, not a unit error.
    if before <= 0 or after <= 0:
        return False
    return max(before, after) / min(before, after) >= SUSPECT_RATIO


def earnings_upsert(*, source: Source, earnings: Sequence[base.DailyEarning]) -> int:
    rows = {
        (earning.date, earning.coin): {
            "source_id": source.pk, "date": earning.date, "coin": earning.coin,
            "amount": earning.amount, "extra": earning.extra,
        }
        for earning in earnings
    }
    return upsert(m.DailyEarning, list(rows.values()), unique=["source", "date", "coin"],
                  update=["amount", "extra"])


def payout_key(payout: base.Payout) -> str:
    """The transaction id, else what identifies a payment the pool reports without one.
    Such a payment that later gains its tx is stored again under the tx."""
    if payout.tx:
        return payout.tx
    paid_at = payout.paid_at.astimezone(UTC).isoformat() if payout.paid_at else ""
    return "|".join((payout.coin, paid_at, plain(payout.amount), payout.address))


def plain(amount: Decimal) -> str:
    """1.50 and 1.5 as the same text, without exponent notation."""
    return format(amount.normalize(), "f")


def payouts_upsert(*, source: Source, payouts: Sequence[base.Payout]) -> int:
    rows = {
        payout_key(payout): {
            "source_id": source.pk, "key": payout_key(payout), "tx": payout.tx,
            "paid_at": payout.paid_at, "coin": payout.coin, "amount": payout.amount,
            "fee": payout.fee, "address": payout.address,
        }
        for payout in payouts
    }
    return upsert(m.Payout, list(rows.values()), unique=["source", "key"],
                  update=["tx", "paid_at", "coin", "amount", "fee", "address"])


def balances_upsert(*, source: Source, balances: Sequence[base.Balance], now: datetime) -> int:
    rows = {
        balance.coin: {
            "source_id": source.pk, "coin": balance.coin, "unpaid": balance.unpaid,
            "paid_total": balance.paid_total, "today": balance.today,
            "yesterday": balance.yesterday, "pending": balance.pending,
            "last_paid_at": balance.last_paid_at, "updated_at": now,
        }
        for balance in balances
    }
    return upsert(m.Balance, list(rows.values()), unique=["source", "coin"], update=[
        "unpaid", "paid_total", "today", "yesterday", "pending", "last_paid_at", "updated_at"])


def pool_stats_upsert(*, source: Source, stats: Sequence[base.PoolStats], at: datetime) -> int:
    rows = {
        (stat.scope, stat.coin): {
            "source_id": source.pk, "scope": stat.scope, "coin": stat.coin, "at": at,
            "hashrate_hs": stat.hashrate_hs, "hashrate_5m_hs": stat.hashrate_5m_hs,
            "hashrate_15m_hs": stat.hashrate_15m_hs, "workers": stat.workers, "users": stat.users,
            "reject_rates": stat.reject_rates,
            "raw_hashrate": stat.raw_hashrate, "raw_unit": stat.raw_unit,
        }
        for stat in stats
    }
    return upsert(m.PoolStat, list(rows.values()), unique=["source", "scope", "coin", "at"], update=[
        "hashrate_hs", "hashrate_5m_hs", "hashrate_15m_hs", "workers", "users", "reject_rates",
        "raw_hashrate", "raw_unit"])


def pool_coin_stats_upsert(
    *, source: Source, figures: Sequence[base.PoolCoinFigures], now: datetime
) -> int:
    rows = {
        figure.coin: {
            "source_id": source.pk, "coin": figure.coin, "as_of": figure.as_of,
            "pool_hashrate_hs": figure.pool_hashrate_hs,
            "network_hashrate_hs": figure.network_hashrate_hs,
            "network_difficulty": figure.network_difficulty, "miners": figure.miners,
            "workers": figure.workers, "fee_percent": figure.fee_percent, "luck": figure.luck,
            "blocks": [block_entry(block) for block in figure.blocks[:MAX_BLOCKS]],
            "payout_rate": figure.payout_rate, "payout_rate_unit": figure.payout_rate_unit,
            "usd_rate": figure.usd_rate, "name": figure.name, "algorithm": figure.algorithm,
            "paid_daily": figure.paid_daily, "updated_at": now,
        }
        for figure in figures
    }
    return upsert(m.PoolCoinStat, list(rows.values()), unique=["source", "coin"],
                  update=POOL_COIN_STAT_UPDATE_FIELDS)


def usd_prices_store(
    *, source: Source, figures: Sequence[base.PoolCoinFigures], now: datetime
) -> int:
    """A pool that publishes exchange rates (SBI Crypto) prices the team's coins in USD."""
    return daily_prices_store(source=source, rows=[
        daily_price_row(source=source, coin=figure.coin, quote="USD", price=figure.usd_rate,
                        as_of=min(figure.as_of or now, now), day=(figure.as_of or now).astimezone(UTC).date())
        for figure in figures if figure.usd_rate
    ])


def block_entry(block: base.FoundBlock) -> Row:
    """A found block as JSON: the reward as decimal text, so no float rounds it."""
    return {
        "height": block.height, "hash": block.hash,
        "found_at": block.found_at.astimezone(UTC).isoformat() if block.found_at else None,
        "reward": None if block.reward is None else plain(block.reward),
    }


def pool_account_upsert(*, source: Source, snapshot: base.PoolSnapshot, now: datetime) -> int:
    """The live figures are always this poll's, None where it could not read them, so a
    stale figure never passes for a current one; a failed account-info call keeps the last
    known name and address, which rarely change."""
    counts = snapshot.worker_counts
    fields: dict[str, Any] = {
        "hashrate_hs": snapshot.hashrate_hs,
        "hashrate_15m_hs": snapshot.hashrate_15m_hs,
        "hashrate_24h_hs": snapshot.hashrate_24h_hs,
        "workers_online": counts.online if counts else None,
        "workers_offline": counts.offline if counts else None,
        "workers_dead": counts.dead if counts else None,
        "workers_total": counts.total if counts else None,
        "hashrate_by_coin": snapshot.coin_hashrates,
    }
    if account := snapshot.account:
        fields |= {"account_id": account.account_id, "name": account.name,
                   "payout_address": account.payout_address, "region": account.region,
                   "info": base.without_secrets(account.extra)}
    m.PoolAccount.objects.update_or_create(source=source, defaults={**fields, "updated_at": now})
    return 1
