"""The simulated FlowBTC and btcchange24 APIs: documented shapes, a market that moves with the
clock and stands still within an instant, refusals, and the real clients reading full
snapshots from them over HTTP."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from django.conf import settings
from django.core.management import CommandError, call_command
from websockets.sync.client import ClientConnection, connect

from dashboard.http import CredentialsRejected, HttpClient, UpstreamError
from dashboard.sources import PollContext
from exchanges.clients.btcchange24 import PARTNER_PATH, Btcchange24Client
from exchanges.clients.exchanger_base import ExchangerSnapshot
from exchanges.clients.flowbtc import FlowBtcClient
from exchanges.clients.flowbtc_models import FlowBtcSnapshot
from exchanges.clients.flowbtc_protocol import INSTRUMENT_IDS
from simulator import FrozenClock
from simulator.btcchange24 import (
    API_KEY,
    DIRECTIONS,
    EXPORT_CODE,
    HISTORY_DAYS,
    MAINTENANCE_CODE,
)
from simulator.flowbtc import BOOK_LEVELS, PRODUCTS
from simulator.flowbtc.gateway import (
    SIM_2FA_USERNAME,
    SIM_PASSWORD,
    SIM_USERNAME,
    FlowBtcGateway,
)
from simulator.server import SimulatorServer
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


# -- FlowBTC gateway --


@pytest.fixture
def gateway() -> Iterator[FlowBtcGateway]:
    """The gateway on the same frozen clock and price path as the REST simulator."""
    with FlowBtcGateway(clock=CLOCK, tick_seconds=0.02) as running:
        yield running


class GatewaySession:
    """A bare gateway client: numbered calls, replies matched by number, events kept aside."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seq = 0
        self.events: list[dict[str, Any]] = []

    def call(self, name: str, payload: dict[str, Any], *, kind: int = 0) -> tuple[int, Any]:
        self.seq += 2
        self.ws.send(json.dumps({"m": kind, "i": self.seq, "n": name, "o": json.dumps(payload)}))
        while True:
            frame = json.loads(self.ws.recv(timeout=5))
            if frame["m"] == 3:
                self.events.append(frame)
            elif frame["i"] == self.seq:
                return frame["m"], json.loads(frame["o"])

    def event(self, name: str) -> Any:
        while True:
            frame = json.loads(self.ws.recv(timeout=5))
            if frame["n"] == name:
                return json.loads(frame["o"])


@pytest.fixture
def session(gateway: FlowBtcGateway) -> Iterator[GatewaySession]:
    with connect(gateway.url) as ws:
        yield GatewaySession(ws)


def history(session: GatewaySession, product: str, interval: int, days: int) -> list[list[Any]]:
    kind, rows = session.call("GetTickerHistory", {
        "OMSId": 1, "InstrumentId": INSTRUMENT_IDS[product], "Interval": str(interval),
        "FromDate": (START - timedelta(days=days)).date().isoformat(),
        "ToDate": START.date().isoformat()})
    assert kind == 1
    return rows


@pytest.mark.parametrize("product", list(PRODUCTS))
def test_the_gateway_book_and_candles_follow_the_rest_price_path(
        flow: str, gateway: FlowBtcGateway, session: GatewaySession, product: str) -> None:
    ticker = envelope(f"{flow}/ticker/{product}")
    book, _ = gateway.book(product)
    assert book.best_bid is not None and book.best_ask is not None
    mid = float(book.best_bid + book.best_ask) / 2
    assert mid == pytest.approx(ticker["LastTradedPx"], rel=0.01)

    minutes = history(session, product, 60, 1)
    assert minutes[-1][4] == pytest.approx(ticker["LastTradedPx"], rel=0.01)
    now_ms = int(START.timestamp() * 1000)
    day = [row for row in history(session, product, 3600, 1) if row[9] >= now_ms - 86_400_000]
    assert max(row[1] for row in day) == pytest.approx(ticker["SessionHigh"], rel=0.01)
    assert min(row[2] for row in day) == pytest.approx(ticker["SessionLow"], rel=0.01)
    assert sum(row[5] for row in day) == pytest.approx(ticker["Rolling24HrVolume"], rel=0.1)


def test_gateway_candles_cover_the_requested_days(session: GatewaySession) -> None:
    rows = history(session, "BTCBRL", 86400, 730)
    starts = [row[9] for row in rows]
    assert len(rows) == 731  # whole days, today's running one last
    assert starts == sorted(starts) and {s % 86_400_000 for s in starts} == {0}
    assert rows[-1][0] == int(START.timestamp() * 1000)  # cut at the clock
    for _at, high, low, opened, close, volume, bid, ask, iid, _start in rows:
        assert low <= min(opened, close) <= max(opened, close) <= high
        assert bid < close < ask and volume > 0 and iid == 1
    # Finished candles do not change as the clock moves on.
    CLOCK.advance(timedelta(hours=5))
    assert history(session, "BTCBRL", 86400, 730)[:-1] == rows[:-1]


def test_gateway_history_refuses_a_bad_request(session: GatewaySession) -> None:
    kind, error = session.call("GetTickerHistory", {"OMSId": 1, "InstrumentId": 1,
                                                     "Interval": "60"})
    assert kind == 5 and error["errorcode"] == 100
    kind, error = session.call("GetTickerHistory", {
        "OMSId": 1, "InstrumentId": 1, "Interval": "60", "FromDate": "2020-01-01",
        "ToDate": START.date().isoformat()})
    assert kind == 5 and "at most" in error["detail"]


def test_ticker_events_carry_the_current_minute_candle(session: GatewaySession) -> None:
    session.call("SubscribeTicker", {"OMSId": 1, "InstrumentId": 1, "Interval": 60,
                                     "IncludeLastCount": 1}, kind=2)
    minute_ms = int(START.timestamp() * 1000) // 60_000 * 60_000
    for _ in range(3):
        [row] = session.event("TickerDataUpdateEvent")
        _at, high, low, opened, close, volume, bid, ask, iid, start = row
        assert low <= min(opened, close) <= max(opened, close) <= high
        assert bid < ask and volume > 0 and iid == 1 and start == minute_ms


def test_the_simulated_account_needs_the_login(session: GatewaySession,
                                               gateway: FlowBtcGateway) -> None:
    account = {"OMSId": 1, "AccountId": gateway.account.account_id}
    kind, error = session.call("GetOpenOrders", account)
    assert (kind, error["errorcode"], error["errormsg"]) == (5, 20, "Not Authorized")
    kind, reply = session.call("WebAuthenticateUser", {"UserName": SIM_USERNAME,
                                                       "Password": "nope"})
    assert kind == 1 and reply["Authenticated"] is False
    kind, reply = session.call("WebAuthenticateUser", {"UserName": SIM_2FA_USERNAME,
                                                       "Password": SIM_PASSWORD})
    assert reply["Requires2FA"] is True
    kind, reply = session.call("WebAuthenticateUser", {"UserName": SIM_USERNAME,
                                                       "Password": SIM_PASSWORD})
    assert reply["Authenticated"] is True and reply["UserId"] == gateway.account.user_id

    _, user = session.call("GetUserInfo", {})
    assert user["AccountId"] == account["AccountId"] and user["UserName"] == SIM_USERNAME
    _, info = session.call("GetAccountInfo", account)
    assert info["AccountId"] == account["AccountId"]
    _, open_orders = session.call("GetOpenOrders", account)
    _, orders = session.call("GetOrderHistory", account)
    assert len(open_orders) == 3 and len(orders) == 20
    assert {o["OrderState"] for o in open_orders} == {"Working"}
    assert [o["OrderId"] for o in orders] == sorted((o["OrderId"] for o in orders), reverse=True)
    _, page = session.call("GetAccountTrades", {**account, "StartIndex": 0, "Count": 10})
    _, rest = session.call("GetAccountTrades", {**account, "StartIndex": 10, "Count": 100})
    fills = page + rest
    assert len(page) == 10 and 25 <= len(fills) <= 45
    assert len({f["TradeId"] for f in fills}) == len(fills)
    assert {f["OrderId"] for f in fills} <= {o["OrderId"] for o in orders}
    kind, error = session.call("GetAccountInfo", {"OMSId": 1, "AccountId": 1})
    assert (kind, error["errorcode"]) == (5, 20)


@pytest.mark.parametrize("name", ["SendOrder", "CancelOrder", "CancelAllOrders",
                                  "CreateWithdrawTicket"])
def test_the_gateway_changes_no_order_and_moves_no_money(session: GatewaySession,
                                                         name: str) -> None:
    session.call("WebAuthenticateUser", {"UserName": SIM_USERNAME, "Password": SIM_PASSWORD})
    kind, error = session.call(name, {"OMSId": 1, "AccountId": 104})
    assert (kind, error["errorcode"]) == (5, 101)


def test_the_simulator_command_serves_the_gateway() -> None:
    command = [sys.executable, "manage.py", "simulator", "--port", "0", "--gateway-port", "0"]
    with subprocess.Popen(command, cwd=settings.BASE_DIR, stdout=subprocess.PIPE,
                          text=True) as simulator:
        try:
            assert simulator.stdout is not None
            lines = iter(simulator.stdout.readline, "")
            line = next(line for line in lines if "flowbtc-ws" in line)
            url = re.search(r"ws://\S+", line).group(0)  # type: ignore[union-attr]
            assert SIM_USERNAME in line
            with connect(url) as ws:
                ws.send(json.dumps({"m": 0, "i": 0, "n": "GetInstruments", "o": "{}"}))
                reply = json.loads(ws.recv(timeout=5))
            assert {i["Symbol"] for i in json.loads(reply["o"])} == set(PRODUCTS)
        finally:
            simulator.send_signal(signal.SIGTERM)
            simulator.wait(timeout=10)
    assert simulator.returncode == 0


def test_the_simulator_command_checks_the_gateway_port() -> None:
    with pytest.raises(CommandError, match="--gateway-port 70000"):
        call_command("simulator", "--gateway-port", "70000")
    with pytest.raises(CommandError, match="must differ"):
        call_command("simulator", "--port", "8500", "--gateway-port", "8500")


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
