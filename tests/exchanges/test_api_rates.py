"""GET /api/v1/rates: a btcchange24 source's current rate table, amounts as decimal strings."""

from __future__ import annotations

from decimal import Decimal

from django.test import Client

from dashboard.models import Source, Team
from dashboard.services import apitoken_create
from exchanges.clients import exchanger_base as eb
from tests.conftest import client_for
from tests.exchanges.test_exchanger_ingest import NOW, exchanger_source, rate, snapshot, store


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def stored(team: Team) -> Source:
    source = exchanger_source(team, api_key="pk_test_0123456789")
    store(source, snapshot(
        rate("BTC", "USDTTRC20", "1", "63000.50", "180000", min_amount=Decimal("0.0015"),
             max_amount=Decimal("0.8"), amount_currency="BTC",
             to_fee=eb.Fee(Decimal("0.5"), is_percent=True), flags=("manual",)),
        rate("ETH", "BTC", "18.5", "1", "3.2"),
    ))
    return source


def test_it_answers_the_documented_shape_with_a_token(team: Team) -> None:
    source = stored(team)
    _, token = apitoken_create(team=team, name="monitor")
    response = Client().get(f"/api/v1/rates?source={source.pk}", **bearer(token))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["from"], r["to"]) for r in results] == [("BTC", "USDTTRC20"), ("ETH", "BTC")]
    btc = results[0]
    assert {k: btc[k] for k in ("from", "to", "in", "out", "reserve", "min", "max")} == {
        "from": "BTC", "to": "USDTTRC20", "in": "1", "out": "63000.5", "reserve": "180000",
        "min": "0.0015", "max": "0.8",
    }
    assert btc["amount_currency"] == "BTC" and btc["flags"] == ["manual"]
    assert btc["updated_at"] == NOW.isoformat().replace("+00:00", "Z")
    eth = results[1]
    assert (eth["in"], eth["out"], eth["min"], eth["max"]) == ("18.5", "1", None, None)
    assert all(isinstance(r[k], str) for r in results for k in ("in", "out", "reserve"))


def test_it_works_with_a_session_for_a_viewer(bob, team: Team) -> None:
    source = stored(team)
    response = client_for(bob).get(f"/api/v1/rates?source={source.pk}")
    assert response.status_code == 200 and len(response.json()["results"]) == 2


def test_a_source_without_rates_yet_answers_an_empty_list(team: Team) -> None:
    source = exchanger_source(team)
    _, token = apitoken_create(team=team)
    assert Client().get(f"/api/v1/rates?source={source.pk}", **bearer(token)).json() == {"results": []}


def test_another_kind_of_source_is_400(team: Team, source: Source) -> None:
    _, token = apitoken_create(team=team)
    response = Client().get(f"/api/v1/rates?source={source.pk}", **bearer(token))
    assert response.status_code == 400
    assert "not a btcchange24 source" in response.json()["error"]


def test_another_teams_source_is_404(team: Team, other_team: Team) -> None:
    source = stored(team)
    _, token = apitoken_create(team=other_team)
    response = Client().get(f"/api/v1/rates?source={source.pk}", **bearer(token))
    assert response.status_code == 404
    assert "BTC" not in response.content.decode()


def test_it_needs_a_source_and_a_valid_token(team: Team) -> None:
    source = stored(team)
    _, token = apitoken_create(team=team)
    assert Client().get("/api/v1/rates", **bearer(token)).status_code == 400
    assert Client().get(f"/api/v1/rates?source={source.pk}").status_code == 401
    assert Client().get(f"/api/v1/rates?source={source.pk}", **bearer("nope")).status_code == 401


def test_it_never_shows_the_partner_key(team: Team) -> None:
    source = stored(team)
    _, token = apitoken_create(team=team)
    body = Client().get(f"/api/v1/rates?source={source.pk}", **bearer(token)).content.decode()
    assert "pk_test_0123456789" not in body
