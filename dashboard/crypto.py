"""Encryption at rest for upstream credentials.

Values are JSON objects encrypted with MultiFernet: the first key of FIELD_ENCRYPTION_KEYS
encrypts, every key decrypts, so keys rotate by putting a new one first, running
`manage.py rotate_keys`, then dropping the old one.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


class Credentials(dict[str, str]):
    """A dict of secrets that never shows its values when printed, logged or rendered."""

    unreadable = False

    def __repr__(self) -> str:
        return f"<Credentials: {', '.join(sorted(self)) or 'none'}>"

    __str__ = __repr__


class UnreadableCredentials(Credentials):
    """Stored under a key that is no longer configured: the source must be given new ones."""

    unreadable = True

    def __init__(self, token: str):
        super().__init__()
        # Kept so that saving the row (to disable it, say) does not destroy the ciphertext.
        self.token = token


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: dict[str, str]) -> str:
    return fernet().encrypt(json.dumps(dict(value), sort_keys=True).encode()).decode()


def decrypt(token: str) -> Credentials:
    try:
        return Credentials(json.loads(fernet().decrypt(token.encode())))
    except InvalidToken:
        return UnreadableCredentials(token)


def rotate(token: str) -> str:
    """Re-encrypt a stored token under the first key (raises InvalidToken if none decrypts)."""
    return fernet().rotate(token.encode()).decode()


class EncryptedJSONField(models.TextField):
    """A dict[str, str] stored as one Fernet token."""

    description = "Encrypted JSON object"
    # What the model attribute holds, for type checkers (django-stubs reads these).
    _pyi_private_set_type: Any
    _pyi_private_get_type: Credentials  # type: ignore[assignment]

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Credentials:
        if not value:
            return Credentials()
        return decrypt(value)

    def to_python(self, value: Any) -> Credentials:
        if isinstance(value, Credentials):
            return value
        if not value:
            return Credentials()
        if isinstance(value, dict):
            return Credentials(value)
        return decrypt(value)

    def get_prep_value(self, value: Any) -> str:
        if isinstance(value, UnreadableCredentials):
            return value.token
        return encrypt(value or {})
