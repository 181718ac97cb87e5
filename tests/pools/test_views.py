"""Pool page filters against data polled from the simulator."""

from __future__ import annotations

from pools.models import Worker
from tests.conftest import client_for


def test_workers_filter_by_pool_source_and_status(alice, polled_sources) -> None:
    client = client_for(alice)
    _, bravo = polled_sources
    body = client.get(f"/workers/?source={bravo.pk}&status=online").content.decode()
    online = Worker.objects.filter(source=bravo, status="online", missing_since__isnull=True).count()
    assert f"Online <strong>{online}</strong>" in body
    assert "s19-rack1-01" not in body
    assert "m30s-a01" in body or online == 0
    assert client.get("/workers/?pool=btccom").status_code == 200
    none = client.get("/workers/?pool=btcpoolkz").content.decode()
    assert "No workers match" in none or "All <strong>0</strong>" in none


def test_workers_sort_and_page_keep_the_filters(alice, polled_sources) -> None:
    body = client_for(alice).get("/workers/?status=online&sort=-hashrate&page=2").content.decode()
    assert "Page 2 of" in body
    assert "status=online" in body and "sort=-hashrate" in body


def test_earnings_csv_holds_every_row_of_the_range(alice, polled_sources) -> None:
    response = client_for(alice).get("/earnings/earnings.csv?range=30d")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "date,source,coin,amount,value_brl,value_usd"
    assert len(lines) - 1 == 2 * 30


def test_the_workers_page_shows_no_template_comment(alice, polled_sources) -> None:
    body = client_for(alice).get("/workers/").content.decode()
    assert "{#" not in body and "#}" not in body
