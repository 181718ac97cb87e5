"""The seed's "Public API" section: pool statistics without a key, and the legacy stats host."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from typing import Any

from simulator.core import Request, Response, SimulatedApi, between, route, stable_hex, wave
from simulator.sbicrypto.base import SbiCryptoBase
from simulator.sbicrypto.earnings import at, iso, midnight
from simulator.sbicrypto.model import BLOCK_ANCHOR, COINS, DAY, MINUTE, PER_MHS, POOL, bad_request
from simulator.sbicrypto.params import _coins, _date, _int, _known_coin, _now


class PublicRoutes(SbiCryptoBase):
    """Public API: hashrates, coins, blocks, exchange rates, payouts, payout rate, luck."""

    @route("GET", "/api/external/v1/public/hashrates")
    def public_hashrates(self, request: Request) -> Response:
        days = _int(request, "resolution", low=1, high=365)
        today = request.now.date()
        return Response.json({"now": _now(request), "hashrate": {
            coin: [round(self._pool_mhs(coin, today - timedelta(days=days - k)), 1) for k in range(days)]
            for coin in _coins(request)}})

    @route("GET", "/api/external/v1/public/coins")
    def public_coins(self, request: Request) -> Response:
        return Response.json(list(COINS))

    @route("GET", "/api/external/v1/public/poolstats/blocks/{coin}")
    def public_blocks(self, request: Request) -> Response:
        coin = _known_coin(request.path_params["coin"])
        interval, reward, first_height = POOL[coin][3], POOL[coin][4], POOL[coin][5]
        latest = math.floor((request.now.timestamp() - BLOCK_ANCHOR) / interval)
        blocks: list[dict[str, Any]] = []
        for k in range(latest, latest - 40, -1):
            found = BLOCK_ANCHOR + k * interval + between(0, 0.9 * interval, self.seed, coin, "block", k)
            if found <= request.now.timestamp() and len(blocks) < 20:
                blocks.append({
                    "dateMined": iso(at(int(found))),
                    "blockNumber": first_height + int((found - BLOCK_ANCHOR) // 600),
                    "blockHash": "0000000000000000000" + stable_hex(self.seed, coin, "hash", k, length=45),
                    "reward": round(reward + between(0.001, 0.3, self.seed, coin, "fees", k), 8),
                })
        return Response.json(blocks)

    @route("GET", "/api/external/v1/public/exchangerate")
    def public_exchange_rates(self, request: Request) -> Response:
        t = request.now.timestamp()
        return Response.json([{
            "timestamp": _now(request), "currencyCode": coin,
            "exchangeRate": f"{POOL[coin][2] * (1 + 0.03 * wave(t, 2 * DAY, self.seed, coin, 'usd')):.2f}",
        } for coin in _coins(request)])

    @route("GET", "/api/external/v1/public/poolstats/payout")
    def public_payouts(self, request: Request) -> Response:
        days = _int(request, "range", low=1, high=365)
        start = _date(request, "date", request.now.date())
        return Response.json({"now": _now(request), "payout": {
            coin: [round(self._pool_mhs(coin, day) / PER_MHS[POOL[coin][6]] * POOL[coin][1], 8)
                   for day in (start - timedelta(days=days - k) for k in range(days))]
            for coin in _coins(request)}})

    @route("GET", "/api/external/v1/public/poolstats/rate")
    def public_payout_rate(self, request: Request) -> Response:
        days = _int(request, "days", low=1, high=365)
        yesterday = request.now.date() - timedelta(days=1)
        return Response.json({coin: {
            "date": iso(midnight(yesterday)), "denomination": POOL[coin][6],
            "rate": [POOL[coin][1] * (1 + between(-0.05, 0.05, self.seed, coin, "rate", day))
                     for day in (yesterday - timedelta(days=days - 1 - k) for k in range(days))],
        } for coin in _coins(request)})

    @route("GET", "/api/external/v1/public/poolstats/luck/{coin}")
    def public_luck(self, request: Request) -> Response:
        coin = _known_coin(request.path_params["coin"])
        raw = request.query.get("days", "") or "7,30"
        if not re.fullmatch(r"\d+(,\d+)*", raw) or len(raw.split(",")) > 10:
            raise bad_request("days must be up to 10 comma-separated whole numbers")
        week = request.now.date().isocalendar()[:2]
        return Response.json({"coin": coin, **{
            f"{days}d": f"{100 * between(0.6, 1.4, self.seed, coin, 'luck', days, week):.1f}"
            for days in raw.split(",")}})

    def _pool_mhs(self, coin: str, day: date) -> float:
        return POOL[coin][0] * (1 + 0.05 * wave(midnight(day).timestamp(), 9 * DAY, self.seed, coin))


class SbiStatsApi(SimulatedApi):
    """The legacy stats host (https://stats.sbicrypto.com/poolstats): 24 h figures, 15 to 30
    minutes behind."""

    prefix = "sbicrypto-stats"

    def describe(self) -> str:
        return "the legacy /poolstats of the sbicrypto API (its stats_url option)"

    @route("GET", "/poolstats")
    def poolstats(self, request: Request) -> Response:
        updated = (int(request.now.timestamp()) // (15 * MINUTE) - 1) * 15 * MINUTE
        day = at(updated).date()

        def rate(coin: str) -> float:
            return POOL[coin][0] * (1 + 0.05 * wave(midnight(day).timestamp(), 9 * DAY, self.seed, coin))

        def percent(coin: str, kind: str, low: float, high: float) -> float:
            return between(low, high, self.seed, coin, kind, updated)

        return Response.json({
            "btc_24h_hashrate_th": int(rate("BTC") / 1e6), "bch_24h_hashrate_th": int(rate("BCH") / 1e6),
            "ethw_24h_hashrate_mh": int(rate("ETHW")),
            "btc_24h_reject_percent": percent("BTC", "reject", 0.005, 0.02),
            "bch_24h_reject_percent": percent("BCH", "reject", 0.004, 0.015),
            "btc_24h_stale_percent": percent("BTC", "stale", 0.08, 0.2),
            "bch_24h_stale_percent": percent("BCH", "stale", 0.04, 0.1),
            "updated_last_at": updated,
        })
