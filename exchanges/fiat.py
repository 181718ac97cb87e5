"""What the team's coins are worth in money, from the DailyPrice rows of the team's own
sources: a FlowBTC source prices coins in BRL (its last trade), an SBI Crypto source in USD
(the exchange rate the pool publishes).

Two reads: the current price of each coin in each fiat currency (for balances and today's
figures), and the price of each day in a range (an earnings row is worth its amount at the
price of its own day). A day without a price has no value: it is never filled in from
another day, so a total, the page and the CSV always agree on what was valued at what.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, Subquery

from dashboard.models import Source, Team
from exchanges.models import DailyPrice

FIAT = ("BRL", "USD")
SYMBOLS = {"BRL": "R$", "USD": "US$"}
CENT = Decimal("0.01")
# A current price older than this says more about a stopped source than about the market.
STALE_AFTER = timedelta(days=1)
# How the page names a price by the kind of source that gave it.
PRICE_NAMES = {"flowbtc": "FlowBTC last", "sbicrypto": "SBI Crypto rate"}
# Which kind of source gives a currency, for the hint shown when the team has no price.
PRICE_KINDS = {"BRL": ("flowbtc", "FlowBTC"), "USD": ("sbicrypto", "SBI Crypto")}
PRICE_FIELDS = ("coin", "quote", "date", "price", "as_of", "source__label", "source__kind")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money_text(amount: Decimal, quote: str) -> str:
    """ "R$ 1,234.56": the site's number format (comma thousands, point decimals) with the
    currency's symbol in front, or its code for a currency without one. A no-break space
    keeps the symbol on the number's line in a narrow card."""
    value = cents(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}{SYMBOLS.get(quote, quote)}\u00a0{abs(value):,.2f}"


@dataclass(frozen=True)
class Price:
    """One coin's price in one currency on one UTC day, and where it came from."""

    coin: str
    quote: str
    day: date
    price: Decimal
    as_of: datetime
    source_label: str
    source_kind: str
    stale: bool = False

    @property
    def basis(self) -> str:
        """ "FlowBTC last", "SBI Crypto rate": what kind of price this is."""
        from dashboard.sources import REGISTRY

        if self.source_kind in PRICE_NAMES:
            return PRICE_NAMES[self.source_kind]
        spec = REGISTRY.get(self.source_kind)
        return spec.label if spec else self.source_kind

    @property
    def text(self) -> str:
        return money_text(self.price, self.quote)

    def value(self, amount: Decimal) -> Decimal:
        """The amount's worth, rounded to the cent as every page and export shows it."""
        return cents(amount * self.price)


def price_of(row: dict, *, stale: bool = False) -> Price:
    return Price(row["coin"], row["quote"], row["date"], row["price"], row["as_of"],
                 row["source__label"], row["source__kind"], stale)


def team_current_prices(*, team: Team, coins: Iterable[str], now: datetime) -> dict[str, list[Price]]:
    """Each coin's latest price in each fiat currency, in FIAT order: the latest day, and
    on that day the newest reading when several sources give one.

    One query: a LIMIT 1 subquery per (coin, currency) walks the (coin, quote, -date) index
    from the newest day, so years of stored prices cost no more than a week's."""
    pairs = [(coin, quote) for coin in sorted(set(coins)) for quote in FIAT]
    if not pairs:
        return {}
    own = DailyPrice.objects.filter(source__team=team)
    latest = Q()
    for coin, quote in pairs:
        newest = (own.filter(coin=coin, quote=quote).order_by("-date", "-as_of", "-pk")
                  .values("pk")[:1])
        latest |= Q(pk=Subquery(newest))
    prices: dict[str, list[Price]] = {}
    for row in DailyPrice.objects.filter(latest).order_by().values(*PRICE_FIELDS):
        prices.setdefault(row["coin"], []).append(price_of(row, stale=row["as_of"] < now - STALE_AFTER))
    for found in prices.values():
        found.sort(key=lambda p: FIAT.index(p.quote))
    return prices


@dataclass(frozen=True)
class Valued:
    """An amount's worth in one currency at one day's price; `worth` is None when nothing
    priced the coin that day, and `why` then says so for the page's tooltip."""

    quote: str
    worth: Decimal | None
    price: Price | None
    why: str = ""

    @property
    def text(self) -> str:
        return "—" if self.worth is None else money_text(self.worth, self.quote)

    @property
    def title(self) -> str:
        if self.price is None:
            return self.why
        return (f"At {self.price.basis} {self.price.text} per {self.price.coin} "
                f"on {self.price.day:%Y-%m-%d} (UTC), from {self.price.source_label}")


@dataclass(frozen=True)
class DayPrices:
    """Prices by (coin, currency, UTC day) over a range, to value rows at their own day."""

    prices: dict[tuple[str, str, date], Price]

    @property
    def quotes(self) -> list[str]:
        """The currencies that priced anything in the range, in FIAT order."""
        present = {quote for _, quote, _ in self.prices}
        return [quote for quote in FIAT if quote in present]

    def valued(self, *, coin: str, amount: Decimal, day: date | None, quote: str) -> Valued:
        if day is None:
            return Valued(quote, None, None, "The pool reported no date, so no day's price applies.")
        price = self.prices.get((coin, quote, day))
        if price is None:
            return Valued(quote, None, None,
                          f"No {quote} price for {coin} was recorded on {day:%Y-%m-%d} (UTC): "
                          "a day is valued only at its own price.")
        return Valued(quote, price.value(amount), price)

    def row_values(self, *, coin: str, amount: Decimal, day: date | None,
                   quotes: Sequence[str]) -> list[Valued]:
        return [self.valued(coin=coin, amount=amount, day=day, quote=quote) for quote in quotes]


def team_day_prices(
    *, team: Team, coins: Iterable[str] | None = None, start: date | None, end: date
) -> DayPrices:
    """The team's fiat price of each coin on each UTC day of [start, end] (start None: from
    the first). Several sources pricing the same day: the newest reading wins. One query."""
    rows = DailyPrice.objects.filter(source__team=team, quote__in=FIAT, date__lte=end)
    if start is not None:
        rows = rows.filter(date__gte=start)
    if coins is not None:
        rows = rows.filter(coin__in=list(coins))
    prices: dict[tuple[str, str, date], Price] = {}
    for row in rows.order_by("as_of", "pk").values(*PRICE_FIELDS):
        prices[(row["coin"], row["quote"], row["date"])] = price_of(row)
    return DayPrices(prices)


@dataclass
class FiatTotal:
    """The sum of several items' values in one currency, and how many of them had a price.

    Items are counted by key (an earnings day, a payout), so two pools' rows of one day are
    one day priced or not: a price belongs to a coin and a day, not to a source. A total
    over items some of which have no price is `partial` and must say so where it is shown.
    """

    quote: str
    worth: Decimal = Decimal(0)
    unit: str = "row"  # what an item is, for "for 1 of 30 days"
    priced_keys: set[object] = field(default_factory=set)
    unpriced_keys: set[object] = field(default_factory=set)
    # Set on a sum across coins that would be partial: such a sum is not shown at all, since
    # its parts cover different days (each coin's own total says how much it covers).
    withheld: bool = False

    @property
    def valued(self) -> int:
        return len(self.priced_keys)

    @property
    def missing(self) -> int:
        return len(self.unpriced_keys)

    @property
    def partial(self) -> bool:
        return bool(self.priced_keys) and bool(self.unpriced_keys)

    @property
    def text(self) -> str:
        # Nothing valued is no value, not a zero: the coin had no price on any of the days.
        return money_text(self.worth, self.quote) if self.valued and not self.withheld else "—"

    @property
    def coverage(self) -> str:
        """ "for 1 of 30 days": how much of the range a partial total covers."""
        count = self.valued + self.missing
        return f"for {self.valued} of {count} {self.unit}{'' if count == 1 else 's'}"

    def add(self, value: Valued, key: object = None) -> None:
        key = object() if key is None else key  # no key: every item counts on its own
        if value.worth is None:
            self.unpriced_keys.add(key)
        else:
            self.worth += value.worth
            self.priced_keys.add(key)


@dataclass(frozen=True)
class FiatHint:
    """Why a team sees no value in money: no source that prices coins (`add_kind` names the
    kind to add), or one that has not priced these coins yet (`text`)."""

    add_kind: str = ""
    text: str = ""


def fiat_hint(*, team: Team) -> FiatHint:
    kinds = set(Source.objects.filter(team=team, kind__in=[k for k, _ in PRICE_KINDS.values()])
                .values_list("kind", flat=True))
    if not kinds:
        return FiatHint(add_kind=PRICE_KINDS["BRL"][0])
    names = " or ".join(name for kind, name in PRICE_KINDS.values() if kind in kinds)
    return FiatHint(text=f"No BRL or USD price for these coins yet: values appear once the "
                         f"{names} source records one for them.")
