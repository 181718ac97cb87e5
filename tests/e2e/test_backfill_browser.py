"""The source page in headless Chromium while a simulator account's history back-fills."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.polling import source_poll
from pools.models import DailyEarning, HistoryBackfill
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_source_page_follows_the_back_fill_to_its_end(
    page_for, alice, polled_sources, live_server, settings,
) -> None:
    alpha = polled_sources[0]  # years of history: one poll reads five pages of it
    state = HistoryBackfill.objects.get(source=alpha)
    assert not state.done and state.pages_done == 5
    page = page_for("alice", PASSWORD)
    page.goto(f"{live_server.url}/sources/{alpha.pk}/")
    history = page.locator("#source-history")
    expect(history).to_contain_text(
        f"Back-filling earnings: {state.rows_done:,} of ~{state.rows_total:,} records read")
    expect(history).to_contain_text("continues on the next poll")
    screenshot(page, "source-history-backfilling")

    # A poll whose page failed says so, and that the pages before it are kept.
    HistoryBackfill.objects.filter(pk=state.pk).update(
        last_error="BTC.com answered HTTP 502 at 127.0.0.1/btccom/v1/account/earn-history")
    page.evaluate("htmx.trigger('#source-status', 'refresh')")
    expect(history).to_contain_text("Stopped at page 6: BTC.com answered HTTP 502")
    screenshot(page, "source-history-error")

    settings.HISTORY_PAGES_PER_POLL = 100
    run = source_poll(source_id=alpha.pk)
    assert run is not None and run.ok
    state.refresh_from_db()
    assert state.done
    # The live panel refreshes itself every 30 s; the htmx event does it now.
    page.evaluate("htmx.trigger('#source-status', 'refresh')")
    expect(history).to_contain_text(
        f"Complete: all the history the pool keeps is stored, back to {state.oldest:%Y-%m-%d}.")
    assert DailyEarning.objects.filter(source=alpha).count() == state.rows_total
    screenshot(page, "source-history-complete")
    assert page.console_errors == []
