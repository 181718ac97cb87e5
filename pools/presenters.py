"""Turn selector results into what templates and charts draw: JSON chart specs with units
chosen from the data, explorer links."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pools.charts import Point, hashrate_unit

EXPLORERS = {
    "BTC": "https://mempool.space/tx/{tx}",
    "BCH": "https://blockchair.com/bitcoin-cash/transaction/{tx}",
    "LTC": "https://blockchair.com/litecoin/transaction/{tx}",
}


BLOCK_EXPLORERS = {
    "BTC": "https://mempool.space/block/{hash}",
    "BCH": "https://blockchair.com/bitcoin-cash/block/{hash}",
    "LTC": "https://blockchair.com/litecoin/block/{hash}",
}


def block_url(coin: str, block_hash: str) -> str:
    template = BLOCK_EXPLORERS.get(coin.upper())
    return template.format(hash=block_hash) if template and block_hash else ""


def explorer_url(coin: str, tx: str) -> str:
    template = EXPLORERS.get(coin.upper())
    return template.format(tx=tx) if template and tx else ""


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def hashrate_chart(
    datasets: Sequence[tuple[str, Sequence[Point]]], *, start: datetime, end: datetime
) -> dict[str, Any]:
    """A line chart spec for static/js/charts.js, in the unit that suits the largest value."""
    largest = max((v for _, points in datasets for _, v in points), default=0.0)
    unit = hashrate_unit(largest)
    span = end - start
    return {
        "type": "line",
        # Chart.js picks hours for a wide week-long chart; name the unit past two days.
        "time_unit": "day" if timedelta(days=2) < span <= timedelta(days=120) else
                     "month" if span > timedelta(days=120) else None,
        "unit": unit.label,
        "divisor": unit.divisor,
        "decimals": 2,
        "tick_decimals": 0 if largest / unit.divisor >= 10 else 1,
        "y_title": f"Hashrate ({unit.label})",
        "start": epoch_ms(start),
        "end": epoch_ms(end),
        "datasets": [
            {"label": label, "points": [[epoch_ms(t), v] for t, v in points]}
            for label, points in datasets
        ],
    }


def earnings_chart(datasets: Sequence[tuple[str, Sequence[tuple[datetime, float]]]], *, coin: str,
                   start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "type": "bar",
        "stacked": True,
        "unit": coin,
        "decimals": 8,
        "tick_decimals": 4,
        "y_title": f"Earnings per day ({coin})",
        "time_unit": "day",
        "tooltip_format": "yyyy-MM-dd",
        "start": epoch_ms(start),
        "end": epoch_ms(end),
        "datasets": [
            {"label": label, "points": [[epoch_ms(t), v] for t, v in points]}
            for label, points in datasets
        ],
    }
