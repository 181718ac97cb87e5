"""Two-factor sign-in in Chromium: turning it on shows the recovery codes once; a recovery
code signs in; an owner resets a member's second factor after a confirm step."""

from __future__ import annotations

import re

import pyotp
import pytest

from dashboard.models import RecoveryCode, TotpDevice
from dashboard.recovery import recovery_codes_issue
from tests.conftest import PASSWORD
from tests.dashboard.test_security import device_for
from tests.e2e.conftest import new_page, screenshot, sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VARIANTS = [(1440, "light"), (390, "light"), (1440, "dark"), (390, "dark")]


def signed_in(browser, live_server, username: str, *, width: int = 1440, scheme: str = "light"):
    context, page = new_page(browser, width=width, scheme=scheme)
    sign_in_page(page, live_server.url, username, PASSWORD)
    return context, page


def no_page_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def turn_on_in(page, live_server) -> list[str]:
    page.goto(f"{live_server.url}/accounts/two-factor/")
    secret = page.inner_text("#totp-secret")
    page.fill("#id_code", pyotp.TOTP(secret).now())
    page.click("main button[type=submit]")
    page.wait_for_selector("#recovery-codes")
    return page.locator("#recovery-codes li code").all_inner_texts()


def test_turning_it_on_shows_the_recovery_codes_once(browser, live_server, alice) -> None:
    for width, scheme in VARIANTS:
        TotpDevice.objects.filter(user=alice).delete()
        context, page = signed_in(browser, live_server, "alice", width=width, scheme=scheme)
        if width == 1440 and scheme == "light":
            page.goto(f"{live_server.url}/accounts/two-factor/")
            screenshot(page, "two-factor-setup-1440-light")
        codes = turn_on_in(page, live_server)
        assert len(codes) == len(set(codes)) == 10
        assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code) for code in codes)
        assert "shown only now" in page.inner_text("#recovery-codes")
        assert no_page_overflow(page)
        screenshot(page, f"two-factor-codes-{width}-{scheme}")

        # Shown once: back on the page, only how many are left.
        page.click("text=I have saved them")
        page.wait_for_selector("#codes-left")
        assert page.locator("#recovery-codes").count() == 0
        assert "10 of 10 unused" in page.inner_text("#codes-left")
        assert not any(code in page.content() for code in codes)
        assert no_page_overflow(page)
        screenshot(page, f"two-factor-on-{width}-{scheme}")
        assert page.console_errors == []
        context.close()


def test_a_recovery_code_signs_in_and_says_how_many_are_left(browser, live_server, alice) -> None:
    device_for(alice)
    code = recovery_codes_issue(user=alice)[0]
    for width, scheme in VARIANTS:
        context, page = signed_in(browser, live_server, "alice", width=width, scheme=scheme)
        page.wait_for_selector("#id_code")
        screenshot(page, f"two-factor-signin-code-{width}-{scheme}")
        if (width, scheme) == VARIANTS[0]:
            page.fill("#id_code", code)
            page.click("main button[type=submit]")
            page.wait_for_url(f"{live_server.url}/")
            assert "9 codes left" in page.inner_text("body")
            screenshot(page, "two-factor-signed-in-with-recovery-code")
        context.close()
    assert RecoveryCode.objects.filter(user=alice, used_at__isnull=False).count() == 1


def test_an_owner_resets_a_members_second_factor(browser, live_server, alice, bob, team) -> None:
    device_for(bob)
    for width, scheme in VARIANTS:
        context, page = signed_in(browser, live_server, "alice", width=width, scheme=scheme)
        page.goto(f"{live_server.url}/settings/members/")
        row = page.locator("#members-table tbody tr", has_text="bob")
        assert "2FA" in row.inner_text()
        assert no_page_overflow(page)
        screenshot(page, f"members-2fa-{width}-{scheme}")
        row.locator("text=Reset two-factor").click()
        page.wait_for_selector("h1:has-text('Reset two-factor sign-in of bob?')")
        assert no_page_overflow(page)
        screenshot(page, f"members-2fa-reset-confirm-{width}-{scheme}")
        if (width, scheme) == VARIANTS[-1]:
            page.click("main button:has-text('Reset two-factor sign-in')")
            page.wait_for_url(f"{live_server.url}/settings/members/")
            assert "is reset" in page.inner_text("body")
            screenshot(page, f"members-2fa-reset-done-{width}-{scheme}")
        context.close()
    assert not TotpDevice.objects.filter(user=bob).exists()

    context, page = signed_in(browser, live_server, "bob")
    page.wait_for_url(f"{live_server.url}/accounts/two-factor/")
    assert "alice" in page.inner_text("body") and "reset your two-factor sign-in" in page.inner_text("body")
    screenshot(page, "two-factor-after-reset")
    context.close()
