"""SBI Crypto's public figures: pool hashrate and payouts per day, payout rate, luck, found
blocks, USD exchange rates, and the legacy 24 h stats on their own host. No credentials.

These are context for the account's own numbers, so a public read that fails is noted in the
snapshot's problems and left out instead of failing the poll.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, TypeVar

from dashboard.http import UpstreamError
from pools.clients import base
from pools.clients.base import as_object, from_epoch, pick, to_decimal, to_float, to_int
from pools.clients.sbicrypto_api import Record, SbiApi, coin_code, listed, mhs, moment, text

T = TypeVar("T")

LOOKUP_DAYS = 7
PUBLIC = "/api/external/v1/public"
# Legacy keys: btc_24h_hashrate_th, ethw_24h_hashrate_mh, btc_24h_reject_percent, ...
LEGACY_KEY = re.compile(
    r"^(?P<coin>[a-z0-9]+)_24h_(?:hashrate_(?P<unit>[kmgtpe]?)h|(?P<rate>reject|stale)_percent)$"
)


class PoolFigures:
    def __init__(self, api: SbiApi, *, stats_url: str, problems: list[str]):
        self.api = api
        self.stats_url = stats_url
        self.problems = problems

    def read(self, coins: Iterable[str]) -> tuple[list[base.PoolStats], dict[str, Any]]:
        """PoolStats per coin, and by name the figures PoolStats has no place for."""
        daily = self._try("hashrates", self.hashrates) or {}
        legacy, updated_at = self._try("legacy stats", self.legacy_stats) or ({}, None)
        info: dict[str, Any] = {
            "coins": self._try("coins", self.coins) or [],
            "hashrate_daily_hs": {coin: [mhs(v, field=coin) for v in raw] for coin, raw in daily.items()},
            "payouts_daily": self._try("payouts", self.payouts) or {},
            "payout_rate": self._try("payout rate", self.payout_rate) or {},
            "exchange_rates_usd": self._try("exchange rates", self.exchange_rates) or {},
            "luck_percent": {}, "found_blocks": {}, "stats_24h": legacy,
            "stats_updated_at": updated_at,
        }
        for coin in sorted(set(coins)):
            if (luck := self._try(f"{coin} luck", partial(self.luck, coin))) is not None:
                info["luck_percent"][coin] = luck
            if (blocks := self._try(f"{coin} blocks", partial(self.blocks, coin))) is not None:
                info["found_blocks"][coin] = blocks
        return pool_stats(daily, legacy), info

    def hashrates(self) -> dict[str, list[Any]]:
        """The pool's hashrate per coin per day in MH/s as sent, oldest first, to yesterday."""
        body = as_object(self.api.get(f"{PUBLIC}/hashrates", resolution=LOOKUP_DAYS), what="hashrates")
        daily = per_coin(pick(body, "hashrate"))
        for coin, values in daily.items():
            for value in values:
                mhs(value, field=f"{coin} hashrate")  # a bad number fails this read, not a later one
        return daily

    def payouts(self) -> dict[str, list[Any]]:
        """What the pool paid out per coin per day, in whole coins."""
        body = as_object(self.api.get(f"{PUBLIC}/poolstats/payout", range=LOOKUP_DAYS), what="payouts")
        return {coin: [to_decimal(v, field=f"{coin} payout") for v in values]
                for coin, values in per_coin(pick(body, "payout")).items()}

    def payout_rate(self) -> dict[str, dict[str, Any]]:
        """Coin paid per unit of hashrate (`per`, e.g. "TH") per day, as reported."""
        body = as_object(self.api.get(f"{PUBLIC}/poolstats/rate", days=LOOKUP_DAYS), what="payout rate")
        rates = {}
        for coin, value in body.items():
            entry = as_object(value, what=f"{coin} payout rate")
            rates[str(coin).upper()] = {
                "date": moment(entry.get("date"), field="date"), "per": text(entry, "denomination"),
                "rates": [to_decimal(v, field=f"{coin} rate") for v in listed(entry.get("rate"))],
            }
        return rates

    def coins(self) -> list[dict[str, str]]:
        return self._records("coins", self.api.get(f"{PUBLIC}/coins"), lambda row: {
            "code": coin_code(row, "code"), **{k: text(row, k) for k in ("name", "chain", "algo")}})

    def exchange_rates(self) -> dict[str, dict[str, Any]]:
        rows = self._records("exchange rates", self.api.get(f"{PUBLIC}/exchangerate"), lambda row: (
            coin_code(row, "currencyCode"),
            {"rate": to_decimal(pick(row, "exchangeRate"), field="exchangeRate"),
             "at": moment(row.get("timestamp"), field="timestamp")}))
        return dict(rows)

    def luck(self, coin: str) -> dict[str, Any]:
        """Luck in percent by period ("7d", "30d"), as the pool names the periods."""
        body = as_object(self.api.get(f"{PUBLIC}/poolstats/luck/{coin}"), what=f"{coin} luck")
        return {key: to_decimal(value, field=f"luck {key}") for key, value in body.items()
                if key != "coin"}

    def blocks(self, coin: str) -> list[dict[str, Any]]:
        """The pool's last 20 blocks of the coin, newest first."""
        return self._records(f"{coin} blocks", self.api.get(f"{PUBLIC}/poolstats/blocks/{coin}"),
                             lambda row: {
            "mined_at": moment(pick(row, "dateMined"), field="dateMined"),
            "height": to_int(pick(row, "blockNumber"), field="blockNumber"),
            "hash": text(row, "blockHash"),
            "reward": to_decimal(pick(row, "reward"), field="reward"),
        })

    def legacy_stats(self) -> tuple[dict[str, dict[str, Any]], Any]:
        """24 h hashrate, reject and stale percent per coin, 15 to 30 minutes behind."""
        body = as_object(self.api.get("", url=self.stats_url), what="legacy stats")
        stats: dict[str, dict[str, Any]] = {}
        for key, value in body.items():
            if not (match := LEGACY_KEY.match(key)):
                continue
            entry = stats.setdefault(match["coin"].upper(), {})
            if match["rate"]:
                entry[f"{match['rate']}_percent"] = to_float(value, field=key)
            else:
                unit = match["unit"].upper() or "H"
                entry |= {"hashrate_hs": base.hashrate_from_unit(value, unit, field=key),
                          "raw_hashrate": str(value), "raw_unit": unit}
        updated = body.get("updated_last_at")
        return stats, from_epoch(updated, field="updated_last_at") if updated is not None else None

    def _records(self, what: str, body: Any, parse: Callable[[Record], T]) -> list[T]:
        return base.parse_records(listed(body), parse, what=f"SBI Crypto {what}",
                                  problems=self.problems)

    def _try(self, what: str, read: Callable[[], T]) -> T | None:
        try:
            return read()
        except UpstreamError as error:
            self.problems.append(f"SBI Crypto {what} skipped: {error.message}")
            return None


def per_coin(values: Any) -> dict[str, list[Any]]:
    """A {coin: [values...]} map as the public endpoints send it."""
    return {str(coin).upper(): listed(v) for coin, v in as_object(values, what="per-coin map").items()}


def pool_stats(daily: Mapping[str, list[Any]],
               legacy: Mapping[str, Mapping[str, Any]]) -> list[base.PoolStats]:
    """One figure per coin for the whole pool: the legacy 24 h average where the stats host has
    it (fresher, and it brings reject and stale rates), else the last daily average."""
    stats = []
    for coin in sorted(set(daily) | {c for c, entry in legacy.items() if "hashrate_hs" in entry}):
        entry = legacy.get(coin, {})
        rates = {f"24h_{kind}": entry[f"{kind}_percent"] for kind in ("reject", "stale")
                 if f"{kind}_percent" in entry}
        if "hashrate_hs" in entry:
            stats.append(base.PoolStats("all", coin, entry["hashrate_hs"], reject_rates=rates,
                                        raw_hashrate=entry["raw_hashrate"], raw_unit=entry["raw_unit"]))
        elif daily[coin]:
            last = daily[coin][-1]
            stats.append(base.PoolStats("all", coin, mhs(last, field=coin), reject_rates=rates,
                                        raw_hashrate=str(last), raw_unit="M"))
    return stats
