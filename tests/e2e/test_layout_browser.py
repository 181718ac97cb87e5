"""Layout as a user sees it in headless Chromium at a desktop and a phone width, light and
dark: a 100-character name without spaces widens no page, the phone menu reaches every
destination, every table shows all its columns or says it scrolls, and market volume keeps to
its own band under the candles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dashboard.models import Invitation
from dashboard.registries import nav_items
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot
from tests.whole_team import LONG_NAME, whole_team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LOOKS = [(width, theme) for width in (1440, 390) for theme in ("light", "dark")]


@pytest.fixture
def team_data(team, simulator, all_pools) -> dict[str, object]:
    return whole_team(team, simulator, all_pools, long_name=LONG_NAME)


def open_page(page_for, width: int, theme: str) -> object:
    page = page_for("alice", PASSWORD, width=width)
    page.evaluate(f"localStorage.setItem('hashwatch-theme', '{theme}')")
    return page


@pytest.mark.parametrize(("width", "theme"), LOOKS)
def test_a_long_source_name_widens_no_page(page_for, alice, team_data, live_server, width, theme) -> None:
    pool, worker = team_data["pool"], team_data["worker"]
    page = open_page(page_for, width, theme)
    paths = ["/", f"/sources/{pool.pk}/", "/workers/", "/hashrate/", "/earnings/", "/exchanger/",  # type: ignore[attr-defined]
             "/markets/", "/pools/", f"/pools/{pool.pk}/", f"/workers/{worker.pk}/",  # type: ignore[attr-defined]
             "/alerts/", "/alerts/rules/", "/alerts/silences/", "/sources/", "/settings/sources/"]
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        assert page.get_attribute("html", "data-theme") == theme
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, (path, scroll)
        name = path.strip("/").replace("/", "-") or "overview"
        screenshot(page, f"long-name-{name}-{width}-{theme}")
    # A select cuts the name to its width; the option carries it whole.
    page.goto(f"{live_server.url}/workers/")
    expect(page.locator(f'#source-filter option[title="{LONG_NAME}"]')).to_have_count(1)
    assert page.console_errors == []


def test_the_phone_menu_names_the_current_page_and_lists_every_destination(
        page_for, alice, team_data, live_server) -> None:
    page = page_for("alice", PASSWORD, width=390)
    page.goto(f"{live_server.url}/exchanger/")
    button = page.locator("[data-menu-toggle]")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_contain_text("Exchanger")
    links = page.locator("#mainnav a")
    expect(links.first).to_be_hidden()
    screenshot(page, "menu-closed-390")
    # Keyboard: the button opens the list, every destination in view, the current one marked.
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expected = ["Overview", *[item.label for item in nav_items()], "Sources", "Settings"]
    assert "Pool figures" in expected
    expect(links).to_have_text(expected)
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 900
    expect(page.locator('#mainnav a[aria-current="page"]')).to_have_text("Exchanger")
    screenshot(page, "menu-open-390")
    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()
    # A click elsewhere closes it too.
    button.click()
    page.mouse.click(195, 880)
    expect(button).to_have_attribute("aria-expanded", "false")
    # After an htmx swap of the page's content the menu still opens.
    page.goto(f"{live_server.url}/workers/")
    page.select_option("#status-filter", "online")
    page.wait_for_url("**status=online**")
    page.locator("[data-menu-toggle]").click()
    expect(page.locator('#mainnav a[aria-current="page"]')).to_have_text("Workers")
    expect(page.locator("#mainnav a").last).to_be_in_viewport()
    assert page.console_errors == []


def test_on_a_desktop_every_destination_is_in_the_bar(page_for, alice, team_data, live_server) -> None:
    page = page_for("alice", PASSWORD, width=1440)
    page.goto(f"{live_server.url}/pools/")
    expect(page.locator("[data-menu-toggle]")).to_be_hidden()
    links = page.locator("#mainnav a")
    for i in range(links.count()):
        expect(links.nth(i)).to_be_in_viewport()
    expect(page.locator('#mainnav a[aria-current="page"]')).to_have_text("Pool figures")


@pytest.mark.parametrize("path", ["/settings/api-tokens/", "/settings/audit/", "/alerts/silences/"])
def test_sub_navigations_show_every_entry_on_a_phone(page_for, alice, team_data, live_server, path) -> None:
    page = page_for("alice", PASSWORD, width=390)
    page.goto(f"{live_server.url}{path}")
    entries = page.locator("nav.subnav a")
    assert entries.count() >= 4
    for i in range(entries.count()):
        box = entries.nth(i).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, entries.nth(i).inner_text()
    expect(page.locator('nav.subnav a[aria-current="page"]')).to_be_in_viewport()


# Per table: fits (stacked ones with every cell labelled), or says it scrolls and shades its edge.
TABLE_CHECK = """() => [...document.querySelectorAll('table.data')].filter(t => t.offsetParent).map(t => {
  const wrap = t.closest('.table-wrap');
  const stacked = getComputedStyle(t.querySelector('thead') || t).display === 'none';
  const cells = [...t.querySelectorAll('tbody td')].filter(td => td.offsetParent && td.innerText.trim());
  // Buttons name themselves: a cell of row actions needs no label.
  const unlabelled = stacked ? cells.filter(
    td => !td.dataset.label && td.colSpan < 2 && !td.querySelector(".row-actions")).length : 0;
  const fits = !wrap || wrap.scrollWidth <= wrap.clientWidth + 1;
  const hinted = !!wrap && wrap.classList.contains('is-wide')
    && !!wrap.previousElementSibling && wrap.previousElementSibling.classList.contains('scroll-hint');
  return {id: t.id || t.className, stacked, unlabelled, fits, hinted,
          hiddenHeads: [...t.querySelectorAll('thead th')].filter(th => !stacked && !th.offsetParent).length};
})"""


def test_every_table_shows_its_columns_on_a_phone_or_says_it_scrolls(
        page_for, alice, team, team_data, live_server) -> None:
    Invitation.objects.create(team=team, email="new.person@example.com", role="viewer", invited_by=alice,
                              token_hash="0" * 64, expires_at=timezone.now() + timedelta(days=7))
    pool = team_data["pool"]
    page = page_for("alice", PASSWORD, width=390)
    paths = ["/workers/", "/earnings/?range=all", "/exchanger/", "/markets/", "/settings/",
             "/settings/members/", "/settings/audit/", "/settings/api-tokens/", "/settings/sources/",
             "/alerts/", "/alerts/rules/", "/alerts/channels/", "/alerts/silences/", "/sources/",
             f"/sources/{pool.pk}/", f"/pools/{pool.pk}/"]  # type: ignore[attr-defined]
    seen = 0
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        for table in page.evaluate(TABLE_CHECK):
            seen += 1
            # A stacked table must fit: nothing hides behind its edge.
            assert table["fits"] or (not table["stacked"] and table["hinted"]), (path, table)
            assert table["unlabelled"] == 0, (path, table)
            assert table["hiddenHeads"] == 0, (path, table)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        screenshot(page, "tables-" + (path.strip("/").split("?")[0].replace("/", "-")) + "-390")
    assert seen >= 14


def test_the_exchanger_rates_keep_the_from_column_and_say_they_scroll(
        page_for, alice, team_data, live_server) -> None:
    page = page_for("alice", PASSWORD, width=390)
    page.goto(f"{live_server.url}/exchanger/")
    wrap = page.locator("#exchanger-rates .table-wrap").first
    expect(wrap).to_have_class("table-wrap rates-wrap is-wide")
    expect(page.locator("#exchanger-rates .scroll-hint")).to_be_visible()
    wrap.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    expect(page.locator("#exchanger-rates tbody th.col-from").first).to_be_in_viewport()


@pytest.mark.parametrize(("width", "theme"), LOOKS)
def test_market_volume_has_its_own_band_under_the_candles(page_for, alice, team_data, live_server,
                                                         width, theme) -> None:
    page = open_page(page_for, width, theme)
    page.goto(f"{live_server.url}/markets/")
    canvas = page.locator("#candle-chart canvas")
    expect(canvas).to_be_visible()
    bands = canvas.evaluate("""c => { const s = Chart.getChart(c).scales;
        return {priceBottom: s.y.bottom, volumeTop: s.volume.top, volumeBottom: s.volume.bottom,
                volumeTitle: s.volume.options.title.text}; }""")
    assert bands["volumeTop"] >= bands["priceBottom"] - 1, bands
    assert bands["volumeTitle"] == "Vol. BTC"
    screenshot(page, f"markets-volume-band-{width}-{theme}")
