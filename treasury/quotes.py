"""Sale and purchase quotes from a FlowBTC source's order book: the live book when the
stream runs, else the last REST book (exchanges.selectors.order_book decides)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from dashboard.models import Source
from exchanges.clients.flowbtc import PRODUCTS
from exchanges.ingest import split_product
from exchanges.selectors import BookView, order_book
from treasury.book import Fill, book_walk

SIDES = ("sell", "buy")


class QuoteProblem(ValueError):
    """Bad input or missing data, with the status an API answers it with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Quote:
    source: Source
    product: str
    side: str
    fill: Fill
    book: BookView

    @property
    def coin(self) -> str:
        return split_product(self.product)[0]

    @property
    def currency(self) -> str:
        return split_product(self.product)[1]

    @property
    def as_of(self) -> datetime | None:
        """When the book was received: its age is what matters to a quote."""
        return self.book.updated_at or self.book.as_of


def amount_parse(raw: str) -> Decimal:
    from decimal import InvalidOperation

    text = (raw or "").strip().replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise QuoteProblem(f"the amount must be a number such as 0.5 (got {raw!r})") from None
    if not amount.is_finite():
        raise QuoteProblem(f"the amount must be a number such as 0.5 (got {raw!r})")
    if amount <= 0:
        raise QuoteProblem(f"the amount must be more than zero (got {raw!r})")
    return amount


def product_check(product: str) -> str:
    product = product.strip().upper()
    if product not in PRODUCTS:
        raise QuoteProblem(f"unknown product {product!r}; FlowBTC offers {', '.join(PRODUCTS)}")
    return product


def quote_make(*, source: Source, product: str, side: str, amount: Decimal) -> Quote:
    """Walk the bids to sell `amount` of the product's coin, or the asks to buy it."""
    if source.kind != "flowbtc":
        raise QuoteProblem(f"source {source.pk} is a {source.kind_spec.label}, not a FlowBTC source")
    product = product_check(product)
    if side not in SIDES:
        raise QuoteProblem(f"side must be sell or buy (got {side!r})")
    book = order_book(source=source, product=product)
    if book is None:
        raise QuoteProblem(f"source {source.pk} has no order book for {product} yet", status=404)
    fill = book_walk(book.bids if side == "sell" else book.asks, amount)
    return Quote(source=source, product=product, side=side, fill=fill, book=book)
