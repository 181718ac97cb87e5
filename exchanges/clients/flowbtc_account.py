"""FlowBTC account reads over the gateway, parsed into dataclasses: the login reply, user and
account info, open and past orders, and the account's own fills.

Only reads: the stream's allowlist of gateway functions (flowbtc_ws.ALLOWED_CALLS) keeps every
order-placing, cancelling and withdrawing call out of reach.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from dashboard.http import CredentialsRejected, SchemaError
from exchanges.clients.flowbtc_models import from_millis
from exchanges.clients.flowbtc_protocol import INSTRUMENT_IDS
from pools.clients import base
from pools.clients.base import as_object, parse_records, pick, shown, to_decimal, to_int

Record = Mapping[str, Any]

# Never stored: the gateway sends these with the user's info, some of them empty.
SECRET_FIELDS = frozenset({"passwordhash", "pendingemailcode", "sessiontoken"})
TRADES_PAGE = 100
# Where the gateway's own instrument list lacks an id.
KNOWN_SYMBOLS = {iid: symbol for symbol, iid in INSTRUMENT_IDS.items()}


class TwoFactorRequired(CredentialsRejected):
    """The login asks for a one-time code, which nobody is there to type."""


def login_user_id(payload: Any) -> int | None:
    """The UserId of a WebAuthenticateUser reply that logged in; raise if it did not."""
    reply = as_object(payload, what="the WebAuthenticateUser reply")
    if reply.get("Requires2FA") or reply.get("AuthType") not in (None, "", "None"):
        raise TwoFactorRequired(
            "FlowBTC asks this login for a two-factor code (Authenticate2FA): a login with "
            "two-factor codes cannot be used for unattended reads. Use a login without "
            "two-factor codes, or remove the credentials to stream market data only.")
    if reply.get("Authenticated") is not True:
        reason = reply.get("errormsg") or "wrong user name or password"
        raise CredentialsRejected(
            f"FlowBTC refused the login: {reason}. The stream keeps reading market data and "
            "tries the login again when the source is edited.")
    user = reply.get("User")
    user_id = reply.get("UserId", user.get("UserId") if isinstance(user, Mapping) else None)
    return None if user_id is None else to_int(user_id, field="UserId")


def without_secrets(value: Any) -> Any:
    return base.without_secrets(value, also=SECRET_FIELDS)


def side_name(value: Any) -> str:
    """"buy" or "sell": the gateway says "Buy"/"Sell" in some answers and 0/1 in others."""
    if isinstance(value, str) and not value.strip().isdigit():
        return value.strip().lower()
    number = to_int(value, field="Side")
    if number not in (0, 1):
        raise SchemaError(f"Side has an unknown value: {shown(value)}")
    return "buy" if number == 0 else "sell"


def optional_time(value: Any, *, field: str) -> datetime | None:
    """An order's time, where 0 (as in the documented examples) means none."""
    if value in (None, "", 0, "0"):
        return None
    return from_millis(value, field=field)


def product_of(instrument: Any, symbols: Mapping[int, str]) -> str:
    iid = to_int(instrument, field="InstrumentId")
    return symbols.get(iid, KNOWN_SYMBOLS.get(iid, f"#{iid}"))


@dataclass(frozen=True, slots=True)
class UserInfo:
    user_id: int
    user_name: str
    account_id: int
    info: dict[str, Any]  # as sent, secrets dropped


@dataclass(frozen=True, slots=True)
class AccountInfo:
    account_id: int
    account_name: str
    verification_level: int | None
    info: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AccountOrder:
    order_id: int
    account_id: int
    product: str
    side: str
    order_type: str
    state: str
    price: Decimal
    quantity: Decimal  # still open
    orig_quantity: Decimal
    executed: Decimal
    avg_price: Decimal
    received_at: datetime | None


@dataclass(frozen=True, slots=True)
class AccountFill:
    trade_id: int
    order_id: int
    account_id: int
    product: str
    side: str
    quantity: Decimal
    price: Decimal
    value: Decimal
    at: datetime


@dataclass(slots=True)
class AccountSnapshot:
    """One read of the account; `history` is the gateway's recent orders, open ones included."""

    fetched_at: datetime
    user: UserInfo
    account: AccountInfo
    open_orders: list[AccountOrder] = field(default_factory=list)
    history: list[AccountOrder] = field(default_factory=list)
    trades: list[AccountFill] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse_user(payload: Any) -> UserInfo:
    record = as_object(payload, what="the GetUserInfo reply")
    return UserInfo(
        user_id=to_int(pick(record, "UserId"), field="UserId"),
        user_name=str(record.get("UserName") or ""),
        account_id=to_int(pick(record, "AccountId"), field="AccountId"),
        info=without_secrets(record),
    )


def parse_account(payload: Any) -> AccountInfo:
    record = as_object(payload, what="the GetAccountInfo reply")
    level = record.get("VerificationLevel")
    return AccountInfo(
        account_id=to_int(pick(record, "AccountId"), field="AccountId"),
        account_name=str(record.get("AccountName") or ""),
        verification_level=None if level is None else to_int(level, field="VerificationLevel"),
        info=without_secrets(record),
    )


def parse_order(record: Record, symbols: Mapping[int, str]) -> AccountOrder:
    return AccountOrder(
        order_id=to_int(pick(record, "OrderId"), field="OrderId"),
        account_id=to_int(pick(record, "Account"), field="Account"),
        product=product_of(pick(record, "Instrument"), symbols),
        side=side_name(pick(record, "Side")),
        order_type=str(record.get("OrderType") or ""),
        state=str(record.get("OrderState") or ""),
        price=to_decimal(pick(record, "Price"), field="Price"),
        quantity=to_decimal(pick(record, "Quantity"), field="Quantity"),
        orig_quantity=to_decimal(record.get("OrigQuantity", 0), field="OrigQuantity"),
        executed=to_decimal(record.get("QuantityExecuted", 0), field="QuantityExecuted"),
        avg_price=to_decimal(record.get("AvgPrice", 0), field="AvgPrice"),
        received_at=optional_time(record.get("ReceiveTime"), field="ReceiveTime"),
    )


def parse_fill(record: Record, symbols: Mapping[int, str]) -> AccountFill:
    quantity = to_decimal(pick(record, "Quantity"), field="Quantity")
    price = to_decimal(pick(record, "Price"), field="Price")
    value = record.get("Value")
    at = optional_time(pick(record, "TradeTime"), field="TradeTime")
    if at is None:
        raise SchemaError("TradeTime is empty")
    return AccountFill(
        trade_id=to_int(pick(record, "TradeId"), field="TradeId"),
        order_id=to_int(pick(record, "OrderId"), field="OrderId"),
        account_id=to_int(pick(record, "AccountId"), field="AccountId"),
        product=product_of(pick(record, "InstrumentId"), symbols),
        side=side_name(pick(record, "Side")),
        quantity=quantity, price=price,
        value=quantity * price if value is None else to_decimal(value, field="Value"),
        at=at,
    )


def parse_orders(payload: Any, symbols: Mapping[int, str], *, what: str,
                 problems: list[str]) -> list[AccountOrder]:
    if not isinstance(payload, list):
        raise SchemaError(f"{what} answered with no list: {shown(payload)}")
    return parse_records(payload, lambda r: parse_order(r, symbols), what=what, problems=problems)


def parse_fills(payload: Any, symbols: Mapping[int, str], *,
                problems: list[str]) -> list[AccountFill]:
    if not isinstance(payload, list):
        raise SchemaError(f"GetAccountTrades answered with no list: {shown(payload)}")
    return parse_records(payload, lambda r: parse_fill(r, symbols), what="GetAccountTrades",
                         problems=problems)
