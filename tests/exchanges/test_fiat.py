"""Prices in money for the team's coins: the current one per currency and one per day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from dashboard.models import Source, Team
from dashboard.services import source_create
from exchanges.fiat import (
    DayPrices,
    FiatHint,
    FiatTotal,
    Price,
    fiat_hint,
    money_text,
    team_current_prices,
    team_day_prices,
)
from exchanges.ingest import daily_prices_store

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
YESTERDAY = TODAY - timedelta(days=1)


def flowbtc(team: Team, label: str = "FlowBTC") -> Source:
    return source_create(team=team, kind="flowbtc", label=label, credentials={})


def sbi(team: Team, label: str = "SBI observed") -> Source:
    return source_create(team=team, kind="sbicrypto", label=label,
                         credentials={"observer_key": "observer-key-0123456789"})


def price(source: Source, coin: str, quote: str, day: date, value: str,
          as_of: datetime | None = None) -> None:
    moment = as_of or datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=23)
    daily_prices_store(source=source, rows=[{"source_id": source.pk, "coin": coin, "quote": quote,
                                             "date": day, "price": Decimal(value), "as_of": moment}])


@pytest.fixture
def exchange(team: Team) -> Source:
    return flowbtc(team)


def test_money_reads_with_the_sites_separators_and_two_decimals() -> None:
    assert money_text(Decimal("352104.1"), "BRL") == "R$\xa0352,104.10"
    assert money_text(Decimal("61234"), "USD") == "US$\xa061,234.00"
    assert money_text(Decimal("0.005"), "BRL") == "R$\xa00.01"  # half a cent rounds up, as on an invoice
    assert money_text(Decimal("-12.345"), "USD") == "-US$\xa012.35"
    assert money_text(Decimal("7"), "EUR") == "EUR\xa07.00"


def test_it_takes_the_latest_day_and_that_days_newest_reading(team, exchange) -> None:
    other = flowbtc(team, "FlowBTC backup")
    sbi_source = sbi(team)
    price(exchange, "BTC", "BRL", YESTERDAY, "340000")
    price(exchange, "BTC", "BRL", TODAY, "351000", NOW - timedelta(minutes=10))
    price(other, "BTC", "BRL", TODAY, "352104.10", NOW - timedelta(minutes=2))
    price(sbi_source, "BTC", "USD", TODAY, "61234", NOW - timedelta(minutes=5))
    price(exchange, "LTC", "BRL", TODAY, "480.5", NOW - timedelta(minutes=10))

    prices = team_current_prices(team=team, coins=["BTC"], now=NOW)

    assert list(prices) == ["BTC"]
    brl, usd = prices["BTC"]
    assert (brl.quote, brl.price, brl.day) == ("BRL", Decimal("352104.10"), TODAY)
    assert brl.source_label == "FlowBTC backup"
    assert brl.basis == "FlowBTC last" and brl.text == "R$\xa0352,104.10"
    assert (usd.quote, usd.price, usd.basis) == ("USD", Decimal("61234"), "SBI Crypto rate")
    assert not brl.stale and not usd.stale


def test_quotes_other_than_money_are_not_prices(team, exchange) -> None:
    price(exchange, "ETH", "BTC", TODAY, "0.035")
    assert team_current_prices(team=team, coins=["ETH"], now=NOW) == {}
    assert team_day_prices(team=team, start=YESTERDAY, end=TODAY).quotes == []


def test_another_teams_prices_are_never_used(team, other_team, exchange) -> None:
    theirs = flowbtc(other_team, "Charlie's FlowBTC")
    price(theirs, "BTC", "BRL", TODAY, "999999", NOW)
    price(theirs, "BTC", "USD", YESTERDAY, "88888")
    price(exchange, "BTC", "BRL", YESTERDAY, "340000")

    [only] = team_current_prices(team=team, coins=["BTC"], now=NOW)["BTC"]
    assert (only.quote, only.price, only.day) == ("BRL", Decimal("340000"), YESTERDAY)
    days = team_day_prices(team=team, start=YESTERDAY, end=TODAY)
    assert days.quotes == ["BRL"]
    assert days.valued(coin="BTC", amount=Decimal(1), day=TODAY, quote="BRL").worth is None
    assert team_current_prices(team=Team.objects.create(name="Empty", slug="empty"), coins=["BTC"],
                               now=NOW) == {}
    assert team_current_prices(team=team, coins=[], now=NOW) == {}


def test_a_price_older_than_a_day_is_stale(team, exchange) -> None:
    price(exchange, "BTC", "BRL", TODAY - timedelta(days=2), "330000", NOW - timedelta(days=1, hours=13))
    [old] = team_current_prices(team=team, coins=["BTC"], now=NOW)["BTC"]
    assert old.stale
    price(exchange, "BTC", "BRL", TODAY, "350000", NOW - timedelta(hours=23))
    [fresh] = team_current_prices(team=team, coins=["BTC"], now=NOW)["BTC"]
    assert not fresh.stale and fresh.price == Decimal("350000")


def test_each_row_is_valued_at_its_own_days_price(team, exchange) -> None:
    price(exchange, "BTC", "BRL", YESTERDAY, "300000")
    price(exchange, "BTC", "BRL", TODAY, "350000")
    days = team_day_prices(team=team, start=YESTERDAY, end=TODAY, coins=["BTC"])

    earned = Decimal("0.01234567")
    yesterday = days.valued(coin="BTC", amount=earned, day=YESTERDAY, quote="BRL")
    today = days.valued(coin="BTC", amount=earned, day=TODAY, quote="BRL")

    assert yesterday.worth == Decimal("3703.70") and yesterday.text == "R$\xa03,703.70"
    assert today.worth == Decimal("4320.98")
    assert "R$\xa0300,000.00 per BTC on " + YESTERDAY.isoformat() in yesterday.title


def test_a_day_without_a_price_has_no_value_rather_than_another_days(team, exchange) -> None:
    price(exchange, "BTC", "BRL", YESTERDAY - timedelta(days=1), "290000")
    price(exchange, "BTC", "BRL", TODAY, "350000")
    days = team_day_prices(team=team, start=YESTERDAY - timedelta(days=1), end=TODAY)

    missing = days.valued(coin="BTC", amount=Decimal("0.01"), day=YESTERDAY, quote="BRL")

    assert missing.worth is None and missing.price is None and missing.text == "—"
    assert f"No BRL price for BTC was recorded on {YESTERDAY:%Y-%m-%d}" in missing.title
    assert days.valued(coin="BTC", amount=Decimal("0.01"), day=None, quote="BRL").worth is None
    assert days.valued(coin="LTC", amount=Decimal("1"), day=TODAY, quote="BRL").worth is None


def test_day_prices_keep_to_the_range(team, exchange) -> None:
    for n in range(5):
        price(exchange, "BTC", "BRL", TODAY - timedelta(days=n), str(300000 + n))
    days = team_day_prices(team=team, start=TODAY - timedelta(days=2), end=TODAY - timedelta(days=1))
    assert sorted(day for _, _, day in days.prices) == [TODAY - timedelta(days=2), TODAY - timedelta(days=1)]
    assert len(team_day_prices(team=team, start=None, end=TODAY).prices) == 5


def test_totals_add_the_valued_rows_and_count_the_rest() -> None:
    days = DayPrices({})
    total = FiatTotal("BRL")
    total.add(days.valued(coin="BTC", amount=Decimal(1), day=TODAY, quote="BRL"))
    assert (total.worth, total.valued, total.missing, total.text) == (0, 0, 1, "—")
    half = Price("BTC", "BRL", TODAY, Decimal("0.5"), NOW, "FlowBTC", "flowbtc")
    priced = DayPrices({("BTC", "BRL", TODAY): half})
    total.add(priced.valued(coin="BTC", amount=Decimal("0.01"), day=TODAY, quote="BRL"))
    assert (total.valued, total.missing, total.text) == (1, 1, "R$\xa00.01")


def test_the_hint_says_what_to_add_or_what_to_wait_for(team) -> None:
    assert fiat_hint(team=team) == FiatHint(add_kind="flowbtc")
    flowbtc(team)
    hint = fiat_hint(team=team)
    assert hint.add_kind == "" and "FlowBTC source records one" in hint.text
