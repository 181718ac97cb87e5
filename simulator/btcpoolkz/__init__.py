"""The BTCpool.kz API as documented in seeds/btcpool-kz-api.md and NOTES.md.

One endpoint, /ru/api, serves every method named by `method`. Two accounts: ALPHA mines BTC
with 40 workers (one retired long ago, one dead for days every few weeks, a few that drop out
for an hour or two and come back), LTC_FARM mines LTC with 12. Everything is read at the
pool's 10-minute tick (the documented `last_active` values fall on one), so requests within a
tick agree. A day's profit is the hash its workers did times the coin's reward per hash, in a
PPS part and a smaller PPLNS part; the pool pays the morning after the credited profit reaches
the account's threshold, so payments and the balance follow from the profit history.

The documentation shows no error body: this one answers {"status": "ERROR", "message": ...},
with HTTP 403 for a missing or unknown key and HTTP 200 for bad parameters. A page holds at
most MAX_LIMIT rows whatever `limit` asks, and echoes the limit it used.

The package follows the upstream's parts: `accounts` (accounts, chains and workers),
`earnings` (daily profit and payments) and `api` (the endpoint and its methods).
"""

from __future__ import annotations

from simulator.btcpoolkz.accounts import (
    ACCOUNT_BY_KEY,
    ACCOUNTS,
    ALPHA,
    CHAINS,
    DAY,
    HOUR,
    LTC_FARM,
    MINUTE,
    TICK,
    Account,
    Chain,
    Worker,
    account_workers,
)
from simulator.btcpoolkz.api import MAX_LIMIT, ApiError, BtcPoolKzApi, human, php_float
from simulator.btcpoolkz.earnings import POOL_FEE, Payment, Profit, coin_per_hs_day, network_hs, profit

__all__ = [
    "ACCOUNTS",
    "ACCOUNT_BY_KEY",
    "ALPHA",
    "CHAINS",
    "DAY",
    "HOUR",
    "LTC_FARM",
    "MAX_LIMIT",
    "MINUTE",
    "POOL_FEE",
    "TICK",
    "Account",
    "ApiError",
    "BtcPoolKzApi",
    "Chain",
    "Payment",
    "Profit",
    "Worker",
    "account_workers",
    "coin_per_hs_day",
    "human",
    "network_hs",
    "php_float",
    "profit",
]
