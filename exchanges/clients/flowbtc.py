"""FlowBTC public REST API: order book and ticker for each product.

Every answer is an envelope `{"status", "data", "message"}`; a failure may come with HTTP 200,
so the envelope decides. Numbers arrive as JSON numbers or strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from dashboard.http import SchemaError, UpstreamError, where
from dashboard.sources import PollContext
from exchanges.clients.flowbtc_models import FlowBtcSnapshot, Level, OrderBook, Ticker, from_millis
from pools.clients.base import as_object, parse_records, pick, shown, to_decimal, to_int

Record = Mapping[str, Any]

BASE_URL = "https://publicapi.flowbtc.com.br/v1"
PRODUCTS = ("BTCBRL", "ETHBRL", "ETHBTC", "LTCBRL", "BCHBRL", "XRPBRL")
DEFAULT_DEPTH = 10
# The API explains refusals (an unknown product among them) in the envelope of these statuses.
ENVELOPE_STATUSES = frozenset({400, 404})


def parse_products(value: str | None) -> tuple[str, ...]:
    if not value or not value.strip():
        return PRODUCTS
    products = tuple(dict.fromkeys(p.strip().upper() for p in value.split(",") if p.strip()))
    unknown = [p for p in products if p not in PRODUCTS]
    if unknown:
        raise UpstreamError(
            f"FlowBTC has no product {', '.join(unknown)}; it offers {', '.join(PRODUCTS)}",
            permanent=True, reason="rejected",
        )
    return products


def parse_depth(value: str | None) -> int:
    if not value:
        return DEFAULT_DEPTH
    try:
        depth = int(value)
    except ValueError:
        depth = 0
    if depth < 1:
        raise UpstreamError(f"option depth must be a whole number above 0 (got {value!r})",
                            permanent=True, reason="rejected")
    return depth


def ticker_record(data: Any, product: str) -> Record:
    """The ticker's object. The document's prose calls the answer an array of objects while its
    example sends one object: both are read. From an array, the entry naming the product where
    entries name one, else the first."""
    if not isinstance(data, list):
        return as_object(data, what=f"ticker {product}")
    entries = [as_object(entry, what=f"ticker {product} entry") for entry in data]
    if not entries:
        raise SchemaError(f"ticker {product} is an empty list")
    named = [e for e in entries if str(e.get("Product") or e.get("Symbol") or
                                      e.get("InstrumentSymbol") or "").upper() == product]
    return (named or entries)[0]


def level(row: Record) -> tuple[Level, int]:
    """((price, quantity), ActionDateTime in ms) of one book row."""
    price = to_decimal(pick(row, "Price"), field="Price")
    quantity = to_decimal(pick(row, "Quantity"), field="Quantity")
    return (price, quantity), to_int(pick(row, "ActionDateTime"), field="ActionDateTime")


class FlowBtcClient:
    def __init__(self, ctx: PollContext) -> None:
        self.ctx = ctx
        self.base_url = (ctx.base_url or BASE_URL).rstrip("/")
        self.products = parse_products(ctx.options.get("products"))
        self.depth = parse_depth(ctx.options.get("depth"))
        self.problems: list[str] = []  # records left out because they did not parse

    def fetch(self) -> FlowBtcSnapshot:
        self.problems = []
        snapshot = FlowBtcSnapshot(fetched_at=self.ctx.now, problems=self.problems)
        for product in self.products:
            snapshot.books[product] = self.book(product, self.depth)
            try:
                snapshot.tickers[product] = self.ticker(product)
            except SchemaError as exc:
                self.problems.append(f"ticker {product} skipped: {exc.message}")
        return snapshot

    def book(self, product: str, depth: int = DEFAULT_DEPTH) -> OrderBook:
        data = as_object(self._data("book", product, {"depth": depth}), what=f"book {product}")
        sides: dict[str, list[tuple[Level, int]]] = {}
        for side in ("bids", "asks"):
            rows = pick(data, side)
            rows = [] if rows is None else rows  # an empty side may come as null
            if not isinstance(rows, list):
                raise SchemaError(f"book {product} {side} is not a list but {type(rows).__name__}")
            sides[side] = parse_records(rows, level, what=f"book {product} {side}", problems=self.problems)
        times = [at for rows in sides.values() for _, at in rows]
        return OrderBook(
            product=product,
            bids=sorted((lvl for lvl, _ in sides["bids"]), key=lambda lvl: lvl[0], reverse=True),
            asks=sorted((lvl for lvl, _ in sides["asks"]), key=lambda lvl: lvl[0]),
            as_of=from_millis(max(times), field="ActionDateTime") if times else None,
        )

    def ticker(self, product: str) -> Ticker:
        data = ticker_record(self._data("ticker", product), product)

        def number(key: str) -> Any:
            return to_decimal(pick(data, key), field=key)

        def optional(key: str) -> Decimal | None:
            value = data.get(key)
            return None if value is None or value == "" else to_decimal(value, field=key)

        # The example answer has no LastTradeTime although the field list names it.
        traded = data.get("LastTradeTime")
        as_of: datetime = from_millis(traded, field="LastTradeTime") if traded else self.ctx.now
        return Ticker(
            product=product, last=number("LastTradedPx"), bid=number("BestBid"),
            ask=number("BestOffer"), high=number("SessionHigh"),
            # SessionLow is in the example only, not in the field list: a ticker without it
            # is still a ticker.
            low=optional("SessionLow"), volume=number("Rolling24HrVolume"), as_of=as_of,
            session_open=optional("SessionOpen"), session_close=optional("SessionClose"),
            last_quantity=optional("LastTradedQty"), change_24h_pct=optional("Rolling24HrPxChange"),
            day_change=optional("CurrentDayPxChange"),
        )

    def _data(self, endpoint: str, product: str, params: Mapping[str, Any] | None = None) -> Any:
        url = f"{self.base_url}/{endpoint}/{product}"
        response = self.ctx.http.request("GET", url, params=params, accept=ENVELOPE_STATUSES)
        try:
            envelope = as_object(response.json(), what=f"{where(url)} answer")
        except SchemaError:
            if response.status in ENVELOPE_STATUSES:
                raise self._refused(product, f"HTTP {response.status}") from None
            raise
        status = envelope.get("status")
        if status == "success" and response.status not in ENVELOPE_STATUSES:
            return pick(envelope, "data")
        if status not in ("success", "error", "fail"):
            raise SchemaError(f"{where(url)} answered without a known status: {shown(status)}")
        raise self._refused(product, str(envelope.get("message") or f"status {status}"))

    def _refused(self, product: str, detail: str) -> UpstreamError:
        if product not in PRODUCTS:
            return UpstreamError(
                f"FlowBTC does not know product {product!r} ({detail}); it offers {', '.join(PRODUCTS)}",
                permanent=True, reason="not_found",
            )
        return UpstreamError(f"FlowBTC refused the request for {product}: {detail}")
