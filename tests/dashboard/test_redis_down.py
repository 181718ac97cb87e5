"""With Redis down: sign-in and its lockout work from Postgres, every page answers from what
Postgres holds and says what is missing, and /healthz still says `redis: down`.

Each test starts its own redis-server on a free port and points the cache at it, so stopping
it never touches the Redis other tests (or other programs on the machine) use.
"""

from __future__ import annotations

import io
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from dashboard import shared_cache
from dashboard.models import AuditEvent, Source, Team
from exchanges import live
from exchanges import models as xm
from pools import models as pm
from tests.conftest import PASSWORD, client_for
from tests.exchanges.test_exchanger_ingest import exchanger_source
from tests.exchanges.test_exchanger_page import polled
from tests.exchanges.test_markets_page import MID, book_of, flowbtc_source, seed_market

LOCKED = "Too many failed sign-ins for this account from your address"
UNAVAILABLE = "live feed unavailable: the cache (Redis) cannot be reached"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """A redis-server of this test's own, which the test may stop and start again."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server not found (Debian/Ubuntu: sudo apt-get install redis-server)")
        self.binary, self.directory, self.port = binary, directory, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not self.answers():
            assert self.process.poll() is None, (self.directory / "redis.log").read_text()
            assert time.monotonic() < deadline, "the private redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
        assert not self.answers()

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@pytest.fixture
def redis(tmp_path: Path, settings: object) -> Iterator[PrivateRedis]:
    """A running private Redis behind the cache (and REDIS_URL, which /healthz reports on)."""
    server = PrivateRedis(tmp_path)
    server.start()
    settings.REDIS_URL = server.url  # type: ignore[attr-defined]
    settings.CACHES = {"default": {  # type: ignore[attr-defined]
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": server.url,
        "KEY_PREFIX": "hashwatch", "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    shared_cache.forget_outage()
    try:
        yield server
    finally:
        server.stop()
        shared_cache.forget_outage()


def sign_in(client: Client, username: str, password: str, **extra: str) -> object:
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


# --- Sign-in ---------------------------------------------------------------------------------

def test_sign_in_works_with_redis_down(alice: User, team: Team, redis: PrivateRedis) -> None:
    redis.stop()
    client = Client()
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(alice.pk)
    assert client.get("/").status_code == 200
    assert list(AuditEvent.objects.filter(team=team).values_list("action", flat=True)) == ["auth.signin"]


def test_the_lockout_works_without_redis_and_survives_its_restart(
        alice: User, team: Team, redis: PrivateRedis) -> None:
    redis.stop()
    client = Client()
    for _ in range(4):
        assert "do not match" in sign_in(client, "alice", "wrong").content.decode()
    response = sign_in(client, "alice", "wrong")
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert LOCKED in sign_in(client, "alice", PASSWORD).content.decode()
    assert AccessAttempt.objects.count() == 1
    assert AccessAttempt.objects.get().failures_since_start == 5

    redis.start()  # an empty Redis, as after a restart: the count was never there
    shared_cache.forget_outage()
    assert redis.answers()
    response = sign_in(client, "alice", PASSWORD)
    assert LOCKED in response.content.decode() and "_auth_user_id" not in client.session
    actions = list(AuditEvent.objects.filter(team=team).order_by("id").values_list("action", flat=True))
    assert actions == ["auth.signin_failed"] * 5 + ["auth.locked"]


def test_the_unlock_command_works_without_redis(alice: User, redis: PrivateRedis) -> None:
    redis.stop()
    client = Client()
    for _ in range(5):
        sign_in(client, "alice", "wrong")
    call_command("unlock", "alice", stdout=io.StringIO())
    assert AccessAttempt.objects.count() == 0
    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_behind_a_proxy_each_client_has_its_own_count(alice: User, settings: object) -> None:
    """Every request comes from the proxy's address; X-Forwarded-For tells the clients apart,
    and what a client writes into it itself does not."""
    settings.TRUSTED_PROXY_COUNT = 1  # type: ignore[attr-defined]
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    attacker = Client(**proxy, HTTP_X_FORWARDED_FOR="198.51.100.66")
    for _ in range(5):
        sign_in(attacker, "alice", "wrong")
    assert LOCKED in sign_in(attacker, "alice", PASSWORD).content.decode()
    # Claiming the owner's address does not help: the proxy appends the real one.
    spoofing = Client(**proxy, HTTP_X_FORWARDED_FOR="203.0.113.7, 198.51.100.66")
    assert LOCKED in sign_in(spoofing, "alice", PASSWORD).content.decode()

    owner = Client(**proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert sign_in(owner, "alice", PASSWORD).status_code == 302
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.66"]
    assert AuditEvent.objects.get(action="auth.signin").ip == "203.0.113.7"


def test_without_a_trusted_proxy_the_header_is_ignored(alice: User) -> None:
    for n in range(5):
        sign_in(Client(HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"), "alice", "wrong")
    assert LOCKED in sign_in(Client(HTTP_X_FORWARDED_FOR="203.0.113.7"), "alice", PASSWORD).content.decode()
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["127.0.0.1"]


# --- Pages -----------------------------------------------------------------------------------

@pytest.fixture
def stored(team: Team, all_pools: list[Source]) -> dict[str, Source]:
    """Pools polled from the simulator, a FlowBTC market and an exchanger, all in Postgres."""
    now = timezone.now()
    flow = flowbtc_source(team)
    seed_market(flow, now=now, candles=False)
    Source.objects.filter(pk=flow.pk).update(last_success_at=now, last_poll_at=now)
    exchanger = polled(exchanger_source(team, api_key="pk_test_0123456789"))
    return {"flow": flow, "exchanger": exchanger, "pool": all_pools[0]}


PAGES = ["/", "/sources/", "/hashrate/", "/workers/", "/earnings/", "/markets/", "/exchanger/",
         "/settings/", "/settings/sources/"]


def rows(body: str) -> int:
    return len(re.findall(r"<tr[\s>]", body))


def test_every_page_answers_from_postgres_with_redis_down(
        alice: User, team: Team, stored: dict[str, Source], redis: PrivateRedis) -> None:
    client = client_for(alice)
    before = {path: client.get(path) for path in PAGES}
    assert all(response.status_code == 200 for response in before.values())

    redis.stop()
    after = {path: client.get(path) for path in PAGES}
    for path, response in after.items():
        assert response.status_code == 200, path
        # The same stored rows as with Redis up.
        assert rows(response.content.decode()) == rows(before[path].content.decode()), path

    workers = after["/workers/"].context["workers_page"].paginator.count
    assert workers == pm.Worker.objects.filter(source__team=team).count() > 0
    for source in Source.objects.filter(team=team):
        assert source.label in after["/sources/"].content.decode()
    exchanger = after["/exchanger/"].content.decode()
    assert xm.ExchangerRate.objects.filter(source=stored["exchanger"]).count() == 5
    assert "SBERRUB" in exchanger and "CASHUSD" in exchanger


def test_the_markets_page_shows_the_stored_book_and_says_the_feed_is_unavailable(
        alice: User, stored: dict[str, Source], redis: PrivateRedis) -> None:
    flow = stored["flow"]
    now = timezone.now()
    # A live book that differs from the stored one, so the test can tell which is shown.
    live.book_publish(source_id=flow.pk, book=book_of("BTCBRL", MID * 2, as_of=now), now=now)
    client = client_for(alice)
    page = client.get(f"/markets/?source={flow.pk}").content.decode()
    assert "Live" in page and UNAVAILABLE not in page

    redis.stop()
    response = client.get(f"/markets/?source={flow.pk}")
    assert response.status_code == 200
    page = response.content.decode()
    assert UNAVAILABLE in page and "showing the REST poll from" in page
    assert xm.OrderBook.objects.filter(source=flow).count() == 1
    stored_bids = xm.OrderBook.objects.get(source=flow, product="BTCBRL").bids
    shown = [level["price"] for level in response.context["ladder"]["bids"]]
    assert shown == [f"{Decimal(price):,.2f}" for price, _ in stored_bids[:10]]
    # The live panel the page polls every 2 s answers from Postgres too, and says why.
    fragment = client.get(f"/markets/?source={flow.pk}", HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="market-live")
    assert fragment.status_code == 200 and UNAVAILABLE in fragment.content.decode()


def test_the_source_page_says_the_stream_status_is_unavailable(
        alice: User, stored: dict[str, Source], redis: PrivateRedis) -> None:
    redis.stop()
    response = client_for(alice).get(f"/sources/{stored['flow'].pk}/")
    assert response.status_code == 200
    assert "status is unavailable: the cache (Redis) cannot be reached" in response.content.decode()


def test_healthz_says_redis_is_down(db: None, redis: PrivateRedis) -> None:
    assert Client().get("/healthz").json()["redis"] == "ok"
    redis.stop()
    body = Client().get("/healthz").json()
    assert body["redis"] == "down" and body["database"] == "ok"


def test_an_outage_is_logged_once_not_per_request(
        alice: User, stored: dict[str, Source], redis: PrivateRedis,
        caplog: pytest.LogCaptureFixture) -> None:
    redis.stop()
    client = client_for(alice)
    for _ in range(3):
        assert client.get(f"/markets/?source={stored['flow'].pk}").status_code == 200
    outages = [r for r in caplog.records if "shared cache is unreachable" in r.getMessage()]
    assert len(outages) == 1


# --- The task queue --------------------------------------------------------------------------

@pytest.fixture
def broker_on(redis: PrivateRedis, monkeypatch: pytest.MonkeyPatch) -> PrivateRedis:
    """Celery's broker on the private Redis too (its connection pools built afresh)."""
    from dashboard.celery import app

    monkeypatch.setitem(app.conf, "broker_url", redis.url)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    return redis


def test_poll_now_says_the_queue_is_down_instead_of_failing(
        alice: User, source: Source, broker_on: PrivateRedis) -> None:
    broker_on.stop()
    client = client_for(alice)
    response = client.post(f"/sources/{source.pk}/poll/", follow=True)
    assert response.status_code == 200
    assert "could not be queued: the task queue (Redis) cannot be reached" in response.content.decode()
    assert not AuditEvent.objects.filter(action="source.poll_requested").exists()


def test_a_new_source_is_saved_with_the_queue_down(alice: User, team: Team, broker_on: PrivateRedis) -> None:
    broker_on.stop()
    response = client_for(alice).post("/settings/sources/new/fake/", {
        "label": "Night shift", "interval": 60, "enabled": "on", "credential_api_key": "sk_new",
        "option_mode": "ok"}, follow=True)
    assert response.status_code == 200
    assert "first poll could not be queued" in response.content.decode()
    assert Source.objects.filter(team=team, label="Night shift").count() == 1
