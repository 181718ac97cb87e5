"""The BTC.com pool API as documented in seeds/btccom-pool-api.md and NOTES.md.

Two accounts with about 150 workers in all. Per-worker hashrate is a slow sine drift plus
per-minute noise; a few workers drop out for an hour or two and come back, and two in
ALPHA take turns being dead for weeks, so there is always at least one DEAD worker. Account
totals are sums of the very worker values the worker list shows, and daily earnings follow
the workers' uptime, so a dashboard's numbers can be checked by hand.

The package follows the upstream's parts: `accounts` (who is simulated), `workers` (hashrate,
outages and the worker list's rows), `earnings` (PPS earnings per day) and `api` (the
endpoints).
"""

from __future__ import annotations

from simulator.btccom.accounts import (
    ACCOUNT_BY_PUID,
    ACCOUNTS,
    ALPHA,
    BRAVO,
    DAY,
    HOUR,
    MINUTE,
    Account,
    Rack,
)
from simulator.btccom.api import ApiError, BtccomApi
from simulator.btccom.earnings import difficulty, earned, satoshi_per_th_day
from simulator.btccom.workers import (
    Worker,
    WorkerSnapshot,
    account_workers,
    build_workers,
    worker_snapshot,
    worker_status,
)

__all__ = [
    "ACCOUNTS",
    "ACCOUNT_BY_PUID",
    "ALPHA",
    "BRAVO",
    "DAY",
    "HOUR",
    "MINUTE",
    "Account",
    "ApiError",
    "BtccomApi",
    "Rack",
    "Worker",
    "WorkerSnapshot",
    "account_workers",
    "build_workers",
    "difficulty",
    "earned",
    "satoshi_per_th_day",
    "worker_snapshot",
    "worker_status",
]
