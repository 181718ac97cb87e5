"""Reads for the Exchanger page: the current rate table searched and sorted, the partner
account's latest figures, its history per day in the team's time zone, recent exchanges."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from dashboard.models import Source, Team
from exchanges import models as m

KIND = "btcchange24"
DEFAULT_RATE_SORT = "from"
# "BTC>ETH", "BTC->USDTTRC20", "btc/eth", "BTC → ETH": a direction rather than two currencies.
DIRECTION_QUERY = re.compile(r"^\s*([\w.]+)\s*(?:->|→|>|/)\s*([\w.]+)\s*$")
# Up to a month the balance is drawn per hour as stored; longer ranges take each day's last.
HOURLY_BALANCE_SPAN = timedelta(days=31)


def team_zone(*, team: Team) -> ZoneInfo:
    try:
        return ZoneInfo(team.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def team_exchanger_sources(*, team: Team) -> list[Source]:
    return list(Source.objects.filter(team=team, kind=KIND).order_by("label", "id"))


# -- the rate table --


@dataclass(frozen=True)
class Fee:
    """A fee as stored ("0.5%" or "0.0001"), parsed for sorting and showing."""

    value: Decimal
    is_percent: bool

    @classmethod
    def parse(cls, text: str) -> Fee | None:
        text = (text or "").strip()
        if not text:
            return None
        percent = text.endswith("%")
        try:
            return cls(Decimal(text.removesuffix("%").strip()), percent)
        except InvalidOperation:
            return None


@dataclass(frozen=True)
class RateRow:
    """One direction: giving `rate_in` of `from_currency` buys `rate_out` of `to_currency`."""

    from_currency: str
    to_currency: str
    rate_in: Decimal
    rate_out: Decimal
    reserve: Decimal
    min_amount: Decimal | None
    max_amount: Decimal | None
    limit_currency: str
    to_min: Decimal | None
    to_max: Decimal | None
    from_fee: Fee | None
    to_fee: Fee | None
    city: str
    flags: tuple[str, ...]

    @property
    def price(self) -> Decimal:
        """How much `to_currency` one unit of `from_currency` buys."""
        return self.rate_out / self.rate_in

    @property
    def inverse(self) -> Decimal:
        """How much `from_currency` one unit of `to_currency` costs."""
        return self.rate_in / self.rate_out

    @classmethod
    def of(cls, rate: m.ExchangerRate) -> RateRow:
        return cls(
            from_currency=rate.from_currency, to_currency=rate.to_currency,
            rate_in=rate.rate_in, rate_out=rate.rate_out, reserve=rate.reserve,
            min_amount=rate.min_amount, max_amount=rate.max_amount,
            limit_currency=rate.amount_currency or rate.from_currency,
            to_min=rate.to_min, to_max=rate.to_max,
            from_fee=Fee.parse(rate.from_fee), to_fee=Fee.parse(rate.to_fee), city=rate.city,
            flags=tuple(str(flag) for flag in (rate.flags or [])),
        )


def fee_key(fee: Fee | None) -> tuple[int, Decimal]:
    # Absolute fees before percentages: the two are not comparable, so they are grouped.
    return (-1, Decimal(0)) if fee is None else (int(fee.is_percent), fee.value)


def fees_key(row: RateRow) -> tuple[tuple[int, Decimal], tuple[int, Decimal]] | None:
    if row.from_fee is None and row.to_fee is None:
        return None
    return fee_key(row.from_fee), fee_key(row.to_fee)


SORT_KEYS: dict[str, Callable[[RateRow], Any]] = {
    "from": lambda r: r.from_currency,
    "to": lambda r: r.to_currency,
    "rate": lambda r: r.price,
    "inverse": lambda r: r.inverse,
    "reserve": lambda r: r.reserve,
    "min": lambda r: r.min_amount,
    "max": lambda r: r.max_amount,
    "fee": fees_key,
    "city": lambda r: r.city or None,
    "flags": lambda r: ",".join(r.flags) or None,
}


def sort_parse(value: str) -> tuple[str, bool]:
    """("reserve", True) from "-reserve"; an unknown column sorts by the default."""
    key = value.lstrip("-")
    if key not in SORT_KEYS:
        return DEFAULT_RATE_SORT, False
    return key, value.startswith("-")


def rates_sorted(rows: Iterable[RateRow], *, sort: str) -> list[RateRow]:
    """Rows without a value in the sorted column (no limit, no city) go last either way."""
    key, descending = sort_parse(sort)
    ordered = sorted(rows, key=lambda r: (r.from_currency, r.to_currency, r.city))
    pick = SORT_KEYS[key]
    present = [r for r in ordered if pick(r) is not None]
    missing = [r for r in ordered if pick(r) is None]
    return sorted(present, key=pick, reverse=descending) + missing


def currency_filter(q: str) -> Q:
    """Every word must name the from or the to currency; "BTC>ETH" names a direction."""
    direction = DIRECTION_QUERY.match(q)
    if direction:
        return Q(from_currency__icontains=direction[1], to_currency__icontains=direction[2])
    condition = Q()
    for word in q.replace(",", " ").split():
        condition &= Q(from_currency__icontains=word) | Q(to_currency__icontains=word)
    return condition


@dataclass(frozen=True)
class RateTable:
    rows: list[RateRow]
    total: int  # directions in the table, before the search
    as_of: datetime | None  # when the poll that wrote the table ran


def exchanger_rates_search(*, source: Source, q: str = "", sort: str = DEFAULT_RATE_SORT) -> RateTable:
    """The source's current rate table, narrowed to the currencies in `q` and sorted by a
    column of SORT_KEYS ("-" first for descending). A table holds at most a few thousand
    directions, so the computed columns (rate, inverse, parsed fees) sort in Python."""
    every = m.ExchangerRate.objects.filter(source=source)
    summary = every.aggregate(total=Count("id"), as_of=Max("updated_at"))
    matching = every.filter(currency_filter(q)) if q.strip() else every
    rows = [RateRow.of(rate) for rate in matching]
    return RateTable(rows=rates_sorted(rows, sort=sort), total=summary["total"],
                     as_of=summary["as_of"])


def exchanger_currencies(*, source: Source) -> list[str]:
    """Every currency the table names, for the referral link builder."""
    pairs = m.ExchangerRate.objects.filter(source=source).values_list("from_currency", "to_currency")
    return sorted({currency for pair in pairs for currency in pair})


# -- the partner account --


def partner_balance_latest(*, source: Source) -> m.PartnerBalance | None:
    return m.PartnerBalance.objects.filter(source=source).order_by("-at").first()


@dataclass(frozen=True)
class DayWindow:
    """The last `days` days of the team's calendar, today included."""

    first: date
    last: date
    start: datetime  # the first day's midnight in the team's zone
    end: datetime
    zone: ZoneInfo

    @classmethod
    def ending(cls, *, now: datetime, days: int, zone: ZoneInfo) -> DayWindow:
        last = now.astimezone(zone).date()
        first = last - timedelta(days=days - 1)
        return cls(first, last, datetime.combine(first, time(0), tzinfo=zone), now, zone)

    @property
    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def stop(self) -> datetime:
        """The end of the last day, where the charts' time axes end."""
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=self.zone)

    def noon(self, day: date) -> datetime:
        """Where a day's bar is drawn."""
        return datetime.combine(day, time(12), tzinfo=self.zone)


def partner_balance_series(*, source: Source, window: DayWindow) -> list[tuple[datetime, Decimal]]:
    """The stored hourly balance, or each day's last for ranges longer than a month."""
    rows = (m.PartnerBalance.objects.filter(source=source, at__gte=window.start, at__lte=window.end)
            .order_by("at").values_list("at", "balance"))
    if window.end - window.start <= HOURLY_BALANCE_SPAN:
        return list(rows)
    last_of_day: dict[date, tuple[datetime, Decimal]] = {}
    for at, balance in rows:
        day = at.astimezone(window.zone).date()
        last_of_day[day] = (window.noon(day), balance)
    return list(last_of_day.values())


@dataclass(frozen=True)
class ExchangeDay:
    day: date
    succeeded: int = 0
    failed: int = 0
    reward_accrued: Decimal = Decimal(0)
    reward_pending: Decimal = Decimal(0)

    @property
    def count(self) -> int:
        return self.succeeded + self.failed

    @property
    def reward(self) -> Decimal:
        return self.reward_accrued + self.reward_pending


def per_day(queryset: QuerySet[Any], window: DayWindow) -> QuerySet[Any]:
    return (queryset.filter(at__gte=window.start, at__lte=window.end)
            .annotate(day=TruncDate("at", tzinfo=window.zone)).values("day").order_by("day"))


def partner_exchanges_per_day(*, source: Source, window: DayWindow) -> list[ExchangeDay]:
    """Referred exchanges per day of the window (every day, empty ones too): how many
    succeeded and how many did not, and their rewards, accrued or still pending."""
    rows = per_day(m.PartnerExchange.objects.filter(source=source), window).annotate(
        n_succeeded=Count("id", filter=Q(succeeded=True)),
        n_failed=Count("id", filter=Q(succeeded=False)),
        reward_accrued=Sum("partner_reward", filter=Q(accrued=True)),
        reward_pending=Sum("partner_reward", filter=Q(accrued=False)),
    )
    found = {row["day"]: ExchangeDay(row["day"], row["n_succeeded"], row["n_failed"],
                                     row["reward_accrued"] or Decimal(0),
                                     row["reward_pending"] or Decimal(0))
             for row in rows}
    return [found.get(day) or ExchangeDay(day) for day in window.dates]


def link_clicks_per_day(*, source: Source, window: DayWindow) -> list[tuple[date, int]]:
    rows = per_day(m.LinkClick.objects.filter(source=source), window).annotate(clicks=Count("id"))
    found = {row["day"]: row["clicks"] for row in rows}
    return [(day, found.get(day, 0)) for day in window.dates]


def partner_exchanges_recent(*, source: Source, limit: int = 20) -> list[m.PartnerExchange]:
    return list(m.PartnerExchange.objects.filter(source=source)
                .order_by(F("at").desc(nulls_last=True), "-exchange_id")[:limit])
