"""Reads of exchange data for pages and the JSON API, so both show the same numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime

from dashboard.models import Source
from exchanges import live
from exchanges import models as m
from exchanges.clients.flowbtc import PRODUCTS


@dataclass(frozen=True)
class BookView:
    """A product's book from wherever it is freshest: the stream's live copy, else the last
    stored one. Levels are (price, quantity) decimals, best first."""

    product: str
    bids: list[tuple[Decimal, Decimal]]
    asks: list[tuple[Decimal, Decimal]]
    as_of: datetime | None  # the newest order's time, as the exchange says
    updated_at: datetime | None  # when we received it
    live: bool  # from the running stream

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0][0] if self.asks else None

    @property
    def spread(self) -> Decimal | None:
        if self.best_bid is None or self.best_ask is None:
            return None
        return self.best_ask - self.best_bid


def levels(raw: list[list[str]], depth: int | None) -> list[tuple[Decimal, Decimal]]:
    rows = raw if depth is None else raw[:depth]
    return [(Decimal(price), Decimal(quantity)) for price, quantity in rows]


def order_book(*, source: Source, product: str, depth: int | None = None) -> BookView | None:
    published = live.book_latest(source_id=source.pk, product=product)
    if published is not None:
        return BookView(
            product=product, bids=levels(published["bids"], depth),
            asks=levels(published["asks"], depth),
            as_of=parse_datetime(published["as_of"]) if published["as_of"] else None,
            updated_at=parse_datetime(published["updated_at"]), live=True,
        )
    stored = m.OrderBook.objects.filter(source=source, product=product).first()
    if stored is None:
        return None
    return BookView(product=product, bids=levels(stored.bids, depth), asks=levels(stored.asks, depth),
                    as_of=stored.as_of, updated_at=stored.updated_at, live=False)


def ticker(*, source: Source, product: str) -> m.Ticker | None:
    return m.Ticker.objects.filter(source=source, product=product).first()


def products(*, source: Source) -> list[str]:
    """Products this source has data for, in the exchange's usual order."""
    names = set(m.Ticker.objects.filter(source=source).values_list("product", flat=True))
    names |= set(m.OrderBook.objects.filter(source=source).values_list("product", flat=True))
    return sorted(names, key=lambda p: (PRODUCTS.index(p) if p in PRODUCTS else len(PRODUCTS), p))


def exchanger_rates(*, source: Source) -> QuerySet[m.ExchangerRate]:
    return m.ExchangerRate.objects.filter(source=source).order_by(
        "from_currency", "to_currency", "city")
