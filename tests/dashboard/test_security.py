"""Sign-in lockout, authenticator codes, the team's 2FA requirement, headers, deploy checks."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import call_command
from django.db.models import F
from django.test import Client

from dashboard.auth import totp_new_secret
from dashboard.models import AuditEvent, Team, TotpDevice
from dashboard.security import CONTENT_SECURITY_POLICY
from tests.conftest import PASSWORD, client_for

LOCKED = "Too many failed sign-ins for this account from your address"


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def sign_in(client: Client, username: str, password: str) -> object:
    return client.post("/accounts/login/", {"username": username, "password": password})


def actions(team: Team) -> list[str]:
    return list(AuditEvent.objects.filter(team=team).order_by("created_at", "id")
                .values_list("action", flat=True))


def wrong_code(totp: pyotp.TOTP) -> str:
    return "000000" if totp.now() != "000000" else "111111"


def device_for(user: User) -> pyotp.TOTP:
    secret = totp_new_secret()
    TotpDevice.objects.create(user=user, secret={"base32": secret}, confirmed=True)
    return pyotp.TOTP(secret)


# --- Lockout -----------------------------------------------------------------------------------

def test_five_failures_lock_the_account_even_for_the_right_password(alice: User, team: Team) -> None:
    client = Client()
    for _ in range(4):
        response = sign_in(client, "alice", "wrong")
        assert "do not match" in response.content.decode()
    response = sign_in(client, "alice", "wrong")
    assert LOCKED in response.content.decode()
    assert "try again in 15 minutes" in response.content.decode()

    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 200 and LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert actions(team) == ["auth.signin_failed"] * 5 + ["auth.locked"]


def test_a_lock_covers_one_address_only(alice: User) -> None:
    for _ in range(5):
        sign_in(Client(), "alice", "wrong")
    elsewhere = Client(REMOTE_ADDR="203.0.113.9")
    assert sign_in(elsewhere, "alice", PASSWORD).status_code == 302


def test_unknown_usernames_get_the_same_message_and_store_nothing(alice: User) -> None:
    client = Client()
    for _ in range(5):
        response = sign_in(client, "mallory", "wrong")
    assert LOCKED in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_the_unlock_command_lifts_the_lock(alice: User) -> None:
    client = Client()
    for _ in range(5):
        sign_in(client, "alice", "wrong")
    call_command("unlock", "alice", stdout=io.StringIO())
    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_the_lock_runs_out(alice: User, settings: object) -> None:
    """The lock holds its own deadline; stepping the clock past it (rather than sleeping
    through a short lock, which a slow machine overshoots before the first check) ends it.
    The stored failures are moved back in time, which is the same step seen from Postgres."""
    client = Client()
    for _ in range(5):
        sign_in(client, "alice", "wrong")
    assert LOCKED in sign_in(client, "alice", PASSWORD).content.decode()
    step = timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS + 1)  # type: ignore[attr-defined]
    assert AccessAttempt.objects.update(attempt_time=F("attempt_time") - step) == 1
    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_a_success_resets_the_count_and_is_audited(alice: User, team: Team) -> None:
    client = Client()
    for _ in range(4):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        response = sign_in(client, "alice", "wrong")
    assert LOCKED not in response.content.decode()
    assert actions(team).count("auth.signin") == 1


def test_the_lock_covers_the_admin_login_too(alice: User) -> None:
    alice.is_staff = True
    alice.save()
    for _ in range(5):
        sign_in(Client(), "alice", "wrong")
    response = Client().post("/admin/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429 and LOCKED in response.content.decode()


def test_failures_are_stored_in_postgres_without_the_password_or_code(alice: User) -> None:
    for _ in range(3):
        sign_in(Client(), "alice", "hunter2-wrong")
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address, attempt.failures_since_start) == ("alice", "127.0.0.1", 3)
    assert "hunter2" not in attempt.post_data


# --- Authenticator codes -----------------------------------------------------------------------

def test_sign_in_asks_for_the_code_when_a_device_exists(alice: User, team: Team) -> None:
    totp = device_for(alice)
    client = Client()
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/code/"
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302

    wrong = client.post("/accounts/login/code/", {"code": wrong_code(totp)})
    assert "not right" in wrong.content.decode() and "_auth_user_id" not in client.session

    response = client.post("/accounts/login/code/", {"code": totp.now()})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(alice.pk)
    assert actions(team) == ["auth.signin_failed", "auth.signin"]


def test_a_used_code_is_refused_the_second_time(alice: User) -> None:
    totp = device_for(alice)
    code = totp.now()
    first = Client()
    sign_in(first, "alice", PASSWORD)
    assert first.post("/accounts/login/code/", {"code": code}).status_code == 302
    second = Client()
    sign_in(second, "alice", PASSWORD)
    response = second.post("/accounts/login/code/", {"code": code})
    assert response.status_code == 200 and "_auth_user_id" not in second.session


def test_wrong_codes_count_towards_the_lock(alice: User) -> None:
    device_for(alice)
    client = Client()
    sign_in(client, "alice", PASSWORD)
    responses = [client.post("/accounts/login/code/", {"code": "12345x"}) for _ in range(5)]
    assert responses[-1].status_code == 429 and LOCKED in responses[-1].content.decode()


def test_the_code_step_needs_the_password_first(alice: User) -> None:
    device_for(alice)
    response = Client().post("/accounts/login/code/", {"code": "123456"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_setting_up_shows_the_secret_once_and_needs_a_code(alice: User, team: Team) -> None:
    client = client_for(alice)
    page = client.get("/accounts/two-factor/").content.decode()
    device = TotpDevice.objects.get(user=alice)
    secret = device.secret["base32"]
    assert secret in page and "otpauth://totp/Hashwatch:alice?secret=" in page
    assert secret not in TotpDevice.objects.filter(pk=device.pk).values_list("secret", flat=True)[0]

    assert client.post("/accounts/two-factor/", {"code": "000000"}).status_code == 200
    response = client.post("/accounts/two-factor/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200 and "Your recovery codes" in response.content.decode()
    assert TotpDevice.objects.get(user=alice).confirmed
    assert secret not in client.get("/accounts/two-factor/").content.decode()
    assert "auth.2fa_enabled" in actions(team)


def test_turning_it_off_needs_a_code(alice: User, team: Team) -> None:
    totp = device_for(alice)
    client = client_for(alice)
    client.post("/accounts/two-factor/", {"code": wrong_code(totp)})
    assert TotpDevice.objects.filter(user=alice).exists()
    client.post("/accounts/two-factor/", {"code": totp.now()})
    assert not TotpDevice.objects.filter(user=alice).exists()
    assert "auth.2fa_disabled" in actions(team)


def test_a_team_requirement_sends_members_to_set_up(alice: User, bob: User, team: Team) -> None:
    owner = client_for(alice)
    owner.post("/settings/", {"name": team.name, "timezone": team.timezone, "require_2fa": "on"})
    team.refresh_from_db()
    assert team.require_2fa and "team.2fa_required" in actions(team)

    viewer = Client()
    assert sign_in(viewer, "bob", PASSWORD).status_code == 302
    for path in ("/", "/sources/", "/settings/", "/api/v1/sources"):
        response = viewer.get(path)
        assert response.status_code == 302 and response["Location"] == "/accounts/two-factor/", path
    assert viewer.get("/accounts/two-factor/").status_code == 200

    device = TotpDevice.objects.get(user=bob)
    viewer.post("/accounts/two-factor/", {"code": pyotp.TOTP(device.secret["base32"]).now()})
    assert viewer.get("/").status_code == 200
    assert "cannot be turned off" in viewer.get("/accounts/two-factor/").content.decode()


# --- Headers and deploy settings ---------------------------------------------------------------

def test_every_page_carries_the_content_security_policy(alice: User) -> None:
    for response in (Client().get("/accounts/login/"), client_for(alice).get("/"),
                     Client().get("/healthz")):
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY


def test_production_settings_pass_the_deploy_checks() -> None:
    # Only what a production install sets: test-run variables (DJANGO_ALLOW_ASYNC_UNSAFE from
    # the browser tests, say) would fail checks a real deployment passes.
    env = {"PATH": os.environ["PATH"], "HTTPS": "1", "DEBUG": "0",
           "ALLOWED_HOSTS": "hashwatch.example.com",
           "SECRET_KEY": "x7Gq-" + "Kp2mV9wLr4Tz8Nc6Hb3Yd5Jf1Qs0Ue" * 2,
           "FIELD_ENCRYPTION_KEYS": settings.FIELD_ENCRYPTION_KEYS[0],
           "DATABASE_URL": "sqlite:////tmp/hashwatch-deploy-check.sqlite3",
           "CELERY_BROKER_URL": "memory://"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout + result.stderr
