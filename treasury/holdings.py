"""The team's coins: unpaid pool balances plus what it holds elsewhere, each coin valued
three ways (the last price, what the book would pay for all of it, the best route)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from dashboard.models import Team
from exchanges.fiat import FIAT, Price, team_current_prices
from exchanges.ingest import split_product
from exchanges.models import ExchangerRate, OrderBook
from pools.models import Balance
from pools.selectors import team_pool_sources
from treasury.models import HeldCoin
from treasury.routes import Route, team_routes


@dataclass(frozen=True)
class Part:
    label: str  # the pool source's label, or "Held elsewhere"
    amount: Decimal
    as_of: datetime | None
    note: str = ""


@dataclass
class Holding:
    coin: str
    parts: list[Part] = field(default_factory=list)
    prices: list[Price] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((part.amount for part in self.parts), Decimal(0))

    @property
    def at_last(self) -> list[tuple[Price, Decimal]]:
        return [(price, price.value(self.total)) for price in self.prices]

    @property
    def book_route(self) -> Route | None:
        """The best sale of the whole amount into an order book for money."""
        return next((r for r in self.routes if r.via == "flowbtc" and r.to in FIAT), None)

    @property
    def best_route(self) -> Route | None:
        return next((r for r in self.routes if r.possible), None)


def team_holdings(*, team: Team) -> list[Holding]:
    sources = team_pool_sources(team=team)
    holdings: dict[str, Holding] = {}
    for balance in (Balance.objects.filter(source__in=sources, unpaid__gt=0).select_related("source")
                    .order_by("coin", "source__label")):
        holdings.setdefault(balance.coin, Holding(balance.coin)).parts.append(
            Part(balance.source.label, balance.unpaid, balance.updated_at))
    for held in HeldCoin.objects.filter(team=team):
        holdings.setdefault(held.coin, Holding(held.coin)).parts.append(
            Part("Held elsewhere", held.amount, held.updated_at, held.note))
    prices = team_current_prices(team=team, coins=holdings, now=timezone.now())
    for holding in holdings.values():
        holding.prices = prices.get(holding.coin, [])
        if holding.total > 0:
            holding.routes = team_routes(team=team, coin=holding.coin, amount=holding.total)
    return [holdings[coin] for coin in sorted(holdings)]


def team_coins(*, team: Team) -> list[str]:
    """The coins the "what if I sell" box offers: those held, and those a source can sell."""
    coins = set(Balance.objects.filter(source__team=team).values_list("coin", flat=True))
    coins |= set(HeldCoin.objects.filter(team=team).values_list("coin", flat=True))
    coins |= {split_product(p)[0] for p in OrderBook.objects.filter(source__team=team)
              .values_list("product", flat=True).distinct()}
    coins |= set(ExchangerRate.objects.filter(source__team=team).values_list("from_currency", flat=True)
                 .distinct())
    return sorted(coins - set(FIAT))
