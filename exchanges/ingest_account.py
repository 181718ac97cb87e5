"""Store what the stream reads of a FlowBTC account: the account itself, its orders and its
fills. Upserts on the exchange's ids, so reading the same account again changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction

from dashboard.bulk import Row, upsert
from dashboard.models import Source
from exchanges import models as m
from exchanges.clients.flowbtc_account import AccountFill, AccountOrder, AccountSnapshot

log = logging.getLogger(__name__)

ORDER_FIELDS = ["account_id", "product", "side", "order_type", "state", "price", "quantity",
                "orig_quantity", "executed", "avg_price", "received_at", "is_open", "updated_at"]
FILL_FIELDS = ["order_id", "account_id", "product", "side", "quantity", "price", "value", "at"]


def account_snapshot_ingest(*, source: Source, snapshot: AccountSnapshot,
                            now: datetime) -> dict[str, int]:
    for problem in snapshot.problems:
        log.warning("source %s: %s", source.pk, problem)
    with transaction.atomic():
        return {
            "exchange_accounts": account_store(source=source, snapshot=snapshot, now=now),
            "exchange_orders": orders_store(source=source, open_orders=snapshot.open_orders,
                                            history=snapshot.history, now=now),
            "account_trades": fills_store(source=source, fills=snapshot.trades),
        }


def account_store(*, source: Source, snapshot: AccountSnapshot, now: datetime) -> int:
    account, user = snapshot.account, snapshot.user
    return upsert(m.ExchangeAccount, [{
        "source_id": source.pk, "account_id": account.account_id,
        "account_name": account.account_name[:200], "user_name": user.user_name[:200],
        "verification_level": account.verification_level,
        # Both already without secrets (flowbtc_account.without_secrets).
        "info": {"user": user.info, "account": account.info}, "updated_at": now,
    }], unique=["source", "account_id"],
        update=["account_name", "user_name", "verification_level", "info", "updated_at"])


def order_row(source: Source, order: AccountOrder, *, is_open: bool, now: datetime) -> Row:
    return {
        "source_id": source.pk, "order_id": order.order_id, "account_id": order.account_id,
        "product": order.product[:m.PRODUCT_LENGTH], "side": order.side[:8],
        "order_type": order.order_type[:32], "state": order.state[:32], "price": order.price,
        "quantity": order.quantity, "orig_quantity": order.orig_quantity,
        "executed": order.executed, "avg_price": order.avg_price,
        "received_at": order.received_at, "is_open": is_open, "updated_at": now,
    }


def orders_store(*, source: Source, open_orders: Sequence[AccountOrder],
                 history: Sequence[AccountOrder], now: datetime) -> int:
    """History rows are closed unless also listed open; the open list is the newer word."""
    open_ids = {order.order_id for order in open_orders}
    rows = {order.order_id: order_row(source, order, is_open=order.order_id in open_ids, now=now)
            for order in history}
    rows.update({order.order_id: order_row(source, order, is_open=True, now=now)
                 for order in open_orders})
    stored = upsert(m.ExchangeOrder, list(rows.values()), unique=["source", "order_id"],
                    update=ORDER_FIELDS)
    # An order that left the open list was filled or cancelled since the last read.
    m.ExchangeOrder.objects.filter(source=source, is_open=True).exclude(
        order_id__in=open_ids).update(is_open=False, updated_at=now)
    return stored


def fills_store(*, source: Source, fills: Sequence[AccountFill]) -> int:
    rows = {
        fill.trade_id: {
            "source_id": source.pk, "trade_id": fill.trade_id, "order_id": fill.order_id,
            "account_id": fill.account_id, "product": fill.product[:m.PRODUCT_LENGTH],
            "side": fill.side[:8], "quantity": fill.quantity, "price": fill.price,
            "value": fill.value, "at": fill.at,
        }
        for fill in fills
    }
    return upsert(m.AccountTrade, list(rows.values()), unique=["source", "trade_id"],
                  update=FILL_FIELDS)
