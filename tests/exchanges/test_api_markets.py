"""/api/v1/orderbook and /api/v1/ticker: decimal strings, depth, errors, team scope, tokens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from dashboard.models import Source
from dashboard.services import apitoken_create, source_create
from exchanges import live
from exchanges import models as m
from exchanges.clients.flowbtc_models import OrderBook, Ticker
from exchanges.ingest import books_store, tickers_store
from tests.conftest import client_for

BOOK = OrderBook(
    product="BTCBRL",
    bids=[(Decimal("349950.00"), Decimal("0.10000000")), (Decimal("349900.5"), Decimal("1.25")),
          (Decimal("349800"), Decimal("0.00000001"))],
    asks=[(Decimal("350050.00"), Decimal("0.12")), (Decimal("350100"), Decimal("2")),
          (Decimal("351000.75"), Decimal("12.5"))],
    as_of=None,
)


@pytest.fixture
def flow(team) -> Iterator[Source]:
    source = source_create(team=team, kind="flowbtc", label="FlowBTC", credentials={})
    now = timezone.now()
    stored = OrderBook(BOOK.product, BOOK.bids, BOOK.asks, now - timedelta(seconds=9))
    books_store(source=source, books=[stored], origin=m.Origin.REST, now=now)
    tickers_store(source=source, tickers=[Ticker(
        product="BTCBRL", last=Decimal("350010.00"), bid=Decimal("349950.00"), ask=Decimal("350050.00"),
        high=Decimal("357000"), low=Decimal("339500.5"), volume=Decimal("0.00000010"),
        as_of=now - timedelta(seconds=3))], origin=m.Origin.REST, now=now)
    yield source
    cache.delete_many([live.book_key(source.pk, "BTCBRL"), live.status_key(source.pk)])


@pytest.fixture
def api(team) -> Client:
    _, token = apitoken_create(team=team)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_the_orderbook_is_decimal_strings_best_first(api, flow) -> None:
    body = api.get(f"/api/v1/orderbook?source={flow.pk}&product=BTCBRL").json()
    assert body["bids"] == [["349950", "0.1"], ["349900.5", "1.25"], ["349800", "0.00000001"]]
    assert body["asks"] == [["350050", "0.12"], ["350100", "2"], ["351000.75", "12.5"]]
    stored = m.OrderBook.objects.get(source=flow)
    assert body["as_of"] == stored.as_of.isoformat().replace("+00:00", "Z")
    assert body["received_at"].endswith("Z") and body["live"] is False
    values = [value for side in ("bids", "asks") for level in body[side] for value in level]
    assert all("e" not in value.lower() for value in values)


def test_depth_cuts_each_side(api, flow) -> None:
    body = api.get(f"/api/v1/orderbook?source={flow.pk}&product=btcbrl&depth=2").json()
    assert len(body["bids"]) == len(body["asks"]) == 2
    assert body["bids"][0] == ["349950", "0.1"]
    assert len(api.get(f"/api/v1/orderbook?source={flow.pk}&product=BTCBRL&depth=500").json()["bids"]) == 3


def test_the_live_book_wins_over_the_stored_one(api, flow) -> None:
    now = timezone.now()
    fresh = OrderBook("BTCBRL", [(Decimal("350500.01"), Decimal("0.3"))],
                      [(Decimal("350600"), Decimal("0.4"))], now)
    live.book_publish(source_id=flow.pk, book=fresh, now=now)
    body = api.get(f"/api/v1/orderbook?source={flow.pk}&product=BTCBRL").json()
    assert body["live"] is True
    assert body["bids"] == [["350500.01", "0.3"]] and body["asks"] == [["350600", "0.4"]]


@pytest.mark.parametrize("query", [
    "depth=0", "depth=501", "depth=abc", "depth=-1", "depth=2.5", "product=",
])
def test_bad_orderbook_parameters_are_400(api, flow, query) -> None:
    product = "" if query.startswith("product") else "product=BTCBRL&"
    response = api.get(f"/api/v1/orderbook?source={flow.pk}&{product}{query}")
    assert response.status_code == 400
    assert response.json()["error"]


def test_a_missing_product_is_400_and_an_unknown_one_404(api, flow) -> None:
    missing = api.get(f"/api/v1/orderbook?source={flow.pk}")
    assert missing.status_code == 400 and "product" in missing.json()["error"]
    assert api.get(f"/api/v1/ticker?source={flow.pk}").status_code == 400
    unknown = api.get(f"/api/v1/orderbook?source={flow.pk}&product=DOGEBRL")
    assert unknown.status_code == 404 and "DOGEBRL" in unknown.json()["error"]
    assert api.get(f"/api/v1/ticker?source={flow.pk}&product=ETHBRL").status_code == 404


def test_the_ticker_is_decimal_strings(api, flow) -> None:
    body = api.get(f"/api/v1/ticker?source={flow.pk}&product=BTCBRL").json()
    row = m.Ticker.objects.get(source=flow)
    assert body == {
        "as_of": row.as_of.isoformat().replace("+00:00", "Z"),
        "received_at": row.updated_at.isoformat().replace("+00:00", "Z"),
        "last": "350010", "bid": "349950", "ask": "350050", "high": "357000", "low": "339500.5",
        "volume": "0.0000001",
    }


def test_a_low_the_exchange_did_not_send_is_null(api, flow) -> None:
    m.Ticker.objects.filter(source=flow).update(low=None)
    body = api.get(f"/api/v1/ticker?source={flow.pk}&product=BTCBRL").json()
    assert body["low"] is None and body["high"] == "357000"


def test_another_teams_source_is_404(flow, other_team) -> None:
    _, token = apitoken_create(team=other_team)
    theirs = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    for endpoint in ("orderbook", "ticker"):
        response = theirs.get(f"/api/v1/{endpoint}?source={flow.pk}&product=BTCBRL")
        assert response.status_code == 404
        assert "BTCBRL" not in response.content.decode() and "349950" not in response.content.decode()


def test_a_source_of_another_kind_is_400(api, source) -> None:
    response = api.get(f"/api/v1/orderbook?source={source.pk}&product=BTCBRL")
    assert response.status_code == 400 and "not a flowbtc source" in response.json()["error"]


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic dXNlcjpwYXNz"])
def test_it_needs_a_valid_token_or_a_session(flow, header) -> None:
    client = Client(HTTP_AUTHORIZATION=header) if header else Client()
    response = client.get(f"/api/v1/orderbook?source={flow.pk}&product=BTCBRL")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_member_can_read_with_the_session(bob, flow) -> None:
    response = client_for(bob).get(f"/api/v1/ticker?source={flow.pk}&product=BTCBRL")
    assert response.status_code == 200 and response.json()["last"] == "350010"
