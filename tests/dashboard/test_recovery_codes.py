"""Recovery codes in place of the authenticator, and an owner's reset of a member's second
factor: hashed at rest, one use each, new ones void the old, failures count towards the lock."""

from __future__ import annotations

import re

import pyotp
import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from dashboard.models import AuditEvent, RecoveryCode, SecondFactorReset, Team, TotpDevice
from dashboard.recovery import CODE_COUNT, code_hash, recovery_codes_issue
from tests.conftest import PASSWORD, client_for
from tests.dashboard.test_security import LOCKED, actions, device_for, sign_in

CODE = re.compile(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>")


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def codes_on(html: str) -> list[str]:
    return CODE.findall(html)


def turn_on(client: Client, user: User) -> list[str]:
    """Set up the authenticator through the page; the recovery codes it shows, once."""
    client.get("/accounts/two-factor/")
    secret = TotpDevice.objects.get(user=user).secret["base32"]
    response = client.post("/accounts/two-factor/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return codes_on(response.content.decode())


def at_code_step(username: str = "alice") -> Client:
    client = Client()
    assert sign_in(client, username, PASSWORD)["Location"] == "/accounts/login/code/"
    return client


def test_turning_it_on_shows_ten_codes_once_stored_only_as_keyed_hashes(alice: User, team: Team) -> None:
    client = client_for(alice)
    codes = turn_on(client, alice)
    assert len(codes) == len(set(codes)) == CODE_COUNT
    stored = list(RecoveryCode.objects.filter(user=alice).values_list("code_hash", flat=True))
    assert len(stored) == CODE_COUNT
    for code in codes:
        assert code not in stored and code.replace("-", "") not in "".join(stored)
        assert code_hash(code) in stored
    # Shown once: the page afterwards says how many are left, never which.
    later = client.get("/accounts/two-factor/").content.decode()
    assert codes_on(later) == [] and "10 of 10 unused" in later


def test_a_recovery_code_signs_in_once_and_says_how_many_remain(alice: User, team: Team) -> None:
    device_for(alice)
    code = recovery_codes_issue(user=alice)[3]

    client = at_code_step()
    response = client.post("/accounts/login/code/", {"code": f" {code.upper()} "}, follow=True)
    assert client.session["_auth_user_id"] == str(alice.pk)
    assert "Signed in with a recovery code; 9 codes left." in response.content.decode()
    assert "auth.recovery_code_used" in actions(team)
    assert AuditEvent.objects.get(action="auth.recovery_code_used").detail == {"left": 9}

    again = at_code_step()
    response = again.post("/accounts/login/code/", {"code": code})
    assert response.status_code == 200 and "_auth_user_id" not in again.session
    assert "already used" in response.content.decode()


def test_the_last_code_says_to_make_new_ones(alice: User) -> None:
    device_for(alice)
    codes = recovery_codes_issue(user=alice)
    RecoveryCode.objects.filter(user=alice).exclude(code_hash=code_hash(codes[0])).update(
        used_at="2026-01-01T00:00:00Z")
    response = at_code_step().post("/accounts/login/code/", {"code": codes[0]}, follow=True)
    assert "That was your last recovery code" in response.content.decode()


def test_wrong_recovery_codes_count_towards_the_lock(alice: User, team: Team) -> None:
    device_for(alice)
    recovery_codes_issue(user=alice)
    client = at_code_step()
    responses = [client.post("/accounts/login/code/", {"code": "abcde-fghjk"}) for _ in range(5)]
    assert responses[-1].status_code == 429 and LOCKED in responses[-1].content.decode()
    failures = AuditEvent.objects.filter(team=team, action="auth.signin_failed")
    assert {e.detail["reason"] for e in failures} == {"recovery code"}
    assert "auth.locked" in actions(team)


def test_new_codes_void_the_old_ones_and_need_a_code(alice: User, team: Team) -> None:
    totp = device_for(alice)
    old = recovery_codes_issue(user=alice)
    client = client_for(alice)

    refused = client.post("/accounts/two-factor/", {"action": "regenerate", "code": "000000"
                                                    if totp.now() != "000000" else "111111"})
    assert codes_on(refused.content.decode()) == [] and "not right" in refused.content.decode()

    # A recovery code will do (the phone is gone), and is spent doing it.
    response = client.post("/accounts/two-factor/", {"action": "regenerate", "code": old[0]})
    new = codes_on(response.content.decode())
    assert len(new) == CODE_COUNT and not set(new) & set(old)
    assert "auth.recovery_codes_regenerated" in actions(team)
    for code in (old[1], old[0]):
        assert at_code_step().post("/accounts/login/code/", {"code": code}).status_code == 200
    assert at_code_step().post("/accounts/login/code/", {"code": new[5]}).status_code == 302


def test_turning_it_off_removes_the_codes_too(alice: User) -> None:
    totp = device_for(alice)
    recovery_codes_issue(user=alice)
    client_for(alice).post("/accounts/two-factor/", {"action": "turn_off", "code": totp.now()})
    assert not TotpDevice.objects.filter(user=alice).exists()
    assert not RecoveryCode.objects.filter(user=alice).exists()


# --- An owner's reset ------------------------------------------------------------------------

def test_an_owner_resets_a_members_second_factor_after_a_confirm_step(
        alice: User, bob: User, team: Team) -> None:
    device_for(bob)
    recovery_codes_issue(user=bob)
    owner = client_for(alice)
    members = owner.get("/settings/members/").content.decode()
    membership = bob.memberships.get(team=team)
    url = f"/settings/members/{membership.pk}/two-factor-reset/"
    assert url in members

    confirm = owner.get(url)
    assert confirm.status_code == 200 and "Reset two-factor sign-in of bob?" in confirm.content.decode()
    assert TotpDevice.objects.filter(user=bob).exists()  # nothing happens before the POST

    assert owner.post(url)["Location"] == "/settings/members/"
    assert not TotpDevice.objects.filter(user=bob).exists()
    assert not RecoveryCode.objects.filter(user=bob).exists()
    event = AuditEvent.objects.get(action="member.2fa_reset")
    assert (event.team, event.actor, event.target) == (team, alice, "bob")
    log = owner.get("/settings/audit/").content.decode()
    assert "reset a member&#x27;s two-factor sign-in" in log or "reset a member's two-factor" in log

    # The member's next sign-in asks for the password only, says why, leads to the setup.
    member = Client()
    response = sign_in(member, "bob", PASSWORD)
    assert response["Location"] == "/accounts/two-factor/"
    page = member.get("/accounts/two-factor/").content.decode()
    assert "alice (" in page and "reset your two-factor sign-in" in page
    assert not SecondFactorReset.objects.filter(user=bob).exists()  # told once
    assert sign_in(Client(), "bob", PASSWORD)["Location"] == "/"


def test_non_owners_cannot_reset_a_second_factor(alice: User, bob: User, carol: User, team: Team,
                                                 charlie: User) -> None:
    device_for(alice)
    url = f"/settings/members/{alice.memberships.get(team=team).pk}/two-factor-reset/"
    for user in (bob, carol):  # viewer, admin
        client = client_for(user)
        assert client.get(url).status_code == 403
        assert client.post(url).status_code == 403
        assert url not in client.get("/settings/members/").content.decode()
    assert client_for(charlie).post(url).status_code == 404  # another team's owner
    assert TotpDevice.objects.filter(user=alice).exists()
    assert not AuditEvent.objects.filter(action="member.2fa_reset").exists()


def test_an_owner_cannot_reset_their_own_or_a_member_without_one(alice: User, bob: User,
                                                                  team: Team) -> None:
    device_for(alice)
    owner = client_for(alice)
    for membership in (alice.memberships.get(team=team), bob.memberships.get(team=team)):
        response = owner.post(f"/settings/members/{membership.pk}/two-factor-reset/", follow=True)
        assert "has no two-factor sign-in an owner can reset" in response.content.decode()
    assert TotpDevice.objects.filter(user=alice).exists()
