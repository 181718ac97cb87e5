"""With Redis stopped, a real browser signs in and the Markets page shows the stored book and
says why it is not live (the cache is this test's own redis-server, see test_redis_down)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.dashboard.test_redis_down import UNAVAILABLE, PrivateRedis, redis  # noqa: F401 (fixture)
from tests.e2e.conftest import screenshot
from tests.exchanges.test_markets_page import flowbtc_source, seed_market

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_and_markets_with_redis_stopped(page_for, alice, team, redis: PrivateRedis,  # noqa: F811
                                                live_server) -> None:
    source = flowbtc_source(team, "FlowBTC main")
    seed_market(source, now=timezone.now(), candles=False)
    redis.stop()

    page = page_for("alice", PASSWORD)  # signs in through the form and lands on the overview
    expect(page.locator("main h1").first).to_be_visible()
    page.goto(f"{live_server.url}/markets/?source={source.pk}")
    expect(page.locator("#market-status")).to_contain_text(UNAVAILABLE)
    expect(page.locator("#market-status")).to_contain_text("REST poll")
    assert page.locator("#market-status .badge-ok").count() == 0  # nothing claims to be live
    screenshot(page, "redis-down-markets")
    assert not page.console_errors, page.console_errors
