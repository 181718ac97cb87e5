"""Energy, cost and profit per day, worked out by hand; unknown days say why."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from pools.models import ACCOUNT, HashrateSample
from tests.treasury.helpers import daily, earn, hours, pool, price
from treasury.profitability import profit_totals, source_profit_days

pytestmark = pytest.mark.django_db
DAY = date(2026, 11, 10)
TH = 1e12


def one(team, source, day=DAY):
    (row,) = [r for r in source_profit_days(team=team, sources=[source], start=day, end=day)]
    return row


def test_a_fixed_power_counts_24_hours_on_every_day_with_earnings(team) -> None:
    farm = pool(team, power_kw="3.25", electricity_price="0.5", electricity_currency="BRL")
    earn(farm, DAY, "0.001")
    price(farm, DAY, "300000")
    row = one(team, farm)
    assert row.energy_kwh == D("78.000")  # 3.25 kW * 24 h
    assert row.energy_cost == D("39.00")  # 78 kWh * 0.50
    assert row.revenue_fiat == D("300.00")  # 0.001 BTC * 300,000
    assert row.profit == D("261.00") and row.margin_pct == D("87.0")
    # Break-even: 300 / 78 = 3.8461... BRL per kWh; 39 / 0.001 = 39,000 BRL per BTC.
    assert row.breakeven_power_price.quantize(D("0.0001")) == D("3.8462")
    assert row.breakeven_coin_price == D("39000")
    assert row.hashprice_coin is None  # no hashrate recorded: no hashprice, no guess


def test_an_efficiency_follows_the_measured_hashrate(team) -> None:
    farm = pool(team, efficiency_j_per_th="20", electricity_price="0.10", electricity_currency="USD")
    earn(farm, DAY, "0.0005")
    price(farm, DAY, "90000", quote="USD")
    hours(farm, DAY, 100 * TH)
    row = one(team, farm)
    # 100 TH/s * 20 J/TH = 2,000 W = 2 kW; 24 h = 48 kWh; * 0.10 = 4.80 USD.
    assert row.energy_kwh == D("48.000") and row.energy.why == ""
    assert row.energy_cost == D("4.80")
    assert row.revenue_fiat == D("45.00") and row.profit == D("40.20")
    # Hashprice: 0.0005 BTC / 100 TH/s = 0.000005 BTC per TH/s per day; 45 / 100 = 0.45 USD.
    assert row.hashprice_coin == D("0.000005") and row.hashprice_fiat == D("0.45")


def test_a_day_with_a_gap_counts_only_the_measured_hours_and_says_so(team) -> None:
    farm = pool(team, efficiency_j_per_th="20", electricity_price="0.10", electricity_currency="USD")
    earn(farm, DAY, "0.0005")
    price(farm, DAY, "90000", quote="USD")
    hours(farm, DAY, 100 * TH, count=18)  # the poller was away for the last six hours
    row = one(team, farm)
    assert row.energy_kwh == D("36.000")  # 2 kW * 18 h
    assert "18 of 24 h" in row.energy.why
    assert row.hashrate.average_th == D(100)


def test_a_dead_farm_costs_nothing_on_efficiency(team) -> None:
    farm = pool(team, efficiency_j_per_th="20", electricity_price="0.10", electricity_currency="USD")
    earn(farm, DAY, "0")
    price(farm, DAY, "90000", quote="USD")
    hours(farm, DAY, 0.0)
    row = one(team, farm)
    assert row.energy_kwh == D("0.000") and row.energy_cost == D("0.00") and row.profit == D("0.00")


def test_an_old_day_uses_the_daily_roll_up(team) -> None:
    farm = pool(team, efficiency_j_per_th="25", electricity_price="1", electricity_currency="BRL")
    earn(farm, DAY, "0.001")
    price(farm, DAY, "300000")
    daily(farm, DAY, 40 * TH)
    assert one(team, farm).energy_kwh == D("24.000")  # 40 * 25 = 1 kW, 24 h


def test_a_day_without_hashrate_is_unknown_with_the_reason(team) -> None:
    farm = pool(team, efficiency_j_per_th="20", electricity_price="0.10", electricity_currency="USD")
    earn(farm, DAY, "0.0005")
    price(farm, DAY, "90000", quote="USD")
    row = one(team, farm)
    assert row.energy_kwh is None and row.energy_cost is None and row.profit is None
    assert row.profit_why == "No hashrate was recorded on this day, so its energy is unknown."


def test_a_day_without_a_price_is_unknown_and_not_taken_from_another_day(team) -> None:
    farm = pool(team, power_kw="1", electricity_price="1", electricity_currency="BRL")
    earn(farm, DAY, "0.001")
    price(farm, DAY - timedelta(days=1), "300000")
    row = one(team, farm)
    assert row.revenue_fiat is None and row.profit is None
    assert row.energy_cost == D("24.00")  # the cost is still known
    assert "No BRL price for BTC was recorded on 2026-11-10" in row.profit_why


def test_a_usd_price_converts_at_the_days_implied_rate_and_names_it(team) -> None:
    farm = pool(team, power_kw="1", electricity_price="1", electricity_currency="BRL")
    earn(farm, DAY, "0.001", coin="BTC")
    # The team prices LTC in both currencies that day (5.5 BRL per USD) and BTC in USD only.
    price(farm, DAY, "100", coin="LTC", quote="USD")
    price(farm, DAY, "550", coin="LTC", quote="BRL")
    price(farm, DAY, "90000", coin="BTC", quote="USD")
    row = one(team, farm)
    assert row.revenue_fiat == D("495.00")  # 0.001 * 90,000 * 5.5
    assert "USD→BRL at 5.5000, implied by LTC" in row.revenue.why


def test_another_electricity_currency_without_a_rate_says_so(team) -> None:
    farm = pool(team, power_kw="1", electricity_price="0.2", electricity_currency="EUR")
    earn(farm, DAY, "0.001")
    price(farm, DAY, "300000")
    row = one(team, farm)
    assert row.revenue_fiat == D("300.00") and row.currency == "BRL"
    assert row.energy_cost == D("4.80") and row.profit is None
    assert row.profit_why == ("Revenue is in BRL and electricity in EUR, and no EUR rate exists "
                              "among the team's sources.")


def test_the_team_default_price_applies_when_the_source_sets_none(team) -> None:
    team.electricity_price, team.electricity_currency = D("0.75"), "BRL"
    team.save()
    farm = pool(team, power_kw="2")
    earn(farm, DAY, "0.001")
    price(farm, DAY, "300000")
    row = one(team, farm)
    assert row.setup.price_origin == "team" and row.energy_cost == D("36.00")  # 48 kWh * 0.75


def test_totals_add_known_days_and_count_the_unknown(team) -> None:
    farm = pool(team, power_kw="1", electricity_price="1", electricity_currency="BRL")
    for n, amount in enumerate(["0.001", "0.002", "0.003"]):
        earn(farm, DAY - timedelta(days=n), amount)
    price(farm, DAY, "300000")
    price(farm, DAY - timedelta(days=1), "300000")
    rows = source_profit_days(team=team, sources=[farm], start=DAY - timedelta(days=2), end=DAY)
    (total,) = profit_totals(rows)
    # (300 - 24) + (600 - 24) = 852; the third day has no price.
    assert total.profit == D("852.00") and total.days == 2 and total.unknown == 1
    assert total.kwh == D(48)


def test_a_second_coin_of_the_same_machines_is_not_charged_twice(team) -> None:
    farm = pool(team, power_kw="1", electricity_price="1", electricity_currency="BRL")
    earn(farm, DAY, "0.001")
    earn(farm, DAY, "0.5", coin="NMC")
    price(farm, DAY, "300000")
    rows = source_profit_days(team=team, sources=[farm], start=DAY, end=DAY)
    merged = next(r for r in rows if r.coin == "NMC")
    assert merged.secondary and merged.energy_kwh is None and "counted on its BTC row" in merged.energy.why
    (total,) = profit_totals(rows)
    assert total.profit == D("276.00") and total.unknown == 0


def test_many_sources_cost_no_more_queries_than_one(team) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(sources) -> int:
        with CaptureQueriesContext(connection) as captured:
            source_profit_days(team=team, sources=sources, start=DAY, end=DAY)
        return len(captured)

    farms = []
    for n in range(6):
        farm = pool(team, label=f"Farm {n}", efficiency_j_per_th="20", electricity_price="1",
                    electricity_currency="BRL")
        earn(farm, DAY, "0.001")
        hours(farm, DAY, 100 * TH)
        farms.append(farm)
    assert queries(farms) == queries(farms[:1])


def test_hours_not_rolled_up_yet_come_from_the_raw_samples(team) -> None:
    today = timezone.now().astimezone(UTC).date()
    farm = pool(team, efficiency_j_per_th="20", electricity_price="1", electricity_currency="BRL")
    earn(farm, today, "0.0001")
    midnight = datetime.combine(today, time(0), tzinfo=UTC)
    # Two readings in the first hour (averaging 100 TH/s), none rolled up yet.
    for minute, value in ((5, 90 * TH), (35, 110 * TH)):
        HashrateSample.objects.create(source=farm, worker_name=ACCOUNT,
                                      at=midnight + timedelta(minutes=minute), hashrate_hs=value)
    row = one(team, farm, day=today)
    assert row.energy_kwh == D("2.000") and row.hashrate.hours == 1  # 2 kW for one hour
    assert row.in_progress
