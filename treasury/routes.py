"""Every way the team's own sources offer to turn an amount of a coin into something else:
each FlowBTC product that sells it (or buys with it), each btcchange24 direction that takes
it, ranked by what the team would receive in one money, with the age of the data behind it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from dashboard.models import Source, Team
from exchanges import selectors
from exchanges.fiat import FIAT, Price, team_current_prices
from exchanges.ingest import split_product
from exchanges.models import ExchangerRate
from exchanges.selectors_exchanger import Fee, RateRow
from treasury.book import book_spend, book_walk


@dataclass(frozen=True)
class Equivalent:
    amount: Decimal
    currency: str
    rate_text: str  # which rate made it, "" when `to` is that currency already
    rate_short: str = ""  # the same, short enough to stand under the figure


@dataclass(frozen=True)
class Route:
    via: str  # "flowbtc" or "btcchange24"
    source: Source
    name: str  # "BTCBRL sell", "BTC → USDTTRC20"
    to: str
    receive: Decimal
    rate: Decimal | None  # `to` per coin given, all in
    possible: bool
    reason: str  # why it is not possible (or partly), "" when it is
    as_of: datetime | None
    equivalent: Equivalent | None = None
    detail: str = ""  # worst price, slippage, limits: what the page shows beside it


EIGHT_PLACES = Decimal("0.00000001")


def figure(amount: Decimal) -> str:
    """250,000 or 0.01: thousands separated, no exponent, no trailing zeros."""
    return f"{amount.normalize():,f}"


def fee_amount(fee: Fee | None, base: Decimal) -> Decimal:
    if fee is None:
        return Decimal(0)
    return base * fee.value / 100 if fee.is_percent else fee.value


def exchanger_route(*, source: Source, rate: RateRow, amount: Decimal, as_of: datetime | None) -> Route:
    """The exchanger's direction for `amount`: its rate net of its published fees, checked
    against its limits (in the currency they are given in) and its reserve."""
    given = amount - fee_amount(rate.from_fee, amount)
    gross = max(given, Decimal(0)) * rate.rate_out / rate.rate_in
    receive = max(gross - fee_amount(rate.to_fee, gross), Decimal(0))
    problems = []
    limit_of = {rate.from_currency: amount, rate.to_currency: receive}.get(rate.limit_currency)
    if limit_of is not None:
        if rate.min_amount is not None and limit_of < rate.min_amount:
            problems.append(f"below the minimum of {figure(rate.min_amount)} {rate.limit_currency}")
        if rate.max_amount is not None and rate.max_amount > 0 and limit_of > rate.max_amount:
            problems.append(f"above the maximum of {figure(rate.max_amount)} {rate.limit_currency}")
    if rate.to_min is not None and receive < rate.to_min:
        problems.append(f"would receive less than the minimum of {figure(rate.to_min)} "
                        f"{rate.to_currency}")
    if rate.to_max is not None and rate.to_max > 0 and receive > rate.to_max:
        problems.append(f"would receive more than the maximum of {figure(rate.to_max)} "
                        f"{rate.to_currency}")
    if receive > rate.reserve:
        problems.append(f"more than the reserve of {figure(rate.reserve)} {rate.to_currency}")
    limits = [f"reserve {figure(rate.reserve)} {rate.to_currency}"]
    if rate.min_amount is not None:
        limits.append(f"min {figure(rate.min_amount)} {rate.limit_currency}")
    if rate.max_amount:
        limits.append(f"max {figure(rate.max_amount)} {rate.limit_currency}")
    return Route(via="btcchange24", source=source, name=f"{rate.from_currency} → {rate.to_currency}",
                 to=rate.to_currency, receive=receive, rate=receive / amount if amount else None,
                 possible=not problems, reason="; ".join(problems), as_of=as_of,
                 detail=", ".join(limits) + (f" ({rate.city})" if rate.city else ""))


def book_routes(*, source: Source, coin: str, amount: Decimal) -> list[Route]:
    """Selling the coin into each product's bids, or spending it on the asks of a product
    quoted in it (ETHBTC buys ETH with BTC)."""
    routes = []
    for product in selectors.products(source=source):
        base, quote = split_product(product)
        if coin not in (base, quote):
            continue
        book = selectors.order_book(source=source, product=product)
        as_of = book.updated_at if book else None
        if book is None or not (book.bids if coin == base else book.asks):
            routes.append(Route("flowbtc", source, product, quote if coin == base else base, Decimal(0), None,
                                False, f"no {'bids' if coin == base else 'asks'} in the {product} book",
                                as_of))
            continue
        if coin == base:
            fill = book_walk(book.bids, amount)
            to, receive, left = quote, fill.total, fill.unfilled
            slip = fill.slippage_pct
            detail = (f"average {fill.average_price:,.2f}, worst {fill.worst_price:,.2f} {quote} per "
                      f"{base}, slippage {slip:.2f}%" if fill.average_price is not None and slip is not None
                      else "")
        else:
            spend = book_spend(book.asks, amount)
            to, receive, left = base, spend.bought, spend.unspent
            detail = f"average {spend.average_price:,.8f} {quote} per {base}" if spend.average_price else ""
        # Eight places: a spend walk divides, and its remainder runs to Decimal's precision.
        unfilled = figure(left.quantize(EIGHT_PLACES))
        reason = "" if not left else (f"the book is too thin: {unfilled} {coin} of "
                                      f"{figure(amount)} would not fill")
        routes.append(Route("flowbtc", source, f"{product} {'sell' if coin == base else 'buy'}", to, receive,
                            receive / amount if amount else None, not left, reason, as_of, detail=detail))
    return routes


def equivalent_of(route: Route, *, prices: dict[str, list[Price]], reference: str) -> Equivalent | None:
    """What the route's receipt is worth in `reference` money: itself when it is that
    currency, else at the team's current price of it (ETH at FlowBTC's last)."""
    if route.to == reference:
        return Equivalent(route.receive, reference, "")
    for price in prices.get(route.to, []):
        if price.quote == reference:
            return Equivalent(route.receive * price.price, reference,
                              f"at {price.basis} {price.text} per {route.to}, from {price.source_label}",
                              f"at {price.text}/{route.to}")
    return None


def team_routes(*, team: Team, coin: str, amount: Decimal) -> list[Route]:
    """Every route, best first: the possible ones by what they would bring in the reference
    money (BRL where a BRL price exists, else USD), then those whose worth is unknown by
    amount, then those the amount breaks."""
    coin = coin.upper()
    routes: list[Route] = []
    for source in Source.objects.filter(team=team, kind="flowbtc").order_by("label", "pk"):
        routes += book_routes(source=source, coin=coin, amount=amount)
    for rate in (ExchangerRate.objects.filter(source__team=team, source__kind="btcchange24",
                                              from_currency=coin).select_related("source")
                 .order_by("source__label", "to_currency", "city")):
        routes.append(exchanger_route(source=rate.source, rate=RateRow.of(rate), amount=amount,
                                      as_of=rate.updated_at))
    prices = team_current_prices(team=team, coins={r.to for r in routes} - set(FIAT), now=timezone.now())
    reference = reference_currency(routes, prices)
    routes = [replace(r, equivalent=equivalent_of(r, prices=prices, reference=reference)) for r in routes]
    return sorted(routes, key=lambda r: (
        not r.possible, r.equivalent is None,
        -(r.equivalent.amount if r.equivalent else r.receive), r.name))


def reference_currency(routes: list[Route], prices: dict[str, list[Price]]) -> str:
    """BRL when any route can be worth something in it, else USD."""
    for quote in FIAT:
        if any(r.to == quote or any(p.quote == quote for p in prices.get(r.to, [])) for r in routes):
            return quote
    return FIAT[0]
