"""The simulated SBI Crypto accounts, subaccounts, API and observer keys, coins and pool
figures, and the error every endpoint answers with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

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
