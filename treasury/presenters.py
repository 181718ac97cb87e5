"""Profitability as the Earnings page, the overview and the CSV show it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from exchanges.fiat import money_text
from treasury.profitability import ProfitDay


def money_or_dash(amount: Decimal | None, currency: str) -> str:
    return "—" if amount is None or not currency else money_text(amount, currency)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def day_ms(day: date) -> int:
    return epoch_ms(datetime.combine(day, time(12), tzinfo=UTC))


def day_values(per_day: dict[date, Decimal]) -> dict[str, list[Any]]:
    """A chart dataset's times and values, one bar a day in date order."""
    days = sorted(per_day)
    return {"times": [day_ms(d) for d in days], "values": [float(per_day[d]) for d in days]}


def profit_charts(rows: Sequence[ProfitDay], *, start: date | None, end: date) -> list[dict[str, Any]]:
    """Per currency, a bar chart of each day's revenue beside its energy cost, from the rows
    whose profit is known (as the totals are): a row with either unknown stays out rather
    than be drawn as a revenue without its cost."""
    revenue: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    cost: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        if row.profit is None or row.revenue.fiat is None or row.energy_cost is None:
            continue
        revenue[row.currency][row.day] += row.revenue.fiat
        cost[row.currency][row.day] += row.energy_cost
    first = start or min((row.day for row in rows), default=end)
    charts = []
    for currency in sorted(set(revenue) | set(cost)):
        if not cost.get(currency):
            continue
        charts.append({"currency": currency, "spec": {
            "type": "bar", "unit": currency, "decimals": 2, "tick_decimals": 0,
            "y_title": f"Per day ({currency})", "x_title": "Pool day (UTC)", "time_unit": "day",
            "tooltip_format": "yyyy-MM-dd",
            "start": epoch_ms(datetime.combine(first, time(0), tzinfo=UTC)),
            "end": epoch_ms(datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC)),
            "datasets": [
                {"label": "Revenue", "color": "#059669", **day_values(revenue[currency])},
                {"label": "Energy cost", "color": "#dc2626", **day_values(cost[currency])},
            ]}})
    return charts


def csv_texts(row: ProfitDay) -> list[str]:
    def plain(value: Decimal | None, places: str | None = None) -> str:
        if value is None:
            return ""
        return f"{(value.quantize(Decimal(places)) if places else value).normalize():f}"

    return [plain(row.revenue_fiat), row.currency if row.revenue_fiat is not None else "",
            plain(row.energy_kwh), plain(row.energy_cost), row.setup.currency,
            plain(row.profit), plain(row.margin_pct), plain(row.hashprice_coin, "0.000000000001"),
            plain(row.hashprice_fiat, "0.0001"), plain(row.breakeven_power_price, "0.0001"),
            plain(row.breakeven_coin_price, "0.01"), row.profit_why or row.energy.why]


CSV_HEADERS = ("revenue_fiat", "revenue_currency", "energy_kwh", "energy_cost", "electricity_currency",
               "profit", "margin_pct", "hashprice_coin_per_th_day", "hashprice_fiat_per_th_day",
               "breakeven_electricity_price", "breakeven_coin_price", "profit_note")
