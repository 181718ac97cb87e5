"""The Exchanger page: the rate table searched and sorted on the server, its fragments, the
partner panel, referral links, empty and failing states, and who may see it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from dashboard.models import Source, Team
from dashboard.polling import source_poll
from exchanges import selectors_exchanger as sel
from exchanges.clients import exchanger_base as eb
from exchanges.views_exchanger import amount, partner_link, referral_url
from simulator import btcchange24 as sim
from simulator.server import SimulatorServer
from tests.conftest import client_for
from tests.exchanges.test_exchanger_ingest import (
    click,
    exchange,
    exchanger_source,
    info,
    rate,
    snapshot,
    store,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


def rates_table() -> list[eb.ExchangeRate]:
    return [
        rate("BTC", "USDTTRC20", "1", "63000", "180000", min_amount=Decimal(100),
             max_amount=Decimal(50000), amount_currency="USDTTRC20"),
        rate("ETH", "BTC", "18.5", "1", "3.2"),
        rate("BTC", "ETH", "1", "18.2", "42"),
        rate("SBERRUB", "BTC", "6000000", "1", "1.5", from_fee=eb.Fee(Decimal("0.5"), is_percent=True),
             flags=("manual", "cardverify")),
        rate("USDTTRC20", "CASHUSD", "1", "0.98", "400000", city="MSK", to_fee=eb.Fee(Decimal(10))),
    ]


def polled(source: Source, *, partner: bool = True, at: datetime | None = None) -> Source:
    """The source as if a poll had just succeeded with rates_table() (and partner data)."""
    now = at or timezone.now()
    extra: dict[str, object] = {}
    if partner:
        extra = {"info": info(), "exchanges": [
            exchange("1", now - timedelta(days=1), accrued=True, reward="2.5"),
            exchange("2", now - timedelta(hours=2), succeeded=False, reward="0"),
            exchange("3", now - timedelta(hours=1)),
        ], "clicks": [click(str(n), now - timedelta(hours=n)) for n in range(1, 6)]}
    store(source, snapshot(*rates_table(), at=now, **extra), now)
    Source.objects.filter(pk=source.pk).update(last_success_at=now, last_poll_at=now)
    source.refresh_from_db()
    return source


@pytest.fixture
def exchanger(team: Team) -> Source:
    return polled(exchanger_source(team, api_key="pk_test_0123456789"))


def body_of(client: Client, url: str, **headers: str) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def row_directions(body: str) -> list[str]:
    """From → To of each rate row, in the order shown."""
    rows = re.findall(r'<th scope="row" class="col-from cur">([^<]+)</th>\s*'
                      r'<td class="col-to cur">([^<]+)</td>', body)
    return [f"{a}>{b}" for a, b in rows]


def test_it_shows_the_rate_table_both_ways(alice, exchanger: Source) -> None:
    body = body_of(client_for(alice), "/exchanger/")
    assert row_directions(body) == ["BTC>ETH", "BTC>USDTTRC20", "ETH>BTC", "SBERRUB>BTC", "USDTTRC20>CASHUSD"]
    assert "<strong>5</strong> directions" in body
    # One BTC buys 63,000 USDTTRC20; one USDTTRC20 costs 1/63000 BTC.
    assert "63,000<span class=\"unit\">USDTTRC20</span>" in body
    assert "0.000015873<span class=\"unit\">BTC</span>" in body
    # ETH>BTC is published as 18.5 ETH for 1 BTC.
    assert "0.0540541<span class=\"unit\">BTC</span>" in body
    assert "18.5<span class=\"unit\">ETH</span>" in body
    assert 'title="published: 18.5 ETH buys 1 BTC"' in body
    assert "180,000<span class=\"unit\">USDTTRC20</span>" in body
    assert "100<span class=\"unit\">USDTTRC20</span>" in body
    assert "50,000<span class=\"unit\">USDTTRC20</span>" in body
    assert '<span class="fee">give 0.5%</span>' in body and '<span class="fee">get 10 CASHUSD</span>' in body
    assert '<span class="chip chip-flag">manual</span>' in body
    assert ">MSK<" in body
    assert "as of" in body and "just now" in body
    assert 'hx-trigger="every 30s, refresh"' in body and "data-live" in body


def test_search_filters_by_currency_on_the_server(alice, exchanger: Source) -> None:
    body = body_of(client_for(alice), "/exchanger/?q=eth")
    assert row_directions(body) == ["BTC>ETH", "ETH>BTC"]
    assert "<strong>2 of 5</strong> directions" in body
    assert 'value="eth"' in body


def test_search_by_direction_and_by_two_currencies(alice, exchanger: Source) -> None:
    client = client_for(alice)
    assert row_directions(body_of(client, "/exchanger/?q=BTC%3EETH")) == ["BTC>ETH"]
    assert row_directions(body_of(client, "/exchanger/?q=btc+rub")) == ["SBERRUB>BTC"]
    empty = body_of(client, "/exchanger/?q=DOGE")
    assert "No direction matches “DOGE”" in empty and row_directions(empty) == []


def test_the_search_answers_htmx_with_the_table_fragment_only(alice, exchanger: Source) -> None:
    body = body_of(client_for(alice), f"/exchanger/?source={exchanger.pk}&q=usdt", **HTMX,
                   HTTP_HX_TARGET="exchanger-rates")
    assert body.startswith('<div id="exchanger-rates"') and "<html" not in body
    assert row_directions(body) == ["BTC>USDTTRC20", "USDTTRC20>CASHUSD"]
    assert f'hx-get="/exchanger/?source={exchanger.pk}&amp;q=usdt"' in body


@pytest.mark.parametrize(("sort", "expected"), [
    ("-reserve", ["USDTTRC20>CASHUSD", "BTC>USDTTRC20", "BTC>ETH", "ETH>BTC", "SBERRUB>BTC"]),
    ("rate", ["SBERRUB>BTC", "ETH>BTC", "USDTTRC20>CASHUSD", "BTC>ETH", "BTC>USDTTRC20"]),
    ("-to", ["BTC>USDTTRC20", "BTC>ETH", "USDTTRC20>CASHUSD", "ETH>BTC", "SBERRUB>BTC"]),
    ("min", ["BTC>USDTTRC20", "BTC>ETH", "ETH>BTC", "SBERRUB>BTC", "USDTTRC20>CASHUSD"]),
    ("city", ["USDTTRC20>CASHUSD", "BTC>ETH", "BTC>USDTTRC20", "ETH>BTC", "SBERRUB>BTC"]),
    ("-fee", ["SBERRUB>BTC", "USDTTRC20>CASHUSD", "BTC>ETH", "BTC>USDTTRC20", "ETH>BTC"]),
    ("nonsense", ["BTC>ETH", "BTC>USDTTRC20", "ETH>BTC", "SBERRUB>BTC", "USDTTRC20>CASHUSD"]),
])
def test_it_sorts_by_each_column_on_the_server(alice, exchanger: Source, sort: str,
                                               expected: list[str]) -> None:
    assert row_directions(body_of(client_for(alice), f"/exchanger/?sort={sort}")) == expected


def test_sort_links_keep_the_search_and_reverse_the_current_column(alice, exchanger: Source) -> None:
    body = unescape(body_of(client_for(alice), f"/exchanger/?source={exchanger.pk}&q=btc&sort=reserve"))
    assert f'href="?source={exchanger.pk}&q=btc&sort=-reserve"' in body
    assert f'href="?source={exchanger.pk}&q=btc&sort=rate"' in body
    assert f'href="?source={exchanger.pk}&q=btc"' in body  # From: the default order
    assert 'aria-sort="ascending"' in body
    assert '<input type="hidden" name="sort" value="reserve" form="exchanger-filter">' in body


def test_the_partner_fragment_answers_its_own_target(alice, exchanger: Source) -> None:
    body = body_of(client_for(alice), "/exchanger/?range=7d", **HTMX, HTTP_HX_TARGET="exchanger-partner")
    assert body.startswith('<section id="exchanger-partner"') and "exchanger-rates" not in body
    assert 'aria-current="true">7d</a>' in body


def test_a_history_restore_gets_the_whole_page(alice, exchanger: Source) -> None:
    body = body_of(client_for(alice), "/exchanger/?q=eth", **HTMX, HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in body


def test_the_partner_panel_shows_balance_payout_charts_and_exchanges(alice, exchanger: Source) -> None:
    body = body_of(client_for(alice), "/exchanger/")
    assert ">12.50<span class=\"unit unit-unknown\"" in body  # balance, in a currency the API does not name
    assert "37.50 (currency not given) to go to the minimum payout (25% reached)" in body
    assert '<progress class="payout-progress" max="50.000000000000" value="12.500000000000"' in body
    for chart in ("balance", "exchanges", "rewards", "clicks"):
        assert f'id="chart-partner-{chart}" data-spec=' in body
    assert "3<span class=\"unit\">exchanges</span>" in body
    assert "2 succeeded · 3.75 reward (currency not given) · 5 link clicks" in body
    assert body.count('<span class="badge badge-error">not completed</span>') == 1
    assert '<span class="badge badge-ok">accrued</span>' in body
    assert "1 → 63,000" in body


def test_the_charts_have_labelled_axes_and_one_bar_a_day(alice, exchanger: Source) -> None:
    body = body_of(client_for(alice), "/exchanger/?range=7d")
    spec = re.search(r'id="chart-partner-clicks" data-spec="([^"]+)"', body)
    assert spec is not None
    clicks = json.loads(unescape(spec[1]))
    assert clicks["type"] == "bar" and clicks["y_title"] == "Clicks per day"
    assert clicks["x_title"] == "Day (UTC)"
    values = clicks["datasets"][0]["values"]
    assert len(values) == len(clicks["datasets"][0]["times"]) == 7 and sum(values) == 5


def test_days_are_the_teams(exchanger: Source, team: Team) -> None:
    team.timezone = "Asia/Tokyo"
    team.save()
    zone = sel.team_zone(team=team)
    now = datetime(2025, 6, 15, 16, 0, tzinfo=UTC)  # already the 16th in Tokyo
    store(exchanger, snapshot(rate(), clicks=[click("late", datetime(2025, 6, 14, 15, 30, tzinfo=UTC)),
                                              click("early", datetime(2025, 6, 14, 14, 30, tzinfo=UTC))]))
    window = sel.DayWindow.ending(now=now, days=7, zone=zone)
    days = dict(sel.link_clicks_per_day(source=exchanger, window=window))
    tokyo = ZoneInfo("Asia/Tokyo")
    assert window.last == now.astimezone(tokyo).date()
    assert days[datetime(2025, 6, 15).date()] == 1 and days[datetime(2025, 6, 14).date()] == 1


def test_times_show_in_the_teams_zone(alice, team: Team) -> None:
    team.timezone = "Asia/Tokyo"
    team.save()
    source = polled(exchanger_source(team, api_key="pk_test_0123456789"), partner=False)
    at = timezone.now().replace(microsecond=0)
    store(source, snapshot(rate(), info=info(), exchanges=[exchange("9", at)]))
    body = body_of(client_for(alice), "/exchanger/")
    assert at.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M") in body
    assert "days in Asia/Tokyo" in body


def test_referral_links_carry_cur_from_and_cur_to(alice, exchanger: Source) -> None:
    client = client_for(alice)
    body = unescape(body_of(client, "/exchanger/"))
    assert "https://www.btcchange24.com/ref/XXXX/" in body
    assert 'data-copy="https://www.btcchange24.com/ref/XXXX/?cur_from=BTC&cur_to=ETH"' in body
    assert f'href="?source={exchanger.pk}&cur_from=BTC&cur_to=ETH#exchanger-referral"' in body
    built = unescape(body_of(client, f"/exchanger/?source={exchanger.pk}&cur_from=SBERRUB&cur_to=btc"))
    assert 'value="https://www.btcchange24.com/ref/XXXX/?cur_from=SBERRUB&cur_to=BTC"' in built
    fragment = body_of(client, "/exchanger/?cur_from=ETH&cur_to=BTC", **HTMX,
                       HTTP_HX_TARGET="exchanger-referral")
    assert fragment.startswith('<section id="exchanger-referral"')
    assert "ref/XXXX/?cur_from=ETH&amp;cur_to=BTC" in fragment


def test_referral_url_keeps_the_links_own_query() -> None:
    link = "https://www.btcchange24.com/ref/XXXX/?lang=en&cur_from=OLD"
    assert referral_url(link, cur_from="PMUSD", cur_to="BTC") == (
        "https://www.btcchange24.com/ref/XXXX/?lang=en&cur_from=PMUSD&cur_to=BTC")
    assert referral_url("", cur_from="BTC", cur_to="ETH") == ""


def test_partner_link_takes_a_url_or_a_bare_code_and_nothing_else(team: Team) -> None:
    source = exchanger_source(team)
    assert partner_link(source, "https://www.btcchange24.com/ref/ab12/") == "https://www.btcchange24.com/ref/ab12/"
    assert partner_link(source, "test") == "https://www.btcchange24.com/ref/test/"
    assert partner_link(source, "javascript:alert(1)") == ""
    assert partner_link(source, "") == ""


def test_amounts_keep_six_significant_digits_and_cents() -> None:
    assert amount(Decimal("63123.456789")) == "63,123.46"
    assert amount(Decimal("1.23456789")) == "1.23457"
    assert amount(Decimal("0.0000158730158730")) == "0.000015873"
    assert amount(Decimal("180000.000000000000")) == "180,000"
    assert amount(Decimal(0)) == "0" and amount(None) == "—"


def test_without_a_source_it_says_how_to_add_one(alice, bob, team: Team) -> None:
    body = body_of(client_for(alice), "/exchanger/")
    assert "No exchanger source yet" in body and "Settings → Sources" in body
    assert 'href="/settings/sources/new/btcchange24/"' in body
    assert 'href="/settings/sources/new/btcchange24/"' not in body_of(client_for(bob), "/exchanger/")


def test_before_the_first_poll_it_says_the_poll_is_pending(alice, team: Team) -> None:
    exchanger_source(team)
    body = body_of(client_for(alice), "/exchanger/")
    assert "No rates yet" in body and "The first poll is pending" in body
    assert "No partner API key" in body and "partner balance" in body


def test_a_key_without_partner_data_yet_says_it_is_coming(alice, team: Team) -> None:
    polled(exchanger_source(team, api_key="pk_test_0123456789"), partner=False)
    body = body_of(client_for(alice), "/exchanger/")
    assert "Waiting for partner data" in body and "partner link arrives" in body
    assert "pk_test_0123456789" not in body


def test_a_failed_poll_marks_the_last_table_stale(alice, exchanger: Source) -> None:
    Source.objects.filter(pk=exchanger.pk).update(
        last_error="btcchange24 reports: Maintenance", last_error_at=timezone.now())
    body = body_of(client_for(alice), "/exchanger/")
    assert "The last poll failed" in body and "btcchange24 reports: Maintenance" in body
    assert 'class="exchanger-rates is-error"' in body
    assert "may be out of date" in body
    assert len(row_directions(body)) == 5


def test_a_source_not_polled_for_long_is_marked_stale(alice, team: Team) -> None:
    source = polled(exchanger_source(team), partner=False, at=timezone.now() - timedelta(hours=2))
    body = body_of(client_for(alice), f"/exchanger/?source={source.pk}")
    assert 'class="exchanger-rates is-stale"' in body and "no successful poll since" in body


def test_maintenance_from_the_simulator_shows_over_the_kept_table(
        alice, team: Team, simulator: SimulatorServer) -> None:
    source = exchanger_source(team, base_url=simulator.base_url("btcchange24"))
    assert source_poll(source_id=source.pk).ok  # type: ignore[union-attr]
    source.options = {**source.options, "export_code": sim.MAINTENANCE_CODE}
    source.save(update_fields=["options"])
    source_poll(source_id=source.pk)
    body = body_of(client_for(alice), "/exchanger/")
    assert "btcchange24 reports: Maintenance" in body
    assert len(row_directions(body)) == len(sim.DIRECTIONS)


def test_with_several_sources_a_picker_chooses(alice, team: Team, exchanger: Source) -> None:
    second = exchanger_source(team, label="zz exchanger")
    store(second, snapshot(rate("XMR", "BTC", "380", "1")))
    client = client_for(alice)
    first_page = body_of(client, "/exchanger/")
    assert f'href="?source={second.pk}"' in first_page and 'aria-current="page">btcchange24</a>' in first_page
    assert row_directions(body_of(client, f"/exchanger/?source={second.pk}")) == ["XMR>BTC"]


def test_a_viewer_sees_the_page(bob, exchanger: Source) -> None:
    body = body_of(client_for(bob), "/exchanger/")
    assert len(row_directions(body)) == 5
    assert "Edit the source" not in body


def test_another_teams_source_is_404(charlie, exchanger: Source) -> None:
    assert client_for(charlie).get(f"/exchanger/?source={exchanger.pk}").status_code == 404
    assert "No exchanger source yet" in body_of(client_for(charlie), "/exchanger/")


def test_a_source_of_another_kind_is_404(alice, source: Source) -> None:
    assert client_for(alice).get(f"/exchanger/?source={source.pk}").status_code == 404


def test_anonymous_is_sent_to_sign_in(exchanger: Source) -> None:
    response = Client().get("/exchanger/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_partner_money_keeps_two_decimals() -> None:
    from exchanges.views_exchanger import money

    assert [money(Decimal(v)) for v in ("0.3", "13.63", "50", "0.000123")] == [
        "0.30", "13.63", "50.00", "0.000123"]
    assert money(None) == "—"
