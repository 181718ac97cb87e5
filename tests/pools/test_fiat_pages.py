"""Balances and earnings in BRL and USD on the overview and earnings pages, against data
polled from the simulator and prices written as the FlowBTC and SBI Crypto polls write them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.html import escape

from dashboard.models import Source, Team
from dashboard.services import source_create
from exchanges.fiat import cents, money_text
from exchanges.ingest import daily_prices_store
from pools.models import DailyEarning
from pools.selectors import team_pool_overview
from tests.conftest import client_for


def price(source: Source, coin: str, quote: str, day: date, value: str,
          as_of: datetime | None = None) -> None:
    moment = as_of or datetime.combine(day, time(23), tzinfo=UTC)
    daily_prices_store(source=source, rows=[{"source_id": source.pk, "coin": coin, "quote": quote,
                                             "date": day, "price": Decimal(value), "as_of": moment}])


@pytest.fixture
def flowbtc(team: Team) -> Source:
    return source_create(team=team, kind="flowbtc", label="FlowBTC main", credentials={})


@pytest.fixture
def sbi(team: Team) -> Source:
    # Prices only: left disabled so it adds no pool figures of its own to the overview.
    source = source_create(team=team, kind="sbicrypto", label="SBI rates",
                           credentials={"observer_key": "observer-key-0123456789"})
    Source.objects.filter(pk=source.pk).update(enabled=False)
    return source


def earning_days(sources: list[Source]) -> list[date]:
    return sorted(set(DailyEarning.objects.filter(source__in=sources).values_list("date", flat=True)))


def test_the_overview_values_balances_at_current_prices_naming_source_and_age(
    alice, polled_sources, flowbtc, sbi
) -> None:
    now = timezone.now()
    today = now.astimezone(UTC).date()
    price(flowbtc, "BTC", "BRL", today - timedelta(days=1), "300000")
    price(flowbtc, "BTC", "BRL", today, "352104.10", now - timedelta(minutes=2))
    price(sbi, "BTC", "USD", today, "61234", now - timedelta(minutes=5))

    body = client_for(alice).get("/").content.decode()

    assert "BRL at <span" in body and "FlowBTC last</span> R$\xa0352,104.10" in body
    assert "USD at <span" in body and "SBI Crypto rate</span> US$\xa061,234.00" in body
    assert "2 min ago</time>" in body and "5 min ago</time>" in body
    assert 'title="From FlowBTC main: the price of' in body
    [btc] = team_pool_overview(sources=polled_sources).coins
    for amount in (btc.today, btc.yesterday, btc.unpaid, btc.paid_total):
        assert money_text(amount * Decimal("352104.10"), "BRL") in body
        assert money_text(amount * Decimal("61234"), "USD") in body
    assert "stale" not in body.split('id="overview-live"')[1].split("<h2>Sources")[0]
    assert "Add a FlowBTC source" not in body


def test_an_old_price_is_marked_stale_on_the_overview(alice, polled_sources, flowbtc) -> None:
    now = timezone.now()
    price(flowbtc, "BTC", "BRL", (now - timedelta(days=3)).date(), "330000", now - timedelta(days=3))

    body = client_for(alice).get("/").content.decode()

    assert "R$\xa0330,000.00" in body and "3 d ago</time>" in body
    assert 'class="fiat-price fiat-stale"' in body and ">stale</span>" in body


def test_without_any_price_the_overview_says_how_to_get_one(
    alice, bob, polled_sources, other_team
) -> None:
    theirs = source_create(team=other_team, kind="flowbtc", label="Theirs", credentials={})
    price(theirs, "BTC", "BRL", timezone.now().date(), "999999", timezone.now())

    body = client_for(alice).get("/").content.decode()

    assert "Add a FlowBTC source</a> to see values in BRL" in body
    assert "R$" not in body and "US$" not in body
    assert "an owner or admin adds a FlowBTC source" in client_for(bob).get("/").content.decode()


def test_a_flowbtc_source_without_prices_yet_is_waited_for(alice, polled_sources, flowbtc) -> None:
    body = client_for(alice).get("/").content.decode()
    assert "values appear once the FlowBTC source records one" in body
    assert "Add a FlowBTC source" not in body


def test_earnings_rows_are_valued_at_their_own_days_price(alice, polled_sources, flowbtc) -> None:
    days = earning_days(polled_sources)
    first, second, unpriced = days[-2], days[-3], days[-4]
    price(flowbtc, "BTC", "BRL", first, "300000")
    price(flowbtc, "BTC", "BRL", second, "350000")

    response = client_for(alice).get("/earnings/?range=30d")
    body = response.content.decode()
    rows = response.context["rows"]

    assert response.context["quotes"] == ["BRL"]
    by_day = {(r.date, r.source.label): r for r in rows}
    for (day, _), row in by_day.items():
        [value] = row.fiat
        expected = {first: Decimal("300000"), second: Decimal("350000")}.get(day)
        assert value.worth == (None if expected is None else cents(row.amount * expected))
    same = by_day[(first, "Alpha farm")], by_day[(second, "Alpha farm")]
    assert same[0].fiat[0].worth != same[1].fiat[0].worth
    for row in same:
        assert f'title="{row.fiat[0].title}">{row.fiat[0].text}</td>' in body
    missing = by_day[(unpriced, "Alpha farm")].fiat[0]
    assert f"No BRL price for BTC was recorded on {unpriced:%Y-%m-%d}" in missing.title
    assert f'title="{missing.title}">—</td>' in body
    assert "<th class=\"num\">BRL</th>" in body and "<th class=\"num\">USD</th>" not in body


def test_earnings_totals_add_up_each_days_value(alice, polled_sources, flowbtc, sbi) -> None:
    days = earning_days(polled_sources)
    for n, day in enumerate(days[-5:]):
        price(flowbtc, "BTC", "BRL", day, str(300000 + 1000 * n))
    price(sbi, "BTC", "USD", days[-1], "61234")

    response = client_for(alice).get("/earnings/?range=30d")
    body = response.content.decode()

    # One coin: its earned and paid cards share a row.
    [[(label, note, btc), (paid_label, _, paid)]] = response.context["total_rows"]
    assert (label, btc.coin, paid_label, paid.coin) == ("Earned in range", "BTC", "Paid out in range", "BTC")
    brl, usd = btc.fiat
    # Every row of the range counts, not only the table's page.
    rows = list(response.context["rows_page"].paginator.object_list)
    assert len(rows) > len(response.context["rows"])
    brl_prices = {day: Decimal(300000 + 1000 * n) for n, day in enumerate(days[-5:])}
    assert brl.worth == sum(cents(r.amount * brl_prices[r.date]) for r in rows if r.date in brl_prices)
    # Counted by day: the two farms' rows of a day share that day's price.
    days_earned = len({r.date for r in rows})
    assert brl.valued == 5 and brl.missing == days_earned - 5
    assert usd.valued == 1 and usd.missing == days_earned - 1
    assert brl.text in body and usd.text in body
    assert note == (f"Sum of each day at its own day's price; {brl.missing} days without a BRL price, "
                    f"{usd.missing} without a USD price left out")
    assert escape(note) in body


def test_the_earnings_csv_ends_with_values_in_brl_and_usd(alice, polled_sources, flowbtc) -> None:
    day = earning_days(polled_sources)[-2]
    price(flowbtc, "BTC", "BRL", day, "352104.10")

    response = client_for(alice).get("/earnings/earnings.csv?range=30d")
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert lines[0] == ["date", "source", "coin", "amount", "value_brl", "value_usd"]
    priced = [line for line in lines[1:] if line[0] == day.isoformat()]
    assert len(priced) == 2
    for line in priced:
        assert line[4] == f"{cents(Decimal(line[3]) * Decimal('352104.10')):f}" and line[5] == ""
    assert all(line[4] == line[5] == "" for line in lines[1:] if line[0] != day.isoformat())


def test_earnings_without_prices_show_the_hint_and_no_money_columns(alice, polled_sources) -> None:
    response = client_for(alice).get("/earnings/")
    body = response.content.decode()
    assert response.context["quotes"] == []
    assert "Add a FlowBTC source</a> to see values in BRL" in body
    assert "R$" not in body and '<th class="num">BRL</th>' not in body
