"""The app from the keyboard alone, in headless Chromium: sign in, skip to the content, change
the range, sort, filter, poll and switch the theme, with a focus ring on whatever has focus."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.accessibility import new_context
from tests.e2e.test_pools_browser import history  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RING = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  return {visible: el.matches(':focus-visible'), style: style.outlineStyle,
          width: parseFloat(style.outlineWidth), color: style.outlineColor};
}"""
FOCUS_COLOURS = {"light": "rgb(29, 95, 209)", "dark": "rgb(127, 176, 255)"}


def focused(page: Any, script: str) -> Any:
    return page.evaluate(f"() => {{ const el = document.activeElement; return {script}; }}")


def tab_to(page: Any, test: str, *, limit: int = 80) -> None:
    """Press Tab until the focused element passes `test` (a JS expression on `el`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page, test):
            return
    raise AssertionError(f"{limit} presses of Tab never reached an element where {test}")


def assert_ring(page: Any, theme: str) -> None:
    ring = page.evaluate(RING)
    assert ring["visible"] and ring["style"] == "solid" and ring["width"] >= 2, ring
    assert ring["color"] == FOCUS_COLOURS[theme], ring


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_action_works_from_the_keyboard(browser, alice, history, live_server,  # noqa: F811
                                              theme: str) -> None:
    context = new_context(browser, theme=theme, width=1280)
    page = context.new_page()
    try:
        # Signing in: the form starts with the name focused; behind it come the brand link
        # and, first of all, the skip link.
        page.goto(f"{live_server.url}/accounts/login/")
        assert focused(page, "el.id") == "id_username"
        assert_ring(page, theme)
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
        assert focused(page, "el.textContent.trim()") == "Skip to content"
        assert focused(page, "el.getBoundingClientRect().left") >= 0  # on screen once focused
        assert_ring(page, theme)
        tab_to(page, "el.id === 'id_username'")
        page.keyboard.type("alice")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/")

        # Every page: the skip link first, and it lands in the main region.
        page.goto(f"{live_server.url}/hashrate/")
        page.keyboard.press("Tab")
        assert focused(page, "el.getAttribute('href')") == "#main"
        page.keyboard.press("Enter")
        assert focused(page, "el.id") == "main"
        page.keyboard.press("Tab")
        assert focused(page, "!!el.closest('main')"), "the Tab after the skip link left the content"

        # A range tab, by Enter.
        tab_to(page, "el.textContent.trim() === '7d'")
        assert_ring(page, theme)
        page.keyboard.press("Enter")
        expect(page.locator(".segmented a[aria-current='true']")).to_have_text("7d")
        assert "range=7d" in page.url
        expect(page.locator("figure.chart[data-drawn]").first).to_be_visible()
        # The swapped-in tab keeps the focus, so the next Tab goes on from there.
        assert focused(page, "el.getAttribute('aria-current') === 'true' && el.textContent.trim()") == "7d"

        # Sort and filter the workers.
        page.goto(f"{live_server.url}/workers/")
        tab_to(page, "el.closest('th') && el.textContent.includes('Hashrate')")
        assert_ring(page, theme)
        page.keyboard.press("Enter")
        header = page.locator("#workers-table th", has_text="Hashrate").first
        expect(header).to_have_attribute("aria-sort", "ascending")
        assert focused(page, "el.id") == "sort-hashrate"
        tab_to(page, "el.classList.contains('chip') && el.textContent.includes('Offline')")
        page.keyboard.press("Enter")
        expect(page.locator(".chip-on")).to_contain_text("Offline")

        # Poll now, a form's button.
        source = history[0]
        page.goto(f"{live_server.url}/sources/{source.pk}/")
        expect(page.locator(".messages")).to_have_count(0)
        tab_to(page, "el.tagName === 'BUTTON' && el.textContent.trim() === 'Poll now'")
        assert_ring(page, theme)
        page.keyboard.press("Enter")
        # Queued, or told to wait for the cooldown of the poll the fixture made: either way
        # the form was sent, and the answer is on the page.
        expect(page.locator(".messages")).to_be_visible()
        assert page.url.endswith(f"/sources/{source.pk}/")

        # The theme toggle, in the account menu.
        page.goto(f"{live_server.url}/")
        tab_to(page, "el.matches('.usermenu summary')")
        assert_ring(page, theme)
        page.keyboard.press("Enter")
        tab_to(page, "el.matches('[data-theme-toggle]')")
        assert_ring(page, theme)
        page.keyboard.press("Enter")
        other = "dark" if theme == "light" else "light"
        assert page.get_attribute("html", "data-theme") == other
        assert_ring(page, other)
    finally:
        context.close()
