"""How long exchange time series are kept.

    public trades ................ 7 days       1-minute candles ...... 7 days
    1-hour candles ............... 2 years      1-day candles, prices . kept

The live stream records every public trade and a candle a minute per product; the Markets
page draws minute candles for a day at most and hourly ones up to a month, so these windows
leave every range drawable. The team's own orders and fills, partner history and daily
prices are small and kept.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from exchanges.models import Candle, Trade

TRADES = timedelta(days=7)
CANDLES = {60: timedelta(days=7), 3600: timedelta(days=730)}


def market_prune(*, now: datetime) -> dict[str, int]:
    deleted = {"trades": Trade.objects.filter(at__lt=now - TRADES).delete()[0]}
    for interval, keep in CANDLES.items():
        deleted[f"candles_{interval}s"] = Candle.objects.filter(
            interval=interval, start__lt=now - keep).delete()[0]
    return deleted
