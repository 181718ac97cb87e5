"""SBI Crypto workers: each one's state and hashrates in a ten-minute slot, the totals of a
subaccount's slot, and a listing of workers in name order that computes only the page asked."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass

from simulator.core import unit_random, unit_randoms, wave
from simulator.sbicrypto.model import (
    BLANK_SHARE,
    DAY,
    DEAD_SHARE,
    HOUR,
    OFFLINE_SHARE,
    RECENTLY_DEAD_SHARE,
    SLOT,
    STATES,
    SUBS,
    Sub,
)


@dataclass(frozen=True)
class Reading:
    """One worker in one ten-minute slot."""

    state: str
    shown: str  # the state as sent: "" for a few workers
    mhs: tuple[float, float, float]  # 10m, 1h, 1d
    dead_since: float  # the last share of a DEAD worker, else 0


def reading(seed: str, sub: Sub, index: int, slot: int) -> Reading:
    base_u, dead_u, blank_u, phase = unit_randoms(4, seed, sub.id, index, "static")
    off_u, hour_u = unit_randoms(2, seed, sub.id, index, "hour", slot // 6)
    ten_u = unit_random(seed, sub.id, index, "slot", slot)
    base = (90 + 50 * base_u) * 1e6  # 90 to 140 TH/s
    t = slot * SLOT
    drift = 1 + 0.04 * wave(t, 6 * HOUR, seed, sub.id, index)
    day = base * (1 + 0.01 * math.sin(2 * math.pi * (t / DAY + phase)))
    mhs: tuple[float, float, float]
    since = 0.0
    if dead_u < DEAD_SHARE:
        state, day_start = "DEAD", t // DAY * DAY
        if dead_u < RECENTLY_DEAD_SHARE:  # quiet since hours before today: some 1d hashrate left
            mhs = (0.0, 0.0, day * (0.2 + 0.6 * hour_u))
            since = day_start - HOUR * (1 + 19 * dead_u / RECENTLY_DEAD_SHARE)
        else:
            mhs, since = (0.0, 0.0, 0.0), day_start - DAY * (2 + 38 * dead_u / DEAD_SHARE)
    elif off_u < OFFLINE_SHARE:
        state, mhs = "OFFLINE", (base * (0.3 + 0.4 * ten_u), base * 0.9 * drift, day * 0.98)
    else:
        state = "ONLINE"
        mhs = (base * drift * (1 + 0.06 * (ten_u - 0.5)), base * drift * (1 + 0.02 * (hour_u - 0.5)), day)
    # A few workers come without a state, as NOTES.md warns; their last share still tells it.
    return Reading(state, "" if blank_u < BLANK_SHARE else state, mhs, since)


def last_share(seed: str, sub: Sub, index: int, found: Reading, t: float) -> float:
    """Consistent with the documented rule at the moment of the request, with room to spare:
    ONLINE under 2 minutes ago, OFFLINE 2.5 to 7 minutes ago, DEAD long ago."""
    if found.state == "DEAD":
        return found.dead_since
    jitter = unit_random(seed, sub.id, index, "share", int(t) // 20)
    return t - (150 + 270 * jitter if found.state == "OFFLINE" else 40 * jitter)


# A day of ten-minute slots per subaccount and then some: a poll asks for the last hour's
# slots, and demo mode's history walks a week of them.
@functools.lru_cache(maxsize=1024)
def slot_totals(seed: str, sub_id: int, slot: int,
                cleared: bool = False) -> tuple[tuple[int, int, int], tuple[float, float, float]]:
    """(online, offline, dead) and the summed 10m, 1h and 1d MH/s of a subaccount's workers;
    without the DEAD ones once its inactive workers were cleared."""
    sub = SUBS[sub_id]
    counts = dict.fromkeys(STATES, 0)
    sums = [0.0, 0.0, 0.0]
    for index in range(sub.workers):
        found = reading(seed, sub, index, slot)
        if cleared and found.state == "DEAD":
            continue
        counts[found.state] += 1
        for window in range(3):
            sums[window] += found.mhs[window]
    return (counts["ONLINE"], counts["OFFLINE"], counts["DEAD"]), (sums[0], sums[1], sums[2])


@functools.lru_cache(maxsize=16)
def nominal_th(seed: str, sub_id: int) -> float:
    """The TH/s a subaccount's live workers make: the base of its earnings."""
    sub = SUBS[sub_id]
    return sum(90 + 50 * base_u for base_u, dead_u, *_ in (
        unit_randoms(4, seed, sub.id, index, "static") for index in range(sub.workers))
        if dead_u >= DEAD_SHARE)


class Listing:
    """Workers in name order, without computing them: (subaccount, index) by position."""

    def __init__(self, subs: list[Sub], chosen: list[tuple[Sub, int]] | None = None):
        self.subs, self.chosen = subs, chosen

    def __len__(self) -> int:
        return len(self.chosen) if self.chosen is not None else sum(sub.workers for sub in self.subs)

    def __iter__(self) -> Iterator[tuple[Sub, int]]:
        return self.slice(0, len(self), True)

    def slice(self, start: int, stop: int, ascending: bool) -> Iterator[tuple[Sub, int]]:
        total = len(self)
        for position in range(start, min(stop, total)):
            yield self._at(position if ascending else total - 1 - position)

    def _at(self, position: int) -> tuple[Sub, int]:
        if self.chosen is not None:
            return self.chosen[position]
        for sub in self.subs:
            if position < sub.workers:
                return sub, position
            position -= sub.workers
        raise IndexError(position)
