"""The SBI Crypto pool API as documented in seeds/sbicrypto-pool-api.txt and NOTES.md: every
read (public, READ, FINANCIALS, collectors, observer) and the UPDATE actions that switch a
subaccount's coin, clear its inactive workers and change its payout address.

Account ALPHA (API key and secret) has 7,500 workers in two subaccounts: alpha-btc (BTC) and
alpha-bch (a BCH collector paying three virtual subaccounts). An observer key sees subaccount
bravo-observed (BTC, 240 workers). Worker values hold for a ten-minute slot and are computed
for the requested page only; subaccount totals add up every worker of a slot once and are
cached, so totals always equal the sum of the listed workers. A few workers come without a
state (""); their last share time still tells it. Hashrates are MH/s, amounts whole coins,
errors the documented `{"error", "error_description"}` body. The legacy stats endpoint lives
on its own host: `SbiStatsApi`, under its own prefix.

Keys: sim-sbi-key-alpha / sim-sbi-secret-alpha (READ, FINANCIALS and UPDATE, both subaccounts);
sim-sbi-key-reader / sim-sbi-secret-reader (READ, alpha-bch only); sim-sbi-key-nosubs /
sim-sbi-secret-nosubs (no subaccount: 403). Observer keys: sim-sbi-observer-bravo,
sim-sbi-observer-alpha-btc, sim-sbi-observer-alpha-bch.

UPDATE actions change this instance's memory, so later reads show them: the coin and payout
addresses in the account and subaccount reads (earnings keep the coin they were earned in),
and a cleared subaccount no longer lists or counts its DEAD workers. An address change takes
effect at once, without the pool's verification and 24-hour wait. alpha-bch has a BTC payout
address as well; alpha-btc has none for BCH, so switching it answers 422 until one is set.
`forget_changes()` restores the documented starting state.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from dashboard.simulator.core import (
    DEFAULT_SEED,
    Request,
    Response,
    SimulatedApi,
    between,
    route,
    stable_hex,
    unit_random,
    unit_randoms,
    wave,
)

MINUTE, HOUR, DAY = 60, 3600, 86400
SLOT = 10 * MINUTE
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 2000  # undocumented; larger requests are answered with pages of this size
DEAD_SHARE, RECENTLY_DEAD_SHARE, OFFLINE_SHARE, BLANK_SHARE = 0.08, 0.02, 0.03, 0.03
STATES = ("ONLINE", "OFFLINE", "DEAD")
READ, FINANCIALS, UPDATE = "READ", "FINANCIALS", "UPDATE"


@dataclass(frozen=True)
class Virtual:
    id: int
    name: str
    share: float  # of the collector's hashrate and earnings
    address: str
    tier: int
    overflow: bool = False


@dataclass(frozen=True)
class Sub:
    id: int
    name: str
    coin: str
    workers: int
    prefix: str  # worker names are prefix + a five-digit number
    address: str
    scheme: str
    fee: float  # percent
    observer_key: str
    virtual: tuple[Virtual, ...] = ()

    def worker_name(self, index: int) -> str:
        return f"{self.prefix}{index + 1:05d}"


@dataclass(frozen=True)
class Account:
    name: str
    timezone: str
    since: date
    subs: tuple[Sub, ...]


@dataclass(frozen=True)
class Key:
    api_key: str
    api_secret: str
    permissions: frozenset[str]
    sub_ids: tuple[int, ...]


ALPHA_BTC = Sub(15, "alpha-btc", "BTC", 4500, "alpha-s19-", "bc1q9h7garjv2e4q8vj5yq7d6w4vz2mnu3k8r0xlfp",
                "FPPS", 1.5, "sim-sbi-observer-alpha-btc")
ALPHA_BCH = Sub(16, "alpha-bch", "BCH", 3000, "alpha-s21-", "qr4tnlf3ujkgup2y8unrcw86wrq2zxgh3srtxnc7em",
                "PPLNS", 0.75, "sim-sbi-observer-alpha-bch", virtual=(
                    Virtual(1, "vsub-north", 0.5, "qz8w0h4p7a3xk2c6y9d5n1m4r7t0v3s6u9jgl2e5f", 1),
                    Virtual(2, "vsub-south", 0.3, "qp2n7k4d9w3x6c1v8b5m2z7h4g9f6s3a0lje8r5t", 2),
                    Virtual(3, "overflow", 0.2, "qr4tnlf3ujkgup2y8unrcw86wrq2zxgh3srtxnc7em", 11, True),
                ))
BRAVO = Sub(42, "bravo-observed", "BTC", 240, "bravo-rig-", "bc1qz84nwjh29kq74zsvumtk3jl2g5mn4r9rmppg8l",
            "FPPS", 1.5, "sim-sbi-observer-bravo")
ALPHA = Account("alpha@mining.example", "Asia/Tokyo", date(2024, 6, 1), (ALPHA_BTC, ALPHA_BCH))
BRAVO_ACCOUNT = Account("bravo@hosting.example", "UTC", date(2024, 9, 1), (BRAVO,))
ACCOUNTS = (ALPHA, BRAVO_ACCOUNT)
SUBS = {sub.id: sub for account in ACCOUNTS for sub in account.subs}
OWNER = {sub.id: account for account in ACCOUNTS for sub in account.subs}
OBSERVERS = {sub.observer_key: sub for sub in SUBS.values()}
KEYS = {key.api_key: key for key in (
    Key("sim-sbi-key-alpha", "sim-sbi-secret-alpha", frozenset({READ, FINANCIALS, UPDATE}), (15, 16)),
    Key("sim-sbi-key-reader", "sim-sbi-secret-reader", frozenset({READ}), (16,)),
    Key("sim-sbi-key-nosubs", "sim-sbi-secret-nosubs", frozenset({READ, FINANCIALS}), ()),
)}
# Payout addresses configured for coins other than the one a subaccount mines.
OTHER_ADDRESSES = {ALPHA_BCH.id: {"BTC": "bc1qk7v0wz3m9d4h2x8s6f5j1p0r4e7t3y9u2nca6l"}}

COINS = (
    {"code": "BCH", "name": "bitcoin cash", "chain": "bitcoin", "algo": "sha256"},
    {"code": "BTC", "name": "bitcoin", "chain": "bitcoin", "algo": "sha256"},
    {"code": "ETHW", "name": "eth PoW", "chain": "ethereum", "algo": "ethhash"},
    {"code": "LTC", "name": "litecoin", "chain": "litecoin", "algo": "scrypt"},
)
COIN_IDS = {"BTC": 0, "BCH": 145, "ETHW": 60, "LTC": 2}
# Per coin: pool hashrate (MH/s), coin per TH (or unit below) per day, USD rate, seconds between
# the pool's blocks, block reward, first height, and the payout rate's denomination.
POOL = {
    "BTC": (2.58e12, 6.2e-7, 64000.0, 40 * HOUR, 3.125, 850_000, "TH"),
    "BCH": (2.0e10, 8.8e-5, 420.0, 3 * HOUR, 3.125, 860_000, "TH"),
    "ETHW": (3.4e3, 2.1e-3, 2.4, HOUR, 2.0, 19_000_000, "MH"),
    "LTC": (5.0e5, 3.3e-4, 85.0, 12 * HOUR, 6.25, 2_700_000, "GH"),
}
PER_MHS = {"MH": 1.0, "GH": 1e3, "TH": 1e6}
BLOCK_ANCHOR = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
SUBPOOLS = [
    {"name": "US Subpool", "coins": ["BTC", "BCH", "LTC"], "region": 2, "stratumServers": [
        {"id": 2, "host": "us1.sbicrypto.com", "port": 3333},
        {"id": 5, "host": "eth.us1.sbicrypto.com", "port": 3333}]},
    {"name": "Asia Subpool", "coins": ["BTC", "BCH"], "region": 1, "stratumServers": [
        {"id": 3, "host": "jp1.sbicrypto.com", "port": 3333}]},
]
PAGE_KEYS = frozenset({"content", "first", "last", "totalElements", "totalPages", "size", "number",
                       "numberOfElements", "sort"})


class ApiError(Exception):
    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


def bad_request(description: str) -> ApiError:
    return ApiError(400, "bad_request", description)


# -- workers --


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


@functools.lru_cache(maxsize=128)
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


# -- earnings --


@dataclass(frozen=True)
class Share:
    """One day's earning of a subaccount, or of one virtual subaccount of a collector."""

    sub: Sub
    virtual: Virtual | None
    day: date
    net: float
    gross: float
    mhs: float

    @property
    def address(self) -> str:
        return self.virtual.address if self.virtual else self.sub.address

    @property
    def virtual_id(self) -> int | None:
        return self.virtual.id if self.virtual else None

    @property
    def virtual_name(self) -> str | None:
        return self.virtual.name if self.virtual else None


def pay_time(seed: str, coin: str, day: date) -> datetime:
    jitter = between(0, 20 * MINUTE, seed, coin, "paid", day)
    return datetime.combine(day + timedelta(days=1), time(2, 30), tzinfo=UTC) + timedelta(seconds=int(jitter))


def pay_state(seed: str, coin: str, day: date, now: datetime) -> str:
    paid = pay_time(seed, coin, day)
    return "PENDING" if now < paid else "POSTED" if now < paid + timedelta(hours=1) else "CONFIRMED"


def shares(seed: str, sub: Sub, day: date) -> list[Share]:
    uptime = between(0.9, 0.99, seed, sub.id, "uptime", day)
    rate = POOL[sub.coin][1] * (1 + between(-0.05, 0.05, seed, sub.coin, "rate", day))
    th = nominal_th(seed, sub.id) * uptime
    net = th * rate
    parts: list[tuple[Virtual | None, float]] = [(v, v.share) for v in sub.virtual] or [(None, 1.0)]
    return [Share(sub, v, day, round(net * part, 8), round(net * part / (1 - sub.fee / 100), 8),
                  th * part * 1e6) for v, part in parts]


def uuid_of(*parts: object) -> str:
    h = stable_hex(*parts, length=32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def iso(moment: datetime) -> str:
    """Times as the API writes them: 2021-09-17T10:04:49.000+00:00."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


# -- the API --


class SbiCryptoApi(SimulatedApi):
    prefix = "sbicrypto"
    envelope_keys = PAGE_KEYS

    def __init__(self, *, seed: str = DEFAULT_SEED):
        super().__init__(seed=seed)
        self._lock = threading.Lock()  # the server answers requests on several threads
        self.coins: dict[int, str] = {}
        self.addresses: dict[int, dict[str, str]] = {}
        self.cleared: set[int] = set()
        self.forget_changes()

    def forget_changes(self) -> None:
        """Undo every UPDATE action."""
        with self._lock:
            self.coins = {sub.id: sub.coin for sub in SUBS.values()}
            self.addresses = {sub.id: {sub.coin: sub.address, **OTHER_ADDRESSES.get(sub.id, {})}
                              for sub in SUBS.values()}
            self.cleared = set()

    def coin_of(self, sub: Sub) -> str:
        return self.coins[sub.id]

    def address_of(self, sub: Sub) -> str:
        return self.addresses[sub.id].get(self.coins[sub.id], "")

    def describe(self) -> str:
        return ("api_key sim-sbi-key-alpha api_secret sim-sbi-secret-alpha (7,500 workers); "
                "observer_key sim-sbi-observer-bravo (240 workers)")

    def dispatch(self, request: Request) -> Response:
        try:
            response = super().dispatch(request)
        except ApiError as error:
            return Response.json({"error": error.error, "error_description": error.description},
                                 status=error.status)
        if response.status in (404, 405) and isinstance(response.payload, dict) \
                and "error_description" not in response.payload:
            return Response.json({"error": "not_found" if response.status == 404 else "method_not_allowed",
                                  "error_description": f"No endpoint {request.method} {request.path}"},
                                 status=response.status, headers=response.headers)
        return response

    def apply_schema_change(self, response: Response) -> Response:
        """This API's keys are camelCase already; a format change makes them snake_case."""
        if response.payload is None:
            return response
        payload = response.payload
        if isinstance(payload, dict):
            payload = {k if k in self.envelope_keys else _snake(k): _snakeize(v) for k, v in payload.items()}
        else:
            payload = _snakeize(payload)
        return Response.json(payload, status=response.status, headers=response.headers)

    # -- public --

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

    # -- READ --

    @route("GET", "/api/external/v1/account")
    def account(self, request: Request) -> Response:
        account, subs = self._key(request, READ)
        counts, sums = self._totals(subs, request.now)
        return Response.json({
            "name": account.name, "timezone": account.timezone, "hashrate": sums,
            "subaccounts": [{"subaccountId": s.id, "subaccountName": s.name,
                             "currentMiningCurrency": _currency(self.coin_of(s), full=True)} for s in subs],
            "workerStatus": {"OFFLINE": counts[1], "DEAD": counts[2], "ONLINE": counts[0]},
            "numOfWorkers": sum(counts), "numOfSubaccounts": len(subs),
        })

    @route("GET", "/api/external/v1/subaccounts")
    def subaccounts(self, request: Request) -> Response:
        account, subs = self._key(request, READ)
        rows = []
        for sub in _named(subs, request):
            counts, sums = self._totals((sub,), request.now)
            rows.append({
                "subaccountId": sub.id, "subaccountName": sub.name,
                "currentMiningCurrency": _currency(self.coin_of(sub), full=False),
                "payoutAddress": self.address_of(sub),
                "observerLink": f"https://pool.sbicrypto.com/observers?linkId={sub.observer_key}",
                "hashrate": sums,
                "workerStatus": {"offline": counts[1], "online": counts[0], "dead": counts[2]},
                "totalWorkers": sum(counts),
            })
        return Response.json({"accountName": account.name, "subaccounts": rows})

    @route("GET", "/api/external/v1/workers")
    def workers(self, request: Request) -> Response:
        _, subs = self._key(request, READ)
        page, size = _paging(request, "pageNumber")
        wanted = _states(request)
        listed = self._listing(_named(subs, request), request, wanted, request.query.get("workerName", ""))
        return Response.json(self._worker_page(listed, request, page, size, (10, 60, 1440), ascending=True))

    @route("GET", "/api/external/v1/subpools")
    def subpools(self, request: Request) -> Response:
        self._key(request, READ)
        return Response.json(SUBPOOLS)

    # -- FINANCIALS --

    @route("GET", "/api/external/v1/earnings")
    def payout_information(self, request: Request) -> Response:
        _, subs = self._key(request, FINANCIALS)
        first, last = _range(request, "fromDate", "toDate", default=None)
        page, size = _paging(request, "page", default_size=100)
        rows = []
        for share in self._shares(subs, first, last, request.now):
            state = pay_state(self.seed, share.sub.coin, share.day, request.now)
            if state == "PENDING":
                continue  # the record is made when the payout is computed
            tx = self._tx(share.sub.coin, share.day)
            rows.append({
                "id": uuid_of(self.seed, "record", share.sub.id, share.virtual_id, share.day),
                "coin": _currency(share.sub.coin, full=False),
                "created": iso(pay_time(self.seed, share.sub.coin, share.day)),
                "asOf": iso(midnight(share.day + timedelta(days=1))),
                "subaccountName": share.sub.name, "subaccountId": share.sub.id,
                "payoutAddress": share.address, "paymentMethod": share.sub.scheme,
                "amount": share.net, "feesPaid": round(share.gross - share.net, 8),
                "systemFeePercentage": share.sub.fee, "transactionId": tx[1], "status": state,
                "blockchainId": tx[0],
            })
        rows.sort(key=lambda row: (row["created"], row["id"]), reverse=True)
        return Response.json(_page(rows, page, size, "created", ascending=False))

    @route("GET", "/api/external/v2/earnings")
    def earnings(self, request: Request) -> Response:
        _, subs = self._key(request, FINANCIALS)
        first, last = _range(request, "startDate", "endDate", default=_month(request.now.date()))
        page, size = _paging(request, "page", required=True)
        wanted = {int(v) for v in request.query.get("vSubaccounts", "").split(",") if v.strip().isdigit()}
        rows = []
        for share in self._shares(subs, first, last, request.now):
            if wanted and (share.virtual is None or share.virtual.id not in wanted):
                continue
            state = pay_state(self.seed, share.sub.coin, share.day, request.now)
            tx, internal = self._tx(share.sub.coin, share.day) if state != "PENDING" else (None, None)
            rows.append({
                "earningsId": uuid_of(self.seed, "earning", share.sub.id, share.virtual_id, share.day),
                "subaccountId": share.sub.id, "subaccountName": share.sub.name,
                "vSubaccountId": share.virtual_id, "vSubaccountName": share.virtual_name,
                "earningsFor": iso(midnight(share.day)), "earningScheme": share.sub.scheme,
                "coin": share.sub.coin, "address": share.address, "hashrate": share.mhs,
                "grossOwed": share.gross, "fee": share.sub.fee,
                "feesPaid": round(share.gross - share.net, 8), "netOwed": share.net, "state": state,
                "txId": tx, "internalTxId": internal,
                "paidOn": iso(pay_time(self.seed, share.sub.coin, share.day)) if tx else None,
            })
        rows = _filtered(rows, request, ("coin", "txId", "address"))
        field, ascending = _sort(request, rows, default=("earningsFor", False), secondary="earningsFor")
        return Response.json(_page(rows, page, size, field, ascending))

    @route("GET", "/api/external/v1/revenue")
    def revenue(self, request: Request) -> Response:
        _, subs = self._key(request, FINANCIALS)
        today = request.now.date()
        elapsed = (request.now - midnight(today)).total_seconds() / DAY
        by_day: dict[str, list[dict[str, Any]]] = {}
        for day, fraction in ((today, elapsed), (today - timedelta(days=1), 1.0)):
            by_day[iso(midnight(day))] = [{
                "subaccountName": sub.name, "coin": sub.coin,
                "amount": round(sum(s.net for s in shares(self.seed, sub, day)) * fraction
                                * between(0.97, 1.03, self.seed, sub.id, "estimate", day), 8),
            } for sub in _named(subs, request)]
        return Response.json({"estimatedRevenues": by_day})

    @route("GET", "/api/external/v1/payouts")
    def payouts(self, request: Request) -> Response:
        _, subs = self._key(request, FINANCIALS)
        first, last = _range(request, "startDate", "endDate", default=_month(request.now.date()))
        page, size = _paging(request, "page")
        coins = {c.strip().upper() for c in request.query.get("coinFilters", "").split(",") if c.strip()}
        vsubs = {int(v) for v in request.query.get("vSubaccountIds", "").split(",") if v.strip().isdigit()}
        by_tx: dict[tuple[str, date], list[Share]] = {}
        # Paid on the day after the earning: the dates select by payment day.
        for share in self._shares(subs, first - timedelta(days=1), last - timedelta(days=1), request.now):
            if (not coins or share.sub.coin in coins) and (
                    not vsubs or (share.virtual is not None and share.virtual.id in vsubs)):
                by_tx.setdefault((share.sub.coin, share.day), []).append(share)
        rows = []
        for (coin, day), paid in by_tx.items():
            state = pay_state(self.seed, coin, day, request.now)
            tx, internal = self._tx(coin, day)
            rows.append({
                "internalTxId": internal, "coin": coin, "amount": round(sum(s.net for s in paid), 8),
                "txFee": round(between(1e-5, 5e-5, self.seed, coin, "txfee", day), 8),
                "state": "NEW" if state == "PENDING" else state, "txId": None if state == "PENDING" else tx,
                "paidOn": None if state == "PENDING" else iso(pay_time(self.seed, coin, day)),
                "details": [{"amount": s.net, "subaccount": s.sub.name, "address": s.address,
                             "vsubaccountName": s.virtual_name} for s in paid],
            })
        rows = _filtered(rows, request, ("txId",))
        field, ascending = _sort(request, rows, default=("paidOn", False), secondary="paidOn",
                                 ascending_by_default=True)
        return Response.json(_page(rows, page, size, field, ascending))

    # -- collectors --

    @route("GET", "/api/external/v1/subaccount/{collector}/virtual")
    def collector(self, request: Request) -> Response:
        _, subs = self._key(request, READ)
        raw = request.path_params["collector"]
        if not raw.isdigit() or int(raw) not in SUBS:
            raise bad_request(f"{raw} is not a valid subaccount")
        sub = SUBS[int(raw)]
        if sub not in subs:
            raise ApiError(403, "access_denied", f"The API key has no access to subaccount {sub.name}")
        if not sub.virtual:
            raise bad_request(f"{sub.name} is not a collector subaccount")
        wanted = _ids(request, "vSubaccountIds")
        return self._virtual_page(request, [(sub, v) for v in sub.virtual if not wanted or v.id in wanted])

    @route("GET", "/api/external/v1/subaccount/virtual")
    def virtual(self, request: Request) -> Response:
        _, subs = self._key(request, READ)
        collectors, wanted = _ids(request, "collectorIds"), _ids(request, "vSubaccountIds")
        if not collectors or not wanted:
            raise bad_request("collectorIds and vSubaccountIds are required")
        if any(c not in {s.id for s in subs} for c in collectors):
            raise ApiError(403, "access_denied", "The API key has no access to every collector asked for")
        name = request.query.get("filter", "").strip()
        return self._virtual_page(request, [
            (sub, v) for sub in subs if sub.id in collectors for v in sub.virtual
            if v.id in wanted and name in v.name])

    def _virtual_page(self, request: Request, found: list[tuple[Sub, Virtual]]) -> Response:
        page, size = _paging(request, "page")
        today = request.now.date()
        rows = []
        for sub, v in found:
            _, sums = self._totals((sub,), request.now)
            revenue = [round(next(s.net for s in shares(self.seed, sub, day) if s.virtual == v)
                             * fraction, 8) for day, fraction in (
                (today - timedelta(days=1), 1.0),
                (today, (request.now - midnight(today)).total_seconds() / DAY))]
            allocation = int(sums[2] * v.share)
            link = f"https://pool.sbicrypto.com/observers?linkId={stable_hex(self.seed, v.id, length=32)}"
            rows.append({
                "collectorId": sub.id, "collectorName": sub.name, "coin": sub.coin, "scheme": sub.scheme,
                "feeRate": sub.fee, "allocation": allocation, "magnitude": "MH/s",
                "hashrate": [value * v.share for value in sums], "revenue": revenue, "balance": revenue[1],
                "observerLink": link,
                "percentage": v.share, "address": v.address, "note": "NO_CHANGE", "newAllocation": allocation,
                "tier": v.tier, "newTier": v.tier, "vsubaccountName": v.name, "vsubaccountId": v.id,
                "isOverflow": v.overflow, "isPaymentEnabled": True,
            })
        field, ascending = _sort(request, rows, default=("percentage", False), secondary="vsubaccountId")
        return Response.json(_page(rows, page, size, field, ascending))

    # -- UPDATE --

    @route("PATCH", "/api/external/v1/subaccount")
    def switch_coin(self, request: Request) -> Response:
        _, subs = self._key(request, UPDATE)
        body = _body(request)
        sub = _target(subs, body.get("subaccountName"))
        coin = _supported_coin(body.get("coin"))
        with self._lock:
            address = self.addresses[sub.id].get(coin)
            if not address:
                raise ApiError(422, "unprocessable_entity",
                               f"Subaccount {sub.name} does not have a configured payout address for {coin}")
            unchanged = self.coins[sub.id] == coin
            self.coins[sub.id] = coin
        return Response.json({"subaccountName": sub.name, "coin": coin, "payoutAddress": address},
                             status=200 if unchanged else 202)

    @route("POST", "/api/external/v1/clear-inactive-workers")
    def clear_inactive_workers(self, request: Request) -> Response:
        _, subs = self._key(request, UPDATE)
        name = request.query.get("subaccountName", "").strip()
        if not name:
            raise bad_request("subaccountName is required")
        sub = _target(subs, name)
        with self._lock:
            self.cleared.add(sub.id)
        return Response(status=204)

    @route("PATCH", "/api/external/v1/subaccount/address")
    def update_payout_address(self, request: Request) -> Response:
        _, subs = self._key(request, UPDATE)
        body = _body(request)
        sub = _target(subs, body.get("name"))
        coin = _supported_coin(body.get("coin") or self.coin_of(sub))
        address = str(body.get("address") or "").strip()
        if not address:
            raise bad_request("address is required")
        with self._lock:
            self.addresses[sub.id][coin] = address
        return Response.json({"id": sub.id, "address": address, "coin": coin}, status=202)

    # -- observer --

    @route("GET", "/api/observer/v1/workers/validate")
    def observer_validate(self, request: Request) -> Response:
        self._observer(request)
        return Response(status=204)

    @route("GET", "/api/observer/v1/workers/details")
    def observer_workers(self, request: Request) -> Response:
        sub = self._observer(request)
        name = request.query.get("nameFilter", "")
        if name and not 2 <= len(name) <= 20:
            raise bad_request("nameFilter must be 2 to 20 characters")
        ranges = [int(r) for r in (request.query.get("hashrateRanges") or "10,60,1440").split(",")
                  if r.strip().isdigit()]
        if "text/csv" in request.headers.get("accept", ""):
            return self._csv(sub, request, ranges)
        page, size = _paging(request, "page")
        field, ascending = _sort_param(request, ("name",), ("name", True))
        listed = self._listing((sub,), request, _states(request), name)
        return Response.json(self._worker_page(listed, request, page, size, ranges, ascending, field))

    @route("GET", "/api/observer/v1/hashrates/coin")
    @route("GET", "/api/observer/v1/workers/hashrates/coin")  # the path of the document's example
    def observer_coin_hashrates(self, request: Request) -> Response:
        sub = self._observer(request)
        match = re.fullmatch(r"(\d+):(\d+)", request.query.get("range", ""))
        resolution = _int(request, "resolution", low=1, high=1440)
        if not match or not int(match[1]) < int(match[2]) <= DAY // MINUTE:
            raise bad_request("range must be start:end in minutes before now, within a day")
        start, end = int(match[1]), int(match[2])
        points = [request.now - timedelta(minutes=end - (k + 0.5) * resolution)
                  for k in range(math.ceil((end - start) / resolution))]
        wanted = {c.strip().upper() for c in request.query.get("coins", "").split(",") if c.strip()}
        if wanted and sub.coin not in wanted:
            return Response.json({"now": _now(request), "hashrate": {}})
        return Response.json({"now": _now(request), "hashrate": {
            sub.coin: [self._totals((sub,), moment)[1][0] for moment in points]}})

    @route("GET", "/api/observer/v1/workers/hashrates")
    def observer_hashrates(self, request: Request) -> Response:
        sub = self._observer(request)
        raw = request.query.get("ranges", "")
        if not re.fullmatch(r"\d+(,\d+)*", raw):
            raise bad_request("ranges must be comma-separated minutes")
        _, sums = self._totals((sub,), request.now)
        return Response.json({"now": _now(request), "subaccounts": {sub.name: sub.id},
                              "hashrate": {sub.name: [sums[_window(int(r))] for r in raw.split(",")]}})

    @route("GET", "/api/observer/v1/workers/status")
    def observer_status(self, request: Request) -> Response:
        sub = self._observer(request)
        counts, _ = self._totals((sub,), request.now)
        return Response.json({"status": {str(sub.id): {
            "name": sub.name, "online": counts[0], "offline": counts[1], "dead": counts[2]}}})

    def _csv(self, sub: Sub, request: Request, ranges: list[int]) -> Response:
        first = _date(request, "startDate", date.min)
        last = _date(request, "endDate", date.max)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["worker", "subaccount", "status", "lastShareDate",
                         *(f"hashrate{r}m" for r in ranges)])
        for row in self._rows(self._listing((sub,), request, _states(request),
                                            request.query.get("nameFilter", "")), request, ranges):
            shared = datetime.fromisoformat(row["lastShareTime"])
            if first <= shared.date() <= last:
                writer.writerow([row["name"], row["subaccount"], row["state"],
                                 shared.isoformat(timespec="seconds"), *row["hashrates"]])
        return Response.text(out.getvalue(), content_type="text/csv; charset=utf-8")

    # -- shared --

    def _key(self, request: Request, permission: str) -> tuple[Account, tuple[Sub, ...]]:
        """The account and subaccounts the request's key may read with `permission`."""
        key = KEYS.get(request.headers.get("x-api-key", ""))
        if key is None or key.api_secret != request.headers.get("x-api-secret"):
            raise ApiError(401, "unauthorized", "X-API-Key and X-API-Secret are missing or not valid")
        if permission not in key.permissions:
            raise ApiError(403, "access_denied", f"The API key does not have the {permission} permission")
        if not key.sub_ids:
            raise ApiError(403, "access_denied", "The API key has no access to any subaccount")
        return OWNER[key.sub_ids[0]], tuple(SUBS[i] for i in key.sub_ids)

    def _observer(self, request: Request) -> Sub:
        sub = OBSERVERS.get(request.headers.get("x-observer-key", ""))
        if sub is None:
            raise ApiError(401, "invalid_token", "Observer Key is invalid.")
        return sub

    def _totals(self, subs: tuple[Sub, ...], now: datetime) -> tuple[list[int], list[float]]:
        """(online, offline, dead) and 10m, 1h and 1d MH/s of the subaccounts' workers now."""
        slot = int(now.timestamp() // SLOT)
        found = [slot_totals(self.seed, sub.id, slot, sub.id in self.cleared) for sub in subs]
        return ([sum(counts[i] for counts, _ in found) for i in range(3)],
                [sum(sums[i] for _, sums in found) for i in range(3)])

    def _shares(self, subs: tuple[Sub, ...], first: date, last: date, now: datetime) -> Iterator[Share]:
        """Every earning in [first, last], for finished UTC days since the account opened."""
        start = max(first, OWNER[subs[0].id].since)
        end = min(last, now.date() - timedelta(days=1))
        for offset in range((end - start).days + 1):
            for sub in subs:
                yield from shares(self.seed, sub, start + timedelta(days=offset))

    def _tx(self, coin: str, day: date) -> tuple[str, str]:
        """(chain tx id, pool tx id) of the daily payment of a coin."""
        return stable_hex(self.seed, "tx", coin, day), uuid_of(self.seed, "internal", coin, day)

    def _listing(self, subs: tuple[Sub, ...] | list[Sub], request: Request, states: set[str],
                 name: str) -> Listing:
        slot = int(request.now.timestamp() // SLOT)
        ordered = sorted(subs, key=lambda sub: sub.prefix)
        cleared = {sub.id for sub in ordered} & self.cleared
        if not states and not name and not cleared:
            return Listing(ordered)
        return Listing(ordered, [
            (sub, index) for sub in ordered for index in range(sub.workers)
            if (not name or name in sub.worker_name(index))
            and _kept(reading(self.seed, sub, index, slot).state, sub, states, cleared)])

    def _worker_page(self, listed: Listing, request: Request, page: int, size: int, ranges: tuple[int, ...]
                     | list[int], ascending: bool, field: str = "name") -> dict[str, Any]:
        total = len(listed)
        chosen = listed.slice(page * size, (page + 1) * size, ascending)
        content = self._rows(chosen, request, ranges)
        return _envelope(content, total, page, size, field, ascending)

    def _rows(self, workers: Iterator[tuple[Sub, int]] | Listing, request: Request,
              ranges: tuple[int, ...] | list[int]) -> list[dict[str, Any]]:
        slot, t = int(request.now.timestamp() // SLOT), request.now.timestamp()
        rows = []
        for sub, index in workers:
            found = reading(self.seed, sub, index, slot)
            rows.append({
                "name": sub.worker_name(index), "state": found.shown,
                "lastShareTime": iso(at(last_share(self.seed, sub, index, found, t))),
                "subaccountId": sub.id, "subaccount": sub.name,
                "hashrates": [found.mhs[_window(r)] for r in ranges],
            })
        return rows


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


# -- request parsing --


def _int(request: Request, name: str, *, low: int, high: int, default: int | None = None) -> int:
    raw = request.query.get(name, "").strip()
    if not raw and default is not None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise bad_request(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _paging(request: Request, page_name: str, *, default_size: int = DEFAULT_PAGE_SIZE,
            required: bool = False) -> tuple[int, int]:
    if required and not (request.query.get(page_name) and request.query.get("size")):
        raise bad_request(f"{page_name} and size are required")
    page = _int(request, page_name, low=0, high=10**9, default=0)
    return page, min(_int(request, "size", low=1, high=10**9, default=default_size), MAX_PAGE_SIZE)


def _date(request: Request, name: str, default: date) -> date:
    raw = request.query.get(name, "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise bad_request(f"{name} must be a date formatted yyyy-MM-dd") from None


def _range(request: Request, first_name: str, last_name: str,
           default: tuple[date, date] | None) -> tuple[date, date]:
    if default is None and not (request.query.get(first_name) and request.query.get(last_name)):
        raise bad_request(f"{first_name} and {last_name} are required")
    first = _date(request, first_name, default[0] if default else date.min)
    last = _date(request, last_name, default[1] if default else date.max)
    if first > last:
        raise bad_request(f"{first_name} is after {last_name}")
    return first, last


def _month(today: date) -> tuple[date, date]:
    following = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    return today.replace(day=1), following - timedelta(days=1)


def _states(request: Request) -> set[str]:
    raw = {s.strip().upper() for s in request.query.get("statusFilters", "").split(",") if s.strip()}
    if raw - set(STATES):
        raise bad_request("statusFilters must be ONLINE, OFFLINE or DEAD")
    return raw


def _ids(request: Request, name: str) -> set[int]:
    raw = [v.strip() for v in request.query.get(name, "").split(",") if v.strip()]
    if not all(v.isdigit() for v in raw):
        raise bad_request(f"{name} must be comma-separated ids")
    return {int(v) for v in raw}


def _named(subs: tuple[Sub, ...], request: Request) -> tuple[Sub, ...]:
    """The subaccounts a subaccountNames filter keeps: 404 for a name the key cannot see."""
    names = [n.strip() for n in request.query.get("subaccountNames", "").split(",") if n.strip()]
    unknown = [n for n in names if n not in {s.name for s in subs}]
    if unknown:
        raise ApiError(404, "not_found", f"Subaccount not found: {', '.join(unknown)}")
    return tuple(s for s in subs if not names or s.name in names)


def _kept(state: str, sub: Sub, states: set[str], cleared: set[int]) -> bool:
    return (not states or state in states) and not (sub.id in cleared and state == "DEAD")


def _target(subs: tuple[Sub, ...], name: Any) -> Sub:
    """The subaccount an UPDATE names: 400 without a name, 404 for one the key cannot see."""
    if not isinstance(name, str) or not name.strip():
        raise bad_request("the subaccount name is required")
    found = next((sub for sub in subs if sub.name == name.strip()), None)
    if found is None:
        raise ApiError(404, "not_found", f"Subaccount not found: {name.strip()}")
    return found


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        raise bad_request("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise bad_request("the request body is not a JSON object")
    return body


def _supported_coin(raw: Any) -> str:
    coin = str(raw or "").strip().upper()
    if coin not in POOL:
        raise bad_request(f"Coin {raw or '(none)'} is not supported by the pool")
    return coin


def _coins(request: Request) -> list[str]:
    wanted = [c.strip().upper() for c in request.query.get("coins", "").split(",") if c.strip()]
    return [coin for coin in POOL if not wanted or coin in wanted]


def _known_coin(raw: str) -> str:
    if raw.upper() not in POOL:
        raise ApiError(404, "not_found", f"Unknown coin {raw}")
    return raw.upper()


def _currency(coin: str, *, full: bool) -> dict[str, Any]:
    entry = next(c for c in COINS if c["code"] == coin)
    extra = {"chain": entry["chain"].upper(), "algo": entry["algo"]} if full else {}
    return {"id": COIN_IDS[coin], "code": coin, "name": entry["name"], **extra}


def _window(minutes: int) -> int:
    """Which of the 10m, 1h and 1d values serves a range of this many minutes."""
    return 0 if minutes <= 10 else 1 if minutes <= 60 else 2


def _now(request: Request) -> str:
    return request.now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{request.now.microsecond // 1000:03d}Z"


def _sort_param(request: Request, keys: Any, default: tuple[str, bool],
                ascending_by_default: bool = False) -> tuple[str, bool]:
    """`sort=field[,asc|desc]`: 422 for a field that is not a key of the records."""
    raw = request.query.get("sort", "").strip()
    if not raw:
        return default
    field, _, direction = raw.partition(",")
    if field not in keys or direction.lower() not in ("", "asc", "desc"):
        raise ApiError(422, "unprocessable_entity", f"sort {raw} is not supported")
    return field, direction.lower() == "asc" if direction else ascending_by_default


def _sort(request: Request, rows: list[dict[str, Any]], *, default: tuple[str, bool], secondary: str,
          ascending_by_default: bool = False) -> tuple[str, bool]:
    keys = rows[0].keys() if rows else {default[0], secondary}
    field, ascending = _sort_param(request, keys, default, ascending_by_default)

    def key(row: dict[str, Any]) -> tuple[bool, str]:
        value = row.get(field)
        return value is None, f"{value:020.8f}" if isinstance(value, int | float) else str(value)

    rows.sort(key=lambda row: str(row.get(secondary)), reverse=True)
    rows.sort(key=key, reverse=not ascending)
    return field, ascending


def _filtered(rows: list[dict[str, Any]], request: Request, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    text = request.query.get("filter", "").strip()
    if len(text) <= 2:
        return rows
    return [row for row in rows if any(text in str(row.get(k) or "") or text in str(row.get("amount"))
                                       for k in keys)]


def _page(rows: list[dict[str, Any]], page: int, size: int, field: str, ascending: bool) -> dict[str, Any]:
    return _envelope(rows[page * size:(page + 1) * size], len(rows), page, size, field, ascending)


def _envelope(content: list[dict[str, Any]], total: int, page: int, size: int, field: str,
              ascending: bool) -> dict[str, Any]:
    pages = math.ceil(total / size)
    return {"content": content, "first": page == 0, "last": page >= pages - 1, "totalElements": total,
            "totalPages": pages, "size": size, "number": page, "numberOfElements": len(content),
            "sort": {"field": field, "ascending": ascending}}


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _snakeize(value: Any) -> Any:
    if isinstance(value, dict):
        return {_snake(str(k)): _snakeize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snakeize(v) for v in value]
    return value

