from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from redis.exceptions import RedisError

from dashboard import shared_cache
from dashboard.models import Membership, Role, Source, Team
from dashboard.polling import source_poll
from dashboard.services import source_create
from simulator import build_simulator
from simulator.btccom import ALPHA, BRAVO
from simulator.server import SimulatorServer
from tests import fakes  # noqa: F401  (registers the "fake" kind)

PASSWORD = "correct-horse-battery-staple"
SECRET = "sk_live_9f8e7d6c5b4a3210"


@pytest.fixture(autouse=True)
def _fast_http(settings: pytest.FixtureRequest) -> None:
    settings.HTTP_BACKOFF_SECONDS = 0  # type: ignore[attr-defined]
    settings.CELERY_TASK_ALWAYS_EAGER = False  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _no_remembered_cache_outage() -> Iterator[None]:
    """A test that pointed the cache at a Redis that is down leaves the process believing it
    is down for a few seconds: the next test starts as a fresh process would."""
    shared_cache.forget_outage()
    yield
    shared_cache.forget_outage()


@pytest.fixture(autouse=True)
def _no_live_market_data() -> Iterator[None]:
    """Live books and stream statuses are keyed by source id, and ids restart with each test
    database: what one test published must not look live to the next."""
    yield
    try:
        redis = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
        keys = list(redis.scan_iter(match="*exchanges:*"))
        if keys:
            redis.delete(*keys)
    except RedisError:
        pass  # a test that pointed the cache at a Redis that is down


@pytest.fixture
def team(db: None) -> Team:
    return Team.objects.create(name="Alice Mining", slug="alice-mining")


@pytest.fixture
def other_team(db: None) -> Team:
    return Team.objects.create(name="Charlie Hashing", slug="charlie-hashing")


def member(username: str, team: Team, role: str) -> User:
    user = User.objects.create_user(username, f"{username}@example.com", PASSWORD)
    Membership.objects.create(team=team, user=user, role=role)
    return user


@pytest.fixture
def alice(team: Team) -> User:
    return member("alice", team, Role.OWNER)


@pytest.fixture
def bob(team: Team) -> User:
    return member("bob", team, Role.VIEWER)


@pytest.fixture
def carol(team: Team) -> User:
    return member("carol", team, Role.ADMIN)


@pytest.fixture
def charlie(other_team: Team) -> User:
    return member("charlie", other_team, Role.OWNER)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def source(team: Team) -> Source:
    return source_create(team=team, kind="fake", label="Main farm",
                         credentials={"api_key": SECRET})


@pytest.fixture
def charlie_source(other_team: Team) -> Source:
    return source_create(team=other_team, kind="fake", label="Charlie's farm",
                         credentials={"api_key": "sk_other_team_key"})


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog


@pytest.fixture(scope="session")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(build_simulator()) as server:
        yield server


def btccom_source(team: Team, simulator: SimulatorServer, account: object, label: str) -> Source:
    return source_create(
        team=team, kind="btccom", label=label, base_url=simulator.base_url("btccom"),
        credentials={"access_key": account.access_key, "puid": str(account.puid)},  # type: ignore[attr-defined]
    )


@pytest.fixture
def polled_sources(team: Team, simulator: SimulatorServer) -> list[Source]:
    """The simulator's two BTC.com accounts on the team, each polled once over HTTP."""
    sources = [btccom_source(team, simulator, ALPHA, "Alpha farm"),
               btccom_source(team, simulator, BRAVO, "Bravo hosting")]
    for source in sources:
        run = source_poll(source_id=source.pk)
        assert run is not None and run.ok, run.message if run else "skipped"
        source.refresh_from_db()
    return sources


@pytest.fixture
def all_pools(team: Team, simulator: SimulatorServer) -> list[Source]:
    """One source per pool kind on the simulator (three BTC, one LTC), each polled once."""
    from simulator import btcpoolkz, sbicrypto

    sources = [
        btccom_source(team, simulator, ALPHA, "BTC.com farm"),
        source_create(team=team, kind="btcpoolkz", label="KZ BTC", base_url=simulator.base_url("btcpoolkz"),
                      credentials={"api_key": btcpoolkz.ALPHA.api_key}, options={"currency": "BTC"}),
        source_create(team=team, kind="btcpoolkz", label="KZ LTC", base_url=simulator.base_url("btcpoolkz"),
                      credentials={"api_key": btcpoolkz.LTC_FARM.api_key}, options={"currency": "LTC"}),
        source_create(team=team, kind="sbicrypto", label="SBI observed",
                      base_url=simulator.base_url("sbicrypto"),
                      credentials={"observer_key": sbicrypto.BRAVO.observer_key},
                      options={"currency": "BTC",
                               "stats_url": f"{simulator.url}/sbicrypto-stats/poolstats"}),
    ]
    for source in sources:
        run = source_poll(source_id=source.pk)
        assert run is not None and run.ok, run.message if run else "skipped"
        source.refresh_from_db()
    return sources
