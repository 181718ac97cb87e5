"""Whether mining pays, per pool source and UTC day: revenue at that day's price, the energy
the machines burned and its cost, profit, margin, hashprice and the break-even prices.

Every figure is Decimal. A figure that cannot be known (no price that day, no hashrate, no
power set, a currency with no rate) is None, and the row says why: nothing is filled in
from another day or guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date
from decimal import Decimal
from functools import cached_property

from django.utils import timezone

from dashboard.models import Source, Team
from exchanges.fiat import FIAT, DayPrices, Price, cents, team_day_prices
from pools.selectors import source_coin, team_earnings
from treasury.energy import DayEnergy, DayHashrate, EnergySetup, day_energy, day_hashrates, energy_setup

KWH_PLACES = Decimal("0.001")


@dataclass(frozen=True)
class Revenue:
    fiat: Decimal | None
    currency: str
    why: str = ""  # why fiat is None, or which rate turned it into `currency`


def cross_rate(prices: DayPrices, *, day: date, source_quote: str, target: str) -> tuple[Decimal, str] | None:
    """How many `target` one `source_quote` was worth on `day`, implied by a coin the team's
    sources priced in both currencies that day (BTC at FlowBTC in BRL and at SBI in USD)."""
    for (coin, quote, when), price in sorted(prices.prices.items()):
        if when != day or quote != source_quote:
            continue
        other = prices.prices.get((coin, target, day))
        if other is not None and price.price:
            rate = other.price / price.price
            return rate, (f"{source_quote}→{target} at {rate:.4f}, implied by {coin} at "
                          f"{price.basis} and {other.basis} on {day:%Y-%m-%d}")
    return None


def revenue_of(prices: DayPrices, *, coin: str, amount: Decimal, day: date, currency: str) -> Revenue:
    """The day's earnings in `currency`: at the coin's price in it, else at its price in the
    other fiat currency converted at that day's implied rate."""
    price: Price | None = prices.prices.get((coin, currency, day))
    if price is not None:
        return Revenue(price.value(amount), currency)
    for other in FIAT:
        found = prices.prices.get((coin, other, day))
        if other == currency or found is None:
            continue
        rate = cross_rate(prices, day=day, source_quote=other, target=currency)
        if rate is not None:
            return Revenue(cents(amount * found.price * rate[0]), currency,
                           f"{coin} at {found.basis} {found.text}, converted {rate[1]}")
    return Revenue(None, currency, f"No {currency} price for {coin} was recorded on {day:%Y-%m-%d} "
                                   "(UTC): a day is valued only at its own price.")


@dataclass(frozen=True)
class ProfitDay:
    day: date
    source: Source
    coin: str
    revenue_coin: Decimal
    revenue: Revenue
    setup: EnergySetup
    energy: DayEnergy
    hashrate: DayHashrate | None
    # Another coin the same machines earned (merged mining): its energy is on the main row.
    secondary: bool = False
    # The UTC day is not over: the pool's figure still grows while a fixed power counts 24 h.
    in_progress: bool = False

    @property
    def currency(self) -> str:
        return self.revenue.currency

    @property
    def revenue_fiat(self) -> Decimal | None:
        return self.revenue.fiat

    @property
    def energy_kwh(self) -> Decimal | None:
        return None if self.energy.kwh is None else self.energy.kwh.quantize(KWH_PLACES)

    @cached_property
    def energy_cost(self) -> Decimal | None:
        if self.energy.kwh is None or self.setup.price is None:
            return None
        return cents(self.energy.kwh * self.setup.price)

    @cached_property
    def comparable(self) -> bool:
        """Revenue and energy cost are in one currency."""
        return bool(self.setup.currency) and self.setup.currency == self.revenue.currency

    @cached_property
    def profit(self) -> Decimal | None:
        cost = self.energy_cost
        if cost is None or self.revenue.fiat is None or not self.comparable:
            return None
        return self.revenue.fiat - cost

    @property
    def margin_pct(self) -> Decimal | None:
        profit = self.profit
        if profit is None or not self.revenue.fiat:
            return None
        return (profit / self.revenue.fiat * 100).quantize(Decimal("0.1"))

    @property
    def hashprice_coin(self) -> Decimal | None:
        """Revenue per TH/s of the day's average hashrate, per day."""
        if self.hashrate is None or not self.hashrate.average_th:
            return None
        return self.revenue_coin / self.hashrate.average_th

    @property
    def hashprice_fiat(self) -> Decimal | None:
        if self.hashrate is None or not self.hashrate.average_th or self.revenue.fiat is None:
            return None
        return self.revenue.fiat / self.hashrate.average_th

    @property
    def breakeven_power_price(self) -> Decimal | None:
        """The price per kWh at which the day's revenue would just pay for its energy."""
        if not self.energy.kwh or self.revenue.fiat is None or not self.comparable:
            return None
        return self.revenue.fiat / self.energy.kwh

    @property
    def breakeven_coin_price(self) -> Decimal | None:
        """The coin price at which the day's coins would just pay for its energy."""
        cost = self.energy_cost
        if cost is None or not self.revenue_coin:
            return None
        return cost / self.revenue_coin

    @property
    def profit_why(self) -> str:
        """Why profit is unknown ("" when it is known)."""
        if self.profit is not None:
            return ""
        if self.revenue.fiat is None:
            return self.revenue.why
        if self.energy.kwh is None:
            return self.energy.why
        if self.setup.price is None:
            return "No electricity price: set one on the source or the team default in Settings."
        return (f"Revenue is in {self.revenue.currency} and electricity in {self.setup.currency}, "
                f"and no {self.setup.currency} rate exists among the team's sources.")


def revenue_currency(setup: EnergySetup, prices: DayPrices) -> str:
    """The electricity's currency when the coin can be valued in it, else the first fiat
    currency that priced anything (a profit then needs a rate that does not exist)."""
    if setup.currency in FIAT:
        return setup.currency
    return prices.quotes[0] if prices.quotes else (setup.currency or FIAT[0])


def source_profit_days(*, team: Team, sources: Sequence[Source], start: date | None,
                       end: date) -> list[ProfitDay]:
    """A row per earnings row of the sources in [start, end] (start None: from the first),
    newest first, as the Earnings page lists them."""
    # Plain values: a row per source and day, without loading (and decrypting) its source again.
    earnings = list(team_earnings(sources=sources, start=start, end=end).select_related(None)
                    .values_list("source_id", "date", "coin", "amount"))
    if not earnings:
        return []
    by_id = {source.pk: source for source in sources}
    first = min(day for _, day, _, _ in earnings)
    today = timezone.now().astimezone(UTC).date()
    prices = team_day_prices(team=team, start=first, end=end)
    setups = {source.pk: energy_setup(source=source, team=team) for source in sources}
    hashrates = day_hashrates(sources=sources, start=first, end=end)
    rows = []
    for source_id, day, coin, amount in earnings:
        source = by_id[source_id]
        setup = setups[source.pk]
        hashrate = hashrates.get(source.pk, {}).get(day)
        currency = revenue_currency(setup, prices)
        revenue = revenue_of(prices, coin=coin, amount=amount, day=day, currency=currency)
        main = coin == source_coin(source)
        if main:
            energy = day_energy(setup, hashrate)
        else:
            # One set of machines: its energy is counted once, on the source's own coin.
            energy = DayEnergy(None, f"The energy of {source.label} is counted on its "
                                     f"{source_coin(source)} row.")
        rows.append(ProfitDay(day, source, coin, amount, revenue, setup, energy, hashrate,
                              secondary=not main, in_progress=day >= today))
    return rows


@dataclass
class ProfitTotal:
    """Sums over a span in one currency; `unknown` counts the days left out."""

    currency: str
    revenue: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    profit: Decimal = Decimal(0)
    kwh: Decimal = Decimal(0)
    days: int = 0
    unknown: int = 0

    @property
    def margin_pct(self) -> Decimal | None:
        return (self.profit / self.revenue * 100).quantize(Decimal("0.1")) if self.revenue else None


def profit_totals(rows: Sequence[ProfitDay]) -> list[ProfitTotal]:
    totals: dict[str, ProfitTotal] = {}
    for row in rows:
        if (not row.setup.mode and row.setup.price is None) or row.secondary:
            continue
        total = totals.setdefault(row.currency, ProfitTotal(row.currency))
        profit, cost = row.profit, row.energy_cost
        if profit is None or cost is None or row.revenue.fiat is None or row.energy.kwh is None:
            total.unknown += 1
            continue
        total.revenue += row.revenue.fiat
        total.cost += cost
        total.profit += profit
        total.kwh += row.energy.kwh
        total.days += 1
    return [totals[key] for key in sorted(totals)]
