"""Deterministic values: strings turned into stable pseudo-random numbers.

Simulated data must be a pure function of (seed, account, entity, time), so answers are
identical at the same instant, identical across restarts, and drift as the injected clock moves.
"""

from __future__ import annotations

import hashlib
import math
import struct


def _digest(parts: tuple[object, ...], size: int) -> bytes:
    key = "\x1f".join(map(str, parts)).encode()
    return hashlib.blake2b(key, digest_size=size).digest()


def unit_random(*parts: object) -> float:
    """A float in [0, 1) fixed by `parts`: the same parts give the same number, forever."""
    return int.from_bytes(_digest(parts, 8), "big") / 2**64


def unit_randoms(count: int, *parts: object) -> tuple[float, ...]:
    """`count` (at most 8) independent floats in [0, 1) from one hash: cheaper in hot loops."""
    return tuple(n / 2**64 for n in struct.unpack(f">{count}Q", _digest(parts, 8 * count)))


def between(low: float, high: float, *parts: object) -> float:
    return low + (high - low) * unit_random(*parts)


def stable_int(*parts: object) -> int:
    """A signed 64-bit integer fixed by `parts` (ids that look like real upstream ids)."""
    return int.from_bytes(_digest(parts, 8), "big", signed=True)


def stable_hex(*parts: object, length: int = 64) -> str:
    """Hex digits fixed by `parts`: transaction ids, hashes."""
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:length]


def wave(t: float, period: float, *parts: object) -> float:
    """A sine in [-1, 1] over `period` seconds with a phase fixed by `parts`, so each entity
    drifts on its own schedule."""
    return math.sin(2 * math.pi * (t / period + unit_random("phase", *parts)))
