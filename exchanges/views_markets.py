"""The Markets page: a FlowBTC product's price, book, candles and trades, live.

The page polls one small endpoint every 2 s while visible; its answer holds every live panel
(headline, ladder, depth data, trades, account) as out-of-band swaps, so one request keeps
them all in step. The candle chart has its own, slower refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import accumulate
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone

from dashboard.models import Source
from dashboard.pages import page
from dashboard.teams import team_view
from exchanges import models as m
from exchanges import selectors
from exchanges.ingest import split_product
from exchanges.selectors import BookView, CandleSeries, PriceChange
from pools.charts import DEFAULT_RANGE, RANGES
from pools.presenters import epoch_ms, time_unit
from pools.views import chosen_range

TEMPLATE = "exchanges/markets.html"
FRAGMENTS = frozenset({"market-body", "market-candles", "market-live"})  # by the id they replace
LADDER_LEVELS = 10  # a side, in the ladder
DEPTH_LEVELS = 50  # a side, at most, in the depth chart
TRADES = 30
FILL_STEP = 5  # depth bars are drawn in steps of this many percent (CSS classes fill-0 … fill-100)
# Tick sizes: BRL prices in cents except the cheap coin, BTC prices in satoshi.
PRICE_PLACES = {"XRPBRL": 4}
QUOTE_PLACES = {"BRL": 2, "BTC": 8}
QUANTITY_PLACES = {"XRP": 4}
CURRENCY_PREFIX = {"BRL": "R$"}
MINUS = "\u2212"


@dataclass(frozen=True)
class MarketFormat:
    """How a product's prices and quantities read: R$ 350,123.45 and 0.12345678 BTC."""

    product: str

    @property
    def base(self) -> str:
        return split_product(self.product)[0]

    @property
    def quote(self) -> str:
        return split_product(self.product)[1]

    @property
    def pair(self) -> str:
        return f"{self.base}/{self.quote}"

    @property
    def price_places(self) -> int:
        return PRICE_PLACES.get(self.product, QUOTE_PLACES.get(self.quote, 2))

    @property
    def quantity_places(self) -> int:
        return QUANTITY_PLACES.get(self.base, 8)

    @property
    def quote_symbol(self) -> str:
        return CURRENCY_PREFIX.get(self.quote, self.quote)

    def number(self, value: Decimal | None, places: int) -> str:
        return "—" if value is None else f"{value:,.{places}f}"

    def price(self, value: Decimal | None, *, unit: bool = True, sign: bool = False,
              places: int | None = None) -> str:
        """A price in the quote currency: "R$ 350,123.45" (prefix) or "0.03712345 BTC"."""
        if value is None:
            return "—"
        text = self.number(abs(value) if sign else value, self.price_places if places is None else places)
        if unit:
            prefix = CURRENCY_PREFIX.get(self.quote)
            text = f"{prefix} {text}" if prefix else f"{text} {self.quote}"
        if sign:
            text = (MINUS if value < 0 else "+") + text
        return text

    def amount(self, value: Decimal | None) -> str:
        """A sum of money in the quote currency, at that currency's own precision: a fill of
        XRP is worth R$ 9,729.01, although XRP is priced to four places."""
        return self.price(value, places=QUOTE_PLACES.get(self.quote, 2))

    def quantity(self, value: Decimal | None, *, unit: bool = False, places: int | None = None) -> str:
        text = self.number(value, self.quantity_places if places is None else places)
        return f"{text} {self.base}" if unit and value is not None else text

    def chart_units(self) -> dict[str, Any]:
        """What static/js/market-charts.js needs to write prices and quantities as above."""
        return {"base": self.base, "quote": self.quote, "prefix": CURRENCY_PREFIX.get(self.quote, ""),
                "price_places": self.price_places, "quantity_places": self.quantity_places}


def percent_text(value: Decimal | None, *, places: int = 2, sign: bool = True) -> str:
    if value is None:
        return "—"
    text = f"{abs(value):,.{places}f} %"
    return ((MINUS if value < 0 else "+") + text) if sign else text


def market_sources_and_choice(request: HttpRequest) -> tuple[list[Source], Source | None]:
    team = request.team  # type: ignore[attr-defined]
    sources = selectors.market_sources(team=team)
    raw = request.GET.get("source", "")
    if not raw:
        return sources, sources[0] if sources else None
    # Another team's source, or one of another kind, is not among them: a 404 either way.
    source = next((s for s in sources if str(s.pk) == raw), None)
    if source is None:
        raise Http404("No such FlowBTC source.")
    return sources, source


def headline(*, fmt: MarketFormat, quote: m.Ticker | None, book: BookView | None,
             change: PriceChange | None) -> dict[str, Any]:
    # The book (live when the stream runs) is fresher than the ticker for the best prices.
    bid = book.best_bid if book and book.bids else (quote.bid if quote else None)
    ask = book.best_ask if book and book.asks else (quote.ask if quote else None)
    spread = ask - bid if bid is not None and ask is not None else None
    mid = (bid + ask) / 2 if bid is not None and ask is not None else None
    spread_pct = spread / mid * 100 if spread is not None and mid else None
    result: dict[str, Any] = {
        "last": fmt.price(quote.last) if quote else "—",
        "high": fmt.price(quote.high) if quote else "—",
        "low": fmt.price(quote.low) if quote else "—",
        "volume": fmt.quantity(quote.volume, unit=True, places=4) if quote else "—",
        "bid": fmt.price(bid), "ask": fmt.price(ask),
        "spread": fmt.price(spread), "spread_pct": percent_text(spread_pct, places=3, sign=False),
        "crossed": spread is not None and spread < 0,
        "change": None,
        "reported": reported_change(fmt=fmt, quote=quote),
    }
    if change is not None:
        pct = change.percent
        result["change"] = {
            "absolute": fmt.price(change.absolute, sign=True), "percent": percent_text(pct),
            "direction": direction(change.absolute),
            "since": change.since, "full_day": change.full_day,
        }
    return result


def direction(value: Decimal) -> str:
    return "up" if value > 0 else "down" if value < 0 else "flat"


def reported_change(*, fmt: MarketFormat, quote: m.Ticker | None) -> dict[str, Any] | None:
    """The exchange's own 24 h change (a percent, as its examples show) and today's change in
    the quote currency, to read beside ours: they may count the 24 hours differently."""
    if quote is None or (quote.change_24h_pct is None and quote.day_change is None):
        return None
    pct, day = quote.change_24h_pct, quote.day_change
    return {
        "percent": percent_text(pct) if pct is not None else None,
        "direction": direction(pct) if pct is not None else "flat",
        "day": fmt.price(day, sign=True) if day is not None else None,
        "at": quote.reported_at,
    }


def fill_class(part: Decimal, whole: Decimal) -> str:
    step = 0 if not whole else round(float(part / whole) * 100 / FILL_STEP) * FILL_STEP
    return f"fill-{max(0, min(100, step))}"


def ladder(*, fmt: MarketFormat, book: BookView | None) -> dict[str, Any] | None:
    """Both sides with cumulative totals; asks listed highest first so the best ask sits on
    the spread, right above the best bid."""
    if book is None:
        return None
    shown = {"bids": book.bids[:LADDER_LEVELS], "asks": book.asks[:LADDER_LEVELS]}
    totals = {name: list(accumulate(quantity for _, quantity in levels)) for name, levels in shown.items()}
    whole = max([*totals["bids"][-1:], *totals["asks"][-1:], Decimal(0)])
    sides = {
        name: [{"price": fmt.price(price, unit=False), "quantity": fmt.quantity(quantity),
                "total": fmt.quantity(total), "fill": fill_class(total, whole)}
               for (price, quantity), total in zip(levels, totals[name], strict=True)]
        for name, levels in shown.items()
    }
    spread, mid = book.spread, book.mid
    return {
        "asks": list(reversed(sides["asks"])), "bids": sides["bids"],
        "spread": fmt.price(spread, unit=False) if spread is not None else None,
        "spread_pct": percent_text(spread / mid * 100 if spread is not None and mid else None,
                                   places=3, sign=False),
        "more_bids": max(0, len(book.bids) - LADDER_LEVELS),
        "more_asks": max(0, len(book.asks) - LADDER_LEVELS),
    }


def depth_spec(*, fmt: MarketFormat, book: BookView | None) -> dict[str, Any] | None:
    """Cumulative quantity against price for static/js/market-charts.js, around the mid.

    Both sides get the same reach from the mid, so a side with a far-off order does not squash
    the other; levels beyond it are left out (the ladder and the API still list them)."""
    if book is None or not (book.bids or book.asks):
        return None
    bids, asks = book.bids[:DEPTH_LEVELS], book.asks[:DEPTH_LEVELS]
    mid = book.mid
    if mid is not None:
        reaches = sorted([mid - bids[-1][0], asks[-1][0] - mid])
        # A side of one or two levels would shrink the view to the spread; then show the other.
        reach = reaches[0] if reaches[0] * 5 >= reaches[1] else reaches[1]
        low, high = mid - reach, mid + reach
    else:
        prices = [p for p, _ in bids + asks]
        low, high = min(prices), max(prices)
    if low == high:
        low, high = low * Decimal("0.99"), high * Decimal("1.01")

    def curve(levels: list[tuple[Decimal, Decimal]], inside: Any) -> list[list[float]]:
        running, points = Decimal(0), []
        for price, quantity in levels:
            if not inside(price):
                break
            running += quantity
            points.append([float(price), float(running)])
        return points

    bid_points = curve(bids, lambda p: p >= low)
    ask_points = curve(asks, lambda p: p <= high)
    # Steps: a bid level holds from its price down to the next; an ask level up to the next.
    # The edges carry the last total, so the areas reach the sides of the chart.
    bid_series = ([[float(low), bid_points[-1][1]], *reversed(bid_points), [bid_points[0][0], 0.0]]
                  if bid_points else [])
    ask_series = ([[ask_points[0][0], 0.0], *ask_points, [float(high), ask_points[-1][1]]]
                  if ask_points else [])
    return {
        "kind": "depth",
        "bids": bid_series, "asks": ask_series,
        "min": float(low), "max": float(high),
        **fmt.chart_units(),
        "x_title": f"Price ({fmt.quote} per {fmt.base})",
        "y_title": f"Cumulative quantity ({fmt.base})",
    }


def candle_spec(*, fmt: MarketFormat, series: CandleSeries, start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "kind": "candles",
        "width": series.width * 1000,
        "start": epoch_ms(start), "end": epoch_ms(end),
        "time_unit": time_unit(end - start),
        "tooltip_format": "yyyy-MM-dd" if series.width >= 86400 else "yyyy-MM-dd HH:mm",
        "candles": [[epoch_ms(c.start), float(c.open), float(c.high), float(c.low), float(c.close),
                     float(c.volume)] for c in series.candles],
        **fmt.chart_units(),
        "y_title": f"Price ({fmt.quote} per {fmt.base})",
        "volume_title": f"Volume ({fmt.base})",
    }


def width_text(seconds: int) -> str:
    if seconds % 86400 == 0:
        return f"{seconds // 86400}-day"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}-hour"
    return f"{seconds // 60}-minute"


def live_context(*, source: Source, product: str, now: datetime) -> dict[str, Any]:
    fmt = MarketFormat(product)
    book = selectors.order_book(source=source, product=product)
    quote = selectors.ticker(source=source, product=product)
    change = (selectors.price_change_24h(source=source, product=product, last=quote.last, now=now)
              if quote else None)
    trades = selectors.trades_recent(source=source, product=product, limit=TRADES)
    account = selectors.exchange_account(source=source)
    orders = selectors.account_orders_open(source=source, product=product)
    fills = selectors.account_fills_recent(source=source, product=product)
    return {
        "feed": selectors.market_feed(source=source, book=book, quote=quote, now=now),
        "headline": headline(fmt=fmt, quote=quote, book=book, change=change),
        "ladder": ladder(fmt=fmt, book=book),
        "depth": depth_spec(fmt=fmt, book=book),
        "trades": [{"at": t.at, "side": t.taker_side, "price": fmt.price(t.price, unit=False),
                    "quantity": fmt.quantity(t.quantity)} for t in trades],
        "account": {
            "account": account,
            "orders": [{"order": o, "price": fmt.price(o.price, unit=False),
                        "quantity": fmt.quantity(o.quantity), "orig_quantity": fmt.quantity(o.orig_quantity),
                        "executed": fmt.quantity(o.executed)} for o in orders],
            "fills": [{"fill": f, "price": fmt.price(f.price, unit=False),
                       "quantity": fmt.quantity(f.quantity), "value": fmt.amount(f.value)} for f in fills],
        } if account or orders or fills else None,
    }


def candles_context(*, source: Source, product: str, range_key: str, now: datetime) -> dict[str, Any]:
    fmt = MarketFormat(product)
    start = now - RANGES[range_key]
    series = selectors.candle_series(source=source, product=product, start=start, end=now)
    has_any = bool(series.candles) or selectors.candles_exist(source=source, product=product)
    return {
        "candles": series, "candle_spec": candle_spec(fmt=fmt, series=series, start=start, end=now),
        "candle_width": width_text(series.width), "has_any_candles": has_any,
        "range_key": range_key, "ranges": RANGES, "start": start, "end": now,
    }


@team_view()
def markets(request: HttpRequest) -> HttpResponse:
    sources, source = market_sources_and_choice(request)
    now = timezone.now()
    context: dict[str, Any] = {"sources": sources, "source": source}
    fragment = ""
    if source is not None:
        products = selectors.products(source=source)
        wanted = request.GET.get("product", "").strip().upper()
        product = wanted if wanted in products else (products[0] if products else "")
        range_key = chosen_range(request, RANGES, DEFAULT_RANGE)
        query = {"source": source.pk, "product": product}
        context.update({
            "fmt": MarketFormat(product) if product else None,
            "products": [{"name": p, "pair": MarketFormat(p).pair} for p in products],
            "product": product, "range_key": range_key,
            "base_query": urlencode(query) + "&",
            "page_query": urlencode({**query, "range": range_key}),
            "health": source.health(now),
        })
        htmx = request.htmx  # type: ignore[attr-defined]
        target = htmx.target if htmx and not htmx.boosted else None
        # Each fragment computes only what it shows: the 2-second poll reads no candles.
        if product and target != "market-candles":
            context.update(live_context(source=source, product=product, now=now))
        if product and target != "market-live":
            context.update(candles_context(source=source, product=product, range_key=range_key, now=now))
        if target in FRAGMENTS and (product or target == "market-body"):
            fragment = target
    with timezone.override(ZoneInfo(request.team.timezone)):  # type: ignore[attr-defined]
        return page(request, TEMPLATE, context, fragment)
