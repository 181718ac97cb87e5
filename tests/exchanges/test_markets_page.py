"""The Markets page: a FlowBTC product's figures, book, candles and trades, and its fragments."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from dashboard.models import Source, Team
from dashboard.services import source_create
from exchanges import live, selectors
from exchanges import models as m
from exchanges.clients.flowbtc import PRODUCTS
from exchanges.clients.flowbtc_models import OrderBook, Ticker
from exchanges.clients.flowbtc_protocol import TickerRow, TradeRow
from exchanges.ingest import books_store, candles_store, tickers_store, trades_store
from exchanges.views_markets import MarketFormat, depth_spec, ladder
from tests.conftest import client_for

MID = Decimal("350000.00")
HTMX = {"HTTP_HX_REQUEST": "true"}


def flowbtc_source(team: Team, label: str = "FlowBTC", **kwargs: object) -> Source:
    return source_create(team=team, kind="flowbtc", label=label, credentials={}, **kwargs)  # type: ignore[arg-type]


def book_of(product: str, mid: Decimal, *, levels: int = 15, step: Decimal | None = None,
            as_of: datetime | None = None) -> OrderBook:
    """A symmetric book: the best levels 50 ticks from the mid, quantities growing outwards."""
    step = step or mid / 14000
    gap = step * 2
    bids = [(mid - gap - step * i, Decimal("0.1") + Decimal("0.05") * i) for i in range(levels)]
    asks = [(mid + gap + step * i, Decimal("0.12") + Decimal("0.04") * i) for i in range(levels)]
    return OrderBook(product=product, bids=bids, asks=asks, as_of=as_of)


def path_price(mid: Decimal, moment: datetime, anchor: datetime) -> Decimal:
    """The candles' path: a swing over weeks and a ripple over hours, through `mid` at `anchor`."""
    t = (moment - anchor).total_seconds()
    return (mid * Decimal(str(1 + 0.06 * math.sin(t / 700_000) + 0.01 * math.sin(t / 25_200)))).quantize(
        Decimal("0.01"))


def candle_rows(mid: Decimal, *, interval: int, start: datetime, end: datetime) -> list[TickerRow]:
    epoch = int(start.timestamp())
    moment = datetime.fromtimestamp(epoch - epoch % interval, tz=UTC)
    rows = []
    while moment < end:
        close_at = moment + timedelta(seconds=interval)
        opened, closed = path_price(mid, moment, end), path_price(mid, close_at, end)
        rows.append(TickerRow(
            at=min(close_at, end), open=opened, close=closed, high=max(opened, closed) * Decimal("1.001"),
            low=min(opened, closed) * Decimal("0.999"), volume=Decimal("0.5") * interval / 60,
            bid=closed, ask=closed, instrument_id=1, candle_start=moment))
        moment = close_at
    return rows


def seed_market(source: Source, *, now: datetime, product: str = "BTCBRL", mid: Decimal = MID,
                candles: bool = True, trades: bool = True, origin: str = m.Origin.REST,
                received: datetime | None = None) -> None:
    """A product's book, ticker, and (unless told not to) a year of candles and some trades."""
    received = received or now
    book = book_of(product, mid, as_of=received - timedelta(seconds=5))
    books_store(source=source, books=[book], origin=origin, now=received)
    tickers_store(source=source, tickers=[Ticker(
        product=product, last=mid + mid / 35000, bid=book.bids[0][0], ask=book.asks[0][0],
        high=mid * Decimal("1.02"), low=mid * Decimal("0.97"), volume=Decimal("12.34561234"),
        as_of=received - timedelta(seconds=3))], origin=origin, now=received)
    if candles:
        spans = {60: timedelta(hours=26), 3600: timedelta(days=40), 86400: timedelta(days=400)}
        for interval, span in spans.items():
            candles_store(source=source, product=product, interval=interval,
                          rows=candle_rows(mid, interval=interval, start=now - span, end=now))
    if trades:
        trades_store(source=source, product=product, trades=[
            TradeRow(trade_id=1000 + i, instrument_id=1, quantity=Decimal("0.01") * (i + 1),
                     price=mid + (i % 5 - 2) * mid / 35000, order1_id=1, order2_id=2,
                     at=now - timedelta(seconds=20 * (40 - i)), direction=0, taker_side=i % 2)
            for i in range(40)
        ])


@pytest.fixture(autouse=True)
def _forget_live_books(db: None) -> Iterator[None]:
    yield
    for pk in Source.objects.filter(kind="flowbtc").values_list("pk", flat=True):
        cache.delete_many([live.status_key(pk), *(live.book_key(pk, p) for p in PRODUCTS)])


@pytest.fixture
def flow(team: Team) -> Source:
    source = flowbtc_source(team)
    seed_market(source, now=timezone.now())
    return source


def get(client: Client, source: Source, query: str = "", **headers: str) -> str:
    response = client.get(f"/markets/?source={source.pk}{query}", **headers)
    assert response.status_code == 200
    return response.content.decode()


# --- the page -----------------------------------------------------------------------------


def test_it_shows_the_headline_in_reais_with_units(alice, flow) -> None:
    body = get(client_for(alice), flow)
    assert "BTC/BRL last price" in body
    assert "R$ 350,010.00" in body  # last
    assert "R$ 357,000.00" in body and "R$ 339,500.00" in body  # 24 h high and low
    assert "12.3456 BTC" in body  # 24 h volume in the base coin
    assert "R$ 349,950.00" in body and "R$ 350,050.00" in body  # best bid, best ask
    assert "R$ 100.00" in body and "0.029 % of mid" in body  # spread
    assert "Price (R$)" in body and "Quantity (BTC)" in body and "Total (BTC)" in body


def test_the_24h_change_compares_with_the_close_a_day_ago(alice, flow) -> None:
    now = timezone.now()
    quote = m.Ticker.objects.get(source=flow, product="BTCBRL")
    change = selectors.price_change_24h(source=flow, product="BTCBRL", last=quote.last, now=now)
    assert change is not None and change.full_day
    ended = m.Candle.objects.filter(source=flow, product="BTCBRL", interval=60,
                                    start__lte=now - timedelta(hours=24, minutes=1))
    candle = ended.order_by("-start").first()
    assert change.reference == candle.close and change.since == candle.start + timedelta(minutes=1)
    body = get(client_for(alice), flow)
    fmt = MarketFormat("BTCBRL")
    assert fmt.price(change.absolute, sign=True) in body
    assert f"{abs(change.percent):.2f} %" in body


def test_the_exchange_s_own_24h_change_is_shown_beside_ours(alice, flow) -> None:
    m.Ticker.objects.filter(source=flow, product="BTCBRL").update(
        change_24h_pct=Decimal("-4.874442973476934"), day_change=Decimal("-1209.9"),
        reported_at=timezone.now(), low=None)
    body = get(client_for(alice), flow)
    headline = body.split('id="market-headline"')[1].split("</section>")[0]
    ours = headline.index("data-change")
    theirs = headline.index("FlowBTC says")
    assert ours < theirs
    assert '<span class="mh-down" data-reported-change>−4.87 %</span>' in headline
    assert "<span data-reported-day>−R$ 1,209.90</span>" in headline
    # A low the exchange did not send reads as unknown, not as zero.
    assert "<dt>24 h low</dt><dd>—</dd>" in headline


def test_without_the_exchange_s_figures_nothing_is_claimed(alice, flow) -> None:
    assert "FlowBTC says" not in get(client_for(alice), flow)


def test_a_young_history_compares_with_its_first_candle(team) -> None:
    source = flowbtc_source(team)
    now = timezone.now()
    candles_store(source=source, product="BTCBRL", interval=60,
                  rows=candle_rows(MID, interval=60, start=now - timedelta(hours=3), end=now))
    change = selectors.price_change_24h(source=source, product="BTCBRL", last=MID, now=now)
    assert change is not None and not change.full_day
    first = m.Candle.objects.filter(source=source).order_by("start").first()
    assert change.reference == first.open and change.since == first.start
    assert selectors.price_change_24h(source=flowbtc_source(team, "Empty"), product="BTCBRL",
                                      last=MID, now=now) is None


def test_ethbtc_prices_read_in_bitcoin(alice, team) -> None:
    source = flowbtc_source(team)
    seed_market(source, now=timezone.now(), product="ETHBTC", mid=Decimal("0.03712345"),
                candles=False, trades=False)
    body = get(client_for(alice), source, "&product=ETHBTC")
    assert "ETH/BTC last price" in body
    assert "0.03712451 BTC" in body  # last, eight places in the quote coin
    assert "Price (BTC)" in body and "Quantity (ETH)" in body
    assert "R$" not in body


def test_products_are_tabs_in_flowbtc_order(alice, team) -> None:
    source = flowbtc_source(team)
    now = timezone.now()
    for product in ("XRPBRL", "ETHBRL", "BTCBRL"):
        seed_market(source, now=now, product=product, candles=False, trades=False)
    body = get(client_for(alice), source)
    tabs = [body.index(f">{pair}</a>") for pair in ("BTC/BRL", "ETH/BRL", "XRP/BRL")]
    assert tabs == sorted(tabs)
    assert 'aria-current="page">BTC/BRL' in body
    xrp = get(client_for(alice), source, "&product=xrpbrl")
    assert "XRP/BRL last price" in xrp
    assert "LTC/BRL" not in xrp


def test_the_ladder_totals_and_bars(flow) -> None:
    book = selectors.order_book(source=flow, product="BTCBRL")
    rows = ladder(fmt=MarketFormat("BTCBRL"), book=book)
    assert rows is not None
    assert rows["bids"][0]["price"] == "349,950.00"
    assert rows["asks"][-1]["price"] == "350,050.00"  # best ask next to the spread
    assert rows["bids"][1]["total"] == "0.25000000"  # 0.1 + 0.15
    assert rows["bids"][-1]["fill"] == "fill-100"  # the deeper side fills the bar
    assert rows["asks"][0]["fill"] == "fill-90"  # 3.0 of 3.25
    assert len(rows["bids"]) == len(rows["asks"]) == 10 and rows["more_bids"] == 5


def test_the_depth_chart_steps_through_cumulative_levels(flow) -> None:
    book = selectors.order_book(source=flow, product="BTCBRL")
    spec = depth_spec(fmt=MarketFormat("BTCBRL"), book=book)
    assert spec is not None
    assert spec["x_title"] == "Price (BRL per BTC)" and spec["y_title"] == "Cumulative quantity (BTC)"
    bids, asks = spec["bids"], spec["asks"]
    assert bids[-1] == [349950.0, 0.0] and bids[-2] == [349950.0, 0.1]
    assert asks[0] == [350050.0, 0.0] and asks[1] == [350050.0, 0.12]
    assert [p[0] for p in bids] == sorted(p[0] for p in bids)
    assert spec["min"] == bids[0][0] and spec["max"] == asks[-1][0]
    assert spec["min"] < 349950 < 350050 < spec["max"]


@pytest.mark.parametrize(("range_key", "width", "stored", "count"), [
    ("1h", 60, 60, 60), ("24h", 900, 60, 96), ("7d", 3600, 3600, 168),
    ("30d", 14400, 3600, 180), ("1y", 86400, 86400, 365),
])
def test_each_range_reads_the_coarsest_stored_candles(alice, flow, range_key, width, stored, count) -> None:
    now = timezone.now()
    from pools.charts import RANGES

    series = selectors.candle_series(source=flow, product="BTCBRL", start=now - RANGES[range_key], end=now)
    assert (series.width, series.stored_interval) == (width, stored)
    assert count <= len(series.candles) <= count + 1
    assert len(series.candles) <= 500
    body = get(client_for(alice), flow, f"&range={range_key}")
    words = {60: "1-minute", 900: "15-minute", 3600: "1-hour", 14400: "4-hour", 86400: "1-day"}
    assert f"{words[width]} candles" in body
    assert 'id="candle-chart"' in body


def test_rolled_up_candles_keep_open_close_high_low_and_volume(flow) -> None:
    now = timezone.now()
    series = selectors.candle_series(source=flow, product="BTCBRL", start=now - timedelta(hours=24), end=now)
    candle = series.candles[10]
    minutes = list(m.Candle.objects.filter(
        source=flow, product="BTCBRL", interval=60, start__gte=candle.start,
        start__lt=candle.start + timedelta(minutes=15)).order_by("start"))
    assert len(minutes) == 15
    assert candle.open == minutes[0].open and candle.close == minutes[-1].close
    assert candle.high == max(c.high for c in minutes) and candle.low == min(c.low for c in minutes)
    assert candle.volume == sum(c.volume for c in minutes)


def test_only_coarser_candles_still_draw_a_short_range(team) -> None:
    source = flowbtc_source(team)
    now = timezone.now()
    candles_store(source=source, product="BTCBRL", interval=3600,
                  rows=candle_rows(MID, interval=3600, start=now - timedelta(hours=5), end=now))
    series = selectors.candle_series(source=source, product="BTCBRL", start=now - timedelta(hours=1), end=now)
    assert series.stored_interval == 3600 and series.width == 3600 and series.candles


def test_recent_trades_newest_first_with_sides(alice, flow) -> None:
    body = get(client_for(alice), flow)
    section = body[body.index('id="market-trades"'):]
    rows = re.findall(r'<tr class="trade-(buy|sell)">(.*?)</tr>', section, re.S)
    newest = list(m.Trade.objects.filter(source=flow).order_by("-at")[:30])
    assert len(rows) == 30
    assert [side for side, _ in rows] == [t.taker_side for t in newest]
    assert f"{newest[0].quantity:,.8f}" in rows[0][1] and f"{newest[-1].quantity:,.8f}" in rows[-1][1]


# --- HTMX fragments -----------------------------------------------------------------------


def test_the_live_fragment_swaps_every_live_panel_out_of_band(alice, flow) -> None:
    body = get(client_for(alice), flow, "&product=BTCBRL", **HTMX, HTTP_HX_TARGET="market-live")
    assert "<html" not in body and "<nav" not in body
    for panel in ("market-status", "market-headline", "depth-data", "market-ladder", "market-trades",
                  "market-account"):
        assert f'id="{panel}"' in body
    assert body.count('hx-swap-oob="true"') == 6
    assert "R$ 350,010.00" in body
    assert 'id="candle-chart"' not in body


def test_the_candles_fragment_is_the_chart_card_alone(alice, flow) -> None:
    body = get(client_for(alice), flow, "&range=7d", **HTMX, HTTP_HX_TARGET="market-candles")
    assert body.lstrip().startswith('<section id="market-candles"')
    assert "1-hour candles" in body and 'aria-current="true">7d' in body
    assert "market-headline" not in body
    # The product tabs come along, so a product change keeps the range.
    assert body.count('hx-swap-oob="true"') == 1
    assert 'id="market-tabs" class="market-tabs" aria-label="Products" hx-swap-oob="true"' in body
    assert "product=BTCBRL&amp;range=7d" in body


def test_a_product_tab_swaps_the_body(alice, flow) -> None:
    body = get(client_for(alice), flow, "&product=BTCBRL", **HTMX, HTTP_HX_TARGET="market-body")
    assert body.lstrip().startswith('<div id="market-body"')
    assert 'id="market-candles"' in body and 'id="market-ladder"' in body
    assert "hx-swap-oob" not in body and "<html" not in body


def test_the_full_page_polls_only_while_visible(alice, flow) -> None:
    body = get(client_for(alice), flow)
    assert 'hx-trigger="every 2s, refresh" hx-swap="none" data-live' in body
    assert 'hx-trigger="every 60s, refresh" hx-swap="outerHTML" data-live' in body
    assert "market-charts.js" in body and "css/markets.css" in body
    assert " style=" not in body and "<script>" not in body


# --- empty states -------------------------------------------------------------------------


def test_without_a_flowbtc_source_it_says_where_to_add_one(alice, carol, bob, source) -> None:
    body = client_for(alice).get("/markets/").content.decode()
    assert "Add a FlowBTC source in Settings → Sources" in body
    assert "/settings/sources/new/flowbtc/" in body
    viewer = client_for(bob).get("/markets/").content.decode()
    assert "/settings/sources/new/flowbtc/" not in viewer and "can add one" in viewer


def test_a_source_without_data_waits_for_its_first_poll(alice, team) -> None:
    source = flowbtc_source(team)
    body = get(client_for(alice), source)
    assert "The first poll is pending" in body
    source.last_error, source.last_error_at = "FlowBTC refused the request for BTCBRL: busy", timezone.now()
    source.save()
    body = get(client_for(alice), source)
    assert "the last attempt failed (FlowBTC refused the request for BTCBRL: busy)" in body


def test_no_candles_and_no_trades_say_where_they_come_from(alice, team) -> None:
    source = flowbtc_source(team)
    seed_market(source, now=timezone.now(), candles=False, trades=False)
    body = get(client_for(alice), source)
    assert "candles come from the live stream's history back-fill" in body
    assert "No trades stored yet: trades come from the live stream" in body
    assert "24 h change needs candles from the live stream" in body
    assert 'id="market-account"></div>' in body.replace("\n", "")


def test_candles_outside_the_range_ask_for_a_longer_one(alice, team) -> None:
    source = flowbtc_source(team)
    now = timezone.now()
    seed_market(source, now=now, candles=False, trades=False)
    candles_store(source=source, product="BTCBRL", interval=86400,
                  rows=candle_rows(MID, interval=86400, start=now - timedelta(days=30),
                                   end=now - timedelta(days=3)))
    assert "No candles in this range; try a longer one." in get(client_for(alice), source, "&range=1h")
    assert 'id="candle-chart"' in get(client_for(alice), source, "&range=30d")


# --- freshness ----------------------------------------------------------------------------


def test_fresh_rest_data_says_the_stream_is_not_running(alice, team) -> None:
    source = flowbtc_source(team)
    now = timezone.now()
    seed_market(source, now=now, received=now - timedelta(seconds=40), candles=False, trades=False)
    body = get(client_for(alice), source)
    assert "REST poll</span>" in body and "Stale" not in body
    assert re.search(r"live stream is not running \(manage.py stream flowbtc\); "
                     r"showing the REST poll from 4[01] s ago", body)
    assert "exchange time" in body and "received" in body


def test_old_rest_data_is_stale_with_the_reason(alice, team) -> None:
    source = flowbtc_source(team)
    now = timezone.now()
    seed_market(source, now=now, received=now - timedelta(minutes=10), candles=False, trades=False)
    source.last_error, source.last_error_at = "HTTP 503 from publicapi.flowbtc.com.br", now
    source.save()
    body = get(client_for(alice), source)
    assert '<span class="badge badge-stale">Stale</span>' in body
    assert "showing the REST poll from 10 min ago" in body
    assert "REST poll failed: HTTP 503 from publicapi.flowbtc.com.br" in body


def test_a_stream_error_is_the_reason(alice, team) -> None:
    source = flowbtc_source(team)
    now = timezone.now()
    seed_market(source, now=now, received=now - timedelta(minutes=4), origin=m.Origin.STREAM,
                candles=False, trades=False)
    live.stream_status_publish(source_id=source.pk, status={
        "connected": False, "since": None, "last_event_at": (now - timedelta(minutes=4)).isoformat(),
        "authenticated": False, "account_id": None, "error": "gateway closed the connection (1006)",
        "products": ["BTCBRL"]})
    body = get(client_for(alice), source)
    assert "Stale" in body
    assert "live stream error: gateway closed the connection (1006)" in body
    assert "not running" not in body


def test_a_live_book_from_the_stream_wins(alice, flow) -> None:
    now = timezone.now()
    fresh = book_of("BTCBRL", Decimal("351000.00"), step=Decimal(25), as_of=now)
    live.book_publish(source_id=flow.pk, book=fresh, now=now)
    live.stream_status_publish(source_id=flow.pk, status={
        "connected": True, "since": now.isoformat(), "last_event_at": now.isoformat(), "authenticated": True,
        "account_id": 77, "error": "", "products": ["BTCBRL"]})
    body = get(client_for(alice), flow)
    assert '<span class="live-dot"></span>Live' in body
    assert "R$ 350,950.00" in body  # the live best bid, not the stored one
    assert re.search(r"received <time [^>]*>[01] s ago</time>", body)
    assert "account 77 signed in" in body
    assert "not running" not in body


# --- the account --------------------------------------------------------------------------


def seed_account(source: Source, *, now: datetime) -> None:
    """The stream's copy of the team's account: one open order, one filled, and its fill."""
    m.ExchangeAccount.objects.create(source=source, account_id=77, account_name="mining-treasury",
                                     updated_at=now)
    m.ExchangeOrder.objects.create(
        source=source, order_id=5001, account_id=77, product="BTCBRL", side="Sell", order_type="Limit",
        state="Working", price=Decimal("361000"), quantity=Decimal("0.3"), orig_quantity=Decimal("0.5"),
        executed=Decimal("0.2"), avg_price=Decimal("361000"), received_at=now, is_open=True, updated_at=now)
    m.ExchangeOrder.objects.create(
        source=source, order_id=5000, account_id=77, product="BTCBRL", side="Buy", order_type="Limit",
        state="FullyExecuted", price=Decimal("340000"), quantity=Decimal("0"), orig_quantity=Decimal("0.1"),
        executed=Decimal("0.1"), avg_price=Decimal("340000"), received_at=now, is_open=False, updated_at=now)
    m.AccountTrade.objects.create(
        source=source, trade_id=9001, order_id=5000, account_id=77, product="BTCBRL", side="Buy",
        quantity=Decimal("0.1"), price=Decimal("340000"), value=Decimal("34000"), at=now)


def test_the_account_panel_lists_open_orders_and_fills(alice, flow) -> None:
    seed_account(flow, now=timezone.now())
    body = get(client_for(alice), flow)
    panel = body[body.index('id="market-account"'):]
    assert "mining-treasury" in panel and "read-only" in panel
    assert "361,000.00" in panel and "0.30000000" in panel and "of 0.50000000" in panel
    assert "340,000.00" not in panel[:panel.index("Recent fills")]  # a filled order is not open
    assert "R$ 34,000.00" in panel


# --- access -------------------------------------------------------------------------------


def test_a_viewer_can_see_the_markets(bob, flow) -> None:
    assert "R$ 350,010.00" in get(client_for(bob), flow)


def test_another_teams_source_is_a_404(alice, other_team) -> None:
    theirs = flowbtc_source(other_team, "Charlie's FlowBTC")
    seed_market(theirs, now=timezone.now(), candles=False, trades=False)
    client = client_for(alice)
    assert client.get(f"/markets/?source={theirs.pk}").status_code == 404
    live_panel = client.get(f"/markets/?source={theirs.pk}", **HTMX, HTTP_HX_TARGET="market-live")
    assert live_panel.status_code == 404
    assert client.get("/markets/?source=abc").status_code == 404


def test_a_pool_source_is_not_a_market(alice, source) -> None:
    assert client_for(alice).get(f"/markets/?source={source.pk}").status_code == 404


def test_anonymous_is_sent_to_sign_in(flow) -> None:
    response = Client().get(f"/markets/?source={flow.pk}")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_several_sources_get_a_picker(alice, flow, team) -> None:
    second = flowbtc_source(team, "FlowBTC backup")
    body = get(client_for(alice), flow)
    assert 'id="market-source"' in body and "FlowBTC backup" in body
    assert f'<option value="{second.pk}" >' in body or f'value="{second.pk}"' in body


def test_a_fills_value_reads_at_the_quote_currencys_precision() -> None:
    from exchanges.views_markets import MarketFormat

    xrp, ethbtc = MarketFormat("XRPBRL"), MarketFormat("ETHBTC")
    assert xrp.price(Decimal("12.20291")) == "R$ 12.2029"
    assert xrp.amount(Decimal("9729.0061")) == "R$ 9,729.01"
    assert ethbtc.amount(Decimal("0.0123456789")) == "0.01234568 BTC"
