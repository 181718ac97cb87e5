"""The simulated BTCpool.kz accounts, the chains they mine, and their workers."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

from simulator.core import between, unit_random, unit_randoms, wave

MINUTE, TICK, HOUR, DAY = 60, 600, 3600, 86400

FLAKY_SHARE = 0.15  # of workers that now and then lose their connection
FLAKY_SLOT = 4 * HOUR  # at most one short outage per slot
FLAKY_CHANCE = 0.35
DEAD_CYCLE = 23 * DAY
DEAD_SPAN = 5 * DAY  # longer than a day: the client calls such a worker dead
RETIRED_AFTER = 40 * DAY


@dataclass(frozen=True)
class Chain:
    reward: float  # coins per block
    block_seconds: int
    network_hs: float  # on NETWORK_ANCHOR
    yearly_growth: float
    pool_hs: float
    miners: int


CHAINS = {
    "BTC": Chain(3.125, 600, 7.5e20, 0.35, 1.1e17, 1850),
    "BCH": Chain(3.125, 600, 3.5e18, 0.0, 2.9e14, 5),
    "LTC": Chain(6.25, 150, 1.6e15, 0.3, 3.0e12, 9),
}


@dataclass(frozen=True)
class Account:
    api_key: str
    currency: str
    address: str
    since: date
    racks: tuple[tuple[str, int, float], ...]  # name prefix, workers, nominal H/s each
    threshold: Decimal  # the pool pays once the credited profit reaches this
    first_worker_id: int
    first_payment_id: int
    retired: str = ""  # an extra worker that stopped RETIRED_AFTER into the account's life
    dead_prone: str = ""  # dead for DEAD_SPAN of every DEAD_CYCLE

    def worker_names(self) -> list[str]:
        racks = [f"{prefix}{i:02d}" for prefix, count, _ in self.racks for i in range(1, count + 1)]
        return [self.retired, *racks] if self.retired else racks


ALPHA = Account(
    api_key="sim-kz-key-1", currency="BTC", address="bc1q9h7garjxmndsg6lfrwy0zcmpx7t2sa4jnkr8hd",
    since=date(2024, 9, 2), racks=(("s19xp-", 20, 134e12), ("s19jpro-", 19, 100e12)),
    threshold=Decimal("0.005"), first_worker_id=23890160, first_payment_id=38104417,
    retired="worker1", dead_prone="s19jpro-07",
)
LTC_FARM = Account(
    api_key="sim-kz-key-2", currency="LTC", address="ltc1qg82m4sxw6dl5ue0n7rpk3vy9hjfza2ctq8wx5e",
    since=date(2024, 11, 18), racks=(("l7-", 12, 9.5e9),), threshold=Decimal("0.5"),
    first_worker_id=24100400, first_payment_id=38301552,
)
ACCOUNTS = (ALPHA, LTC_FARM)
ACCOUNT_BY_KEY = {a.api_key: a for a in ACCOUNTS}


@dataclass(frozen=True)
class Worker:
    parts: tuple[str, str, str]  # seed, api key, name: what fixes every draw for this worker
    name: str
    worker_id: int
    base_hs: float
    flaky: bool
    dead_phase: float | None
    retired_at: float | None

    def outages(self, start: float, end: float) -> list[tuple[float, float]]:
        """Outages that overlap [start, end); a worker has one kind of them only, so they
        never overlap each other."""
        if self.retired_at is not None:
            return [(self.retired_at, math.inf)] if self.retired_at < end else []
        found = []
        if self.dead_phase is not None:
            begin = self.dead_phase + math.floor((start - self.dead_phase) / DEAD_CYCLE) * DEAD_CYCLE
            for spell_start in range(int(begin), int(end), DEAD_CYCLE):
                found.append((float(spell_start), float(spell_start + DEAD_SPAN)))
        if self.flaky:
            for slot in range(math.floor(start / FLAKY_SLOT), math.ceil(end / FLAKY_SLOT)):
                happens, size, place = unit_randoms(3, *self.parts, "outage", slot)
                if happens < FLAKY_CHANCE:
                    length = (20 + 130 * size) * MINUTE
                    begin = slot * FLAKY_SLOT + place * (FLAKY_SLOT - length)
                    found.append((begin, begin + length))
        return [(b, e) for b, e in found if e > start and b < end]

    def down_since(self, t: float) -> float | None:
        return next((b for b, e in self.outages(t, t + 1) if b <= t < e), None)

    def downtime(self, start: float, end: float) -> float:
        return sum(min(e, end) - max(b, start) for b, e in self.outages(start, end))

    def rate(self, t: float) -> float:
        if self.down_since(t) is not None:
            return 0.0
        jitter = between(-0.02, 0.02, *self.parts, "minute", int(t) // MINUTE)
        return self.base_hs * (1 + 0.04 * wave(t, 7 * HOUR, *self.parts) + jitter)


@functools.cache
def account_workers(seed: str, api_key: str) -> tuple[Worker, ...]:
    account = ACCOUNT_BY_KEY[api_key]
    nominal = {f"{p}{i:02d}": hs for p, count, hs in account.racks for i in range(1, count + 1)}
    start = day_start(account.since)
    workers = []
    for index, name in enumerate(account.worker_names()):
        parts = (seed, api_key, name)
        workers.append(Worker(
            parts=parts, name=name,
            worker_id=account.first_worker_id + 7 * index + int(between(0, 7, *parts, "id")),
            base_hs=nominal.get(name, account.racks[0][2]) * between(0.93, 1.05, *parts, "base"),
            flaky=name not in (account.retired, account.dead_prone)
            and unit_random(*parts, "flaky") < FLAKY_SHARE,
            dead_phase=start + between(0, DEAD_CYCLE, *parts) if name == account.dead_prone else None,
            retired_at=start + RETIRED_AFTER + between(0, DAY, *parts) if name == account.retired
            else None,
        ))
    return tuple(workers)


def day_start(day: date) -> float:
    return datetime.combine(day, time(), tzinfo=UTC).timestamp()
