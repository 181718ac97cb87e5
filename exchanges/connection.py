"""What an exchange fetch found, in the few words "Test connection" answers with."""

from __future__ import annotations

from exchanges.clients.exchanger_base import ExchangerSnapshot
from exchanges.clients.flowbtc_models import FlowBtcSnapshot


def flowbtc_snapshot_describe(snapshot: FlowBtcSnapshot) -> str:
    """ "BTCBRL last 350000.00 (10 bids, 10 asks)" for each product read."""
    parts = []
    for product, book in snapshot.books.items():
        ticker = snapshot.tickers.get(product)
        last = f" last {ticker.last.normalize():f}" if ticker else ""
        parts.append(f"{product}{last} ({len(book.bids)} bids, {len(book.asks)} asks)")
    return "; ".join(parts) or "no product answered"


def exchanger_snapshot_describe(snapshot: ExchangerSnapshot) -> str:
    """ "42 rates, partner balance 0.5" (the balance only with a partner key)."""
    rates = len(snapshot.rates)
    text = f"{rates} rate{'' if rates == 1 else 's'} in the export"
    if snapshot.info is not None:
        text += f", partner balance {snapshot.info.balance.normalize():f}"
    return text
