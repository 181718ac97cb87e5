"""Read settings from the environment, failing early with a message that says what to fix.

Every problem found is collected, so a new operator sees all of them at once instead of
fixing one variable per restart.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

GENERATE_SECRET = 'python3 -c "import secrets; print(secrets.token_urlsafe(50))"'  # noqa: S105
GENERATE_FERNET = (
    'python3 -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
)
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class ConfigError(Exception):
    """One or more environment variables are missing or malformed."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Hashwatch cannot start; fix these environment variables:\n{lines}")


@dataclass
class Env:
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    problems: list[str] = field(default_factory=list)

    def raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        return value.strip() if value is not None else None

    def boolean(self, name: str, *, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if value.lower() in TRUE_WORDS:
            return True
        if value.lower() in FALSE_WORDS:
            return False
        self.problems.append(f"{name}={value!r} is not a yes/no value; use 1 or 0.")
        return default

    def integer(self, name: str, *, default: int, minimum: int = 0) -> int:
        value = self.raw(name)
        if not value:
            return default
        try:
            number = int(value)
        except ValueError:
            self.problems.append(f"{name}={value!r} is not a whole number.")
            return default
        if number < minimum:
            self.problems.append(f"{name}={number} must be at least {minimum}.")
        return number

    def word_list(self, name: str, *, default: list[str]) -> list[str]:
        value = self.raw(name)
        if value is None:
            return default
        return [part.strip() for part in value.split(",") if part.strip()]

    def secret_key(self, name: str) -> str:
        value = self.raw(name)
        if not value:
            self.problems.append(f"{name} is not set. Generate one with: {GENERATE_SECRET}")
            return "unset"
        if len(value) < 32:
            self.problems.append(
                f"{name} is too short ({len(value)} characters; at least 32). "
                f"Generate one with: {GENERATE_SECRET}"
            )
        return value

    def fernet_keys(self, name: str) -> list[str]:
        keys = self.word_list(name, default=[])
        if not keys:
            self.problems.append(
                f"{name} is not set. It is a comma-separated list of Fernet keys, the first "
                f"one encrypts. Generate one with: {GENERATE_FERNET}"
            )
        for position, key in enumerate(keys, start=1):
            if not is_fernet_key(key):
                self.problems.append(
                    f"{name}: key {position} is not a Fernet key (32 bytes, url-safe base64). "
                    f"Generate one with: {GENERATE_FERNET}"
                )
        return keys

    def database(self, name: str) -> dict[str, Any]:
        value = self.raw(name)
        if not value:
            self.problems.append(
                f"{name} is not set. Use postgres://USER:PASSWORD@HOST:5432/DBNAME "
                "(or sqlite:///path/to/file.sqlite3 for a quick local try)."
            )
            return {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
        try:
            return parse_database_url(value)
        except ValueError as error:
            self.problems.append(f"{name}: {error}")
            return {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}

    def url(self, name: str, *, schemes: set[str], required: bool) -> str | None:
        value = self.raw(name)
        if not value:
            if required:
                self.problems.append(
                    f"{name} is not set. Use a URL such as redis://127.0.0.1:6379/0."
                )
            return None
        scheme = urlsplit(value).scheme
        if scheme not in schemes:
            wanted = ", ".join(sorted(f"{s}://" for s in schemes))
            self.problems.append(f"{name} must start with one of {wanted} (got {scheme or 'no'} scheme).")
            return None
        return value

    def check(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)


def is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32
    except (binascii.Error, ValueError):
        return False


def parse_database_url(url: str) -> dict[str, Any]:
    """postgres://user:pass@host:port/name?sslmode=require, or sqlite:///relative-or-/absolute."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if not path or path == "/":
            raise ValueError("a sqlite URL needs a file path, e.g. sqlite:///var/hashwatch.sqlite3")
        # sqlite:///var/x.db is relative ("var/x.db"), sqlite:////srv/x.db is absolute.
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path[1:],
            # The quick start runs web, worker and beat on one file: WAL lets readers go on
            # while a poll writes, and IMMEDIATE transactions wait for the lock instead of
            # failing half-way with "database is locked".
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ValueError(
            f"unsupported scheme {parts.scheme!r}; use postgres://USER:PASSWORD@HOST:5432/DBNAME"
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ValueError("the URL names no database; add /DBNAME at the end")
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "OPTIONS": options,
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
