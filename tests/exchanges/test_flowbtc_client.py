"""FlowBTC REST client against the documented bodies, with HTTP faked at the transport."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from dashboard.http import HttpClient, SchemaError, UpstreamError
from dashboard.sources import PollContext
from exchanges.clients.flowbtc import PRODUCTS, FlowBtcClient
from exchanges.clients.flowbtc_models import from_millis

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "flowbtc"
BASE = "https://publicapi.flowbtc.com.br/v1"
NOW = datetime(2024, 3, 3, 12, 0, tzinfo=UTC)
D = Decimal


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def make_client(**options: str) -> FlowBtcClient:
    http = HttpClient(retries=0, backoff=0, sleep=lambda seconds: None)
    ctx = PollContext(base_url=BASE + "/", credentials={}, options=options, http=http, now=NOW)
    return FlowBtcClient(ctx)


@pytest.fixture
def upstream() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def book_query(depth: int = 10) -> Any:
    """The book takes its depth and nothing else."""
    return responses.matchers.query_param_matcher({"depth": str(depth)}, strict_match=True)


# The ticker takes no parameter at all.
TICKER_QUERY = responses.matchers.query_param_matcher({}, strict_match=True)


def serve(upstream: responses.RequestsMock, product: str = "BTCBRL", *,
          book: Any = None, ticker: Any = None, depth: int = 10) -> None:
    """Both endpoints of a product answer, by default with the documented examples; a request
    with other parameters matches nothing, and the mock then fails it."""
    upstream.get(f"{BASE}/book/{product}", json=book or payload("book-BTCBRL"),
                 match=[book_query(depth)])
    upstream.get(f"{BASE}/ticker/{product}", json=ticker or payload("ticker-BTCBRL"),
                 match=[TICKER_QUERY])


def test_the_envelope_example_is_the_documented_shape() -> None:
    body = payload("envelope-example")
    assert set(body) == {"status", "data", "message"} and body["status"] == "success"


def test_it_parses_the_documented_book(upstream: responses.RequestsMock) -> None:
    upstream.get(f"{BASE}/book/BTCBRL", json=payload("book-BTCBRL"), match=[book_query(5)])
    book = make_client().book("BTCBRL", 5)

    assert parse_qs(urlsplit(upstream.calls[0].request.url).query) == {"depth": ["5"]}
    assert book.bids == [(D("25941.84"), D("0.05")), (D("25941.44"), D("0.00291455"))]
    assert book.asks == [(D("26181.66"), D("0.15")), (D("26300"), D("0.04327948"))]
    assert (book.best_bid, book.best_ask) == (D("25941.84"), D("26181.66"))
    assert book.as_of == from_millis(1534795656358)
    assert book.as_of == datetime(2018, 8, 20, 20, 7, 36, 358000, tzinfo=UTC)


def test_it_parses_the_documented_ticker(upstream: responses.RequestsMock) -> None:
    upstream.get(f"{BASE}/ticker/BTCBRL", json=payload("ticker-BTCBRL"), match=[TICKER_QUERY])
    ticker = make_client().ticker("BTCBRL")

    assert (ticker.last, ticker.bid, ticker.ask) == (D("24380.1"), D("24280.08"), D("24518.21"))
    assert (ticker.high, ticker.low, ticker.volume) == (D("27100"), D("24380.1"), D("0.83041127"))
    assert ticker.as_of == NOW  # the example has no LastTradeTime
    # The exchange's own figures are kept, not dropped.
    assert (ticker.session_open, ticker.session_close) == (D("25786.16"), D("25590"))
    assert ticker.last_quantity == D("0.01")
    assert ticker.change_24h_pct == D("-4.874442973476934")
    assert ticker.day_change == D("-1209.9")


def test_it_reads_the_ticker_as_the_prose_describes_it(upstream: responses.RequestsMock) -> None:
    """An array of objects carrying the field list's properties, which has no SessionLow."""
    upstream.get(f"{BASE}/ticker/BTCBRL", json=payload("ticker-array"), match=[TICKER_QUERY])
    ticker = make_client().ticker("BTCBRL")

    assert (ticker.last, ticker.bid, ticker.ask) == (D("24380.1"), D("24280.08"), D("24518.21"))
    assert (ticker.high, ticker.low, ticker.volume) == (D("27100"), None, D("0.83041127"))
    assert ticker.as_of == from_millis(1534795656358)
    assert (ticker.change_24h_pct, ticker.day_change) == (D("-4.874442973476934"), D("-1209.9"))


def test_a_ticker_without_the_example_only_low_is_kept(upstream: responses.RequestsMock) -> None:
    body = payload("ticker-BTCBRL")
    del body["data"]["SessionLow"]
    serve(upstream, ticker=body)
    snapshot = make_client(products="BTCBRL").fetch()

    assert snapshot.problems == []
    assert snapshot.tickers["BTCBRL"].low is None and snapshot.tickers["BTCBRL"].high == D("27100")


@pytest.mark.parametrize("missing", ["SessionOpen", "SessionClose", "LastTradedQty",
                                     "Rolling24HrPxChange", "CurrentDayPxChange"])
def test_the_exchange_s_own_figures_are_optional(upstream: responses.RequestsMock,
                                                 missing: str) -> None:
    body = payload("ticker-BTCBRL")
    del body["data"][missing]
    serve(upstream, ticker=body)
    snapshot = make_client(products="BTCBRL").fetch()
    assert snapshot.problems == [] and snapshot.tickers["BTCBRL"].last == D("24380.1")


def test_an_array_picks_the_entry_naming_the_product(upstream: responses.RequestsMock) -> None:
    entry = payload("ticker-array")["data"][0]
    body = {"status": "success", "message": None, "data": [
        {**entry, "Product": "ETHBRL", "LastTradedPx": 9000}, {**entry, "Product": "BTCBRL"}]}
    upstream.get(f"{BASE}/ticker/BTCBRL", json=body, match=[TICKER_QUERY])
    assert make_client().ticker("BTCBRL").last == D("24380.1")


def test_an_empty_ticker_array_is_a_problem_not_a_failure(upstream: responses.RequestsMock) -> None:
    serve(upstream, ticker={"status": "success", "data": [], "message": None})
    snapshot = make_client(products="BTCBRL").fetch()
    assert snapshot.tickers == {} and "BTCBRL" in snapshot.books
    assert snapshot.problems == ["ticker BTCBRL skipped: ticker BTCBRL is an empty list"]


def test_numbers_as_strings_parse_and_sort_best_first(upstream: responses.RequestsMock) -> None:
    serve(upstream, book=payload("book-strings"), ticker=payload("ticker-strings"), depth=3)
    client = make_client(products="btcbrl", depth="3")
    snapshot = client.fetch()

    book, ticker = snapshot.books["BTCBRL"], snapshot.tickers["BTCBRL"]
    assert book.bids == [(D("25941.84"), D("0.05")), (D("25941.44"), D("0.00291455"))]
    assert [price for price, _ in book.asks] == [D("26181.66"), D("26300")]
    assert ticker.volume == D("0.83041127") and ticker.last == D("24380.1")
    assert ticker.as_of == from_millis(1534795656358)
    assert snapshot.problems == ["book BTCBRL bids record 3 skipped: Price is not a number: '-'"]
    assert parse_qs(urlsplit(upstream.calls[0].request.url).query) == {"depth": ["3"]}


def test_fetch_reads_every_documented_product_by_default(upstream: responses.RequestsMock) -> None:
    for product in PRODUCTS:
        serve(upstream, product)
    snapshot = make_client().fetch()

    assert list(snapshot.books) == list(snapshot.tickers) == list(PRODUCTS)
    assert snapshot.fetched_at == NOW and snapshot.problems == []
    for call in upstream.calls:
        if "/book/" in call.request.url:
            assert parse_qs(urlsplit(call.request.url).query) == {"depth": ["10"]}


def test_a_ticker_that_does_not_parse_is_a_problem_not_a_failure(
    upstream: responses.RequestsMock,
) -> None:
    broken = payload("ticker-BTCBRL")
    del broken["data"]["BestBid"]
    serve(upstream, ticker=broken)
    snapshot = make_client(products="BTCBRL").fetch()

    assert snapshot.tickers == {} and "BTCBRL" in snapshot.books
    assert snapshot.problems == ["ticker BTCBRL skipped: field BestBid is missing"]


def test_an_error_envelope_with_http_200_raises_its_message(upstream: responses.RequestsMock) -> None:
    upstream.get(f"{BASE}/ticker/ETHBRL", json=payload("error"), match=[TICKER_QUERY])
    with pytest.raises(UpstreamError) as caught:
        make_client().ticker("ETHBRL")
    assert caught.value.message == (
        "FlowBTC refused the request for ETHBRL: Serviço temporariamente indisponível"
    )
    assert not caught.value.permanent


@pytest.mark.parametrize("status", [200, 404])
def test_an_unknown_product_is_explained(upstream: responses.RequestsMock, status: int) -> None:
    upstream.get(f"{BASE}/book/DOGEBRL", json=payload("unknown-product"), status=status,
                 match=[book_query()])
    with pytest.raises(UpstreamError) as caught:
        make_client().book("DOGEBRL")
    assert caught.value.permanent and caught.value.reason == "not_found"
    assert "does not know product 'DOGEBRL' (Produto não encontrado)" in caught.value.message
    assert "BTCBRL, ETHBRL, ETHBTC, LTCBRL, BCHBRL, XRPBRL" in caught.value.message


def test_an_unknown_product_without_envelope_is_explained(upstream: responses.RequestsMock) -> None:
    upstream.get(f"{BASE}/ticker/DOGEBRL", body="<html>Not Found</html>", status=404,
                 match=[TICKER_QUERY])
    with pytest.raises(UpstreamError, match=r"does not know product 'DOGEBRL' \(HTTP 404\)"):
        make_client().ticker("DOGEBRL")


def test_an_unknown_product_in_the_options_is_refused_before_any_call() -> None:
    with pytest.raises(UpstreamError, match="FlowBTC has no product DOGEBRL; it offers BTCBRL") as caught:
        make_client(products="BTCBRL, DOGEBRL")
    assert caught.value.permanent


@pytest.mark.parametrize("depth", ["0", "-3", "ten"])
def test_a_bad_depth_is_refused(depth: str) -> None:
    with pytest.raises(UpstreamError, match="option depth must be a whole number above 0"):
        make_client(depth=depth)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": "weird", "data": {}}, "without a known status: 'weird'"),
        ({"status": "success"}, "field data is missing"),
        ([1, 2], "answer is not an object but list"),
        ({"status": "success", "data": {"bids": {}, "asks": []}}, "bids is not a list but dict"),
    ],
)
def test_malformed_answers_are_schema_errors(
    upstream: responses.RequestsMock, body: Any, message: str,
) -> None:
    upstream.get(f"{BASE}/book/BTCBRL", json=body, match=[book_query()])
    with pytest.raises(SchemaError, match=message):
        make_client().book("BTCBRL")


def test_a_non_json_answer_is_a_schema_error(upstream: responses.RequestsMock) -> None:
    upstream.get(f"{BASE}/ticker/BTCBRL", body="<html>maintenance</html>", match=[TICKER_QUERY])
    with pytest.raises(SchemaError, match="is not JSON"):
        make_client().ticker("BTCBRL")
