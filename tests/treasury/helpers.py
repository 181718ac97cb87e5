"""Stored data for treasury tests, written through the same ingest as the polls where one exists."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from dashboard.models import Source, Team
from dashboard.services import source_create
from exchanges.clients.exchanger_base import ExchangeRate
from exchanges.clients.flowbtc_models import OrderBook
from exchanges.ingest import books_store, rates_replace
from exchanges.models import DailyPrice
from pools.models import ACCOUNT, DailyEarning, HashrateDaily, HashrateHourly


def flowbtc_with_book(team: Team, *, product: str = "BTCBRL", bids=(), asks=(),
                      label: str = "FlowBTC") -> Source:
    source = Source.objects.filter(team=team, kind="flowbtc", label=label).first() or source_create(
        team=team, kind="flowbtc", label=label, credentials={})
    now = timezone.now()
    books_store(source=source, books=[OrderBook(product, list(bids), list(asks), now)], origin="rest",
                now=now)
    return source


def exchanger_with_rates(team: Team, rates: list[ExchangeRate], label: str = "btcchange24") -> Source:
    source = source_create(team=team, kind="btcchange24", label=label, credentials={},
                           options={"export_code": "code"})
    rates_replace(source=source, now=timezone.now(), rates=rates)
    return source


def pool(team: Team, label: str = "Farm", **options: str) -> Source:
    return source_create(team=team, kind="btcpoolkz", label=label, credentials={"api_key": "k"},
                         options={"currency": "BTC", **options})


def earn(source: Source, day: date, amount: str, coin: str = "BTC") -> None:
    DailyEarning.objects.create(source=source, date=day, coin=coin, amount=Decimal(amount))


def price(source: Source, day: date, value: str, coin: str = "BTC", quote: str = "BRL") -> None:
    DailyPrice.objects.update_or_create(source=source, coin=coin, quote=quote, date=day, defaults={
        "price": Decimal(value), "as_of": min(datetime.combine(day, time(23), tzinfo=UTC), timezone.now())})


def hours(source: Source, day: date, hashrate_hs: float, count: int = 24) -> None:
    """`count` hourly roll-ups of the account from midnight (fewer than 24: a gap)."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    HashrateHourly.objects.bulk_create([
        HashrateHourly(source=source, worker_name=ACCOUNT, bucket=start + timedelta(hours=h),
                       hashrate_avg=hashrate_hs, hashrate_min=hashrate_hs, hashrate_max=hashrate_hs,
                       samples=60) for h in range(count)])


def daily(source: Source, day: date, hashrate_hs: float) -> None:
    HashrateDaily.objects.create(source=source, worker_name=ACCOUNT,
                                 bucket=datetime.combine(day, time(0), tzinfo=UTC),
                                 hashrate_avg=hashrate_hs, hashrate_min=hashrate_hs,
                                 hashrate_max=hashrate_hs, samples=1440)
