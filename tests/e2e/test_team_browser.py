"""Team administration in headless Chromium: invite, join, audit, API tokens."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from dashboard.models import ApiToken, Membership, Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DAVE_PASSWORD = "tangerine-orbit-lantern-42"


def test_owner_invites_someone_who_joins_and_it_is_all_in_the_audit_log(
    page_for, browser, alice, bob, charlie_source, live_server, settings
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    page = page_for("alice", PASSWORD)
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto(f"{live_server.url}/settings/members/")
    page.fill("#id_email", "dave@example.com")
    page.select_option("#id_role", "admin")
    page.click("#invite-form button[type=submit]")
    page.wait_for_selector("#invitations-table")
    assert "dave@example.com" in page.inner_text("#invitations-table")
    screenshot(page, "team-members")

    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[-1].body).group(0)  # type: ignore[union-attr]
    guest_context = browser.new_context(viewport={"width": 1280, "height": 900})
    guest = guest_context.new_page()
    guest.goto(link)
    assert "Join Alice Mining" in guest.inner_text("h1")
    screenshot(guest, "team-invitation")
    guest.fill("#id_signup-username", "dave")
    guest.fill("#id_signup-password1", DAVE_PASSWORD)
    guest.fill("#id_signup-password2", DAVE_PASSWORD)
    guest.click("#signup-form button[type=submit]")
    guest.wait_for_url(f"{live_server.url}/")
    assert guest.inner_text(".team-name") == "Alice Mining"
    assert guest.locator("#team-switch").count() == 0
    assert charlie_source.label not in guest.content()
    guest.goto(f"{live_server.url}/settings/members/")
    assert "dave (you)" in guest.inner_text("#members-table")
    assert guest.locator("nav.subnav >> text=Audit log").count() == 1  # joined as admin
    screenshot(guest, "team-members-as-invitee")
    guest.goto(link)
    assert "already been used" in guest.inner_text("#invitation-problem")
    guest_context.close()

    page.goto(f"{live_server.url}/settings/members/")
    bob_row = page.locator("#members-table tr", has_text="bob")
    bob_row.locator("select").select_option("admin")
    page.wait_for_selector(".message-success")
    assert Membership.objects.get(user=bob).role == Role.ADMIN

    page.goto(f"{live_server.url}/settings/audit/")
    log = page.inner_text("#audit-table")
    assert "invited someone as admin" in log and "dave@example.com" in log
    assert "joined the team as admin" in log and "changed a role from viewer to admin" in log
    screenshot(page, "team-audit-log")
    page.select_option("#audit-action", "member.")
    page.wait_for_url("**/settings/audit/?action=member.*")
    assert "joined the team" in page.inner_text("#audit-table")
    assert page.console_errors == []


def test_owner_creates_and_revokes_an_api_token(page_for, alice, live_server) -> None:
    page = page_for("alice", PASSWORD)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{live_server.url}/settings/api-tokens/")
    screenshot(page, "team-api-tokens-empty")
    page.fill("#id_name", "Grafana")
    page.click("#token-form button[type=submit]")
    token = page.input_value("#new-token-value")
    assert token.startswith("hw_")
    screenshot(page, "team-api-token-created")
    page.goto(f"{live_server.url}/settings/api-tokens/")
    assert token not in page.content()
    page.click("#tokens-table >> text=Revoke")
    page.wait_for_selector(".message-success")
    assert "Revoked" in page.inner_text("#tokens-table")
    assert ApiToken.objects.get().revoked_at is not None
    screenshot(page, "team-api-tokens-revoked")

    page.goto(f"{live_server.url}/accounts/password/change/")
    screenshot(page, "team-password-change")
    assert page.console_errors == []
