"""The database and the broker go away under a real worker, and come back."""

from __future__ import annotations

import itertools
import time
from urllib.parse import urlsplit, urlunsplit

import pytest

from dashboard.models import PollRun, Source, Team
from dashboard.tasks import poll_source
from tests.conftest import client_for
from tests.e2e.conftest import test_database_url as database_url
from tests.e2e.conftest import wait_for
from tests.faults.conftest import PrivateRedis, Stack, TcpProxy, Upstream, counts, faulty

pytestmark = pytest.mark.e2e


def through(proxy: TcpProxy) -> str:
    parts = urlsplit(database_url())
    auth = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{auth}@127.0.0.1:{proxy.port}"))


def test_a_database_outage_is_said_in_words_and_polling_recovers(
    team: Team, alice: object, upstream: Upstream, stack: Stack, db_proxy: TcpProxy
) -> None:
    source = faulty(team, upstream, "farm")
    upstream.set("farm", hang=3)
    stack.worker("pools", "--pool", "solo", DATABASE_URL=through(db_proxy))

    poll_source.delay(source.pk)
    wait_for(lambda: upstream.count("farm") == 1, timeout=30, what="the poll to call upstream")
    db_proxy.cut()
    time.sleep(6)  # the upstream answers meanwhile; storing it finds no database
    assert counts(source) == (0, 0)
    db_proxy.restore()

    wait_for(lambda: counts(source)[0] == 1, timeout=60, what="the failure to be recorded")
    run = PollRun.objects.get(source=source)
    assert run.outcome == PollRun.Outcome.TRANSIENT
    assert "the database was unreachable" in run.message
    assert "internal error" not in run.message
    assert counts(source) == (1, 0)  # nothing half-stored
    page = client_for(alice).get(f"/sources/{source.pk}/").content.decode()
    assert "the database was unreachable" in page

    upstream.set("farm")
    poll_source.delay(source.pk)
    wait_for(lambda: counts(source)[0] == 2, timeout=30, what="the next poll")
    assert counts(source) == (2, 1)
    source.refresh_from_db()
    assert source.status == "ok" and source.claimed_until is None
    assert "the database was unreachable" in stack.log("pools")


def test_polling_resumes_after_the_broker_restarts(
    team: Team, upstream: Upstream, stack: Stack, private_redis: PrivateRedis
) -> None:
    source = faulty(team, upstream, "farm")
    Source.objects.filter(pk=source.pk).update(interval=2)
    broker = {"CELERY_BROKER_URL": private_redis.url}
    stack.worker("all", "--pool", "threads", "--concurrency", "2", **broker)
    stack.beat(**broker)
    wait_for(lambda: counts(source)[0] >= 2, timeout=40, what="polls on the private broker")

    private_redis.kill()
    time.sleep(3)
    before = counts(source)[0]
    private_redis.start()

    wait_for(lambda: counts(source)[0] >= before + 2, timeout=90,
             what="polls after the broker came back")
    runs = list(PollRun.objects.filter(source=source).order_by("started_at"))
    assert all(run.ok for run in runs)
    assert counts(source) == (len(runs), len(runs))
    assert len(runs) == upstream.count("farm")  # nothing doubled: one request per run
    for earlier, later in itertools.pairwise(runs):
        assert earlier.finished_at <= later.started_at  # never two polls at once
