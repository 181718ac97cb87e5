from __future__ import annotations

import base64
import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dashboard.models import Source
from dashboard.polling import source_poll
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
