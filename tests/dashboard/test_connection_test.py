""""Test connection" on the source forms: one fetch through each kind's client against the
simulated upstreams, answered in words, with nothing stored."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.services import source_create
from simulator import btccom, btcpoolkz, sbicrypto
from simulator.btcchange24 import API_KEY, EXPORT_CODE
from simulator.server import SimulatorServer
from tests.conftest import SECRET, client_for

HTMX = {"HTTP_HX_REQUEST": "true"}
WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture(autouse=True)
def _fresh_budget() -> None:
    cache.clear()  # the per-user budget lives in the shared cache, beyond the test database


def form(label: str = "Tested", **fields: str) -> dict[str, str]:
    return {"label": label, "interval": "60", "enabled": "on", **fields}


def kind_forms(simulator: SimulatorServer) -> dict[str, dict[str, str]]:
    return {
        "btccom": form(base_url=simulator.base_url("btccom"),
                       credential_access_key=btccom.ALPHA.access_key,
                       credential_puid=str(btccom.ALPHA.puid)),
        "btcpoolkz": form(base_url=simulator.base_url("btcpoolkz"), option_currency="BTC",
                          credential_api_key=btcpoolkz.ALPHA.api_key),
        "sbicrypto": form(base_url=simulator.base_url("sbicrypto"), option_currency="BTC",
                          option_stats_url=f"{simulator.url}/sbicrypto-stats/poolstats",
                          credential_observer_key=sbicrypto.BRAVO.observer_key),
        "flowbtc": form(base_url=simulator.base_url("flowbtc"), option_products="BTCBRL"),
        "btcchange24": form(base_url=simulator.base_url("btcchange24"),
                            option_export_code=EXPORT_CODE, credential_api_key=API_KEY),
    }


# What each kind's answer names: the account's figures, or the market's.
EXPECTED = {
    "btccom": ["workers", "balance", "BTC"],
    "btcpoolkz": ["workers", "balance", "BTC"],
    "sbicrypto": ["workers"],
    "flowbtc": ["BTCBRL last", "bids", "asks"],
    "btcchange24": ["rates in the export", "partner balance"],
}


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_it_connects_every_kind_and_stores_nothing(alice, simulator, kind) -> None:
    client = client_for(alice)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/settings/sources/new/{kind}/test/", kind_forms(simulator)[kind],
                               **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Connected: " in body, body
    assert all(word in body for word in EXPECTED[kind]), body
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].lstrip().upper().startswith(WRITES) and "django_session" not in q["sql"]]
    assert writes == []
    # The fragment alone: htmx swaps it into the form.
    assert "<form" not in body and 'id="connection-test"' in body


def test_it_says_the_pool_refused_a_wrong_key(alice, simulator) -> None:
    data = kind_forms(simulator)["btccom"] | {"credential_access_key": "sim-ak-wrong-key"}
    body = client_for(alice).post("/settings/sources/new/btccom/test/", data, **HTMX).content.decode()
    # BTC.com answers a wrong key with a documented error number, not an HTTP status.
    assert "BTC.com pool refused the key: check the Access key and PUID" in body
    assert "err_no 20001" in body
    assert "sim-ak-wrong-key" not in body


def test_a_wrong_btcpoolkz_key_is_named(alice, simulator) -> None:
    data = kind_forms(simulator)["btcpoolkz"] | {"credential_api_key": "sim-kz-nobody"}
    body = client_for(alice).post("/settings/sources/new/btcpoolkz/test/", data, **HTMX).content.decode()
    assert "BTCpool.kz refused the key (HTTP 403): check the API key." in body
    assert "sim-kz-nobody" not in body


def test_an_edit_with_an_empty_key_field_tests_the_stored_key(alice, team, simulator) -> None:
    source = source_create(team=team, kind="btccom", label="Alpha", base_url=simulator.base_url("btccom"),
                           credentials={"access_key": btccom.ALPHA.access_key,
                                        "puid": str(btccom.ALPHA.puid)})
    data = form(label="Alpha", base_url=simulator.base_url("btccom"), option_region="us")
    body = client_for(alice).post(f"/settings/sources/{source.pk}/test/", data, **HTMX).content.decode()
    assert "Connected: " in body
    assert btccom.ALPHA.access_key not in body
    # A key typed into the field is the one tested.
    data["credential_access_key"] = "sim-ak-typed-wrong"
    body = client_for(alice).post(f"/settings/sources/{source.pk}/test/", data, **HTMX).content.decode()
    assert "refused the key" in body
    source.refresh_from_db()
    assert source.credentials["access_key"] == btccom.ALPHA.access_key and source.last_poll_at is None


def test_an_address_nobody_answers_is_named(alice) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    data = form(base_url=f"http://127.0.0.1:{port}", credential_api_key=SECRET)
    body = client_for(alice).post("/settings/sources/new/btcpoolkz/test/", data, **HTMX).content.decode()
    assert f"Could not reach 127.0.0.1:{port}: could not connect" in body


@pytest.fixture
def silent_upstream() -> Iterator[str]:
    """An address that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_a_silent_upstream_times_out_with_the_poll_timeout(alice, silent_upstream, settings) -> None:
    settings.HTTP_TIMEOUT_SECONDS = 1
    data = form(base_url=silent_upstream, credential_api_key=SECRET)
    body = client_for(alice).post("/settings/sources/new/btcpoolkz/test/", data, **HTMX).content.decode()
    host = silent_upstream.removeprefix("http://")
    assert f"Could not reach {host}: timed out after 1 s." in body


def test_missing_fields_are_named_before_any_call(alice, simulator) -> None:
    data = form(base_url=simulator.base_url("btccom"), credential_access_key="only-half")
    body = client_for(alice).post("/settings/sources/new/btccom/test/", data, **HTMX).content.decode()
    assert "Not tested: BTC.com pool needs access_key and puid" in body


def test_it_is_rate_limited_per_user(alice, carol, simulator, settings) -> None:
    settings.CONNECTION_TESTS_PER_MINUTE = 2
    data = kind_forms(simulator)["flowbtc"]
    client = client_for(alice)
    answers = [client.post("/settings/sources/new/flowbtc/test/", data) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Too many connection tests in the last minute" in answers[2].content.decode()
    # Another user has a budget of their own.
    assert client_for(carol).post("/settings/sources/new/flowbtc/test/", data).status_code == 200


def test_without_javascript_the_whole_form_comes_back_without_the_key(alice, simulator) -> None:
    data = kind_forms(simulator)["btcpoolkz"]
    response = client_for(alice).post("/settings/sources/new/btcpoolkz/test/", data)
    body = response.content.decode()
    assert response.status_code == 200 and "<form" in body and "Connected: " in body
    assert btcpoolkz.ALPHA.api_key not in body
    assert "Type the key again before saving" in body
    assert 'value="Tested"' in body  # what was typed, but the key, stays in the form


def test_viewers_cannot_test_and_other_teams_sources_are_404(bob, charlie, alice, team, simulator) -> None:
    source = source_create(team=team, kind="flowbtc", label="Flow", base_url=simulator.base_url("flowbtc"),
                           credentials={})
    data: dict[str, Any] = kind_forms(simulator)["flowbtc"]
    assert client_for(bob).post("/settings/sources/new/flowbtc/test/", data).status_code == 403
    assert client_for(bob).post(f"/settings/sources/{source.pk}/test/", data).status_code == 403
    assert client_for(charlie).post(f"/settings/sources/{source.pk}/test/", data).status_code == 404
    assert client_for(alice).get("/settings/sources/new/flowbtc/test/").status_code == 405


def test_the_forms_offer_the_button(alice, team, simulator) -> None:
    source = source_create(team=team, kind="flowbtc", label="Flow", base_url=simulator.base_url("flowbtc"),
                           credentials={})
    for url, action in (("/settings/sources/new/btccom/", "/settings/sources/new/btccom/test/"),
                        (f"/settings/sources/{source.pk}/edit/", f"/settings/sources/{source.pk}/test/")):
        body = client_for(alice).get(url).content.decode()
        assert f'formaction="{action}"' in body and f'hx-post="{action}"' in body
        assert ">Test connection</button>" in body
