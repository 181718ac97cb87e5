from __future__ import annotations

import pytest

from dashboard.config import ConfigError, Env, parse_database_url

KEY = "2SnKqDOc4Fu6dNwhiGMHxrdVjJ7qqbvb0qFBEJPFWXg="


def test_it_names_every_missing_setting_and_how_to_fix_it() -> None:
    env = Env(environ={})
    env.secret_key("SECRET_KEY")
    env.fernet_keys("FIELD_ENCRYPTION_KEYS")
    env.database("DATABASE_URL")
    env.url("REDIS_URL", schemes={"redis"}, required=True)
    with pytest.raises(ConfigError) as error:
        env.check()
    text = str(error.value)
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DATABASE_URL", "REDIS_URL"):
        assert name in text
    assert "Generate one with" in text


@pytest.mark.parametrize(("name", "value", "message"), [
    ("DEBUG", "maybe", "not a yes/no value"),
    ("FIELD_ENCRYPTION_KEYS", f"{KEY},nope", "key 2 is not a Fernet key"),
    ("SECRET_KEY", "short", "too short"),
    ("DATABASE_URL", "mysql://h/db", "unsupported scheme"),
    ("DATABASE_URL", "postgres://h:5432", "names no database"),
])
def test_it_rejects_malformed_settings(name: str, value: str, message: str) -> None:
    env = Env(environ={name: value})
    {"DEBUG": lambda: env.boolean(name, default=False),
     "FIELD_ENCRYPTION_KEYS": lambda: env.fernet_keys(name),
     "SECRET_KEY": lambda: env.secret_key(name),
     "DATABASE_URL": lambda: env.database(name)}[name]()
    with pytest.raises(ConfigError, match=message):
        env.check()


def test_it_parses_database_urls() -> None:
    pg = parse_database_url("postgres://u:p%40ss@db.example:6543/hw?sslmode=require")
    assert (pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == (
        "hw", "u", "p@ss", "db.example", "6543")
    assert pg["OPTIONS"] == {"sslmode": "require"}
    assert parse_database_url("sqlite:///var/x.sqlite3")["NAME"] == "var/x.sqlite3"
    assert parse_database_url("sqlite:////srv/x.sqlite3")["NAME"] == "/srv/x.sqlite3"
