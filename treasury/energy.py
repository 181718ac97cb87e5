"""What a pool source's machines burn: its energy options (or the team's default price),
and the kWh of each UTC day from a fixed draw or from the measured hashrate.

A fixed `power_kw` counts 24 h on every day the pool reports earnings for. An efficiency
(`efficiency_j_per_th`) is applied to the account's hourly hashrate, so a worker that died
stops costing anything; an hour without a reading counts no energy, and the day says how
many of its 24 hours were measured instead of filling the rest in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import Avg, Count, Max, Sum
from django.db.models.functions import TruncDate, TruncHour

from dashboard.models import Source, Team
from pools.models import ACCOUNT, HashrateDaily, HashrateHourly, HashrateSample
from pools.retention import RAW_ACCOUNT

HOURS_PER_DAY = 24
RAW_HOURS = RAW_ACCOUNT
TERA = Decimal(10) ** 12


def option_decimal(source: Source, name: str) -> Decimal | None:
    raw = str(source.options.get(name) or "").strip()
    try:
        return Decimal(raw) if raw else None
    except InvalidOperation:
        return None  # refused by the option checks on save; an old row is treated as unset


@dataclass(frozen=True)
class EnergySetup:
    """How a source's energy and its price are known; `power_kw` or `efficiency` (J/TH)."""

    power_kw: Decimal | None
    efficiency: Decimal | None
    price: Decimal | None  # per kWh, in `currency`
    currency: str
    price_origin: str  # "source", "team" or "" (no price)

    @property
    def mode(self) -> str:
        return "fixed" if self.power_kw is not None else "efficiency" if self.efficiency is not None else ""

    @property
    def describe(self) -> str:
        if self.power_kw is not None:
            return f"{self.power_kw.normalize():f} kW, 24 h a day"
        if self.efficiency is not None:
            return f"{self.efficiency.normalize():f} J/TH × measured hashrate"
        return "no power set"


def energy_setup(*, source: Source, team: Team | None = None) -> EnergySetup:
    """`team` (the source's) saves a query per source when a page reads many."""
    price = option_decimal(source, "electricity_price")
    currency = str(source.options.get("electricity_currency") or "").upper()
    origin = "source" if price is not None and currency else ""
    team = team or source.team
    if not origin and team.electricity_price is not None and team.electricity_currency:
        price, currency, origin = team.electricity_price, team.electricity_currency.upper(), "team"
    if not origin:
        price, currency = None, ""
    return EnergySetup(power_kw=option_decimal(source, "power_kw"),
                       efficiency=option_decimal(source, "efficiency_j_per_th"),
                       price=price, currency=currency, price_origin=origin)


@dataclass(frozen=True)
class DayHashrate:
    """The account's hashrate over one UTC day: the average over the hours measured."""

    average_hs: Decimal
    hours: int  # hours with a reading (24 for a day known only from its daily roll-up)
    energy_hours_th: Decimal  # sum over measured hours of TH/s times 1 h

    @property
    def average_th(self) -> Decimal:
        return self.average_hs / TERA


def day_hashrates(*, sources: Sequence[Source], start: date, end: date) -> dict[int, dict[date, DayHashrate]]:
    """Per source id, each UTC day of [start, end] that has readings: hourly roll-ups where
    they are kept (90 days), else the daily roll-up, counted as the whole day; the hours not
    rolled up yet come from the raw account samples. Four queries whatever the number of
    sources, each day summed in the database (a month of 50 sources is 36,000 hours)."""
    begin = datetime.combine(start, time(0), tzinfo=UTC)
    stop = datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC)
    window = {"source__in": list(sources), "worker_name": ACCOUNT, "bucket__gte": begin, "bucket__lt": stop}
    sums: dict[tuple[int, date], tuple[Decimal, int]] = {}
    for group in (HashrateHourly.objects.filter(**window)
                  .annotate(day=TruncDate("bucket", tzinfo=UTC)).values("source_id", "day")
                  .annotate(total=Sum("hashrate_avg"), hours=Count("id")).order_by()):
        sums[(group["source_id"], group["day"])] = (Decimal(repr(group["total"])), group["hours"])
    for source_id, hour, average in raw_hours_not_rolled_up(sources=sources, begin=begin, stop=stop):
        total, count = sums.get((source_id, hour.date()), (Decimal(0), 0))
        sums[(source_id, hour.date())] = (total + Decimal(repr(average)), count + 1)
    days: dict[int, dict[date, DayHashrate]] = defaultdict(dict)
    for (source_id, day), (total, count) in sums.items():
        days[source_id][day] = DayHashrate(total / count, count, total / TERA)
    for source_id, bucket, average in (HashrateDaily.objects.filter(**window)
                                       .values_list("source_id", "bucket", "hashrate_avg")):
        day = bucket.astimezone(UTC).date()
        if day not in days[source_id]:
            value = Decimal(repr(average))
            days[source_id][day] = DayHashrate(value, HOURS_PER_DAY, value / TERA * HOURS_PER_DAY)
    return days


def raw_hours_not_rolled_up(*, sources: Sequence[Source], begin: datetime,
                            stop: datetime) -> list[tuple[int, datetime, float]]:
    """(source id, UTC hour, average H/s) of the account's raw samples in the hours after
    the source's last hourly roll-up (the current hour, the last one before the roll-up
    runs, all of a new source's week)."""
    floor = max(begin, stop - RAW_HOURS)
    # Only roll-ups from the floor on can hide a raw hour: bounding the search keeps it off a
    # year of every source's history (a source rolled up only before it counts from the floor).
    latest = dict(HashrateHourly.objects.filter(source__in=list(sources), worker_name=ACCOUNT,
                                                bucket__gte=floor)
                  .values("source_id").annotate(latest=Max("bucket")).values_list("source_id", "latest")
                  .order_by())
    if len(latest) == len(sources) and latest:
        floor = max(floor, min(latest.values()) + timedelta(hours=1))
    groups = (HashrateSample.objects.filter(source__in=list(sources), worker_name=ACCOUNT, suspect=False,
                                            at__gte=floor, at__lt=stop)
              .annotate(hour=TruncHour("at", tzinfo=UTC)).values("source_id", "hour")
              .annotate(average=Avg("hashrate_hs")).order_by())
    return [(g["source_id"], g["hour"].astimezone(UTC), g["average"]) for g in groups
            if g["source_id"] not in latest or g["hour"] > latest[g["source_id"]]]


@dataclass(frozen=True)
class DayEnergy:
    kwh: Decimal | None
    why: str = ""  # why kwh is None, or what to know about it (a partly measured day)


def day_energy(setup: EnergySetup, hashrate: DayHashrate | None) -> DayEnergy:
    if setup.power_kw is not None:
        return DayEnergy(setup.power_kw * HOURS_PER_DAY)
    if setup.efficiency is None:
        return DayEnergy(None, "No power set for this source: give it power_kw or efficiency_j_per_th.")
    if hashrate is None:
        return DayEnergy(None, "No hashrate was recorded on this day, so its energy is unknown.")
    # J/TH times TH/s is W, and W over one hour is Wh: TH/s-hours times J/TH, over 1000, is kWh.
    kwh = hashrate.energy_hours_th * setup.efficiency / 1000
    note = "" if hashrate.hours >= HOURS_PER_DAY else (
        f"Hashrate measured for {hashrate.hours} of 24 h; the hours without a reading count no energy.")
    return DayEnergy(kwh, note)
