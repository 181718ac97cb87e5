"""Source kinds for the fault suite: a pool and a market that fetch one JSON document over
real HTTP from `{base_url}/data`, through the product's HttpClient (timeouts, deadline,
retries, error words), and store one audit row per poll as their "data"."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dashboard.models import AuditEvent, Source
from dashboard.sources import PollContext, SourceKind, register

INGESTED = "fault.ingested"

for kind, label, category in (("faultpool", "Fault pool", "pool"),
                              ("faultmarket", "Fault market", "exchange")):
    register(SourceKind(
        kind=kind, label=label, category=category,
        client_path="tests.faults.kinds.HttpFetchClient", ingest_path="tests.faults.kinds.ingest",
        base_url="http://127.0.0.1:9", default_interval=60,
    ))


class HttpFetchClient:
    def __init__(self, ctx: PollContext):
        self.ctx = ctx

    def fetch(self) -> dict[str, Any]:
        return dict(self.ctx.http.get_json(f"{self.ctx.base_url}/data"))


def ingest(*, source: Source, snapshot: Mapping[str, Any], now: datetime) -> dict[str, int]:
    AuditEvent.objects.create(team=source.team, action=INGESTED, target=source.label,
                              detail={"source_id": source.pk})
    return {"readings": int(snapshot.get("readings", 1))}
