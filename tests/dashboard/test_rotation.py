from __future__ import annotations

import base64
import os
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from alerts.models import Channel
from dashboard.encrypted_rows import encrypted_columns
from dashboard.models import Source, TotpDevice
from dashboard.polling import source_poll
from dashboard.services import source_create
from tests.conftest import SECRET


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def test_rows_written_under_an_old_key_read_after_rotation_and_after_dropping_it(
    settings, source: Source
) -> None:
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    fresh = new_key()
    settings.FIELD_ENCRYPTION_KEYS = [fresh, old]
    assert Source.objects.get(pk=source.pk).credentials == {"api_key": SECRET}

    call_command("rotate_keys")

    settings.FIELD_ENCRYPTION_KEYS = [fresh]
    assert Source.objects.get(pk=source.pk).credentials == {"api_key": SECRET}


def test_dropping_a_key_too_early_is_explained_not_crashed(settings, alice, source) -> None:
    old = settings.FIELD_ENCRYPTION_KEYS
    settings.FIELD_ENCRYPTION_KEYS = [new_key()]
    loaded = Source.objects.get(pk=source.pk)
    assert loaded.credentials.unreadable
    run = source_poll(source_id=source.pk)
    assert run.outcome == "permanent"
    assert "cannot be decrypted" in run.message
    with pytest.raises(CommandError, match="no configured key decrypts"):
        call_command("rotate_keys")
    # Saving the row (disabling it, say) keeps the ciphertext for when the key returns.
    loaded.enabled = False
    loaded.save()
    settings.FIELD_ENCRYPTION_KEYS = old
    assert Source.objects.get(pk=source.pk).credentials == {"api_key": SECRET}


APPRISE_URL = "tgram://123456:bot-token-secret/987654"


@pytest.fixture
def every_kind_of_secret(alice, team, source):
    """A secret in each encrypted field the apps have: a source's credentials, an
    authenticator's secret, an alert channel's URL."""
    device = TotpDevice.objects.create(user=alice, secret={"base32": "JBSWY3DPEHPK3PXP"},
                                       confirmed=True)
    channel = Channel.objects.create(team=team, label="Ops chat", secret={"url": APPRISE_URL})
    return source, device, channel


def check_keys() -> str:
    out = StringIO()
    call_command("check_keys", stdout=out)
    return out.getvalue()


def test_every_encrypted_field_is_found_in_every_app() -> None:
    assert [column.name for column in encrypted_columns()] == [
        "alerts.Channel.secret", "dashboard.Source.credentials", "dashboard.TotpDevice.secret"]


def test_rotation_re_encrypts_authenticators_and_channels_too(settings, every_kind_of_secret) -> None:
    source, device, channel = every_kind_of_secret
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    fresh = new_key()
    settings.FIELD_ENCRYPTION_KEYS = [fresh, old]
    out = StringIO()

    call_command("rotate_keys", stdout=out)

    assert "alerts.Channel.secret: re-encrypted 1 of 1" in out.getvalue()
    assert "dashboard.TotpDevice.secret: re-encrypted 1 of 1" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [fresh]
    assert Source.objects.get(pk=source.pk).credentials == {"api_key": SECRET}
    assert TotpDevice.objects.get(pk=device.pk).secret == {"base32": "JBSWY3DPEHPK3PXP"}
    assert Channel.objects.get(pk=channel.pk).secret == {"url": APPRISE_URL}


def test_check_keys_counts_what_each_field_can_decrypt(settings, every_kind_of_secret) -> None:
    output = check_keys()
    assert "alerts.Channel.secret         1 of 1 decrypt" in output
    assert "dashboard.Source.credentials  1 of 1 decrypt" in output
    assert "dashboard.TotpDevice.secret   1 of 1 decrypt" in output
    assert "Every stored secret decrypts." in output


def test_check_keys_says_when_a_key_cannot_be_dropped_yet(settings, every_kind_of_secret) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [new_key(), settings.FIELD_ENCRYPTION_KEYS[0]]
    output = check_keys()
    assert "dashboard.Source.credentials  1 of 1 decrypt (1 only with an older key)" in output
    assert "3 secret(s) still need an older key: run 'python manage.py rotate_keys'" in output

    call_command("rotate_keys", stdout=StringIO())

    assert "older key" not in check_keys()


def test_check_keys_names_what_it_cannot_decrypt_and_never_the_secret(
    settings, every_kind_of_secret, source: Source
) -> None:
    readable = source_create(team=source.team, kind="fake", label="Written later",
                             credentials={"api_key": "sk_new"})
    settings.FIELD_ENCRYPTION_KEYS = [new_key()]
    # Written under the new key: the only row the new key can read.
    Source.objects.filter(pk=readable.pk).update(credentials={"api_key": "sk_new"})
    out = StringIO()

    with pytest.raises(CommandError) as error:
        call_command("check_keys", stdout=out)

    message = str(error.value)
    _, device, channel = every_kind_of_secret
    assert f"dashboard.Source {source.pk} (Main farm)" in message
    assert f"dashboard.TotpDevice {device.pk} (Authenticator of alice)" in message
    assert f"alerts.Channel {channel.pk} (Ops chat)" in message
    assert f"dashboard.Source {readable.pk}" not in message
    assert "Put the key they were written with back into FIELD_ENCRYPTION_KEYS" in message
    assert "dashboard.Source.credentials  1 of 2 decrypt" in out.getvalue()
    for secret in (SECRET, "JBSWY3DPEHPK3PXP", "bot-token-secret", "sk_new"):
        assert secret not in message + out.getvalue()


def test_check_keys_changes_nothing(settings, every_kind_of_secret) -> None:
    source, _, _ = every_kind_of_secret
    stored = connection_value(source)
    settings.FIELD_ENCRYPTION_KEYS = [new_key(), settings.FIELD_ENCRYPTION_KEYS[0]]
    check_keys()
    assert connection_value(source) == stored


def connection_value(source: Source) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM dashboard_source WHERE id = %s", [source.pk])
        return str(cursor.fetchone()[0])


def test_check_keys_with_nothing_stored_passes(db) -> None:
    output = check_keys()
    assert "dashboard.Source.credentials  0 of 0 decrypt" in output
    assert "Every stored secret decrypts." in output


def test_check_keys_on_a_database_not_migrated_yet_says_so(
    settings, every_kind_of_secret, monkeypatch
) -> None:
    # As on a dump from before the alerts app, restored and not migrated yet.
    real = connection.introspection.table_names
    monkeypatch.setattr(connection.introspection, "table_names",
                        lambda *a, **k: [t for t in real(*a, **k) if t != "alerts_channel"])
    output = check_keys()
    assert "alerts.Channel.secret         no table yet: run 'python manage.py migrate' first" in output
    assert "dashboard.Source.credentials  1 of 1 decrypt" in output
    assert "in the tables that exist: run 'python manage.py migrate'" in output
