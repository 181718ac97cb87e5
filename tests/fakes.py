"""A source kind for testing the polling engine without any upstream: its `mode` option
says how the fake upstream behaves."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dashboard.http import CredentialsRejected, UpstreamError
from dashboard.models import AuditEvent, Source
from dashboard.sources import Field, PollContext, SourceKind, register

calls = {"count": 0}
_lock = threading.Lock()

FAKE = register(SourceKind(
    kind="fake", label="Fake upstream", category="pool",
    client_path="tests.fakes.FakeClient", ingest_path="tests.fakes.fake_ingest",
    base_url="https://fake.invalid",
    credential_sets=((Field("api_key", "API key"),),),
    options=(Field("mode", "Mode", required=False, default="ok",
                   choices=("ok", "slow", "transient", "permanent", "crash", "ingest_fails",
                            "leaky")),),
))


class FakeClient:
    def __init__(self, ctx: PollContext):
        self.ctx = ctx

    def fetch(self) -> dict[str, Any]:
        with _lock:
            calls["count"] += 1
        mode = self.ctx.options.get("mode", "ok")
        key = self.ctx.credentials["api_key"]
        if mode == "slow":
            time.sleep(1.0)
        if mode == "transient":
            raise UpstreamError("fake.invalid is failing (HTTP 503)", status=503)
        if mode == "permanent":
            raise CredentialsRejected("fake.invalid rejected the credentials (HTTP 401)")
        if mode == "crash":
            raise RuntimeError(f"bug while handling key {key}")
        if mode == "leaky":
            raise UpstreamError(f"upstream echoed the key {key} in its error")
        return {"readings": 3, "mode": mode}


def fake_ingest(*, source: Source, snapshot: Mapping[str, Any], now: datetime) -> dict[str, int]:
    # An audit row stands in for stored data: it shows the ingest's transaction at work.
    AuditEvent.objects.create(team=source.team, action="fake.ingested", target=source.label)
    if snapshot["mode"] == "ingest_fails":
        raise ValueError("ingest failed half-way")
    return {"readings": snapshot["readings"]}
