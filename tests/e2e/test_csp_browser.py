"""Every page under the content security policy in headless Chromium, and the sign-in screens.

Chromium reports each blocked script, style or connection on the console; any such report
fails the test. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import pyotp
import pytest
from django.core.cache import cache

from dashboard.auth import totp_new_secret, unlock
from dashboard.models import Source, TotpDevice
from dashboard.polling import source_poll
from dashboard.services import source_create
from pools.models import Worker
from simulator import btcchange24
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()


def watch_csp(page: object) -> list[str]:
    violations: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))  # type: ignore[attr-defined]
    return violations


def test_every_page_runs_under_the_policy(page_for, alice, polled_sources: list[Source],
                                          simulator, live_server) -> None:
    page = page_for("alice", PASSWORD)
    violations = watch_csp(page)
    source = polled_sources[0]
    worker = Worker.objects.filter(source=source).first()
    assert worker is not None
    exchanges = [
        source_create(team=source.team, kind="flowbtc", label="FlowBTC", credentials={},
                      base_url=simulator.base_url("flowbtc")),
        source_create(team=source.team, kind="btcchange24", label="btcchange24",
                      base_url=simulator.base_url("btcchange24"),
                      credentials={"api_key": btcchange24.API_KEY},
                      options={"export_code": btcchange24.EXPORT_CODE}),
    ]
    for exchange in exchanges:
        assert source_poll(source_id=exchange.pk).ok  # type: ignore[union-attr]
    paths = ["/", "/sources/", f"/sources/{source.pk}/", "/hashrate/", "/workers/",
             f"/workers/{worker.pk}/", "/earnings/", f"/pools/{source.pk}/", "/settings/",
             "/settings/sources/", "/settings/sources/new/", "/accounts/two-factor/",
             "/markets/", "/markets/?range=7d", "/exchanger/", "/exchanger/?q=BTC",
             "/settings/sources/new/flowbtc/"]
    for path in paths:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        assert violations == [], f"{path}: {violations}"
    screenshot(page, "security-two-factor-setup")
    assert page.console_errors == []

    # The watcher itself: an injected style attribute is refused and reported.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_timeout(200)
    assert violations, "Chromium reported no violation for an inline style"


def test_lockout_and_code_screens(browser, alice, live_server) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    violations = watch_csp(page)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        for _ in range(5):
            page.fill("#id_username", "alice")
            page.fill("#id_password", "not-the-password")
            page.click("main button[type=submit]")
        assert "Too many failed sign-ins" in page.inner_text("main")
        screenshot(page, "security-login-locked")

        unlock("alice")  # as `manage.py unlock alice` would
        secret = totp_new_secret()
        TotpDevice.objects.create(user=alice, secret={"base32": secret}, confirmed=True)
        page.fill("#id_username", "alice")
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url("**/accounts/login/code/")
        screenshot(page, "security-login-code")
        page.fill("#id_code", pyotp.TOTP(secret).now())
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        assert violations == []
    finally:
        context.close()
