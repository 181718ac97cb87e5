"""The simulated FlowBTC and btcchange24 APIs: documented shapes, a market that moves with the
clock and stands still within an instant, refusals, and the real clients reading full
snapshots from them over HTTP."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from dashboard.http import CredentialsRejected, HttpClient, UpstreamError
from dashboard.simulator import FrozenClock
from dashboard.simulator.btcchange24 import (
    API_KEY,
    DIRECTIONS,
    EXPORT_CODE,
    HISTORY_DAYS,
    MAINTENANCE_CODE,
)
from dashboard.simulator.flowbtc import BOOK_LEVELS, PRODUCTS
from dashboard.simulator.server import SimulatorServer
from dashboard.sources import PollContext
from exchanges.clients.btcchange24 import PARTNER_PATH, Btcchange24Client
from exchanges.clients.exchanger_base import ExchangerSnapshot
from exchanges.clients.flowbtc import FlowBtcClient
from exchanges.clients.flowbtc_models import FlowBtcSnapshot
from tests.simulated import frozen_simulator_fixtures

START = datetime(2025, 6, 15, 12, 3, 30, tzinfo=UTC)
CLOCK = FrozenClock(START)
TICKER_KEYS = {"BestBid", "BestOffer", "LastTradedPx", "LastTradedQty", "SessionOpen", "SessionHigh",
               "SessionLow", "SessionClose", "Volume", "CurrentDayVolume", "CurrentDayNumTrades",
               "CurrentDayPxChange", "Rolling24HrVolume", "Rolling24HrPxChange"}
LEVEL_KEYS = ["Accounts", "ActionDateTime", "LastTradePrice", "Orders", "Price", "Quantity"]


# Two APIs are read here, so each gets its own base-URL fixture below.
server, fresh, _ = frozen_simulator_fixtures(clock=CLOCK, start=START, prefix="flowbtc")


@pytest.fixture
def flow(server: SimulatorServer) -> str:
    return server.base_url("flowbtc")


@pytest.fixture
def change(server: SimulatorServer) -> str:
    return server.base_url("btcchange24")


def envelope(url: str, **params: Any) -> dict[str, Any]:
    response = requests.get(url, params=params, timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["status", "data", "message"]
    assert (body["status"], body["message"]) == ("success", None)
    return body["data"]


def partner(base: str, method: str, key: str = API_KEY, **params: Any) -> dict[str, Any]:
    query = {"api_action": "pp", "api_key": key, "method": method, **params}
    response = requests.get(base + PARTNER_PATH, params=query, timeout=5)
    assert response.status_code == 200
    return response.json()


def export(base: str, fmt: str, code: str = EXPORT_CODE) -> requests.Response:
    return requests.get(f"{base}/service/export/{fmt}/{code}", timeout=5)


# -- FlowBTC --


@pytest.mark.parametrize("product", list(PRODUCTS))
def test_the_book_has_the_documented_shape(flow: str, product: str) -> None:
    book = envelope(f"{flow}/book/{product}", depth=BOOK_LEVELS)
    assert list(book) == ["bids", "asks"]
    bids, asks = book["bids"], book["asks"]
    assert len(bids) == len(asks) == BOOK_LEVELS
    assert all(list(row) == LEVEL_KEYS for row in bids + asks)
    assert all(isinstance(row["Price"], int | float) for row in bids + asks)
    bid_prices, ask_prices = [r["Price"] for r in bids], [r["Price"] for r in asks]
    assert bid_prices == sorted(bid_prices, reverse=True) and ask_prices == sorted(ask_prices)
    assert bid_prices[0] < ask_prices[0]
    assert bid_prices[0] <= bids[0]["LastTradePrice"] <= ask_prices[0]


def test_depth_defaults_to_ten_and_cuts_the_book(flow: str) -> None:
    assert [len(side) for side in envelope(f"{flow}/book/BTCBRL").values()] == [10, 10]
    assert [len(side) for side in envelope(f"{flow}/v1/book/BTCBRL", depth=3).values()] == [3, 3]
    refused = requests.get(f"{flow}/book/BTCBRL", params={"depth": "0"}, timeout=5)
    assert refused.status_code == 400 and refused.json()["status"] == "error"


@pytest.mark.parametrize("product", list(PRODUCTS))
def test_the_ticker_agrees_with_the_book(flow: str, product: str) -> None:
    ticker = envelope(f"{flow}/ticker/{product}")
    book = envelope(f"{flow}/book/{product}")
    assert set(ticker) >= TICKER_KEYS
    assert ticker["BestBid"] == book["bids"][0]["Price"]
    assert ticker["BestOffer"] == book["asks"][0]["Price"]
    assert ticker["BestBid"] <= ticker["LastTradedPx"] <= ticker["BestOffer"]
    assert ticker["SessionLow"] <= ticker["LastTradedPx"] <= ticker["SessionHigh"]
    assert ticker["SessionLow"] <= ticker["SessionOpen"] <= ticker["SessionHigh"]
    assert ticker["Rolling24HrVolume"] > ticker["Volume"] > 0


def test_an_unknown_product_is_refused_in_the_envelope(flow: str) -> None:
    for endpoint in ("book", "ticker"):
        response = requests.get(f"{flow}/{endpoint}/DOGEBRL", timeout=5)
        assert response.status_code == 404
        body = response.json()
        assert body["status"] == "error" and body["data"] is None and "DOGEBRL" in body["message"]


def test_the_market_moves_with_the_clock_and_not_within_an_instant(flow: str) -> None:
    first = envelope(f"{flow}/ticker/BTCBRL"), envelope(f"{flow}/book/BTCBRL")
    assert (envelope(f"{flow}/ticker/BTCBRL"), envelope(f"{flow}/book/BTCBRL")) == first
    CLOCK.advance(timedelta(minutes=5))
    later = envelope(f"{flow}/ticker/BTCBRL"), envelope(f"{flow}/book/BTCBRL")
    assert later[0]["LastTradedPx"] != first[0]["LastTradedPx"]
    assert later[1]["bids"][0]["Price"] != first[1]["bids"][0]["Price"]
    CLOCK.advance(timedelta(days=3))
    moved = envelope(f"{flow}/ticker/BTCBRL")["LastTradedPx"]
    assert moved == pytest.approx(first[0]["LastTradedPx"], rel=0.15) and moved != first[0]["LastTradedPx"]


def flow_snapshot(base: str, **options: str) -> FlowBtcSnapshot:
    ctx = PollContext(base_url=base, credentials={}, options=options, http=HttpClient(retries=0),
                      now=CLOCK.now)
    return FlowBtcClient(ctx).fetch()


def test_the_flowbtc_client_reads_a_full_snapshot(server: SimulatorServer, flow: str) -> None:
    snapshot = flow_snapshot(flow)
    assert snapshot.problems == []
    assert set(snapshot.books) == set(snapshot.tickers) == set(PRODUCTS)
    for product, book in snapshot.books.items():
        assert len(book.bids) == len(book.asks) == 10 and book.as_of is not None
        ticker = snapshot.tickers[product]
        assert (ticker.bid, ticker.ask) == (book.best_bid, book.best_ask)
        assert ticker.low <= ticker.last <= ticker.high
    assert sum(server.simulator.request_counts()["flowbtc"].values()) == 2 * len(PRODUCTS)
    deep = flow_snapshot(flow + "/v1", products="ETHBTC", depth="20")
    assert len(deep.books["ETHBTC"].asks) == BOOK_LEVELS


def test_the_flowbtc_client_fails_transiently_on_an_outage(server: SimulatorServer, flow: str) -> None:
    server.simulator.set_fault("flowbtc", "http_500", count=1)
    with pytest.raises(UpstreamError) as caught:
        flow_snapshot(flow)
    assert not caught.value.permanent


# -- btcchange24 --


def test_the_exports_list_the_same_directions_in_every_format(change: str) -> None:
    xml = ET.fromstring(export(change, "xml").text)  # noqa: S314 - our own simulator's answer
    xml_rows = [{c.tag: c.text or "" for c in item} for item in xml.iter("item")]
    json_rows = export(change, "json").json()["rates"]
    txt_rows = [line.removesuffix(";").split(";") for line in export(change, "txt").text.splitlines()]
    assert len(xml_rows) == len(json_rows) == len(txt_rows) == len(DIRECTIONS) >= 15
    for x, j, t in zip(xml_rows, json_rows, txt_rows, strict=True):
        assert [x["from"], x["to"], x["in"], x["out"], x["amount"]] == t
        assert (j["from"], j["to"], j["in"], j["out"], j["amount"]) == (
            t[0], t[1], float(t[2]), float(t[3]), float(t[4]))
        assert "1" in (x["in"], x["out"]) and float(x["amount"]) > 0
    assert any(line.endswith(";") for line in export(change, "txt").text.splitlines())
    assert any("param" in row for row in xml_rows) and any("options" in row for row in json_rows)


def test_rates_and_reserves_move_over_time(change: str) -> None:
    first = export(change, "txt").text
    assert export(change, "txt").text == first
    CLOCK.advance(timedelta(minutes=10))
    later = export(change, "txt").text
    assert later != first
    CLOCK.advance(timedelta(hours=2))
    reserves = [line.split(";")[4] for line in export(change, "txt").text.splitlines()]
    assert reserves != [line.split(";")[4] for line in first.splitlines()]


def test_maintenance_and_unknown_codes(change: str) -> None:
    assert "<error>Maintenance</error>" in export(change, "xml", MAINTENANCE_CODE).text
    assert export(change, "json", MAINTENANCE_CODE).json() == {"error": "Maintenance"}
    assert export(change, "txt", MAINTENANCE_CODE).text == "Maintenance"
    assert export(change, "json", "nope").status_code == 404
    assert export(change, "csv").status_code == 404


def test_partner_info_has_the_documented_shape(change: str) -> None:
    body = partner(change, "get_info")
    assert (body["status"], body["error"], body["error_text"]) == ("success", 0, "")
    assert list(body["data"]) == ["balance", "totalReceived", "link", "min_payout", "items"]
    assert body["data"]["balance"] > 0 and body["data"]["totalReceived"] > 0


def test_partner_rows_cover_ninety_days_and_respect_the_window(change: str) -> None:
    now = int(START.timestamp())
    for method, least in (("get_exchanges", 150), ("get_links", 1000)):
        items = partner(change, method)["data"]["items"]
        assert len(items) >= least
        assert all(key == str(row["id"]) for key, row in items.items())
        times = [row["time"] for row in items.values()]
        assert now - HISTORY_DAYS * 86400 <= min(times) and max(times) <= now
        assert max(times) - min(times) > (HISTORY_DAYS - 2) * 86400
        start, end = now - 10 * 86400, now - 5 * 86400
        window = partner(change, method, start_time=start, end_time=end)["data"]["items"]
        assert window == {k: r for k, r in items.items() if start <= r["time"] <= end}
    row = next(iter(partner(change, "get_exchanges")["data"]["items"].values()))
    assert list(row) == ["id", "time", "date", "course_give", "course_get", "amount_give",
                         "amount_get", "exchange_success", "accrued", "partner_reward", "user_hash"]
    empty = partner(change, "get_links", start_time=now - 60, end_time=now - 61)
    assert empty["data"]["items"] == []


def test_partner_rows_are_fixed_as_the_clock_moves(change: str) -> None:
    before = partner(change, "get_exchanges")["data"]["items"]
    assert partner(change, "get_exchanges")["data"]["items"] == before
    CLOCK.advance(timedelta(days=2))
    after = partner(change, "get_exchanges")["data"]["items"]
    shared = set(before) & set(after)
    assert shared and set(after) - set(before) and set(before) - set(after)
    assert all(before[k]["time"] == after[k]["time"] for k in shared)


def test_a_wrong_key_answers_the_error_envelope(change: str) -> None:
    for method in ("get_info", "get_exchanges", "get_links"):
        body = partner(change, method, key="sim-partner-key-0")
        assert body["status"] == "error" and body["error"] != 0 and "key" in body["error_text"]
    assert partner(change, "get_balance")["error"] != 0


def change_snapshot(base: str, fmt: str = "xml", code: str = EXPORT_CODE, key: str = API_KEY,
                    last_success_at: datetime | None = None) -> ExchangerSnapshot:
    ctx = PollContext(
        base_url=base, credentials={"api_key": key},
        options={"export_format": fmt, "export_code": code, "history_days": "90"},
        http=HttpClient(retries=0), now=CLOCK.now, last_success_at=last_success_at,
    )
    return Btcchange24Client(ctx).fetch()


@pytest.mark.parametrize("fmt", ["xml", "json", "txt"])
def test_the_btcchange24_client_reads_a_full_snapshot(change: str, fmt: str) -> None:
    snapshot = change_snapshot(change, fmt)
    assert snapshot.problems == []
    assert len(snapshot.rates) == len(DIRECTIONS)
    assert snapshot.info is not None and snapshot.info.link
    assert len(snapshot.exchanges) >= 150 and len(snapshot.clicks) >= 1000
    assert any(e.succeeded and e.accrued for e in snapshot.exchanges)
    later = change_snapshot(change, fmt, last_success_at=START - timedelta(hours=3))
    assert 0 < len(later.clicks) < 30


def test_the_btcchange24_client_reports_maintenance_and_a_wrong_key(change: str) -> None:
    for fmt in ("xml", "json", "txt"):
        with pytest.raises(UpstreamError) as caught:
            change_snapshot(change, fmt, MAINTENANCE_CODE)
        assert caught.value.reason == "unavailable" and "Maintenance" in caught.value.message
    with pytest.raises(CredentialsRejected):
        change_snapshot(change, key="sim-partner-key-0")
