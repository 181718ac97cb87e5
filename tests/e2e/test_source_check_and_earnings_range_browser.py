"""In headless Chromium: "Test connection" on the source form (htmx, nothing saved), a new
source waiting for its first poll, and Earnings' custom range, refused range and partial money
totals; screenshots at 1440 and 390 px, light and dark."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from dashboard.models import Source, Team
from dashboard.services import source_create
from pools.models import DailyEarning
from simulator import btcpoolkz
from tests.conftest import PASSWORD
from tests.e2e.conftest import free_port, screenshot
from tests.pools.test_fiat_pages import price

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LOOKS = [(1440, "light"), (1440, "dark"), (390, "light"), (390, "dark")]


@pytest.fixture
def signed_in(page_for) -> Callable[..., object]:
    """A signed-in page at a width and colour scheme."""
    return lambda width, scheme: page_for("alice", PASSWORD, width=width, scheme=scheme)


def no_sideways_scroll(page: object, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # type: ignore[attr-defined]


@pytest.mark.parametrize(("width", "scheme"), LOOKS)
def test_test_connection_answers_in_place(signed_in, alice, simulator, live_server, width, scheme) -> None:
    page = signed_in(width, scheme)
    page.goto(f"{live_server.url}/settings/sources/new/btcpoolkz/")
    page.fill("#id_label", "KZ main")
    page.fill("#id_base_url", simulator.base_url("btcpoolkz"))
    page.fill("#id_credential_api_key", "sim-kz-not-a-key")
    page.get_by_role("button", name="Test connection").click()
    answer = page.locator("#connection-test .notice")
    answer.wait_for()
    assert "BTCpool.kz refused the key" in answer.inner_text()
    assert "sim-kz-not-a-key" not in page.content()
    screenshot(page, f"connection-test-refused-{width}-{scheme}")

    page.fill("#id_credential_api_key", btcpoolkz.ALPHA.api_key)
    page.get_by_role("button", name="Test connection").click()
    page.locator("#connection-test .notice-ok").wait_for()
    text = page.locator("#connection-test").inner_text()
    assert text.startswith("Connected: ") and "workers" in text and "balance" in text
    # Answered in place: the form (and the typed key) stay, nothing was saved.
    assert page.url.endswith("/settings/sources/new/btcpoolkz/")
    assert page.input_value("#id_credential_api_key") == btcpoolkz.ALPHA.api_key
    assert not Source.objects.filter(label="KZ main").exists()
    no_sideways_scroll(page, width)
    screenshot(page, f"connection-test-ok-{width}-{scheme}")
    assert page.console_errors == []


@pytest.mark.parametrize(("width", "scheme"), [(1440, "light"), (390, "dark")])
def test_a_new_source_waits_for_its_first_poll(signed_in, alice, team, live_server, width, scheme) -> None:
    # Nothing listens there: the test below must not reach the real pool.
    source = source_create(team=team, kind="btccom", label="Brand new farm with a long name that wraps",
                           base_url=f"http://127.0.0.1:{free_port()}",
                           credentials={"access_key": "ak-stored-secret", "puid": "1"})
    page = signed_in(width, scheme)
    tile = page.locator(".tile").first
    assert "Pending" in tile.inner_text() and "Waiting for its first poll." in tile.inner_text()
    no_sideways_scroll(page, width)
    screenshot(page, f"pending-source-overview-{width}-{scheme}")
    page.goto(f"{live_server.url}/sources/{source.pk}/")
    assert "Waiting for its first poll: it was queued" in page.locator("#source-status").inner_text()
    no_sideways_scroll(page, width)
    screenshot(page, f"pending-source-detail-{width}-{scheme}")
    # The edit form tests the stored key when its field is left empty, and never shows it.
    page.goto(f"{live_server.url}/settings/sources/{source.pk}/edit/")
    page.get_by_role("button", name="Test connection").click()
    page.locator("#connection-test .notice").wait_for()
    assert "ak-stored-secret" not in page.content()
    assert "Could not reach 127.0.0.1:" in page.locator("#connection-test").inner_text()
    no_sideways_scroll(page, width)
    screenshot(page, f"source-edit-test-{width}-{scheme}")


@pytest.fixture
def month(team: Team) -> date:
    """Two farms crediting BTC for 30 days, with a USD price on one of them."""
    today = timezone.now().astimezone(UTC).date()
    farms = [source_create(team=team, kind="btccom", label=label,
                           credentials={"access_key": label, "puid": "1"})
             for label in ("Alpha farm", "Bravo hosting")]
    DailyEarning.objects.bulk_create([
        DailyEarning(source=source, date=today - timedelta(days=n), coin="BTC", amount=Decimal("0.00123"))
        for source in farms for n in range(30)])
    sbi = source_create(team=team, kind="sbicrypto", label="SBI rates",
                        credentials={"observer_key": "observer-key-0123456789"})
    Source.objects.filter(pk__in=[s.pk for s in [*farms, sbi]]).update(
        last_poll_at=timezone.now(), last_success_at=timezone.now())
    price(sbi, "BTC", "USD", today - timedelta(days=2), "106630",
          as_of=datetime.combine(today - timedelta(days=2), time(23), tzinfo=UTC))
    return today


@pytest.mark.parametrize(("width", "scheme"), LOOKS)
def test_earnings_custom_range_and_partial_total(signed_in, alice, month, live_server, width, scheme) -> None:
    page = signed_in(width, scheme)
    page.goto(f"{live_server.url}/earnings/?range=30d")
    partial = page.locator(".stat-fiat .partial-tag").first
    assert partial.inner_text() == "for 1 of 30 days"
    assert partial.is_visible()
    no_sideways_scroll(page, width)
    screenshot(page, f"earnings-partial-{width}-{scheme}")
    # A swap of the body keeps the chart's own size styles out of htmx's settling (an inline
    # style attribute is refused by the CSP).
    page.locator(".segmented a", has_text="90d").click()
    page.wait_for_url("**range=90d")
    assert page.console_errors == []

    start, end = month - timedelta(days=6), month - timedelta(days=2)
    page.fill("#range-start", start.isoformat())
    page.fill("#range-end", end.isoformat())
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**/earnings/?start={start}&end={end}")
    page.locator(f"text={start:%Y-%m-%d} – {end:%Y-%m-%d}").wait_for()
    assert page.locator(".partial-tag").first.inner_text() == "for 1 of 5 days"

    page.fill("#range-start", end.isoformat())
    page.fill("#range-end", start.isoformat())
    page.get_by_role("button", name="Show").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert f"'start' ({end}) is after 'end' ({start})" in alert.inner_text()
    assert page.locator("h2", has_text="Per day").count() == 0
    no_sideways_scroll(page, width)
    screenshot(page, f"earnings-bad-range-{width}-{scheme}")
    assert page.console_errors == []


def test_the_custom_range_works_without_javascript(browser, alice, month, live_server) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{live_server.url}/earnings/")
    start = month - timedelta(days=3)
    page.fill("#range-start", start.isoformat())
    page.fill("#range-end", month.isoformat())
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**/earnings/?start={start}&end={month}")
    assert f"{start:%Y-%m-%d} – {month:%Y-%m-%d}" in page.content()
    context.close()
