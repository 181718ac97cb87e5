"""BTC.com workers: a slow sine drift plus per-minute noise, outages, and what the worker
list shows of them at a moment."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from simulator.btccom.accounts import ACCOUNT_BY_PUID, DAY, HOUR, MINUTE, Account, Rack
from simulator.core import between, stable_int, unit_random, unit_randoms
from simulator.core.scenario import ForcedOutages

TERA = Decimal(10**12)

TH_DECIMALS = Decimal("0.01")

FLAKY_SHARE = 0.06  # of workers that now and then lose their connection
FLAKY_SLOT = 3 * HOUR  # at most one short outage per slot
FLAKY_OUTAGE_CHANCE = 0.5
DEAD_CYCLE = 30 * DAY
DEAD_SPAN = 20 * DAY  # two dead-prone workers half a cycle apart overlap, so one is always dead
DEAD_AFTER = DAY  # silent for longer than this: DEAD rather than INACTIVE


@dataclass(frozen=True)
class Worker:
    seed: str
    puid: int
    name: str
    rack: Rack
    base_hs: float
    flaky: bool
    dead_phase: float | None  # start of the first dead spell after the epoch, in seconds
    periods: tuple[float, float]
    phases: tuple[float, float]
    forced: ForcedOutages | None = None  # dropped by a running scenario

    def outages(self, start: float, end: float) -> list[tuple[float, float]]:
        """Outage intervals that overlap [start, end)."""
        found: list[tuple[float, float]] = self.forced.between(start, end) if self.forced else []
        if self.dead_phase is not None:
            k = math.floor((start - self.dead_phase) / DEAD_CYCLE) - 1
            begin = self.dead_phase + k * DEAD_CYCLE
            while begin < end:
                if begin + DEAD_SPAN > start:
                    found.append((begin, begin + DEAD_SPAN))
                begin += DEAD_CYCLE
        if self.flaky:
            slot = math.floor(start / FLAKY_SLOT)
            while slot * FLAKY_SLOT < end:
                spell = self._flaky_outage(slot)
                if spell and spell[1] > start and spell[0] < end:
                    found.append(spell)
                slot += 1
        return found

    def _flaky_outage(self, slot: int) -> tuple[float, float] | None:
        happens, size, place = unit_randoms(3, self.seed, self.puid, self.name, "outage", slot)
        if happens >= FLAKY_OUTAGE_CHANCE:
            return None
        length = (20 + 100 * size) * MINUTE
        offset = place * (FLAKY_SLOT - length)
        begin = slot * FLAKY_SLOT + offset
        return begin, begin + length

    def down_since(self, t: float) -> float | None:
        for begin, finish in self.outages(t, t + 1):
            if begin <= t < finish:
                return begin
        return None

    def downtime(self, start: float, end: float) -> float:
        return sum(min(e, end) - max(b, start) for b, e in self.outages(start, end))

    def rate(self, t: float, bucket: str, noise: float) -> float:
        """Hashrate in H/s sampled at `t`, with noise fixed per (bucket name, time)."""
        if self.down_since(t) is not None:
            return 0.0
        (fast, slow), (fast_phase, slow_phase) = self.periods, self.phases
        drift = (
            1
            + 0.04 * math.sin(2 * math.pi * (t / fast + fast_phase))
            + 0.02 * math.sin(2 * math.pi * (t / slow + slow_phase))
        )
        jitter = between(-noise, noise, self.seed, self.puid, self.name, bucket, int(t))
        return self.base_hs * drift * (1 + jitter)


def build_workers(account: Account, seed: str) -> list[Worker]:
    workers = []
    dead_phases = {
        name: (i * DEAD_CYCLE / len(account.dead_prone)) + account.puid % DAY
        for i, name in enumerate(account.dead_prone)
    }
    for rack in account.racks:
        for i in range(1, rack.count + 1):
            name = f"{rack.prefix}{i:02d}"
            parts = (seed, account.puid, name)
            workers.append(Worker(
                seed=seed,
                puid=account.puid,
                name=name,
                rack=rack,
                base_hs=rack.nominal_th * 1e12 * between(0.93, 1.03, *parts, "base"),
                flaky=name not in dead_phases and unit_random(*parts, "flaky") < FLAKY_SHARE,
                dead_phase=dead_phases.get(name),
                periods=(between(4, 9, *parts, "p1") * HOUR, between(20, 40, *parts, "p2") * HOUR),
                phases=(unit_random(*parts, "ph1"), unit_random(*parts, "ph2")),
            ))
    return workers


@functools.cache
def account_workers(seed: str, puid: int) -> tuple[Worker, ...]:
    return tuple(build_workers(ACCOUNT_BY_PUID[puid], seed))


@dataclass(frozen=True)
class WorkerSnapshot:
    worker: Worker
    status: str
    shares: dict[str, Decimal]  # window -> TH/s, rounded as sent
    last_share_time: int
    reject_percent: str

    def as_row(self) -> dict[str, Any]:
        w = self.worker
        return {
            "gid": w.rack.gid,
            "group_name": w.rack.group_name,
            "worker_id": str(stable_int(w.puid, w.name)),
            "worker_name": w.name,
            "shares_1m": str(self.shares["1m"]),
            "shares_5m": str(self.shares["5m"]),
            "shares_15m": str(self.shares["15m"]),
            "accept_count": int(self.shares["1d"] * 20_000),
            "last_share_time": self.last_share_time,
            "last_share_ip": ACCOUNT_BY_PUID[w.puid].ip,
            "reject_percent": self.reject_percent,
            "shares_unit": "T",
            "status": self.status,
            "shares_1d": str(self.shares["1d"]),
            "shares_1d_unit": "T",
        }


def worker_status(worker: Worker, t: float) -> str:
    return _status(t, worker.down_since(t))


def _status(t: float, down_since: float | None) -> str:
    if down_since is None:
        return "ACTIVE"
    return "DEAD" if t - down_since >= DEAD_AFTER else "INACTIVE"


def worker_snapshot(worker: Worker, now: datetime) -> WorkerSnapshot:
    t = now.timestamp()
    # Whole buckets only, so every request within the same minute agrees.
    last_minute = (math.floor(t / MINUTE) - 1) * MINUTE
    minutes = [worker.rate(last_minute - i * MINUTE, "m", 0.03) for i in range(15)]
    last_hour = (math.floor(t / HOUR) - 1) * HOUR
    hours = [worker.rate(last_hour - i * HOUR + HOUR / 2, "h", 0.01) for i in range(24)]
    shares = {
        "1m": _tera(minutes[0]),
        "5m": _tera(sum(minutes[:5]) / 5),
        "15m": _tera(sum(minutes) / 15),
        "1d": _tera(sum(hours) / 24),
    }
    since = worker.down_since(t)
    status = _status(t, since)
    if since is None:
        last_share = int(t) - int(between(0, 20, worker.seed, worker.name, "share", int(t) // 10))
    else:
        last_share = int(since)
    reject = 0.0
    if status != "DEAD":
        reject = max(0.0, between(-0.02, 0.05, worker.seed, worker.name, "reject", int(t) // HOUR))
    return WorkerSnapshot(
        worker=worker,
        status=status,
        shares=shares,
        last_share_time=last_share,
        reject_percent=f"{reject:.4f}",
    )


def _tera(hs: float) -> Decimal:
    return (Decimal(hs) / TERA).quantize(TH_DECIMALS)
