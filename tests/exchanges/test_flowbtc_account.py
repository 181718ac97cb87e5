"""FlowBTC account reads: the login reply, the documented record shapes (and their variants),
and storing a read into the account, order and fill tables."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from dashboard.http import CredentialsRejected, SchemaError
from dashboard.models import Source, Team
from dashboard.services import source_create
from exchanges import models as m
from exchanges.clients.flowbtc_account import (
    AccountSnapshot,
    TwoFactorRequired,
    login_user_id,
    parse_account,
    parse_fills,
    parse_orders,
    parse_user,
    side_name,
    without_secrets,
)
from exchanges.ingest_account import account_snapshot_ingest

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
SYMBOLS = {1: "BTCBRL", 2: "ETHBRL"}

# The documented examples (seeds/flowbtc-api.txt), AccountId filled in.
USER = {"UserId": 58, "UserName": "testusername", "Email": "abc@ap.com", "PasswordHash": "",
        "PendingEmailCode": "", "EmailVerified": True, "AccountId": 4,
        "DateTimeCreated": "2016-04-21T21:48:22Z", "AffiliateId": 0, "RefererId": 0, "OMSId": 1,
        "Use2FA": False, "PendingCodeTime": "2016-07-20T19:28:44Z"}
ACCOUNT = {"OMSID": 1, "AccountId": 4, "AccountName": "Primary Account", "AccountType": "Asset",
           "FeeGroupID": 0, "ParentID": 0, "RiskType": "Normal", "VerificationLevel": 0,
           "FeeProductType": "BaseProduct", "FeeProduct": 0, "RefererId": 0,
           "AffiliateId": None, "SupportedVenueIds": []}
ORDER = {"Side": "Sell", "OrderId": 9849, "Price": 97, "Quantity": 0.29, "Instrument": 1,
         "Account": 4, "OrderType": "Limit", "ClientOrderId": 0, "OrderState": "Working",
         "ReceiveTime": 0, "OrigQuantity": 1, "QuantityExecuted": 0.71, "AvgPrice": 0,
         "ChangeReason": "Unknown", "OrigOrderId": 9849, "OrigClOrdId": 1, "EnteredBy": 2}
FILL = {"OMSId": 1, "TradeId": 230, "OrderId": 9861, "AccountId": 4, "ClientOrderId": 0,
        "InstrumentId": 1, "Side": "Buy", "Quantity": 2, "Price": 95, "Value": 190,
        "TradeTime": 635978015145675000, "ContraAcctId": 3, "OrderTradeRevision": 1,
        "Direction": "NoChange"}


def test_a_good_login_gives_the_user_id() -> None:
    assert login_user_id({"Authenticated": True, "SessionToken": "7d0c", "UserId": 1}) == 1
    assert login_user_id({"Authenticated": True, "User": {"UserId": 7}}) == 7


def test_it_rejects_a_refused_login() -> None:
    with pytest.raises(CredentialsRejected) as caught:
        login_user_id({"Authenticated": False})
    assert caught.value.permanent
    assert not isinstance(caught.value, TwoFactorRequired)
    assert "refused the login" in str(caught.value)


def test_a_login_that_asks_for_a_code_cannot_read_unattended() -> None:
    with pytest.raises(TwoFactorRequired) as caught:
        login_user_id({"Authenticated": True, "Requires2FA": True, "AuthType": "Google"})
    assert caught.value.permanent
    assert "two-factor" in str(caught.value) and "unattended" in str(caught.value)


def test_a_login_reply_that_is_no_object_is_a_schema_error() -> None:
    with pytest.raises(SchemaError):
        login_user_id(["Authenticated"])


def test_secret_looking_fields_are_dropped_at_any_depth() -> None:
    info = without_secrets({**USER, "SessionToken": "abc", "ApiKey": "k", "Nested": {
        "apiSecret": "s", "Password": "p", "Name": "kept"}, "Items": [{"token": "t", "x": 1}]})
    assert info["Nested"] == {"Name": "kept"}
    assert info["Items"] == [{"x": 1}]
    for gone in ("PasswordHash", "PendingEmailCode", "SessionToken", "ApiKey"):
        assert gone not in info
    assert info["UserName"] == "testusername"


def test_the_documented_user_and_account_parse() -> None:
    user = parse_user(USER)
    assert (user.user_id, user.user_name, user.account_id) == (58, "testusername", 4)
    assert "PasswordHash" not in user.info
    account = parse_account(ACCOUNT)
    assert (account.account_id, account.account_name, account.verification_level) == (
        4, "Primary Account", 0)


@pytest.mark.parametrize(("value", "side"), [("Buy", "buy"), ("Sell", "sell"), (0, "buy"),
                                             (1, "sell"), ("1", "sell")])
def test_sides_come_as_words_or_numbers(value: Any, side: str) -> None:
    assert side_name(value) == side


def test_an_unknown_side_number_is_a_schema_error() -> None:
    with pytest.raises(SchemaError):
        side_name(5)


def test_the_documented_order_parses() -> None:
    problems: list[str] = []
    [order] = parse_orders([ORDER], SYMBOLS, what="GetOpenOrders", problems=problems)
    assert problems == []
    assert (order.order_id, order.product, order.side, order.state) == (
        9849, "BTCBRL", "sell", "Working")
    assert (order.price, order.quantity, order.orig_quantity, order.executed) == (
        Decimal(97), Decimal("0.29"), Decimal(1), Decimal("0.71"))
    assert order.received_at is None  # the documented 0


def test_order_times_may_be_milliseconds_and_products_any_instrument() -> None:
    row = {**ORDER, "ReceiveTime": 1750000000000, "Instrument": 7, "Side": 0, "Price": "350000.5"}
    [order] = parse_orders([row], {}, what="GetOrderHistory", problems=[])
    assert order.received_at == datetime.fromtimestamp(1750000000, tz=UTC)
    assert (order.product, order.side, order.price) == ("XRPBRL", "buy", Decimal("350000.5"))


def test_a_bad_record_is_left_out_and_noted() -> None:
    problems: list[str] = []
    orders = parse_orders([ORDER, {**ORDER, "OrderId": None}], SYMBOLS, what="GetOpenOrders",
                          problems=problems)
    assert len(orders) == 1
    assert len(problems) == 1 and "GetOpenOrders record 2" in problems[0]
    with pytest.raises(SchemaError):
        parse_orders({"not": "a list"}, SYMBOLS, what="GetOpenOrders", problems=[])


def test_fill_times_may_be_ticks_or_milliseconds() -> None:
    ms = {**FILL, "TradeId": 231, "TradeTime": 1750000000000, "Side": 1}
    no_value = {**FILL, "TradeId": 232}
    del no_value["Value"]
    fills = parse_fills([FILL, ms, no_value], SYMBOLS, problems=[])
    # 635978015145675000 .NET ticks (the documented example) is 2016-05-02 15:58:34.5675.
    assert fills[0].at == datetime(2016, 5, 2, 15, 58, 34, 567500, tzinfo=UTC)
    assert fills[1].at == datetime.fromtimestamp(1750000000, tz=UTC)
    assert (fills[0].side, fills[1].side) == ("buy", "sell")
    assert fills[0].value == Decimal(190) and fills[2].value == Decimal(190)


def test_a_fill_without_a_time_is_left_out() -> None:
    problems: list[str] = []
    assert parse_fills([{**FILL, "TradeTime": 0}], SYMBOLS, problems=problems) == []
    assert problems


# -- storing --


@pytest.fixture
def flow_source(team: Team) -> Source:
    return source_create(team=team, kind="flowbtc", label="FlowBTC",
                         credentials={"username": "trader", "password": "pw-123456"})


def snapshot(*, open_rows: list[dict[str, Any]], history_rows: list[dict[str, Any]],
             fills: list[dict[str, Any]]) -> AccountSnapshot:
    return AccountSnapshot(
        fetched_at=NOW, user=parse_user(USER), account=parse_account(ACCOUNT),
        open_orders=parse_orders(open_rows, SYMBOLS, what="open", problems=[]),
        history=parse_orders(history_rows, SYMBOLS, what="history", problems=[]),
        trades=parse_fills(fills, SYMBOLS, problems=[]))


def test_a_read_stores_the_account_orders_and_fills(flow_source: Source) -> None:
    done = {**ORDER, "OrderId": 9000, "OrderState": "FullyExecuted", "Quantity": 0}
    read = snapshot(open_rows=[ORDER], history_rows=[ORDER, done], fills=[FILL])
    counts = account_snapshot_ingest(source=flow_source, snapshot=read, now=NOW)
    assert counts == {"exchange_accounts": 1, "exchange_orders": 2, "account_trades": 1}

    account = m.ExchangeAccount.objects.get(source=flow_source)
    assert (account.account_id, account.account_name, account.user_name) == (
        4, "Primary Account", "testusername")
    assert "PasswordHash" not in account.info["user"]
    assert account.info["account"]["RiskType"] == "Normal"
    orders = {o.order_id: o for o in m.ExchangeOrder.objects.filter(source=flow_source)}
    assert orders[9849].is_open and not orders[9000].is_open
    assert orders[9849].side == "sell" and orders[9849].executed == Decimal("0.71")
    fill = m.AccountTrade.objects.get(source=flow_source)
    assert (fill.trade_id, fill.product, fill.side, fill.value) == (230, "BTCBRL", "buy", 190)


def test_reading_again_changes_nothing_and_closes_orders_that_left(flow_source: Source) -> None:
    read = snapshot(open_rows=[ORDER], history_rows=[ORDER], fills=[FILL])
    account_snapshot_ingest(source=flow_source, snapshot=read, now=NOW)
    account_snapshot_ingest(source=flow_source, snapshot=read, now=NOW)
    assert m.ExchangeOrder.objects.filter(source=flow_source).count() == 1
    assert m.AccountTrade.objects.filter(source=flow_source).count() == 1

    # Filled since: gone from the open list, in the history with its new state.
    filled = {**ORDER, "OrderState": "FullyExecuted", "Quantity": 0, "QuantityExecuted": 1}
    account_snapshot_ingest(source=flow_source, snapshot=replace(
        read, open_orders=[], history=parse_orders([filled], SYMBOLS, what="h", problems=[])),
        now=NOW)
    order = m.ExchangeOrder.objects.get(source=flow_source)
    assert not order.is_open and order.state == "FullyExecuted"


def test_an_order_missing_from_the_history_still_closes(flow_source: Source) -> None:
    account_snapshot_ingest(source=flow_source, snapshot=snapshot(
        open_rows=[ORDER], history_rows=[], fills=[]), now=NOW)
    account_snapshot_ingest(source=flow_source, snapshot=snapshot(
        open_rows=[], history_rows=[], fills=[]), now=NOW)
    assert not m.ExchangeOrder.objects.get(source=flow_source).is_open
