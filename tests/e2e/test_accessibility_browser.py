"""Every page, signed in with every kind of data, in the light and the dark theme, checked by
axe-core against WCAG 2.1 A and AA. Any violation fails the test, named with its rule, page,
theme and element.

One browser, one server, one context per theme: the whole walk is one test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dashboard.models import Source
from tests.e2e.accessibility import (
    PALETTE,
    TeamData,
    axe_violations,
    new_context,
    report,
    seed_team,
    sign_in,
)
from tests.e2e.test_markets_browser import forget_live

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BACKGROUNDS = {"light": "rgb(246, 247, 249)", "dark": "rgb(15, 20, 27)"}


@pytest.fixture
def team_data(team, alice, bob, all_pools: list[Source], simulator) -> Iterator[TeamData]:
    data = seed_team(team, alice, all_pools, simulator)
    yield data
    forget_live(data.market)


def test_every_page_meets_wcag_21_aa_in_both_themes(browser, team_data: TeamData, live_server) -> None:
    paths = team_data.paths()
    found: list[str] = []
    for theme in ("light", "dark"):
        context = new_context(browser, theme=theme)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        try:
            page.goto(live_server.url + "/accounts/login/")
            found += report(axe_violations(page), path="/accounts/login/ (signed out)", theme=theme)
            sign_in(page, live_server.url)
            assert page.evaluate("getComputedStyle(document.body).backgroundColor") == BACKGROUNDS[theme]
            for path in paths:
                response = page.goto(live_server.url + path)
                assert response is not None and response.status == 200, path
                found += report(axe_violations(page), path=path, theme=theme)
            response = page.goto(live_server.url + "/no-such-page/")
            assert response is not None and response.status == 404
            found += report(axe_violations(page), path="/no-such-page/ (404)", theme=theme)
            # The account menu open, with the theme toggle in it, and every state's colours.
            page.goto(live_server.url + "/")
            page.click(".usermenu summary")
            styles = page.evaluate(PALETTE)
            assert {"badge-offline", "badge-alert-pending", "chip-flag", "message-warning"} <= set(styles)
            found += report(axe_violations(page), path="/ with the account menu and every state style",
                            theme=theme)
        finally:
            context.close()
        assert errors == [], f"{theme}: {errors}"
    print(f"axe-core checked {len(paths) + 4} pages in each theme")
    assert not found, f"{len(found)} WCAG 2.1 AA violations:\n" + "\n".join(found)
