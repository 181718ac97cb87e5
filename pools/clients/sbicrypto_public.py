"""SBI Crypto's public figures: pool hashrate per day, payout rate, luck, found blocks, USD
exchange rates, and the legacy 24 h stats on their own host. No credentials. The pool publishes
no network figures, miner counts or fee.

These are context for the account's own numbers, so a public read that fails is noted in the
snapshot's problems and left out instead of failing the poll.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
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

    def read(self, coins: Iterable[str]) -> tuple[list[base.PoolStats], list[base.PoolCoinFigures]]:
        """PoolStats per coin, and the figures of every coin the pool reports any for. Luck
        and found blocks take a request per coin, so they are read for `coins` only."""
        daily = self._try("hashrates", self.hashrates) or {}
        legacy, updated_at = self._try("legacy stats", self.legacy_stats) or ({}, None)
        rates = self._try("payout rate", self.payout_rate) or {}
        usd = self._try("exchange rates", self.exchange_rates) or {}
        names = self._try("coins", self.coins) or {}
        paid = self._try("payouts", self.payouts) or {}
        luck: dict[str, dict[str, float]] = {}
        blocks: dict[str, list[base.FoundBlock]] = {}
        for coin in sorted(set(coins)):
            if (found := self._try(f"{coin} luck", partial(self.luck, coin))) is not None:
                luck[coin] = found
            if (mined := self._try(f"{coin} blocks", partial(self.blocks, coin))) is not None:
                blocks[coin] = mined
        stats = {stat.coin: stat for stat in pool_stats(daily, legacy)}
        figures = [base.PoolCoinFigures(
            coin=coin,
            # Only the stats host says when its figures were computed.
            as_of=updated_at if "hashrate_hs" in legacy.get(coin, {}) else None,
            pool_hashrate_hs=stats[coin].hashrate_hs if coin in stats else None,
            luck=luck.get(coin, {}), blocks=blocks.get(coin, []),
            payout_rate=rates[coin][0] if coin in rates else None,
            payout_rate_unit=rates[coin][1] if coin in rates else "", usd_rate=usd.get(coin),
            name=names.get(coin, ("", ""))[0], algorithm=names.get(coin, ("", ""))[1],
            paid_daily=paid.get(coin),
        ) for coin in sorted({*stats, *rates, *luck, *blocks})]
        return list(stats.values()), figures

    def hashrates(self) -> dict[str, list[Any]]:
        """The pool's hashrate per coin per day in MH/s as sent, oldest first, to yesterday."""
        body = as_object(self.api.get(f"{PUBLIC}/hashrates", resolution=LOOKUP_DAYS), what="hashrates")
        daily = per_coin(pick(body, "hashrate"))
        for coin, values in daily.items():
            for value in values:
                mhs(value, field=f"{coin} hashrate")  # a bad number fails this read, not a later one
        return daily

    def payout_rate(self) -> dict[str, tuple[Decimal | None, str]]:
        """Per coin, yesterday's coin paid per unit of hashrate (the `denomination`, e.g. "TH")
        per day, and that unit. The rates run oldest first to yesterday, as the daily
        hashrates they are computed from do."""
        body = as_object(self.api.get(f"{PUBLIC}/poolstats/rate", days=LOOKUP_DAYS), what="payout rate")
        rates = {}
        for key, value in body.items():
            coin, entry = str(key).upper(), as_object(value, what=f"{key} payout rate")
            values = [to_decimal(v, field=f"{coin} rate") for v in listed(entry.get("rate"))]
            per = text(entry, "denomination")
            rates[coin] = (values[-1] if values else None, f"{coin}/{per}/day" if per else "")
        return rates

    def coins(self) -> dict[str, tuple[str, str]]:
        """The coins the pool mines: code -> (name, algorithm)."""
        rows = self._records("coins", self.api.get(f"{PUBLIC}/coins"), lambda row: (
            coin_code(row, "code"), (text(row, "name"), text(row, "algo"))))
        return dict(rows)

    def payouts(self) -> dict[str, Decimal]:
        """What the pool paid all its miners per coin on the last day of the range, in whole
        coins (the lists run oldest first)."""
        body = as_object(self.api.get(f"{PUBLIC}/poolstats/payout", range=LOOKUP_DAYS), what="payouts")
        return {coin: to_decimal(values[-1], field=f"{coin} payout")
                for coin, values in per_coin(pick(body, "payout")).items() if values}

    def exchange_rates(self) -> dict[str, Decimal]:
        """USD per coin."""
        rows = self._records("exchange rates", self.api.get(f"{PUBLIC}/exchangerate"), lambda row: (
            coin_code(row, "currencyCode"), to_decimal(pick(row, "exchangeRate"), field="exchangeRate")))
        return dict(rows)

    def luck(self, coin: str) -> dict[str, float]:
        """Luck in percent by period ("7d", "30d"), as the pool names the periods."""
        body = as_object(self.api.get(f"{PUBLIC}/poolstats/luck/{coin}"), what=f"{coin} luck")
        return {str(key): to_float(value, field=f"luck {key}") for key, value in body.items()
                if key != "coin"}

    def blocks(self, coin: str) -> list[base.FoundBlock]:
        """The pool's last 20 blocks of the coin, newest first."""
        return self._records(f"{coin} blocks", self.api.get(f"{PUBLIC}/poolstats/blocks/{coin}"),
                             found_block)

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


def found_block(row: Record) -> base.FoundBlock:
    return base.FoundBlock(
        height=to_int(pick(row, "blockNumber"), field="blockNumber"), hash=text(row, "blockHash"),
        found_at=moment(pick(row, "dateMined"), field="dateMined"),
        reward=to_decimal(pick(row, "reward"), field="reward"),
    )


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
