"""The Treasury page's "what if I sell" box, and the pages with profitability, in headless
Chromium at phone and desktop widths, light and dark."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from exchanges.clients.exchanger_base import ExchangeRate
from pools.models import Balance
from tests.conftest import PASSWORD
from tests.e2e.conftest import new_page, screenshot, sign_in_page
from tests.treasury.helpers import earn, exchanger_with_rates, flowbtc_with_book, hours, pool, price
from treasury.models import HeldCoin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TH = 1e12


@pytest.fixture
def treasury_team(team, alice):
    """A month of earnings from a farm with an efficiency set, one day without a price and
    one with a gap in its hashrate, a FlowBTC book and an exchanger's rates."""
    farm = pool(team, label="Itu farm (container 3, hall B)", efficiency_j_per_th="21.5",
                electricity_price="0.62", electricity_currency="BRL")
    today = timezone.now().date()
    flowbtc = flowbtc_with_book(team, bids=[(D(331000), D("0.4")), (D(330500), D("0.3")), (D(329000), D(2))],
                                asks=[(D(332000), D(1))])
    for n in range(30):
        day = today - timedelta(days=n + 1)
        earn(farm, day, f"{D('0.0021') + D(n % 5) / 10000}")
        if n != 6:
            price(flowbtc, day, f"{330000 - n * 900}")
        hours(farm, day, (180 - (n % 7) * 4) * TH, count=15 if n == 3 else 24)
    price(flowbtc, today, "331500")
    Balance.objects.create(source=farm, coin="BTC", unpaid=D("0.0387"), updated_at=timezone.now())
    HeldCoin.objects.create(team=team, coin="BTC", amount=D("1.2"), note="cold wallet")
    exchanger_with_rates(team, [
        ExchangeRate("BTC", "BRL", D(1), D(328000), D(250000), min_amount=D("0.01")),
        ExchangeRate("BTC", "USDTTRC20", D(1), D(61200), D(40000)),
        ExchangeRate("BTC", "PMUSD", D(1), D(60900), D(900000), min_amount=D("0.5")),
    ])
    return farm


def signed_in(browser, live_server, *, width: int, scheme: str = "light"):
    context, page = new_page(browser, width=width, scheme=scheme)
    sign_in_page(page, live_server.url, "alice", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    return context, page


def no_overflow(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width + 1, f"the page is {scroll} px wide at {width} px"


@pytest.mark.parametrize("width", [1440, 390])
def test_what_if_i_sell_answers_as_you_type(browser, live_server, treasury_team, width) -> None:
    context, page = signed_in(browser, live_server, width=width)
    try:
        page.goto(f"{live_server.url}/treasury/")
        page.fill("#sell-amount", "0.6")
        result = page.locator("#sell-result")
        result.locator("text=BTCBRL sell").wait_for()
        text = result.inner_text().replace("\xa0", " ")
        # 0.4 * 331,000 + 0.2 * 330,500 = 198,500 BRL; the exchanger's 196,800 comes second.
        assert "198,500.00" in text and "196,800.00" in text
        assert "below the minimum of 0.5 BTC" not in text  # 0.6 is above PMUSD's minimum
        page.fill("#sell-amount", "2")
        result.locator("text=more than the reserve of 250,000 BRL").wait_for()
        page.fill("#sell-amount", "-1")
        result.locator("text=the amount must be more than zero").wait_for()
        page.fill("#sell-amount", "0.6")
        result.locator("text=BTCBRL sell").wait_for()
        no_overflow(page, width)
        assert page.console_errors == []
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1440, 390])
def test_screenshots_of_treasury_earnings_and_overview(browser, live_server, treasury_team, width,
                                                       scheme) -> None:
    context, page = signed_in(browser, live_server, width=width, scheme=scheme)
    try:
        page.goto(f"{live_server.url}/treasury/?coin=BTC&amount=0.6")
        page.locator("#sell-result >> text=BTCBRL sell").wait_for()
        no_overflow(page, width)
        screenshot(page, f"treasury-{width}-{scheme}")
        page.goto(f"{live_server.url}/earnings/")
        page.locator("#chart-profit-BRL[data-drawn]").wait_for()
        no_overflow(page, width)
        screenshot(page, f"earnings-profit-{width}-{scheme}")
        page.goto(f"{live_server.url}/")
        page.locator(".overview-profitability").wait_for()
        no_overflow(page, width)
        screenshot(page, f"overview-profit-{width}-{scheme}")
        assert page.console_errors == []
    finally:
        context.close()
