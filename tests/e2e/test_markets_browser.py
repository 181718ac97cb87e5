"""The Markets page in headless Chromium: charts drawn, and the book following the live stream."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from dashboard.models import Source
from exchanges import live
from exchanges.clients.flowbtc import PRODUCTS
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot
from tests.exchanges.test_markets_page import book_of, flowbtc_source, seed_account, seed_market

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Pixels of the canvas that something was drawn on (a blank canvas is all transparent).
PAINTED = """(selector) => {
  const canvas = document.querySelector(selector + ' canvas');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
  return painted;
}"""


def go_live(source: Source, *, now: datetime) -> None:
    """The BTC/BRL book and the stream's status as a connected stream publishes them."""
    live.book_publish(source_id=source.pk, book=book_of("BTCBRL", Decimal("350000.00"), step=Decimal(25),
                                                        as_of=now), now=now)
    live.stream_status_publish(source_id=source.pk, status={
        "connected": True, "since": now.isoformat(), "last_event_at": now.isoformat(),
        "authenticated": False, "account_id": None, "error": "", "products": list(PRODUCTS)})


def forget_live(source: Source) -> None:
    cache.delete_many([live.status_key(source.pk)] + [live.book_key(source.pk, p) for p in PRODUCTS])


@pytest.fixture
def market(team) -> Iterator[Source]:
    source = flowbtc_source(team, "FlowBTC main")
    now = timezone.now()
    seed_market(source, now=now)
    seed_market(source, now=now, product="ETHBTC", mid=Decimal("0.03712345"), candles=False, trades=False)
    go_live(source, now=now)
    yield source
    forget_live(source)


def open_markets(page_for, live_server, source: Source, width: int = 1280) -> object:
    page = page_for("alice", PASSWORD, width=width)
    page.goto(f"{live_server.url}/markets/?source={source.pk}&product=BTCBRL")
    expect(page.locator("#depth-chart[data-drawn]")).to_be_visible()
    expect(page.locator("#candle-chart[data-drawn]")).to_be_visible()
    return page


def test_the_page_draws_the_depth_and_candle_charts(page_for, alice, market, live_server) -> None:
    seed_account(market, now=timezone.now())
    page = open_markets(page_for, live_server, market)
    assert page.evaluate(PAINTED, "#depth-chart") > 2000
    assert page.evaluate(PAINTED, "#candle-chart") > 2000
    expect(page.locator(".market-status")).to_contain_text("Live")
    expect(page.locator("[data-last]")).to_have_text("R$ 350,010.00")
    expect(page.locator("#market-account")).to_contain_text("mining-treasury")
    screenshot(page, "markets-1280")
    assert page.console_errors == []


def test_the_ladder_follows_the_live_book_without_a_reload(page_for, alice, market, live_server) -> None:
    page = open_markets(page_for, live_server, market)
    best_bid = page.locator("#market-ladder .ladder-bids tr").first.locator("td.price")
    expect(best_bid).to_have_text("349,950.00")
    page.evaluate("window.__stillTheSamePage = true")
    drawn = page.get_attribute("#depth-chart", "data-drawn")

    live.book_publish(source_id=market.pk, book=book_of("BTCBRL", Decimal("351000.00"), step=Decimal(25),
                                                        as_of=timezone.now()), now=timezone.now())

    expect(best_bid).to_have_text("350,950.00", timeout=10_000)
    expect(page.locator("[data-best-bid]")).to_have_text("R$ 350,950.00")
    expect(page.locator("#depth-chart")).not_to_have_attribute("data-drawn", drawn or "")
    assert page.evaluate("window.__stillTheSamePage === true")
    assert page.evaluate(PAINTED, "#depth-chart") > 2000
    assert page.console_errors == []


def test_range_and_product_change_in_place(page_for, alice, market, live_server) -> None:
    page = open_markets(page_for, live_server, market)
    page.evaluate("window.__stillTheSamePage = true")
    page.click("#market-candles .segmented >> text=7d")
    expect(page.locator("#market-candles")).to_contain_text("1-hour candles")
    expect(page.locator("#candle-chart[data-drawn]")).to_be_visible()
    assert "range=7d" in page.url
    page.click(".market-tabs >> text=ETH/BTC")
    expect(page.locator("[data-last]")).to_have_text("0.03712451 BTC")
    expect(page.locator("#market-ladder")).to_contain_text("Price (BTC)")
    expect(page.locator("#market-candles")).to_contain_text("candles come from the live stream")
    assert "product=ETHBTC" in page.url and "range=7d" in page.url
    assert page.evaluate("window.__stillTheSamePage === true")
    screenshot(page, "markets-ethbtc-1280")
    assert page.console_errors == []


def test_it_fits_a_phone(page_for, alice, market, live_server) -> None:
    seed_account(market, now=timezone.now())
    page = open_markets(page_for, live_server, market, width=390)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate(PAINTED, "#depth-chart") > 1000
    screenshot(page, "markets-390")
    assert page.console_errors == []
