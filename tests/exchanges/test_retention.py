"""Pruning keeps each exchange series for its window and no longer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dashboard.models import Team
from dashboard.services import source_create
from exchanges import models as m
from exchanges.retention import market_prune

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ONE = Decimal(1)


def test_it_prunes_old_trades_and_fine_candles_and_keeps_the_rest(team: Team) -> None:
    source = source_create(team=team, kind="flowbtc", label="FlowBTC", credentials={})
    for age in (timedelta(days=1), timedelta(days=8)):
        m.Trade.objects.create(source=source, product="BTCBRL", trade_id=age.days, at=NOW - age,
                               price=ONE, quantity=ONE, taker_side="buy")
        for interval in (60, 3600, 86400):
            m.Candle.objects.create(source=source, product="BTCBRL", interval=interval,
                                    start=NOW - age * 100 if interval == 86400 else NOW - age,
                                    open=ONE, high=ONE, low=ONE, close=ONE, volume=ONE)

    deleted = market_prune(now=NOW)

    assert deleted == {"trades": 1, "candles_60s": 1, "candles_3600s": 0}
    assert list(m.Trade.objects.values_list("trade_id", flat=True)) == [1]
    assert m.Candle.objects.filter(interval=86400).count() == 2  # day candles are kept
    assert market_prune(now=NOW) == {"trades": 0, "candles_60s": 0, "candles_3600s": 0}
