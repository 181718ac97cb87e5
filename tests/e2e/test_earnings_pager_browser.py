"""The Earnings page's per-day table, paged: a person walks from the newest rows to older
ones and back, at phone and desktop widths, light and dark."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.test_treasury_browser import no_overflow, signed_in
from tests.treasury.test_query_counts import farms

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1440, 390])
def test_the_per_day_table_pages_through_every_row(browser, live_server, team, alice, width, scheme) -> None:
    team.electricity_price, team.electricity_currency = 0.62, "BRL"
    team.save()
    farms(team, sources=3, days=40)  # 120 rows: three pages
    context, page = signed_in(browser, live_server, width=width, scheme=scheme)
    try:
        page.goto(f"{live_server.url}/earnings/?range=90d")
        pager = page.get_by_role("navigation", name="Per-day rows")
        assert "Rows 1–50 of 120" in pager.inner_text()
        no_overflow(page, width)
        screenshot(page, f"earnings-paged-{width}-{scheme}")
        pager.get_by_role("link", name="Older →").click()
        page.wait_for_url("**page=2**")
        pager = page.get_by_role("navigation", name="Per-day rows")
        assert "Rows 51–100 of 120" in pager.inner_text()
        # The range stays as picked while paging.
        assert page.locator("#per-day tbody tr").count() == 50 and "range=90d" in page.url
        pager.get_by_role("link", name="← Newer").click()
        page.wait_for_url("**page=1**")
        assert page.console_errors == []
    finally:
        context.close()
