"""The live layer between the FlowBTC stream service and the pages, in the shared cache (Redis
in production; a file cache in the quick start, which every process on the machine shares).

The stream publishes every book change here at once and writes Postgres at a calmer pace;
pages read the book here first. Entries expire, so a stream that died leaves no book that
looks live: its absence is how the page knows the stream is not running. With the cache
unreachable every read here is a miss and `feed_unavailable()` says so, and pages show what
Postgres holds (dashboard/shared_cache.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dashboard import shared_cache
from exchanges.clients.flowbtc_models import OrderBook
from exchanges.ingest import levels_json

BOOK_TTL = 120  # seconds a published book stays readable without a newer one
STATUS_TTL = 60  # the stream refreshes its status well within this


def book_key(source_id: int, product: str) -> str:
    return f"exchanges:book:{source_id}:{product}"


def status_key(source_id: int) -> str:
    return f"exchanges:stream:{source_id}"


def book_publish(*, source_id: int, book: OrderBook, now: datetime) -> None:
    shared_cache.set(book_key(source_id, book.product), {
        "bids": levels_json(book.bids), "asks": levels_json(book.asks),
        "as_of": book.as_of.isoformat() if book.as_of else None,
        "updated_at": now.isoformat(),
    }, BOOK_TTL)


def book_latest(*, source_id: int, product: str) -> dict[str, Any] | None:
    """{"bids", "asks" ([[price, quantity]] as text), "as_of", "updated_at" (ISO)} or None."""
    value = shared_cache.get(book_key(source_id, product))
    return value if isinstance(value, dict) else None


def stream_status_publish(*, source_id: int, status: dict[str, Any]) -> None:
    """What the stream says of itself: connected, since, last_event_at, authenticated, error."""
    shared_cache.set(status_key(source_id), status, STATUS_TTL)


def stream_statuses(*, source_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The statuses of those of `source_ids` a stream reports on, in one cache round trip."""
    found = shared_cache.get_many([status_key(pk) for pk in source_ids])
    return {pk: found[status_key(pk)] for pk in source_ids if isinstance(found.get(status_key(pk)), dict)}


def stream_status(*, source_id: int) -> dict[str, Any] | None:
    """None when no stream service has reported on this source within STATUS_TTL."""
    value = shared_cache.get(status_key(source_id))
    return value if isinstance(value, dict) else None


def feed_unavailable() -> bool:
    """True when the live layer cannot be read at all (Redis down), rather than empty."""
    return shared_cache.is_down()
