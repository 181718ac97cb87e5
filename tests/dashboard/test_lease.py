"""The claim on a source: a fenced, renewable lease."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest
import requests
import responses
from django.db import OperationalError
from django.utils import timezone

from dashboard import polling
from dashboard.http import DeadlineExceeded, HttpClient, UpstreamError
from dashboard.lease import LeaseLost, lease_hold, lease_renew, source_claim
from dashboard.models import AuditEvent, PollRun, Source


def test_a_claim_is_exclusive_until_its_lease_expires(source: Source) -> None:
    now = timezone.now()
    token = source_claim(source_id=source.pk, now=now)
    assert token
    assert source_claim(source_id=source.pk, now=now) is None
    later = now + timedelta(seconds=polling.settings.POLL_CLAIM_SECONDS + 1)
    assert source_claim(source_id=source.pk, now=later) not in (None, token)


def test_a_taken_over_claim_can_neither_renew_nor_write(source: Source) -> None:
    now = timezone.now()
    first = source_claim(source_id=source.pk, now=now)
    Source.objects.filter(pk=source.pk).update(claimed_until=now - timedelta(seconds=1))
    second = source_claim(source_id=source.pk, now=now)
    assert first and second
    assert lease_renew(source_id=source.pk, token=second)
    assert not lease_renew(source_id=source.pk, token=first)
    with pytest.raises(LeaseLost):
        lease_hold(source_id=source.pk, token=first)


def test_a_poll_taken_over_mid_fetch_stores_nothing(source: Source) -> None:
    def take_over(**kwargs: object) -> dict[str, object]:
        Source.objects.filter(pk=source.pk).update(claim_token="someone-else")
        return {"readings": 3, "mode": "ok"}

    with mock.patch.object(polling, "fetch", side_effect=take_over):
        assert polling.source_poll(source_id=source.pk) is None
    assert PollRun.objects.count() == 0
    assert not AuditEvent.objects.filter(action="fake.ingested").exists()
    source.refresh_from_db()
    assert source.claim_token == "someone-else" and source.last_poll_at is None


def test_a_lost_database_is_said_in_words(source: Source) -> None:
    with mock.patch("tests.fakes.fake_ingest", side_effect=OperationalError("server closed")):
        run = polling.source_poll(source_id=source.pk)
    assert run is not None and run.outcome == PollRun.Outcome.TRANSIENT
    assert "the database was unreachable" in run.message
    assert "internal error" not in run.message


@responses.activate
def test_a_reset_connection_is_said_in_words() -> None:
    reset = requests.ConnectionError(
        requests.packages.urllib3.exceptions.ProtocolError(  # type: ignore[attr-defined]
            "Connection aborted.", ConnectionResetError(104, "Connection reset by peer")))
    responses.get("https://pool.example/api", body=reset)
    with pytest.raises(UpstreamError) as caught:
        HttpClient(retries=0).get_json("https://pool.example/api")
    assert caught.value.message == "the connection to pool.example/api was reset"


@responses.activate
def test_a_refused_connection_still_says_could_not_connect() -> None:
    responses.get("https://pool.example/api", body=requests.ConnectionError("refused"))
    with pytest.raises(UpstreamError, match=r"could not connect to pool\.example/api"):
        HttpClient(retries=0).get_json("https://pool.example/api")


def test_no_request_starts_after_the_deadline() -> None:
    client = HttpClient(retries=0, deadline=0.0)
    with pytest.raises(DeadlineExceeded, match="reached its time limit"):
        client.get_json("https://pool.example/api")
    assert client.request_count == 0


def test_a_hanging_upstream_is_cut_off_at_the_deadline() -> None:
    release = threading.Event()

    class Hang(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            release.wait(10)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hang)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/api"
    started = time.monotonic()
    try:
        with pytest.raises(DeadlineExceeded, match="stopped at its time limit"):
            HttpClient(timeout=(5.0, 30.0), deadline=started + 1.0).get_json(url)
    finally:
        release.set()
        server.shutdown()
        server.server_close()
    assert time.monotonic() - started < 3
