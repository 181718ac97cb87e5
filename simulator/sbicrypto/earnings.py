"""What SBI Crypto subaccounts earn per UTC day, when the pool pays it, and how its times read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from simulator.core import between, stable_hex
from simulator.sbicrypto.model import MINUTE, POOL, Sub, Virtual
from simulator.sbicrypto.workers import nominal_th


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
