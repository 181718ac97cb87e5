"""What a pool fetch found, in the few words "Test connection" answers with."""

from __future__ import annotations

from decimal import Decimal

from pools.charts import format_hashrate
from pools.clients.base import PoolSnapshot


def amount_text(amount: Decimal, coin: str) -> str:
    """0.0123 BTC: the amount as the pool sent it, without trailing zeros."""
    return f"{amount.normalize():f} {coin}"


def pool_snapshot_describe(snapshot: PoolSnapshot) -> str:
    """ "128 workers, 1.20 PH/s, balance 0.0123 BTC" from what the key gave access to."""
    parts = []
    if snapshot.account and snapshot.account.name:
        parts.append(f"account {snapshot.account.name}")
    workers = (snapshot.worker_counts.total if snapshot.worker_counts
               else len(snapshot.workers) if snapshot.workers else None)
    if workers is not None:
        parts.append(f"{workers} worker{'' if workers == 1 else 's'}")
    if snapshot.hashrate_hs is not None:
        parts.append(format_hashrate(snapshot.hashrate_hs))
    balances = [amount_text(b.unpaid, b.coin) for b in snapshot.balances]
    if balances:
        parts.append(f"balance {', '.join(balances)}")
    if not parts and snapshot.pool_stats:
        parts.append("the pool's public figures (the key gives no account figures)")
    return ", ".join(parts)
