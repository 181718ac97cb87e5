"""Storing FlowBTC data: REST snapshots, and the stream's candles and trades, idempotently."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from dashboard.models import Source
from dashboard.polling import source_poll
from dashboard.services import source_create
from exchanges import models as m
from exchanges.clients.flowbtc_models import FlowBtcSnapshot, OrderBook, Ticker
from exchanges.clients.flowbtc_protocol import TickerRow, TradeRow
from exchanges.ingest import books_store, candles_store, flowbtc_snapshot_ingest, tickers_store, trades_store
from simulator.flowbtc import PRODUCTS as SIMULATED_PRODUCTS

NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)


@pytest.fixture
def flow(team) -> Source:
    return source_create(team=team, kind="flowbtc", label="FlowBTC", credentials={})


def book(product: str, bid: str, ask: str, *, at: datetime = NOW) -> OrderBook:
    bids = [(Decimal(bid), Decimal("0.5")), (Decimal(bid) - 10, Decimal("1.5"))]
    return OrderBook(product=product, bids=bids, asks=[(Decimal(ask), Decimal("0.25"))],
                     as_of=at - timedelta(seconds=30))


def ticker(product: str, last: str, *, at: datetime = NOW) -> Ticker:
    price = Decimal(last)
    return Ticker(product=product, last=price, bid=price - 1, ask=price + 1, high=price + 100,
                  low=price - 100, volume=Decimal("42.00000001"), as_of=at - timedelta(seconds=5))


def snapshot(*, btc: str = "350000.00", eth: str = "13000.50", at: datetime = NOW) -> FlowBtcSnapshot:
    return FlowBtcSnapshot(
        fetched_at=at,
        books={"BTCBRL": book("BTCBRL", btc, str(Decimal(btc) + 50), at=at),
               "ETHBRL": book("ETHBRL", eth, str(Decimal(eth) + 5), at=at)},
        tickers={"BTCBRL": ticker("BTCBRL", btc, at=at), "ETHBRL": ticker("ETHBRL", eth, at=at)},
    )


def test_a_snapshot_stores_books_tickers_and_todays_prices(flow) -> None:
    counts = flowbtc_snapshot_ingest(source=flow, snapshot=snapshot(), now=NOW)
    assert counts == {"order_books": 2, "tickers": 2, "daily_prices": 2}
    stored = m.OrderBook.objects.get(source=flow, product="BTCBRL")
    assert stored.bids == [["350000.00", "0.5"], ["349990.00", "1.5"]]
    assert stored.asks == [["350050.00", "0.25"]]
    assert stored.origin == m.Origin.REST and stored.updated_at == NOW
    assert stored.as_of == NOW - timedelta(seconds=30)
    quote = m.Ticker.objects.get(source=flow, product="ETHBRL")
    assert quote.last == Decimal("13000.50") and quote.volume == Decimal("42.00000001")
    price = m.DailyPrice.objects.get(source=flow, coin="BTC", quote="BRL")
    assert price.date == NOW.date() and price.price == Decimal("350000.00")


def test_the_same_snapshot_twice_changes_nothing(flow) -> None:
    flowbtc_snapshot_ingest(source=flow, snapshot=snapshot(), now=NOW)
    before = [list(model.objects.order_by("pk").values()) for model in (m.OrderBook, m.Ticker, m.DailyPrice)]
    flowbtc_snapshot_ingest(source=flow, snapshot=snapshot(), now=NOW)
    after = [list(model.objects.order_by("pk").values()) for model in (m.OrderBook, m.Ticker, m.DailyPrice)]
    assert before == after


def test_a_later_snapshot_overwrites_the_current_state_and_todays_price(flow) -> None:
    flowbtc_snapshot_ingest(source=flow, snapshot=snapshot(), now=NOW)
    later = NOW + timedelta(minutes=1)
    flowbtc_snapshot_ingest(source=flow, snapshot=snapshot(btc="351000.00", at=later), now=later)
    assert m.Ticker.objects.filter(source=flow).count() == 2
    assert m.Ticker.objects.get(source=flow, product="BTCBRL").last == Decimal("351000.00")
    assert m.OrderBook.objects.get(source=flow, product="BTCBRL").bids[0] == ["351000.00", "0.5"]
    prices = m.DailyPrice.objects.filter(source=flow, coin="BTC")
    assert prices.count() == 1 and prices.get().price == Decimal("351000.00")


def streamed_at(source: Source, now: datetime) -> None:
    """What the live stream stores for BTCBRL: its own book and ticker."""
    books_store(source=source, books=[book("BTCBRL", "352000.00", "352010.00")], origin=m.Origin.STREAM,
                now=now)
    tickers_store(source=source, tickers=[ticker("BTCBRL", "352005.00")], origin=m.Origin.STREAM, now=now)


def test_the_rest_poll_leaves_a_fresh_stream_book_and_ticker_alone(flow) -> None:
    streamed_at(flow, NOW)
    soon = NOW + timedelta(seconds=40)
    flowbtc_snapshot_ingest(source=flow, snapshot=snapshot(at=soon), now=soon)
    streamed = m.Ticker.objects.get(source=flow, product="BTCBRL")
    assert (streamed.origin, streamed.last) == (m.Origin.STREAM, Decimal("352005.00"))
    assert streamed.updated_at == NOW
    assert m.OrderBook.objects.get(source=flow, product="BTCBRL").bids[0] == ["352000.00", "0.5"]
    # The product the stream does not cover is the poll's.
    assert m.Ticker.objects.get(source=flow, product="ETHBRL").origin == m.Origin.REST


def test_the_rest_poll_takes_over_once_the_stream_falls_silent(flow) -> None:
    streamed_at(flow, NOW)
    later = NOW + timedelta(minutes=3)
    flowbtc_snapshot_ingest(source=flow, snapshot=snapshot(at=later), now=later)
    quote = m.Ticker.objects.get(source=flow, product="BTCBRL")
    assert (quote.origin, quote.last) == (m.Origin.REST, Decimal("350000.00"))
    stored = m.OrderBook.objects.get(source=flow, product="BTCBRL")
    assert stored.origin == m.Origin.REST and stored.bids[0] == ["350000.00", "0.5"]


def reported(product: str, last: str, *, pct: str, at: datetime = NOW) -> Ticker:
    """A REST ticker with the exchange's own figures, as the document's example carries them."""
    return replace(ticker(product, last, at=at), low=None, session_open=Decimal("25786.16"),
                   session_close=Decimal("25590"), last_quantity=Decimal("0.01"),
                   change_24h_pct=Decimal(pct), day_change=Decimal("-1209.9"))


def test_the_exchange_s_own_figures_are_stored_and_a_missing_low_stays_unknown(flow) -> None:
    snap = replace(snapshot(), tickers={"BTCBRL": reported("BTCBRL", "350000.00", pct="-4.874442973476934")})
    flowbtc_snapshot_ingest(source=flow, snapshot=snap, now=NOW)
    quote = m.Ticker.objects.get(source=flow, product="BTCBRL")
    assert quote.low is None and quote.high == Decimal("350100.00")
    assert (quote.session_open, quote.session_close, quote.last_quantity) == (
        Decimal("25786.16"), Decimal("25590"), Decimal("0.01"))
    assert quote.change_24h_pct == Decimal("-4.874442973477")  # to the column's 12 places
    assert (quote.day_change, quote.reported_at) == (Decimal("-1209.9"), NOW)


def test_the_stream_keeps_the_exchange_s_figures_and_the_rest_poll_refreshes_them(flow) -> None:
    snap = replace(snapshot(), tickers={"BTCBRL": reported("BTCBRL", "350000.00", pct="-4.5")})
    flowbtc_snapshot_ingest(source=flow, snapshot=snap, now=NOW)
    streamed_at(flow, NOW + timedelta(seconds=10))
    quote = m.Ticker.objects.get(source=flow, product="BTCBRL")
    assert (quote.origin, quote.last, quote.change_24h_pct) == (
        m.Origin.STREAM, Decimal("352005.00"), Decimal("-4.5"))
    # The next poll leaves the stream's prices alone but brings the exchange's new figures.
    soon = NOW + timedelta(seconds=40)
    snap = replace(snapshot(at=soon), tickers={"BTCBRL": reported("BTCBRL", "351000.00", pct="1.25",
                                                                  at=soon)})
    flowbtc_snapshot_ingest(source=flow, snapshot=snap, now=soon)
    quote = m.Ticker.objects.get(source=flow, product="BTCBRL")
    assert (quote.origin, quote.last) == (m.Origin.STREAM, Decimal("352005.00"))
    assert (quote.change_24h_pct, quote.reported_at) == (Decimal("1.25"), soon)


def candle(start: datetime, close: str, *, interval: int = 60, volume: str = "1.5") -> TickerRow:
    price = Decimal(close)
    return TickerRow(at=start + timedelta(seconds=interval), high=price + 5, low=price - 5, open=price - 1,
                     close=price, volume=Decimal(volume), bid=price, ask=price, instrument_id=1,
                     candle_start=start)


def test_candles_store_is_idempotent_and_updates_a_running_candle(flow) -> None:
    start = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
    rows = [candle(start + timedelta(minutes=i), f"{350000 + i}.00") for i in range(5)]
    assert candles_store(source=flow, product="BTCBRL", interval=60, rows=rows) == 5
    candles_store(source=flow, product="BTCBRL", interval=60, rows=rows)
    assert m.Candle.objects.filter(source=flow).count() == 5
    # The newest candle, read again while it runs, has moved on.
    candles_store(source=flow, product="BTCBRL", interval=60,
                  rows=[candle(start + timedelta(minutes=4), "350100.00", volume="2.25")])
    running = m.Candle.objects.get(source=flow, start=start + timedelta(minutes=4))
    assert (running.close, running.volume) == (Decimal("350100.00"), Decimal("2.25"))
    assert m.Candle.objects.filter(source=flow).count() == 5


def test_a_candle_without_its_start_is_floored_to_the_interval(flow) -> None:
    row = candle(datetime(2026, 3, 14, 15, 0, tzinfo=UTC), "350000.00", interval=3600)
    loose = replace(row, candle_start=None, at=datetime(2026, 3, 14, 15, 42, 17, tzinfo=UTC))
    candles_store(source=flow, product="BTCBRL", interval=3600, rows=[loose])
    assert m.Candle.objects.get(source=flow).start == datetime(2026, 3, 14, 15, 0, tzinfo=UTC)


def test_day_candles_give_each_days_close(flow) -> None:
    days = [candle(datetime(2026, 3, d, tzinfo=UTC), f"{349000 + d}.00", interval=86400)
            for d in (10, 11, 12)]
    candles_store(source=flow, product="BTCBRL", interval=86400, rows=days)
    candles_store(source=flow, product="BTCBRL", interval=86400, rows=days)
    prices = m.DailyPrice.objects.filter(source=flow, coin="BTC", quote="BRL")
    closes = dict(prices.values_list("date", "price"))
    assert closes == {datetime(2026, 3, d).date(): Decimal(f"{349000 + d}.00") for d in (10, 11, 12)}


def trade(trade_id: int, *, side: int, price: str = "350000.00") -> TradeRow:
    return TradeRow(trade_id=trade_id, instrument_id=1, quantity=Decimal("0.015"), price=Decimal(price),
                    order1_id=10, order2_id=11, at=NOW + timedelta(seconds=trade_id), direction=1,
                    taker_side=side)


def test_trades_store_is_idempotent_and_names_the_taker_side(flow) -> None:
    trades = [trade(1, side=0), trade(2, side=1), trade(2, side=1)]
    assert trades_store(source=flow, product="BTCBRL", trades=trades) == 2
    trades_store(source=flow, product="BTCBRL", trades=trades[:2])
    stored = list(m.Trade.objects.filter(source=flow).order_by("trade_id"))
    assert [(t.trade_id, t.taker_side) for t in stored] == [(1, "buy"), (2, "sell")]
    assert stored[0].quantity == Decimal("0.015") and stored[0].direction == 1


def test_a_poll_of_the_simulated_exchange_stores_every_product(flow, simulator) -> None:
    flow.base_url = simulator.base_url("flowbtc")
    flow.save()
    run = source_poll(source_id=flow.pk)
    assert run is not None and run.ok, run.message if run else "skipped"
    products = m.Ticker.objects.filter(source=flow).values_list("product", flat=True)
    assert set(products) == set(SIMULATED_PRODUCTS)
    assert m.OrderBook.objects.filter(source=flow).count() == len(SIMULATED_PRODUCTS)
    assert m.DailyPrice.objects.filter(source=flow).count() == len(SIMULATED_PRODUCTS)
    assert len(m.OrderBook.objects.get(source=flow, product="BTCBRL").bids) == 10  # the default depth
