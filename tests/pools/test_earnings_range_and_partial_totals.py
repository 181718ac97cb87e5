"""Earnings: a range that cannot be read is refused with the reason (page, CSV, API), a custom
range of two dates, and money totals over partly priced days shown as partial."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from dashboard.models import Source, Team
from dashboard.services import apitoken_create, source_create
from exchanges.fiat import FiatTotal, Price, Valued
from pools.models import DailyEarning, Payout
from tests.conftest import client_for
from tests.pools.test_fiat_pages import price

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def today() -> date:
    return timezone.now().astimezone(UTC).date()


def farm(team: Team, label: str) -> Source:
    return source_create(team=team, kind="btccom", label=label,
                         credentials={"access_key": f"ak-{label}", "puid": "1"})


@pytest.fixture
def month(team: Team, today: date) -> list[Source]:
    """Two farms crediting BTC on each of the last 30 days, and 0.01 LTC on each of them
    on one farm; two BTC payouts."""
    farms = [farm(team, "Alpha"), farm(team, "Bravo")]
    DailyEarning.objects.bulk_create([
        DailyEarning(source=source, date=today - timedelta(days=n), coin="BTC", amount=Decimal("0.001"))
        for source in farms for n in range(30)
    ] + [DailyEarning(source=farms[0], date=today - timedelta(days=n), coin="LTC",
                      amount=Decimal("0.01")) for n in range(30)])
    for n, tx in ((2, "tx-priced"), (3, "tx-unpriced")):
        Payout.objects.create(source=farms[0], key=tx, tx=tx, coin="BTC", amount=Decimal("0.01"),
                              paid_at=datetime.combine(today - timedelta(days=n), time(9), tzinfo=UTC))
    return farms


@pytest.fixture
def sbi(team: Team) -> Source:
    source = source_create(team=team, kind="sbicrypto", label="SBI rates",
                           credentials={"observer_key": "observer-key-0123456789"})
    Source.objects.filter(pk=source.pk).update(enabled=False)
    return source


# --- partial totals ------------------------------------------------------------------------


def test_a_total_over_one_priced_day_of_thirty_says_so(alice, month, sbi, today) -> None:
    day = today - timedelta(days=2)
    price(sbi, "BTC", "USD", day, "131150")  # 2 x 0.001 BTC that day: US$ 262.30
    price(sbi, "LTC", "USD", day, "90")

    response = client_for(alice).get("/earnings/?range=30d")
    body = response.content.decode()

    [earned_btc, _ltc, earned_all], _ = response.context["total_rows"]
    [usd] = earned_btc[2].fiat
    assert (usd.valued, usd.missing, usd.partial) == (1, 29, True)
    assert usd.text == "US$\xa0262.30" and usd.coverage == "for 1 of 30 days"
    assert 'US$\xa0262.30 <span class="partial-tag"' in body and ">for 1 of 30 days</span>" in body
    # Across coins the priced parts cover different days: no sum is shown at all.
    [across] = earned_all[2].fiat
    assert across.withheld and across.text == "—"
    assert "Not added up across coins" in earned_all[1]
    # Payouts: one of the two was paid on a priced day.
    [[(_, _, paid_btc)]] = response.context["total_rows"][1:]
    assert paid_btc.fiat[0].coverage == "for 1 of 2 payouts"
    assert ">for 1 of 2 payouts</span>" in body


def test_a_fully_priced_range_shows_a_plain_total(alice, team, today, sbi) -> None:
    source = farm(team, "Alpha")
    for n in range(3):
        day = today - timedelta(days=n)
        DailyEarning.objects.create(source=source, date=day, coin="BTC", amount=Decimal("0.001"))
        price(sbi, "BTC", "USD", day, "100000")
    response = client_for(alice).get("/earnings/?range=30d")
    [[(_, note, btc)]] = response.context["total_rows"]
    assert not btc.fiat[0].partial and btc.fiat[0].text == "US$\xa0300.00"
    assert "partial-tag" not in response.content.decode()
    assert note == "Sum of each day at its own day's price"


def test_a_total_counts_each_key_once() -> None:
    priced = Valued("USD", Decimal("1"), Price("BTC", "USD", date(2026, 1, 1), Decimal(1),
                                              datetime(2026, 1, 1, tzinfo=UTC), "SBI", "sbicrypto"))
    unpriced = Valued("USD", None, None)
    total = FiatTotal("USD", unit="day")
    for value, day in ((priced, 1), (priced, 1), (unpriced, 2), (unpriced, 2), (unpriced, 3)):
        total.add(value, day)
    assert (total.worth, total.valued, total.missing) == (Decimal(2), 1, 2)
    assert total.partial and total.coverage == "for 1 of 3 days"


# --- ranges --------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "reason"), [
    ("start=2026-11-30&end=2026-11-01", "'start' (2026-11-30) is after 'end' (2026-11-01)"),
    ("start=2026-13-01", "'start' must be a date such as 2026-11-01 (got '2026-13-01')"),
    ("end=yesterday", "'end' must be a date such as 2026-11-01 (got 'yesterday')"),
    ("range=7w", "'range' must be one of 30d, 90d, 1y, all (got '7w')"),
])
def test_the_csvs_refuse_a_bad_range_with_the_reason(alice, month, query, reason) -> None:
    for url in ("/earnings/earnings.csv", "/earnings/payouts.csv"):
        response = client_for(alice).get(f"{url}?{query}")
        assert response.status_code == 400, url
        assert response["Content-Type"].startswith("text/plain")
        assert reason in response.content.decode()


def test_the_page_shows_the_reason_instead_of_another_range(alice, month) -> None:
    response = client_for(alice).get("/earnings/?start=2026-11-30&end=2026-11-01")
    body = response.content.decode()
    assert response.status_code == 400
    assert "This range cannot be shown:</strong> &#x27;start&#x27; (2026-11-30) is after" in body
    assert "Per day" not in body and "Earned in range" not in body
    # The picker stays, holding what was typed, so it can be fixed.
    assert 'name="start" value="2026-11-30"' in body and 'name="end" value="2026-11-01"' in body
    # htmx gets the same fragment with a 200, so that it swaps it in.
    fragment = client_for(alice).get("/earnings/?start=nope", **HTMX)
    assert fragment.status_code == 200 and "This range cannot be shown" in fragment.content.decode()


def test_a_custom_range_shows_and_exports_those_days(alice, month, today) -> None:
    start, end = today - timedelta(days=9), today - timedelta(days=5)
    query = f"start={start}&end={end}"
    response = client_for(alice).get(f"/earnings/?{query}")
    assert response.status_code == 200
    rows = response.context["rows"]
    assert {r.date for r in rows} == {start + timedelta(days=n) for n in range(5)}
    body = response.content.decode()
    assert f"{start:%Y-%m-%d} – {end:%Y-%m-%d}" in body
    assert 'aria-current="true"' not in body.split('class="segmented"')[1].split("</div>")[0]
    # The filters keep the custom range when a source is picked.
    assert f'<input type="hidden" name="start" value="{start}">' in body
    exported = client_for(alice).get(f"/earnings/earnings.csv?{query}")
    disposition = f'attachment; filename="hashwatch-earnings-{start}-to-{end}.csv"'
    assert exported["Content-Disposition"] == disposition
    lines = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert {line[0] for line in lines[1:]} == {(start + timedelta(days=n)).isoformat() for n in range(5)}


def test_the_api_refuses_a_bad_range_and_keeps_its_answers(month, team, today) -> None:
    _, token = apitoken_create(team=team, name="scripts")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    source = month[0].pk
    backwards = api.get(f"/api/v1/earnings?source={source}&start=2026-11-30&end=2026-11-01")
    assert backwards.status_code == 400
    assert backwards.json() == {"error": "'start' (2026-11-30) is after 'end' (2026-11-01): the range "
                                         "must start on or before the day it ends"}
    bad = api.get(f"/api/v1/earnings?source={source}&end=2026-02-30")
    assert bad.status_code == 400 and "'end' must be a date" in bad.json()["error"]
    # A time is still read as its day, and no dates still means every day.
    day = today - timedelta(days=3)
    one = api.get(f"/api/v1/earnings?source={source}&start={day}T00:00:00Z&end={day}").json()
    assert [r["date"] for r in one["results"]] == [day.isoformat(), day.isoformat()]
    assert len(api.get(f"/api/v1/earnings?source={source}").json()["results"]) == 60
