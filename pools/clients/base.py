"""Normalized pool data, shared by every pool client, and the parsers that produce it.

Clients parse upstream bodies into these dataclasses at the boundary, so ingest code never
sees a pool's units, number formats or field names. Hashrate is H/s (float), money is
`Decimal` in whole coins, times are aware UTC datetimes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from dashboard.http import SchemaError
from pools.clients.history import Position

T = TypeVar("T")

UNIT_FACTORS: dict[str, float] = {
    "H": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
}
SATOSHI_PER_BTC = Decimal(10**8)
# Upstream answers sometimes echo credentials or carry session secrets; no key containing
# one of these words is ever stored.
SECRET_WORDS = ("key", "secret", "token", "password", "signature")


@dataclass(frozen=True, slots=True)
class WorkerState:
    name: str
    status: str  # "online" | "offline" | "dead"
    pool_status: str  # the pool's own word, e.g. "ACTIVE"
    hashrate_hs: float  # the shortest window the pool reports
    hashrate_24h_hs: float | None = None
    last_share_at: datetime | None = None
    raw_hashrate: str = ""  # the value and unit hashrate_hs was computed from
    raw_unit: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HashrateSample:
    """The account's hashrate averaged over `window` ("1m", "5m", "15m", "24h"), read at `at`."""

    at: datetime
    window: str
    hashrate_hs: float
    raw_value: str
    raw_unit: str


@dataclass(frozen=True, slots=True)
class WorkerCounts:
    online: int
    offline: int
    dead: int
    total: int


@dataclass(frozen=True, slots=True)
class DailyEarning:
    date: date
    coin: str
    amount: Decimal
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Payout:
    paid_at: datetime | None  # None when the pool reports a transaction without its time
    coin: str
    amount: Decimal
    address: str
    tx: str
    fee: Decimal | None = None  # the chain fee of the transaction, where the pool reports it


@dataclass(frozen=True, slots=True)
class Balance:
    coin: str
    unpaid: Decimal
    paid_total: Decimal | None  # None: the pool reports no lifetime total (BTCpool.kz)
    today: Decimal | None = None
    yesterday: Decimal | None = None
    pending: Decimal | None = None
    last_paid_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PoolStats:
    scope: str  # which part of the pool: e.g. "node" (the queried node) or "all"
    coin: str
    hashrate_hs: float
    hashrate_15m_hs: float | None = None
    workers: int | None = None
    users: int | None = None
    hashrate_5m_hs: float | None = None
    reject_rates: dict[str, float] = field(default_factory=dict)  # window -> rate, as reported
    raw_hashrate: str = ""
    raw_unit: str = ""


@dataclass(frozen=True, slots=True)
class FoundBlock:
    height: int | None
    hash: str
    found_at: datetime | None
    reward: Decimal | None  # whole coins


@dataclass(frozen=True, slots=True)
class PoolCoinFigures:
    """The figures a pool publishes about itself for one coin, read in one poll."""

    coin: str
    as_of: datetime | None = None  # when the pool says they were computed, if it says
    pool_hashrate_hs: float | None = None
    network_hashrate_hs: float | None = None
    network_difficulty: float | None = None
    miners: int | None = None  # accounts (users) mining on the pool
    workers: int | None = None
    fee_percent: Decimal | None = None
    luck: dict[str, float] = field(default_factory=dict)  # period ("7d", "30d") -> percent
    blocks: list[FoundBlock] = field(default_factory=list)  # newest first
    payout_rate: Decimal | None = None  # coin paid per unit of hashrate, see payout_rate_unit
    payout_rate_unit: str = ""  # e.g. "BTC/TH/day"
    usd_rate: Decimal | None = None  # USD per coin
    name: str = ""  # the pool's name for the coin, e.g. "bitcoin cash"
    algorithm: str = ""
    paid_daily: Decimal | None = None  # whole coins the pool paid to all its miners on the last day


@dataclass(frozen=True, slots=True)
class AccountInfo:
    account_id: str
    name: str
    payout_address: str
    region: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class PoolSnapshot:
    """Everything one poll of a pool account returns."""

    fetched_at: datetime
    hashrate_hs: float | None = None
    hashrate_15m_hs: float | None = None
    hashrate_24h_hs: float | None = None
    hashrate_samples: list[HashrateSample] = field(default_factory=list)
    worker_counts: WorkerCounts | None = None
    workers: list[WorkerState] = field(default_factory=list)
    earnings: list[DailyEarning] = field(default_factory=list)
    payouts: list[Payout] = field(default_factory=list)
    balances: list[Balance] = field(default_factory=list)
    pool_stats: list[PoolStats] = field(default_factory=list)
    pool_figures: list[PoolCoinFigures] = field(default_factory=list)
    # The account's hashrate in H/s per coin, for accounts that mine several; empty when all of
    # it is the source's coin.
    coin_hashrates: dict[str, float] = field(default_factory=dict)
    account: AccountInfo | None = None
    # Where each history back-fill stands after this poll (see pools.clients.history).
    history: list[Position] = field(default_factory=list)
    # Records that did not parse are left out rather than failing the poll; these say why.
    problems: list[str] = field(default_factory=list)

    @property
    def skipped_records(self) -> int:
        return len(self.problems)


def shown(value: Any) -> str:
    """A short rendering of an upstream value for an error message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def to_decimal(value: Any, *, field: str = "value") -> Decimal:
    """A number sent as a JSON number or string ("22.88", 22.88, "4.4E+20"), exactly."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise SchemaError(f"{field} is not a number: {shown(value)}")
    try:
        # str() first: Decimal(22.88) would carry the float's binary error into the amount.
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise SchemaError(f"{field} is not a number: {shown(value)}") from None
    if not number.is_finite():
        raise SchemaError(f"{field} is not a finite number: {shown(value)}")
    return number


# Exact types that need no further check: a 100,000-worker poll converts half a million values.
PLAIN_NUMBERS = frozenset({str, int, float})


def to_float(value: Any, *, field: str = "value") -> float:
    if type(value) not in PLAIN_NUMBERS and (isinstance(value, bool)
                                             or not isinstance(value, str | int | float)):
        raise SchemaError(f"{field} is not a number: {shown(value)}")
    try:
        number = float(value)
    except ValueError:
        raise SchemaError(f"{field} is not a number: {shown(value)}") from None
    if not math.isfinite(number):
        raise SchemaError(f"{field} is not a finite number: {shown(value)}")
    return number


def to_int(value: Any, *, field: str = "value") -> int:
    number = to_decimal(value, field=field)
    if number != number.to_integral_value():
        raise SchemaError(f"{field} is not a whole number: {shown(value)}")
    return int(number)


def hashrate_from_unit(value: Any, unit: Any, *, field: str = "hashrate") -> float:
    """H/s from a value in a pool's unit letter (H, K, M, G, T, P, E)."""
    factor = UNIT_FACTORS.get(unit.strip().upper()) if isinstance(unit, str) else None
    if factor is None:
        raise SchemaError(f"{field} has an unknown unit: {shown(unit)}")
    return to_float(value, field=field) * factor


def satoshi_to_btc(value: Any, *, field: str = "amount") -> Decimal:
    return Decimal(to_int(value, field=field)) / SATOSHI_PER_BTC


def from_epoch(value: Any, *, field: str = "time") -> datetime | None:
    """Epoch seconds to aware UTC; 0 means "never" to the pools that send it."""
    seconds = to_float(value, field=field)
    if seconds < 0:
        raise SchemaError(f"{field} is not a time: {shown(value)}")
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def from_utc_text(value: Any, *, field: str = "time") -> datetime:
    """An ISO-like time ("2017-02-13 01:45:37"); without an offset it is taken as UTC."""
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise SchemaError(f"{field} is not a time: {shown(value)}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def from_yyyymmdd(value: Any, *, field: str = "date") -> date:
    text = str(value).strip()
    if isinstance(value, bool) or len(text) != 8 or not text.isdigit():
        raise SchemaError(f"{field} is not a YYYYMMDD date: {shown(value)}")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise SchemaError(f"{field} is not a YYYYMMDD date: {shown(value)}") from None


def as_object(value: Any, *, what: str) -> Mapping[str, Any]:
    if type(value) is not dict and not isinstance(value, Mapping):
        raise SchemaError(f"{what} is not an object but {type(value).__name__}")
    return value


def pick(record: Mapping[str, Any], key: str) -> Any:
    if key not in record:
        raise SchemaError(f"field {key} is missing")
    return record[key]


def parse_records(
    rows: Iterable[Any], parse: Callable[[Mapping[str, Any]], T], *, what: str,
    problems: list[str],
) -> list[T]:
    """Parse each row; a row that does not parse is noted in `problems` and left out."""
    parsed = []
    for number, row in enumerate(rows, start=1):
        try:
            parsed.append(parse(as_object(row, what="the record")))
        except SchemaError as exc:
            problems.append(f"{what} record {number} skipped: {exc.message}")
    return parsed


def unique_by(items: Iterable[T], key: Callable[[T], Hashable]) -> list[T]:
    """The first item for each key: a paged list repeats a row when its data shifts between
    two page requests, and one upsert cannot touch the same row twice."""
    seen: dict[Hashable, T] = {}
    for item in items:
        seen.setdefault(key(item), item)
    return list(seen.values())


def without_secrets(value: Any, *, also: frozenset[str] = frozenset()) -> Any:
    """The value with every secret-looking key (or one named in `also`, lower case) dropped,
    at any depth."""
    if isinstance(value, Mapping):
        return {
            str(key): without_secrets(item, also=also) for key, item in value.items()
            if str(key).lower() not in also and not any(w in str(key).lower() for w in SECRET_WORDS)
        }
    if isinstance(value, list):
        return [without_secrets(item, also=also) for item in value]
    return value
