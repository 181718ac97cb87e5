"""The platform pages in headless Chromium; screenshots land in test-artifacts/."""

from __future__ import annotations

import pytest

from dashboard.models import Source
from dashboard.polling import source_poll
from tests.conftest import PASSWORD, SECRET
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_adds_a_source_and_sees_its_health(page_for, alice, source, live_server) -> None:
    source_poll(source_id=source.pk)
    failing = Source.objects.create(team=source.team, kind="fake", label="Backup farm",
                                    credentials={"api_key": "sk_backup_1"},
                                    options={"mode": "transient"})
    source_poll(source_id=failing.pk)
    page = page_for("alice", PASSWORD)

    assert page.locator("#overview-live .tile").count() == 2
    screenshot(page, "platform-overview")

    page.click("nav.mainnav >> text=Sources")
    assert page.locator("#sources-table tbody tr").count() == 2
    assert "HTTP 503" in page.inner_text("#sources-table")
    screenshot(page, "platform-sources")

    page.click("text=Backup farm")
    assert "Hashwatch retries" in page.inner_text("#source-status")
    screenshot(page, "platform-source-detail-error")

    page.goto(f"{live_server.url}/settings/sources/new/")
    page.click("text=Fake upstream")
    page.fill("#id_label", "Third farm")
    page.fill("#id_credential_api_key", "sk_typed_in_form_77")
    # Enter saves the source, as the Save button does (not "Test connection", the first
    # visible button of the form).
    page.press("#id_credential_api_key", "Enter")
    page.wait_for_url("**/sources/*/")
    assert "Third farm" in page.inner_text("h1")
    assert "sk_typed_in_form_77" not in page.content()
    screenshot(page, "platform-source-added")

    page.goto(f"{live_server.url}/settings/sources/")
    screenshot(page, "platform-settings-sources")
    edit = Source.objects.get(label="Third farm")
    page.goto(f"{live_server.url}/settings/sources/{edit.pk}/edit/")
    assert page.input_value("#id_credential_api_key") == ""
    assert SECRET not in page.content()
    screenshot(page, "platform-settings-edit")
    assert page.console_errors == []


def test_a_form_mistake_is_explained(page_for, alice, live_server) -> None:
    page = page_for("alice", PASSWORD)
    page.goto(f"{live_server.url}/settings/sources/new/fake/")
    page.fill("#id_label", "No key")
    page.click("main .form-actions button[type=submit]")
    assert "needs api_key" in page.inner_text("main form")
    screenshot(page, "platform-settings-form-error")


def test_viewer_sees_health_but_no_admin_buttons(page_for, bob, source) -> None:
    page = page_for("bob", PASSWORD)
    page.click("nav.mainnav >> text=Sources")
    assert page.locator("text=Poll now").count() == 0
    assert page.locator("text=Add a source").count() == 0


def test_pages_fit_a_phone(page_for, alice, source, live_server) -> None:
    page = page_for("alice", PASSWORD, width=390)
    for path, name in (("/", "overview"), ("/sources/", "sources"), ("/settings/", "settings")):
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways ({width}px)"
        screenshot(page, f"platform-phone-{name}")


def test_dark_mode_toggle_sticks(page_for, alice, live_server) -> None:
    page = page_for("alice", PASSWORD)
    page.click(".usermenu summary")
    page.click("[data-theme-toggle]")
    page.reload()
    assert page.get_attribute("html", "data-theme") in {"dark", "light"}
    screenshot(page, "platform-overview-toggled-theme")
