"""Values in BRL and USD on the overview and earnings pages, in headless Chromium, for a team
whose pools and FlowBTC source were polled from the simulator."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from dashboard.models import Source
from dashboard.polling import source_poll
from dashboard.services import source_create
from exchanges.ingest import daily_prices_store
from exchanges.models import DailyPrice
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = (1280, 390)


@pytest.fixture
def priced(team, simulator, all_pools) -> list[Source]:
    """Every pool kind polled once (SBI's poll records its USD rates), a FlowBTC source
    polled once for today's BRL prices, and a month of earlier daily prices."""
    flowbtc = source_create(team=team, kind="flowbtc", label="FlowBTC",
                            base_url=simulator.base_url("flowbtc"), credentials={})
    run = source_poll(source_id=flowbtc.pk)
    assert run is not None and run.ok, run.message if run else "skipped"
    today = timezone.now().astimezone(UTC).date()
    rows = []
    for current in DailyPrice.objects.filter(date=today, quote__in=["BRL", "USD"]):
        # One day in the month has no price, to show how such a row reads.
        for n in [n for n in range(1, 32) if n != 4]:
            day = today - timedelta(days=n)
            drifted = (current.price * Decimal(1 - 0.004 * n)).quantize(Decimal("0.01"))
            rows.append({"source_id": current.source_id, "coin": current.coin, "quote": current.quote,
                         "date": day, "price": drifted,
                         "as_of": datetime.combine(day, time(23, 59), tzinfo=UTC)})
    for source_id in {row["source_id"] for row in rows}:
        daily_prices_store(source=Source.objects.get(pk=source_id),
                           rows=[row for row in rows if row["source_id"] == source_id])
    return [*all_pools, flowbtc]


@pytest.mark.parametrize("width", WIDTHS)
def test_the_overview_shows_balances_in_brl_and_usd(page_for, alice, priced, width) -> None:
    page = page_for("alice", PASSWORD, width=width)
    line = page.locator(".fiat-prices").first
    text = line.inner_text().replace("\xa0", " ")
    assert "BRL at FlowBTC last R$ " in text and "USD at SBI Crypto rate US$ " in text
    assert line.locator("time").first.get_attribute("title")
    assert page.locator(".stat-fiat").count() >= 2
    for element in page.locator(".stat").all():
        box = element.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width + 0.5
    screenshot(page, f"fiat-overview-{width}")
    assert page.console_errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_the_earnings_page_values_each_day(page_for, alice, priced, live_server, width) -> None:
    page = page_for("alice", PASSWORD, width=width)
    page.goto(f"{live_server.url}/earnings/")
    assert "R$\xa0" in page.locator(".stat-fiat").first.inner_text()
    cells = page.locator("table.data td[data-label='BRL']")
    assert cells.count() > 0
    texts = cells.all_inner_texts()
    assert any(t.startswith("R$\xa0") for t in texts) and "—" in texts
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"fiat-earnings-{width}")
    assert page.console_errors == []
