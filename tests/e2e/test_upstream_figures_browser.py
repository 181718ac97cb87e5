"""Figures some upstreams report and others do not, in headless Chromium at a desktop and a
phone width, light and dark: a total paid summed from stored payouts, SBI's payout fees, and
FlowBTC's own 24 h change beside ours."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from dashboard.models import Source
from dashboard.polling import source_poll
from dashboard.services import source_create
from exchanges import live
from exchanges import models as em
from exchanges.clients.flowbtc import PRODUCTS
from pools.models import Payout
from tests.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS, screenshot
from tests.exchanges.test_markets_page import flowbtc_source, seed_market

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LOOKS = [(width, theme) for width in (1440, 390) for theme in ("light", "dark")]


def open_page(page_for, live_server, path: str, width: int, theme: str) -> object:
    page = page_for("alice", PASSWORD, width=width)
    # Chosen before the page loads, as the toggle leaves it, so the charts draw in its colours.
    page.evaluate(f"localStorage.setItem('hashwatch-theme', '{theme}')")
    page.goto(f"{live_server.url}{path}")
    assert page.get_attribute("html", "data-theme") == theme
    return page


def fits(page: object, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # type: ignore[attr-defined]


@pytest.fixture
def fees(team, simulator, all_pools) -> Source:
    """The pools of every kind, and an SBI account whose key may read its payouts."""
    source = source_create(
        team=team, kind="sbicrypto", label="SBI payouts", base_url=simulator.base_url("sbicrypto"),
        credentials={"api_key": "sim-sbi-key-alpha", "api_secret": "sim-sbi-secret-alpha"},
        options={"stats_url": simulator.base_url("sbicrypto-stats") + "/poolstats"})
    run = source_poll(source_id=source.pk)
    assert run is not None and run.ok, run.message if run else "skipped"
    assert Payout.objects.filter(source=source).exclude(fee=None).exists()
    return source


@pytest.mark.parametrize(("width", "theme"), LOOKS)
def test_the_overview_says_where_a_total_paid_was_summed(page_for, alice, all_pools, live_server,
                                                         width, theme) -> None:
    page = open_page(page_for, live_server, "/", width, theme)
    notes = page.locator(".paid-note")
    expect(notes.first).to_contain_text("summed from the stored payouts of KZ BTC")
    fits(page, width)
    screenshot(page, f"paid-total-overview-{width}-{theme}")
    page.locator(".stat:has(.paid-note)").first.screenshot(
        path=str(ARTIFACTS / f"paid-total-card-{width}-{theme}.png"))
    assert page.console_errors == []


@pytest.mark.parametrize(("width", "theme"), LOOKS)
def test_earnings_show_each_sbi_payout_s_fee_beside_its_amount(page_for, alice, fees, live_server,
                                                               width, theme) -> None:
    page = open_page(page_for, live_server, f"/earnings/?range=all&source={fees.pk}", width, theme)
    cells = page.locator("table.data td[data-label='Tx fee']")
    assert cells.count() > 0
    texts = cells.all_inner_texts()
    # A payout known only from the per-address records has no fee: a dash, not a 0.
    assert any(text.endswith((" BTC", " BCH")) for text in texts)
    assert all(text.endswith((" BTC", " BCH")) or text == "—" for text in texts), texts
    fits(page, width)
    screenshot(page, f"payout-fees-{width}-{theme}")
    assert page.console_errors == []


@pytest.fixture
def market(team) -> Iterator[Source]:
    source = flowbtc_source(team, "FlowBTC main")
    now = timezone.now()
    seed_market(source, now=now)
    em.Ticker.objects.filter(source=source).update(
        change_24h_pct=Decimal("-4.874442973476934"), day_change=Decimal("-1209.9"), reported_at=now)
    yield source
    cache.delete_many([live.status_key(source.pk)] + [live.book_key(source.pk, p) for p in PRODUCTS])


@pytest.mark.parametrize(("width", "theme"), LOOKS)
def test_markets_show_the_exchange_s_own_change_beside_ours(page_for, alice, market, live_server,
                                                            width, theme) -> None:
    page = open_page(page_for, live_server, f"/markets/?source={market.pk}&product=BTCBRL", width, theme)
    expect(page.locator("#candle-chart[data-drawn]")).to_be_visible()
    expect(page.locator("[data-reported-change]")).to_have_text("\u22124.87 %")
    ours = page.locator("[data-change]").bounding_box()
    theirs = page.locator("[data-reported-change]").bounding_box()
    assert ours is not None and theirs is not None and theirs["y"] > ours["y"]
    fits(page, width)
    screenshot(page, f"markets-reported-change-{width}-{theme}")
    page.locator("#market-headline").screenshot(
        path=str(ARTIFACTS / f"markets-reported-change-headline-{width}-{theme}.png"))
    assert page.console_errors == []


@pytest.mark.parametrize(("width", "theme"), LOOKS)
def test_the_sbi_form_says_which_observer_host_to_try(page_for, alice, live_server, width,
                                                      theme) -> None:
    page = open_page(page_for, live_server, "/settings/sources/new/sbicrypto/", width, theme)
    field = page.locator("#id_opt_observer_url, [name$='observer_url']").first
    expect(field).to_have_value("https://pool.sbicrypto.com")
    help_text = page.locator(".field:has([name$='observer_url']) .help")
    expect(help_text).to_contain_text("if polls fail with 404 (does not exist), try the other one")
    fits(page, width)
    screenshot(page, f"sbi-source-form-{width}-{theme}")
    page.locator(".field:has([name$='observer_url'])").screenshot(
        path=str(ARTIFACTS / f"sbi-observer-field-{width}-{theme}.png"))
    assert page.console_errors == []
