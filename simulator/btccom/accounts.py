"""The simulated BTC.com accounts, their racks of workers, and the pool's nodes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

MINUTE = 60
HOUR = 3600
DAY = 86400


@dataclass(frozen=True)
class Rack:
    prefix: str  # worker names are prefix + two-digit number
    count: int
    nominal_th: float
    gid: int = -1  # -1 and group_name None: not in a group, as upstream sends it
    group_name: str | None = None


@dataclass(frozen=True)
class Account:
    puid: int
    access_key: str
    user_name: str
    region: str
    address: str
    ip: str
    since: date
    racks: tuple[Rack, ...]
    dead_prone: tuple[str, ...] = ()

    def worker_names(self) -> list[str]:
        return [f"{r.prefix}{i:02d}" for r in self.racks for i in range(1, r.count + 1)]


ALPHA = Account(
    puid=88888,
    access_key="sim-ak-alpha",
    user_name="alpha-mining",
    region="America",
    address="bc1qqar096f7dwhsed0x8cpme7ztgg8m7usfk6qk8e",
    ip="203.0.113.17",
    since=date(2024, 2, 12),
    racks=(
        Rack("s19-rack1-", 20, 95.0, 101, "rack1"),
        Rack("s19-rack2-", 20, 95.0, 102, "rack2"),
        Rack("s19jpro-rack3-", 20, 104.0, 103, "rack3"),
        Rack("s19xp-rack4-", 20, 134.0, 104, "rack4"),
        Rack("s19kpro-rack5-", 20, 120.0, 105, "rack5"),
    ),
    dead_prone=("s19-rack2-07", "s19jpro-rack3-14"),
)
BRAVO = Account(
    puid=99999,
    access_key="sim-ak-bravo",
    user_name="bravo-hosting",
    region="Europe",
    address="bc1qz84nwjh29kq74zsvumtk3jl2g5mn4r9rmppg8l",
    ip="198.51.100.24",
    since=date(2024, 8, 20),
    racks=(Rack("m30s-a", 25, 88.0), Rack("m50-b", 25, 114.0)),
)
ACCOUNTS: tuple[Account, ...] = (ALPHA, BRAVO)
ACCOUNT_BY_PUID = {a.puid: a for a in ACCOUNTS}

# Pool-wide numbers per node; /merge adds the nodes up.
POOL_NODES = {"us": (1450.0, 15424, 555), "cn": (2380.0, 31210, 1204), "eu": (610.0, 7302, 241)}
CURRENT_NODE = "us"
