"""The Exchanger page in headless Chromium against a btcchange24 source polled from the simulator."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.models import Source, Team
from dashboard.polling import source_poll
from simulator import btcchange24 as sim
from simulator.server import SimulatorServer
from tests.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS, screenshot
from tests.exchanges.test_exchanger_ingest import exchanger_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#exchanger-rates tbody tr"


@pytest.fixture
def exchanger(team: Team, simulator: SimulatorServer) -> Source:
    source = exchanger_source(team, label="btcchange24 partner", api_key=sim.API_KEY,
                              base_url=simulator.base_url("btcchange24"))
    run = source_poll(source_id=source.pk)
    assert run is not None and run.ok, run.message if run else "skipped"
    return source


def test_the_page_shows_the_polled_rates_and_partner_charts(page_for, alice, exchanger, live_server) -> None:
    page = page_for("alice", PASSWORD)
    page.goto(f"{live_server.url}/exchanger/")
    expect(page.locator(ROWS)).to_have_count(len(sim.DIRECTIONS))
    expect(page.locator(".rates-meta")).to_contain_text(f"{len(sim.DIRECTIONS)} directions")
    expect(page.locator("#exchanger-partner figure.chart[data-drawn]")).to_have_count(4)
    expect(page.locator("[data-partner-link]")).to_have_text(f"https://www.btcchange24.com/ref/{sim.REF_CODE}/")
    # Copy buttons appear only with the page's script running.
    expect(page.locator(f"{ROWS} [data-copy]").first).to_be_visible()
    screenshot(page, "exchanger-1280")
    # The range picker redraws the partner charts in place.
    page.evaluate("window.__stillTheSamePage = true")
    page.click("#exchanger-partner .segmented >> text=7d")
    expect(page.locator("#exchanger-partner .segmented a[aria-current='true']")).to_have_text("7d")
    expect(page.locator("#exchanger-partner figure.chart[data-drawn]")).to_have_count(4)
    assert page.evaluate("window.__stillTheSamePage === true")
    assert page.url == f"{live_server.url}/exchanger/?source={exchanger.pk}&range=7d"
    assert page.console_errors == []


def test_search_filters_the_table_in_place(page_for, alice, exchanger, live_server) -> None:
    page = page_for("alice", PASSWORD)
    page.goto(f"{live_server.url}/exchanger/")
    page.evaluate("window.__stillTheSamePage = true")
    page.fill("#rate-search", "rub")
    expected = sum(1 for d in sim.DIRECTIONS if "RUB" in d.source + d.target)
    expect(page.locator(ROWS)).to_have_count(expected)
    assert all("RUB" in text for text in page.locator(f"{ROWS}").all_inner_texts())
    assert page.evaluate("window.__stillTheSamePage === true")
    expect(page).to_have_url(f"{live_server.url}/exchanger/?source={exchanger.pk}&q=rub")
    # Sorting keeps the search; the address stays free of empty fields.
    page.click("#exchanger-rates th.col-reserve a")
    expect(page.locator("#exchanger-rates th.col-reserve")).to_have_attribute("aria-sort", "ascending")
    expect(page.locator(ROWS)).to_have_count(expected)
    assert page.url == f"{live_server.url}/exchanger/?source={exchanger.pk}&q=rub&sort=reserve"
    assert page.evaluate("window.__stillTheSamePage === true")
    screenshot(page, "exchanger-search-rub")
    assert page.console_errors == []


def test_a_row_link_builds_the_referral_link(page_for, alice, exchanger, live_server) -> None:
    page = page_for("alice", PASSWORD)
    page.goto(f"{live_server.url}/exchanger/?q=SBERRUB%3EBTC")
    page.click(f"{ROWS} >> text=Link")
    built = page.locator("[data-built-link]")
    expect(built).to_have_value(f"https://www.btcchange24.com/ref/{sim.REF_CODE}/?cur_from=SBERRUB&cur_to=BTC")
    expect(page.locator("#cur-from")).to_have_value("SBERRUB")
    page.select_option("#cur-to", "ETH")
    expect(built).to_have_value(f"https://www.btcchange24.com/ref/{sim.REF_CODE}/?cur_from=SBERRUB&cur_to=ETH")
    assert "q=SBERRUB" in page.url and "cur_to=ETH" in page.url


def test_the_page_fits_a_phone(page_for, alice, exchanger, live_server) -> None:
    page = page_for("alice", PASSWORD, width=390)
    page.goto(f"{live_server.url}/exchanger/")
    expect(page.locator("#exchanger-partner figure.chart[data-drawn]")).to_have_count(4)
    # No sideways scroll for the page: the rate table scrolls inside its own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    wrap = page.locator(".rates-wrap")
    assert wrap.evaluate("el => el.scrollWidth > el.clientWidth")
    screenshot(page, "exchanger-390")
    assert page.console_errors == []


def test_maintenance_keeps_the_table_marked_stale(page_for, alice, exchanger, live_server) -> None:
    exchanger.options = {**exchanger.options, "export_code": sim.MAINTENANCE_CODE}
    exchanger.save(update_fields=["options"])
    Source.objects.filter(pk=exchanger.pk).update(next_poll_at=None)
    source_poll(source_id=exchanger.pk)
    page = page_for("alice", PASSWORD, width=390)
    page.goto(f"{live_server.url}/exchanger/")
    expect(page.locator(".exchanger-notice")).to_contain_text("btcchange24 reports: Maintenance")
    expect(page.locator("#exchanger-rates.is-error tbody tr")).to_have_count(len(sim.DIRECTIONS))
    # The top of the page is what matters here: the notice over the kept table.
    page.screenshot(path=str(ARTIFACTS / "exchanger-maintenance-390.png"))
    assert page.console_errors == []


def test_without_a_source_the_page_says_where_to_add_one(page_for, alice, live_server) -> None:
    page = page_for("alice", PASSWORD)
    page.goto(f"{live_server.url}/exchanger/")
    expect(page.locator(".empty h2")).to_have_text("No exchanger source yet")
    page.get_by_role("link", name="Add a btcchange24 source").click()
    expect(page).to_have_url(f"{live_server.url}/settings/sources/new/btcchange24/")


def test_search_sort_and_the_link_builder_work_without_javascript(browser, alice, exchanger,
                                                                  live_server) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "alice")
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.goto(f"{live_server.url}/exchanger/")
        page.fill("#rate-search", "usdttrc20")
        page.click("#exchanger-filter button[type=submit]")
        expected = sum(1 for d in sim.DIRECTIONS if "USDTTRC20" in (d.source, d.target))
        expect(page.locator(ROWS)).to_have_count(expected)
        page.click("#exchanger-rates th.col-reserve a")
        page.click("#exchanger-rates th.col-reserve a")
        expect(page.locator("#exchanger-rates th.col-reserve")).to_have_attribute("aria-sort", "descending")
        expect(page.locator(ROWS)).to_have_count(expected)
        page.select_option("#cur-from", "BTC")
        page.select_option("#cur-to", "USDTTRC20")
        page.click("text=Build link")
        expect(page.locator("[data-built-link]")).to_have_value(
            f"https://www.btcchange24.com/ref/{sim.REF_CODE}/?cur_from=BTC&cur_to=USDTTRC20")
        # The search and the order survive building a link.
        assert "q=usdttrc20" in page.url and "sort=-reserve" in page.url
        expect(page.locator(ROWS)).to_have_count(expected)
        expect(page.locator(f"{ROWS} [data-copy]").first).to_be_hidden()
    finally:
        context.close()
