"""Markets page budgets, measured and printed (see tests/bench/conftest.py).

Every open Markets tab asks for the live fragment every 2 seconds, so that fragment has to
stay cheap however much history the stream has stored: a week of trades and minute candles,
two years of hourly and daily ones. The candle chart shares the hashrate chart's budget.

    6  live fragment (book, headline, trades, account) ........ p95 <= 100 ms
    7  candle chart, each range ................................ p95 <= 100 ms
    8  stream writes: trades stored per second ................. info
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from dashboard.bulk import upsert
from dashboard.models import Membership, Role, Source, Team
from dashboard.services import source_create
from exchanges import live
from exchanges import models as m
from exchanges.clients.flowbtc_models import OrderBook
from exchanges.clients.flowbtc_protocol import TradeRow
from exchanges.ingest import trades_store
from tests.bench.conftest import committed, report_durations, report_rate, timed

PRODUCT = "BTCBRL"
LIVE_MS = CHART_MS = 100.0
pytestmark = pytest.mark.bench

RUNS = 40
WARMUP = 3
WEEK_TRADES = 60_480  # one every ten seconds
BOOK_LEVELS = 100
TRADE_BATCH = 500
INTERVALS = {60: timedelta(days=7), 3600: timedelta(days=730), 86400: timedelta(days=730)}
TABLES = ["exchanges_trade", "exchanges_candle", "exchanges_ticker", "exchanges_orderbook"]


def price_at(k: int) -> Decimal:
    return Decimal(340_000 + (k * 7919) % 20_000) + Decimal("0.01") * (k % 100)


def seed_candles(source: Source, now: datetime) -> None:
    for interval, span in INTERVALS.items():
        start = datetime.fromtimestamp(int(now.timestamp()) // interval * interval, tz=UTC)
        count = int(span.total_seconds()) // interval
        rows = []
        for k in range(count):
            close = price_at(k)
            rows.append({"source_id": source.pk, "product": PRODUCT, "interval": interval,
                         "start": start - timedelta(seconds=interval * k), "open": close - 50,
                         "high": close + 120, "low": close - 130, "close": close,
                         "volume": Decimal("1.25")})
        upsert(m.Candle, rows, unique=["source", "product", "interval", "start"],
               update=["open", "high", "low", "close", "volume"])


def seed_trades(source: Source, now: datetime) -> None:
    upsert(m.Trade, [
        {"source_id": source.pk, "product": PRODUCT, "trade_id": k,
         "at": now - timedelta(seconds=10 * k), "price": price_at(k),
         "quantity": Decimal("0.0125"), "taker_side": ("buy", "sell")[k % 2], "direction": 0}
        for k in range(WEEK_TRADES)
    ], unique=["source", "product", "trade_id"], update=["at"])


def seed_book(source: Source, now: datetime) -> None:
    rng = random.Random(7)
    mid = Decimal(350_000)
    book = OrderBook(
        PRODUCT,
        bids=[(mid - 10 * (i + 1), Decimal(rng.randint(1, 5000)) / 10_000) for i in range(BOOK_LEVELS)],
        asks=[(mid + 10 * (i + 1), Decimal(rng.randint(1, 5000)) / 10_000) for i in range(BOOK_LEVELS)],
        as_of=now,
    )
    live.book_publish(source_id=source.pk, book=book, now=now)
    m.Ticker.objects.create(source=source, product=PRODUCT, last=mid, bid=mid - 10, ask=mid + 10,
                            high=mid + 5000, low=mid - 5000, volume=Decimal("28.5"), as_of=now,
                            updated_at=now, origin=m.Origin.STREAM)
    live.stream_status_publish(source_id=source.pk, status={
        "connected": True, "since": now.isoformat(), "last_event_at": now.isoformat(),
        "authenticated": None, "account_id": None, "error": None, "products": [PRODUCT]})


@pytest.fixture(scope="module")
def market(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[tuple[User, Source]]:
    with django_db_blocker.unblock():
        now = timezone.now()
        user = User.objects.create_user("trader", "trader@example.com", "bench-password")
        team = Team.objects.create(name="Bench Trading", slug="bench-trading")
        Membership.objects.create(team=team, user=user, role=Role.OWNER)
        source = source_create(team=team, kind="flowbtc", label="FlowBTC", credentials={})
        Source.objects.filter(pk=source.pk).update(last_success_at=now, last_poll_at=now)
        seed_candles(source, now)
        seed_trades(source, now)
        seed_book(source, now)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(TABLES)}")
        yield user, source
        call_command("flush", interactive=False, verbosity=0)


def time_fragment(client: Client, url: str, target: str) -> list[float]:
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": target}
    for _ in range(WARMUP):
        client.get(url, **headers)
    seconds = []
    for _ in range(RUNS):
        response, elapsed = timed(lambda: client.get(url, **headers))
        assert response.status_code == 200, url
        seconds.append(elapsed)
    return seconds


def test_live_fragment(db: None, market: tuple[User, Source]) -> None:
    user, source = market
    client = Client()
    client.force_login(user)
    seconds = time_fragment(client, f"/markets/?source={source.pk}&product={PRODUCT}", "market-live")
    report_durations(6, f"markets live fragment, {BOOK_LEVELS}-level book, week of trades",
                     seconds, unit="ms", limit=LIVE_MS)


@pytest.mark.parametrize("range_key", ["1h", "24h", "7d", "30d", "1y"])
def test_candle_chart(db: None, market: tuple[User, Source], range_key: str) -> None:
    user, source = market
    client = Client()
    client.force_login(user)
    url = f"/markets/?source={source.pk}&product={PRODUCT}&range={range_key}"
    seconds = time_fragment(client, url, "market-candles")
    report_durations(7, f"markets candle chart, {range_key}", seconds, unit="ms", limit=CHART_MS)


def test_stream_trade_writes(db: None, market: tuple[User, Source]) -> None:
    _, source = market
    now = timezone.now()
    seconds = []
    for batch in range(10):
        first = 10_000_000 + batch * TRADE_BATCH
        trades = [TradeRow(trade_id=first + k, instrument_id=1, quantity=Decimal("0.01"),
                           price=price_at(k), order1_id=k, order2_id=k + 1, at=now,
                           direction=0, taker_side=k % 2)
                  for k in range(TRADE_BATCH)]
        _, elapsed = timed(lambda: committed(
            lambda: trades_store(source=source, product=PRODUCT, trades=trades)))  # noqa: B023
        seconds.append(elapsed)
    report_rate(8, f"stream: trades stored, batches of {TRADE_BATCH}", TRADE_BATCH, seconds)
