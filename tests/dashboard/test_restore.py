"""A backup is only as good as its restore: dump a team's database with pg_dump, restore it
into a new database with pg_restore, and run Hashwatch on the copy.

The README's "Backups, restores and upgrades" gives the same commands; this is them, run.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone

from alerts.models import Channel
from dashboard.models import PollRun, Source, TotpDevice
from tests.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)  # committed rows, for pg_dump to see

# Pages and API answers whose figures the copy must repeat. {id} is each pool source's id.
PAGES = ["/", "/sources/", "/sources/{id}/", "/pools/{id}/", "/workers/?source={id}",
         "/earnings/", "/hashrate/?range=7d"]
API = ["/api/v1/sources", "/api/v1/workers?source={id}", "/api/v1/earnings?source={id}",
       "/api/v1/payouts?source={id}", "/api/v1/hashrate?source={id}"]
# What differs between two renders of one page whatever the database: per-request tokens.
# (The clock is stopped for both, so charts that end "now" end at the same moment.)
PER_REQUEST = re.compile(r'(csrfmiddlewaretoken" value="|nonce="|"X-CSRFToken": ")[^"]*')


def client_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} not found (Debian/Ubuntu: sudo apt-get install postgresql-client)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def pg_args() -> list[str]:
    db = connection.settings_dict
    return ["--host", db["HOST"] or "127.0.0.1", "--port", str(db["PORT"] or 5432),
            "--username", db["USER"]]


def pg_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    if connection.settings_dict["PASSWORD"]:
        env["PGPASSWORD"] = connection.settings_dict["PASSWORD"]
    return env


def database_url(name: str) -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


@pytest.fixture
def restored(tmp_path: Path, team, alice: User, bob: User, all_pools: list[Source]) -> Iterator[str]:
    """The test database, with every kind of stored secret, dumped in pg_dump's custom format
    and restored into a new database; yields the new database's name."""
    TotpDevice.objects.create(user=bob, secret={"base32": "JBSWY3DPEHPK3PXP"})
    Channel.objects.create(team=team, label="Ops chat", secret={"url": "tgram://123:tok/456"})
    dump = tmp_path / "hashwatch.dump"
    subprocess.run([client_tool("pg_dump"), *pg_args(), "--format=custom", "--file", str(dump),
                    connection.settings_dict["NAME"]], env=pg_env(), check=True)
    name = f"restored_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        subprocess.run([client_tool("pg_restore"), *pg_args(), "--no-owner", "--exit-on-error",
                        "--dbname", name, str(dump)], env=pg_env(), check=True)
        yield name
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def using_database(name: str) -> Iterator[None]:
    """Point this process's connection at another database of the same server."""
    original = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = name
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = original


def figures(client: Client, sources: list[Source]) -> dict[str, object]:
    """Every page and API answer in PAGES and API for every source, per-request tokens
    blanked."""
    seen: dict[str, object] = {}
    for template in PAGES + API:
        for source in sources if "{id}" in template else sources[:1]:
            url = template.format(id=source.pk)
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            if url.startswith("/api/"):
                seen[url] = response.json()
            else:
                seen[url] = PER_REQUEST.sub(r"\1", response.content.decode())
    return seen


def manage(*args: str, database: str, keys: str | None = None) -> subprocess.CompletedProcess[str]:
    env = pg_env() | {"DATABASE_URL": database_url(database)}
    if keys is not None:
        env["FIELD_ENCRYPTION_KEYS"] = keys
    return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_restored_dump_decrypts_shows_the_same_figures_and_polls(
    restored: str, alice: User, all_pools: list[Source], monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: stopped)
    client = client_for(alice)
    original = figures(client, all_pools)
    with using_database(restored):
        copy = figures(client_for(User.objects.get(username="alice")), all_pools)
    for url, answer in original.items():
        assert copy[url] == answer, f"{url} differs on the restored copy"
    # Not a comparison of empty pages: there are workers, earnings and hashrate to show.
    def answers(path: str) -> list[dict[str, object]]:
        return [answer for url, answer in original.items() if url.startswith(path)]  # type: ignore[misc]

    assert any(answer["count"] for answer in answers("/api/v1/workers"))
    assert any(answer["results"] for answer in answers("/api/v1/earnings"))
    assert any(answer["series"] for answer in answers("/api/v1/hashrate"))
    assert "H/s" in str(original["/"])
    monkeypatch.undo()

    checked = manage("check_keys", database=restored)
    assert checked.returncode == 0, checked.stderr
    assert "dashboard.Source.credentials  4 of 4 decrypt" in checked.stdout
    assert "dashboard.TotpDevice.secret   1 of 1 decrypt" in checked.stdout
    assert "alerts.Channel.secret         1 of 1 decrypt" in checked.stdout

    polled = manage("poll", "--all", database=restored)
    assert polled.returncode == 0, polled.stdout + polled.stderr
    with using_database(restored):
        assert PollRun.objects.filter(outcome="ok").count() == 2 * len(all_pools)
    assert PollRun.objects.filter(outcome="ok").count() == len(all_pools)  # the original: untouched


def test_a_restored_dump_with_another_key_names_what_it_cannot_decrypt(
    restored: str, all_pools: list[Source]
) -> None:
    other_key = base64.urlsafe_b64encode(os.urandom(32)).decode()

    checked = manage("check_keys", database=restored, keys=other_key)

    assert checked.returncode == 1
    for source in all_pools:
        assert f"dashboard.Source {source.pk} ({source.label})" in checked.stderr
    assert "alerts.Channel" in checked.stderr and "dashboard.TotpDevice" in checked.stderr
    assert "Put the key they were written with back into FIELD_ENCRYPTION_KEYS" in checked.stderr
    secrets = [value for source in all_pools for value in source.credentials.values()]
    for secret in [*secrets, "JBSWY3DPEHPK3PXP", "tgram://123:tok/456"]:
        assert secret not in checked.stdout + checked.stderr
