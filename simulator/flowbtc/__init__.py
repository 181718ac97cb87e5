"""FlowBTC as documented in seeds/flowbtc-api.txt and NOTES.md: the public REST API (`rest`) and
the WebSocket gateway (`gateway`), which share one price path per product.

`protocol` holds the frame format, message types and error codes as the documents give them,
`market` the gateway's live books, trades and candles, `candles` the ticker history, and
`account` the simulated account behind the gateway's login. Nothing here comes from the
product's FlowBTC client.
"""

from __future__ import annotations

from simulator.flowbtc.rest import (
    BOOK_LEVELS,
    DEFAULT_DEPTH,
    PRODUCTS,
    FlowBtcApi,
    Product,
    hourly_volume,
    market,
    mid_price,
)

__all__ = [
    "BOOK_LEVELS",
    "DEFAULT_DEPTH",
    "PRODUCTS",
    "FlowBtcApi",
    "Product",
    "hourly_volume",
    "market",
    "mid_price",
]
