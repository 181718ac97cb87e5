"""Exchange endpoints of /api/v1/ (see DESIGN.md), reading through the pages' selectors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest

from dashboard.api import ApiError, api_view, iso, source_param
from dashboard.models import Source
from exchanges import selectors
from pools.api import decimal_text

MAX_DEPTH = 500


def text(amount: Decimal | None) -> str | None:
    return None if amount is None else decimal_text(amount)


def source_of_kind(request: HttpRequest, kind: str) -> Source:
    source = source_param(request)
    if source.kind != kind:
        raise ApiError(400, f"source {source.pk} is a {source.kind_spec.label}, not a {kind} source")
    return source


def product_param(request: HttpRequest) -> str:
    product = request.GET.get("product", "").strip().upper()
    if not product:
        raise ApiError(400, "'product' is required, e.g. product=BTCBRL")
    return product


@api_view
def orderbook(request: HttpRequest) -> dict[str, Any]:
    source = source_of_kind(request, "flowbtc")
    product = product_param(request)
    raw_depth = request.GET.get("depth", "")
    if raw_depth and (not raw_depth.isdigit() or not 1 <= int(raw_depth) <= MAX_DEPTH):
        raise ApiError(400, f"'depth' must be a whole number from 1 to {MAX_DEPTH}")
    book = selectors.order_book(source=source, product=product,
                                depth=int(raw_depth) if raw_depth else None)
    if book is None:
        raise ApiError(404, f"source {source.pk} has no order book for {product} yet")
    return {
        "as_of": iso(book.as_of or book.updated_at), "received_at": iso(book.updated_at),
        "live": book.live,
        "bids": [[text(price), text(quantity)] for price, quantity in book.bids],
        "asks": [[text(price), text(quantity)] for price, quantity in book.asks],
    }


@api_view
def ticker(request: HttpRequest) -> dict[str, Any]:
    source = source_of_kind(request, "flowbtc")
    product = product_param(request)
    row = selectors.ticker(source=source, product=product)
    if row is None:
        raise ApiError(404, f"source {source.pk} has no ticker for {product} yet")
    return {
        "as_of": iso(row.as_of), "received_at": iso(row.updated_at),
        **{name: text(getattr(row, name)) for name in ("last", "bid", "ask", "high", "low", "volume")},
    }


@api_view
def rates(request: HttpRequest) -> dict[str, Any]:
    source = source_of_kind(request, "btcchange24")
    return {"results": [
        {"from": rate.from_currency, "to": rate.to_currency, "in": text(rate.rate_in),
         "out": text(rate.rate_out), "reserve": text(rate.reserve), "min": text(rate.min_amount),
         "max": text(rate.max_amount), "amount_currency": rate.amount_currency or rate.from_currency,
         "city": rate.city, "flags": rate.flags, "updated_at": iso(rate.updated_at)}
        for rate in selectors.exchanger_rates(source=source)
    ]}
