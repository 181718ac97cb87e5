"""What a BTC.com account earns: the TH-days its workers mined times the day's PPS rate."""

from __future__ import annotations

import functools
import math
from datetime import UTC, date, datetime, time

from simulator.btccom.accounts import DAY
from simulator.btccom.workers import Worker, account_workers
from simulator.core import between

DIFFICULTY_ANCHOR = date(2025, 1, 1)
DIFFICULTY_AT_ANCHOR = 1.09e14
DIFFICULTY_GROWTH_PER_EPOCH = 0.01  # about +30 % a year
BLOCK_SUBSIDY_SAT = 312_500_000


def earned(seed: str, puid: int, day: date, *, until: float) -> int:
    """Satoshi earned on `day` up to `until`: TH-days actually mined times the PPS rate."""
    start = _day_start(day)
    if until >= start + DAY:
        return _earned_whole_day(seed, puid, day)
    return _earned_between(seed, puid, day, start, until) if until > start else 0


@functools.cache
def _earned_whole_day(seed: str, puid: int, day: date) -> int:
    # A finished day never changes, and earn-stats sums every one of them.
    start = _day_start(day)
    return _earned_between(seed, puid, day, start, start + DAY)


def _earned_between(seed: str, puid: int, day: date, start: float, end: float) -> int:
    base_th, outage_prone = _account_shape(seed, puid)
    th_seconds = base_th * (end - start) - sum(
        w.base_hs / 1e12 * w.downtime(start, end) for w in outage_prone
    )
    return int(th_seconds / DAY * satoshi_per_th_day(day))


@functools.cache
def _account_shape(seed: str, puid: int) -> tuple[float, tuple[Worker, ...]]:
    """Nominal TH/s of the whole account and the workers that ever go down."""
    workers = account_workers(seed, puid)
    prone = tuple(w for w in workers if w.flaky or w.dead_phase is not None)
    return sum(w.base_hs / 1e12 for w in workers), prone


def difficulty(day: date) -> int:
    """Network difficulty, stepping every 14 days like a retarget."""
    epoch = (day - DIFFICULTY_ANCHOR).days // 14
    wobble = 1 + between(-0.02, 0.02, "difficulty", epoch)
    return int(DIFFICULTY_AT_ANCHOR * math.exp(DIFFICULTY_GROWTH_PER_EPOCH * epoch) * wobble)


def satoshi_per_th_day(day: date) -> float:
    """What one TH/s earns in a day under PPS: subsidy plus a varying fee share."""
    fees = 1 + between(0.01, 0.05, "fees", day.isoformat())
    return DAY * 1e12 * BLOCK_SUBSIDY_SAT * fees / (difficulty(day) * 2**32)


def _day_start(day: date) -> float:
    return datetime.combine(day, time(), tzinfo=UTC).timestamp()
