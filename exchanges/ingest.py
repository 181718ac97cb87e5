"""Store what exchange polls and the FlowBTC stream bring: upserts on natural keys, so storing
the same data again changes nothing. Never does HTTP."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from dashboard.bulk import Row, upsert
from dashboard.models import Source
from exchanges import models as m
from exchanges.clients import exchanger_base as eb
from exchanges.clients.flowbtc_models import FlowBtcSnapshot, Level, OrderBook, Ticker
from exchanges.clients.flowbtc_protocol import Side, TickerRow, TradeRow

log = logging.getLogger(__name__)

# A REST poll leaves alone a book or ticker that the live stream wrote this recently: the
# stream's is deeper and newer, and the page would otherwise flick between the two.
STREAM_PRECEDENCE = timedelta(minutes=2)
TICKER_FIELDS = ["last", "bid", "ask", "high", "low", "volume", "as_of", "updated_at", "origin"]
# Only the REST ticker sends the exchange's own figures; the stream's writes leave them be.
REPORTED_FIELDS = ["session_open", "session_close", "last_quantity", "change_24h_pct", "day_change",
                   "reported_at"]
CANDLE_FIELDS = ["open", "high", "low", "close", "volume"]
DAY = 86400
RATE_FIELDS = ["rate_in", "rate_out", "reserve", "min_amount", "max_amount", "amount_currency",
               "to_min", "to_max", "from_fee", "to_fee", "flags", "updated_at"]


def split_product(product: str) -> tuple[str, str]:
    """("BTC", "BRL") from "BTCBRL": FlowBTC's quote currencies all have three letters."""
    return product[:-3], product[-3:]


def levels_json(levels: Iterable[Level]) -> list[list[str]]:
    """Decimal text, so no float rounds a price on its way through JSON."""
    return [[str(price), str(quantity)] for price, quantity in levels]


def flowbtc_snapshot_ingest(*, source: Source, snapshot: FlowBtcSnapshot, now: datetime) -> dict[str, int]:
    """Store one REST poll: books, tickers, and today's price of each product."""
    for problem in snapshot.problems:
        log.warning("source %s: %s", source.pk, problem)
    streamed = set(
        m.Ticker.objects.filter(source=source, origin=m.Origin.STREAM,
                                updated_at__gte=now - STREAM_PRECEDENCE).values_list("product", flat=True)
    )
    books = [book for product, book in snapshot.books.items() if product not in streamed]
    tickers = [ticker for product, ticker in snapshot.tickers.items() if product not in streamed]
    # The stream's ticker stays, but the exchange's own figures only the REST poll brings.
    for product, ticker in snapshot.tickers.items():
        if product in streamed:
            m.Ticker.objects.filter(source=source, product=product).update(**reported(ticker, now))
    return {
        "order_books": books_store(source=source, books=books, origin=m.Origin.REST, now=now),
        "tickers": tickers_store(source=source, tickers=tickers, origin=m.Origin.REST, now=now),
        "daily_prices": daily_prices_store(source=source, rows=[
            price_row(source=source, product=t.product, price=t.last, at=t.as_of, now=now)
            for t in snapshot.tickers.values()
        ]),
    }


def books_store(*, source: Source, books: Sequence[OrderBook], origin: str, now: datetime) -> int:
    rows = {
        book.product: {
            "source_id": source.pk, "product": book.product, "bids": levels_json(book.bids),
            "asks": levels_json(book.asks), "as_of": book.as_of, "updated_at": now,
            "origin": origin,
        }
        for book in books
    }
    return upsert(m.OrderBook, list(rows.values()), unique=["source", "product"],
                  update=["bids", "asks", "as_of", "updated_at", "origin"])


def reported(ticker: Ticker, now: datetime) -> Row:
    """The exchange's own figures of a REST ticker, and when they were read."""
    return {"session_open": ticker.session_open, "session_close": ticker.session_close,
            "last_quantity": ticker.last_quantity, "change_24h_pct": ticker.change_24h_pct,
            "day_change": ticker.day_change, "reported_at": now}


def tickers_store(*, source: Source, tickers: Sequence[Ticker], origin: str, now: datetime) -> int:
    rest = origin == m.Origin.REST
    rows = {
        t.product: {
            "source_id": source.pk, "product": t.product, "last": t.last, "bid": t.bid,
            "ask": t.ask, "high": t.high, "low": t.low, "volume": t.volume, "as_of": t.as_of,
            "updated_at": now, "origin": origin, **(reported(t, now) if rest else {}),
        }
        for t in tickers
    }
    return upsert(m.Ticker, list(rows.values()), unique=["source", "product"],
                  update=TICKER_FIELDS + (REPORTED_FIELDS if rest else []))


def daily_price_row(*, source: Source, coin: str, quote: str, price: Decimal, as_of: datetime,
                    day: date | None = None) -> Row:
    """A coin's price on `day` (by default the UTC day of `as_of`); the day's last write wins."""
    return {"source_id": source.pk, "coin": coin, "quote": quote,
            "date": day or as_of.astimezone(UTC).date(), "price": price, "as_of": as_of}


def price_row(*, source: Source, product: str, price: Decimal, at: datetime, now: datetime) -> Row:
    """Today's price of the product's coin in its quote currency (a time from the future,
    a skewed exchange clock, counts as now)."""
    coin, quote = split_product(product)
    return daily_price_row(source=source, coin=coin, quote=quote, price=price, as_of=min(at, now))


def daily_prices_store(*, source: Source, rows: Sequence[Row]) -> int:
    unique = {(row["coin"], row["quote"], row["date"]): row for row in rows if row["price"] > 0}
    return upsert(m.DailyPrice, list(unique.values()), unique=["source", "coin", "quote", "date"],
                  update=["price", "as_of"])


def candle_start(row: TickerRow, interval: int) -> datetime:
    """The candle's own start where the row carries it, else its time floored to the interval."""
    if row.candle_start is not None:
        return row.candle_start
    epoch = int(row.at.timestamp())
    return datetime.fromtimestamp(epoch - epoch % interval, tz=UTC)


def candles_store(*, source: Source, product: str, interval: int,
                  rows: Sequence[TickerRow]) -> int:
    """Candles of one product and interval; day candles also give each day's closing price."""
    candles: dict[datetime, Row] = {}
    closes: list[Row] = []
    coin, quote = split_product(product)
    for row in rows:
        start = candle_start(row, interval)
        candles[start] = {
            "source_id": source.pk, "product": product, "interval": interval, "start": start,
            "open": row.open, "high": row.high, "low": row.low, "close": row.close,
            "volume": row.volume,
        }
        if interval == DAY:
            closes.append(daily_price_row(source=source, coin=coin, quote=quote, price=row.close,
                                          as_of=min(start + timedelta(days=1), row.at),
                                          day=start.astimezone(UTC).date()))
    daily_prices_store(source=source, rows=closes)
    return upsert(m.Candle, list(candles.values()),
                  unique=["source", "product", "interval", "start"], update=CANDLE_FIELDS)


def trades_store(*, source: Source, product: str, trades: Sequence[TradeRow]) -> int:
    rows = {
        trade.trade_id: {
            "source_id": source.pk, "product": product, "trade_id": trade.trade_id,
            "at": trade.at, "price": trade.price, "quantity": trade.quantity,
            "taker_side": "buy" if trade.taker_side == Side.BUY else "sell",
            "direction": trade.direction,
        }
        for trade in trades
    }
    return upsert(m.Trade, list(rows.values()), unique=["source", "product", "trade_id"],
                  update=["at", "price", "quantity", "taker_side", "direction"])


def exchanger_snapshot_ingest(*, source: Source, snapshot: eb.ExchangerSnapshot,
                              now: datetime) -> dict[str, int]:
    for problem in snapshot.problems:
        log.warning("source %s: %s", source.pk, problem)
    return {
        "exchanger_rates": rates_replace(source=source, rates=snapshot.rates, now=now),
        "partner_balances": partner_balance_store(source=source, info=snapshot.info, now=now),
        "partner_exchanges": partner_exchanges_store(source=source, exchanges=snapshot.exchanges),
        "link_clicks": link_clicks_store(source=source, clicks=snapshot.clicks),
    }


def fee_text(fee: eb.Fee | None) -> str:
    if fee is None:
        return ""
    return f"{fee.value}%" if fee.is_percent else str(fee.value)


def rates_replace(*, source: Source, rates: Sequence[eb.ExchangeRate], now: datetime) -> int:
    """The table becomes this poll's; an empty export keeps the last table (its age shows)
    rather than wiping it, since an exchanger with no directions at all is an outage."""
    if not rates:
        log.warning("source %s: the rate export listed no directions; kept the last table", source.pk)
        return 0
    rows = {
        (rate.from_currency, rate.to_currency, rate.city): {
            "source_id": source.pk, "from_currency": rate.from_currency,
            "to_currency": rate.to_currency, "city": rate.city, "rate_in": rate.rate_in,
            "rate_out": rate.rate_out, "reserve": rate.reserve, "min_amount": rate.min_amount,
            "max_amount": rate.max_amount, "amount_currency": rate.amount_currency,
            "to_min": rate.to_min, "to_max": rate.to_max, "from_fee": fee_text(rate.from_fee),
            "to_fee": fee_text(rate.to_fee), "flags": list(rate.flags), "updated_at": now,
        }
        for rate in rates
    }
    m.ExchangerRate.objects.filter(source=source).delete()
    return upsert(m.ExchangerRate, list(rows.values()),
                  unique=["source", "from_currency", "to_currency", "city"], update=RATE_FIELDS)


def partner_balance_store(*, source: Source, info: eb.PartnerInfo | None, now: datetime) -> int:
    if info is None:
        return 0
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return upsert(m.PartnerBalance, [{
        "source_id": source.pk, "at": hour, "balance": info.balance,
        "total_received": info.total_received, "min_payout": info.min_payout,
        "link": info.link[:500], "updated_at": now,
    }], unique=["source", "at"], update=["balance", "total_received", "min_payout", "link",
                                          "updated_at"])


def partner_exchanges_store(*, source: Source, exchanges: Sequence[eb.PartnerExchange]) -> int:
    rows = {
        x.id: {
            "source_id": source.pk, "exchange_id": x.id, "at": x.at, "course_give": x.course_give,
            "course_get": x.course_get, "amount_give": x.amount_give, "amount_get": x.amount_get,
            "succeeded": x.succeeded, "accrued": x.accrued, "partner_reward": x.partner_reward,
            "user_hash": x.user_hash[:128],
        }
        for x in exchanges
    }
    # An exchange is listed again as it completes and its reward accrues.
    return upsert(m.PartnerExchange, list(rows.values()), unique=["source", "exchange_id"], update=[
        "at", "course_give", "course_get", "amount_give", "amount_get", "succeeded", "accrued",
        "partner_reward", "user_hash"])


def link_clicks_store(*, source: Source, clicks: Sequence[eb.LinkClicks]) -> int:
    rows = {
        c.id: {
            "source_id": source.pk, "click_id": c.id, "at": c.at, "browser": c.browser[:300],
            "referrer": c.referrer[:500], "query_string": c.query_string[:500],
            "user_hash": c.user_hash[:128],
        }
        for c in clicks
    }
    return upsert(m.LinkClick, list(rows.values()), unique=["source", "click_id"],
                  update=["at", "browser", "referrer", "query_string", "user_hash"])
