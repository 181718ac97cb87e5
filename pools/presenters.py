"""Turn selector results into what templates and charts draw: JSON chart specs with units
chosen from the data, explorer links, values in money."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from exchanges.fiat import FiatTotal, Price, Valued
from pools.charts import Line, Point, hashrate_unit
from pools.selectors import CoinFigures

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


def time_unit(span: timedelta) -> str | None:
    """Chart.js picks hours for a wide week-long chart, and crowds day labels past four
    months: name the unit past two days."""
    if span > timedelta(days=120):
        return "month"
    return "day" if span > timedelta(days=2) else None


def hashrate_chart(
    datasets: Sequence[tuple[str, Sequence[Point] | Line]], *, start: datetime, end: datetime
) -> dict[str, Any]:
    """A line chart spec for static/js/charts.js, in the unit that suits the largest value.

    Values are sent in that unit (`unit_hs` H/s each), rounded to two digits more than the
    tooltip shows: 50 charts of 288 points in H/s were half a megabyte of 17-digit numbers."""
    lines = [(label, line if isinstance(line, Line) else Line.of(line)) for label, line in datasets]
    largest = max((max(line.values) for _, line in lines if line.values), default=0.0)
    unit = hashrate_unit(largest)
    decimals, per_unit = 2, 1 / unit.divisor
    return {
        "type": "line",
        "time_unit": time_unit(end - start),
        "unit": unit.label,
        "unit_hs": unit.divisor,
        "decimals": decimals,
        "tick_decimals": 0 if largest / unit.divisor >= 10 else 1,
        "y_title": f"Hashrate ({unit.label})",
        "start": epoch_ms(start),
        "end": epoch_ms(end),
        "datasets": [
            {"label": label, "times": line.times_ms,
             "values": [round(value * per_unit, decimals + 2) for value in line.values]}
            for label, line in lines
        ],
    }


def earnings_chart(datasets: Sequence[tuple[str, Line]], *, coin: str,
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
            {"label": label, "times": line.times_ms, "values": line.values} for label, line in datasets
        ],
    }


def at_price(price: Price, amount: Decimal) -> Valued:
    return Valued(price.quote, price.value(amount), price)


@dataclass(frozen=True)
class CoinFiat:
    """A coin's overview figures in money at the current prices (one per currency)."""

    prices: list[Price]
    today: list[Valued]
    yesterday: list[Valued]
    unpaid: list[Valued]
    paid_total: list[Valued]


def coin_fiat(figures: CoinFigures, prices: list[Price]) -> CoinFiat:
    return CoinFiat(
        prices,
        *([at_price(price, getattr(figures, name)) for price in prices]
          for name in ("today", "yesterday", "unpaid", "paid_total")),
    )


@dataclass(frozen=True)
class CoinTotal:
    """What a page adds up for one coin (or, with coin "", for all coins in money only)."""

    coin: str
    amount: Decimal | None
    fiat: list[FiatTotal]

    def note(self, noun: str) -> str:
        """ "Sum of each day at its own day's price; 2 days without a price left out." """
        text = f"Sum of each {noun} at its own day's price"
        if any(total.withheld for total in self.fiat):
            return (f"Not added up across coins: some {noun}s have no price, so the coins' "
                    "totals cover different days")
        counts = [total.missing for total in self.fiat]
        if not any(counts):
            return text
        if len(set(counts)) == 1:
            return f"{text}; {plural(counts[0], noun)} without a price left out"
        first, *rest = [total for total in self.fiat if total.missing]
        parts = [f"{plural(first.missing, noun)} without a {first.quote} price",
                 *(f"{total.missing} without a {total.quote} price" for total in rest)]
        return f"{text}; {', '.join(parts)} left out"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def fiat_totals(
    items: Iterable[tuple[str, object, Sequence[Valued]]], *, quotes: Sequence[str],
    amounts: dict[str, Decimal], unit: str,
) -> list[CoinTotal]:
    """Per coin, the sum of each item's values (one per quote, each at its own day's price)
    and how many items (`unit`s, counted by each item's key) had a price; then, when there
    are several coins, one total across them, withheld where some item had no price."""
    def blank() -> list[FiatTotal]:
        return [FiatTotal(q, unit=unit) for q in quotes]

    per_coin: dict[str, list[FiatTotal]] = {coin: blank() for coin in amounts}
    for coin, key, values in items:
        totals = per_coin.setdefault(coin, blank())
        for total, value in zip(totals, values, strict=True):
            total.add(value, key)
    result = [CoinTotal(coin, amounts.get(coin), per_coin[coin]) for coin in sorted(per_coin)]
    if len(result) > 1 and quotes:
        overall = blank()
        for coin_total in result:
            for total, part in zip(overall, coin_total.fiat, strict=True):
                total.worth += part.worth
                total.priced_keys |= {(coin_total.coin, key) for key in part.priced_keys}
                total.unpriced_keys |= {(coin_total.coin, key) for key in part.unpriced_keys}
        for total in overall:
            total.withheld = total.partial
        result.append(CoinTotal("", None, overall))
    return result
