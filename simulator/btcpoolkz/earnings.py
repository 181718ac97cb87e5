"""What a BTCpool.kz account earns: the hash its workers did times the coin's reward per hash,
in a PPS part and a smaller PPLNS part."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from simulator.btcpoolkz.accounts import ACCOUNT_BY_KEY, CHAINS, DAY, account_workers, day_start
from simulator.core import between

COIN_PLACES = Decimal("0.00000001")
POOL_FEE = 1  # percent; the only number main_stat sends as a JSON number

NETWORK_ANCHOR = date(2025, 1, 1)


@dataclass(frozen=True)
class Profit:
    hashrate: float  # the day's hash so far over the whole day, as the pool reports it
    pps: Decimal
    pplns: Decimal

    @property
    def total(self) -> Decimal:
        return self.pps + self.pplns

    def as_row(self, day: date) -> dict[str, str]:
        return {"hashrate": f"{self.hashrate:.2f}", "pplns_profit": f"{self.pplns:.8f}",
                "pps_profit": f"{self.pps:.8f}", "total_profit": f"{self.total:.8f}",
                "date": day.isoformat()}


def profit(seed: str, api_key: str, day: date, *, until: float) -> Profit:
    start = day_start(day)
    if until >= start + DAY:
        return _whole_day_profit(seed, api_key, day)
    return _profit_between(seed, api_key, day, start, max(start, until))


@functools.cache
def _whole_day_profit(seed: str, api_key: str, day: date) -> Profit:
    # A finished day never changes, and the payment ledger reads every one of them.
    start = day_start(day)
    return _profit_between(seed, api_key, day, start, start + DAY)


def _profit_between(seed: str, api_key: str, day: date, start: float, end: float) -> Profit:
    coin = ACCOUNT_BY_KEY[api_key].currency
    hashed = sum(w.base_hs * (end - start - w.downtime(start, end))
                 for w in account_workers(seed, api_key))
    hashrate = hashed / DAY
    pps = _coins(hashrate * coin_per_hs_day(coin, day) * (1 - POOL_FEE / 100))
    return Profit(hashrate, pps, _coins(float(pps) * between(0.01, 0.07, "pplns", coin, day)))


def network_hs(coin: str, day: date) -> float:
    chain = CHAINS[coin]
    years = (day - NETWORK_ANCHOR).days / 365
    return chain.network_hs * math.exp(chain.yearly_growth * years) * (
        1 + between(-0.03, 0.03, "network", coin, day))


def coin_per_hs_day(coin: str, day: date) -> float:
    chain = CHAINS[coin]
    return DAY / chain.block_seconds * chain.reward / network_hs(coin, day)


@dataclass(frozen=True)
class Payment:
    paid_at: int
    amount: Decimal
    payment_id: int


def _coins(value: float) -> Decimal:
    return Decimal(value).quantize(COIN_PLACES, rounding=ROUND_DOWN)
