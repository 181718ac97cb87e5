"""The simulated FlowBTC account behind the gateway's login: its user and account info, a few
open orders, some twenty past orders and the fills of those orders, priced on the REST
simulator's price path at the time of each order.

The account is fixed when the gateway starts (a function of the seed and that moment) and only
read: the order-changing and money-moving functions are refused.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from simulator.flowbtc.candles import product_for
from simulator.flowbtc.protocol import INVALID_REQUEST, NOT_AUTHORIZED, OMS_ID, TICKS_AT_EPOCH
from simulator.flowbtc.rest import mid_price

SIM_USERNAME = "sim-trader"
SIM_PASSWORD = "sim-password"  # noqa: S105 - the simulator's published demo login
SIM_2FA_USERNAME = "sim-2fa"  # the same password; its login asks for a two-factor code
USER_ID, ACCOUNT_ID = 58, 104
HISTORY_ORDERS, OPEN_ORDERS = 20, 3
FIRST_ORDER_ID, FIRST_TRADE_ID = 9800, 5000

ACCOUNT_FUNCTIONS = frozenset({"GetUserInfo", "GetAccountInfo", "GetOpenOrders",
                               "GetOrderHistory", "GetAccountTrades"})
REFUSED_FUNCTIONS = frozenset({"SendOrder", "ModifyOrder", "CancelOrder", "CancelReplaceOrder",
                               "CancelAllOrders", "CreateDepositTicket", "CreateWithdrawTicket",
                               "SetUserInfo"})


def ticks(at: datetime) -> int:
    """.NET ticks, as the documented GetAccountTrades example sends TradeTime."""
    return TICKS_AT_EPOCH + int(at.timestamp() * 1000) * 10_000


@dataclass(frozen=True)
class SimAccount:
    orders: list[dict[str, Any]]  # newest first
    fills: list[dict[str, Any]]  # newest first
    created: datetime
    user_id: int = USER_ID
    account_id: int = ACCOUNT_ID

    @classmethod
    def build(cls, *, seed: str, now: datetime, instruments: Mapping[str, int]) -> SimAccount:
        rng = random.Random(f"{seed}:flowbtc-account")
        traded = [s for s in ("BTCBRL", "ETHBRL", "LTCBRL", "XRPBRL") if s in instruments]
        traded = traded or list(instruments)
        times = sorted(now - timedelta(seconds=rng.uniform(600, 14 * 86400))
                       for _ in range(HISTORY_ORDERS))
        orders: list[dict[str, Any]] = []
        fills: list[dict[str, Any]] = []
        for n, at in enumerate(times):
            is_open = n >= HISTORY_ORDERS - OPEN_ORDERS  # the newest ones still work
            symbol = rng.choice(traded)
            order = cls._order(rng, seed, symbol, instruments[symbol], FIRST_ORDER_ID + n, at,
                               is_open)
            orders.append(order)
            fills.extend(cls._fills(rng, order, at, now, FIRST_TRADE_ID + len(fills),
                                    product_for(symbol).quantity_places))
        orders.reverse()
        fills.sort(key=lambda fill: fill["TradeId"], reverse=True)
        return cls(orders=orders, fills=fills, created=now - timedelta(days=400))

    @staticmethod
    def _order(rng: random.Random, seed: str, symbol: str, iid: int, order_id: int,
               at: datetime, is_open: bool) -> dict[str, Any]:
        product = product_for(symbol)
        side = rng.choice(("Buy", "Sell"))
        # Orders still open rest away from the market; the others filled near it.
        away = rng.uniform(0.003, 0.02) if is_open else rng.uniform(-0.001, 0.001)
        sign = -1 if side == "Buy" else 1
        price = round(mid_price(seed, product, at.timestamp()) * (1 + sign * away),
                      product.price_places)
        orig = round(product.lot * rng.uniform(0.1, 2.0), product.quantity_places)
        if is_open:
            state, share = "Working", rng.choice((0.0, 0.0, 0.4))
        else:
            state = rng.choices(("FullyExecuted", "Canceled"), weights=(5, 1))[0]
            share = 1.0 if state == "FullyExecuted" else rng.choice((0.0, 0.3))
        executed = round(orig * share, product.quantity_places)
        return {
            "Side": side, "OrderId": order_id, "Price": price,
            "Quantity": round(orig - executed, product.quantity_places) if is_open else 0,
            "Instrument": iid, "Account": ACCOUNT_ID, "OrderType": "Limit", "ClientOrderId": 0,
            "OrderState": state, "ReceiveTime": int(at.timestamp() * 1000), "OrigQuantity": orig,
            "QuantityExecuted": executed, "AvgPrice": price if executed else 0,
            "ChangeReason": "Trade" if executed else "NewInputAccepted",
            "OrigOrderId": order_id, "OrigClOrdId": 0, "EnteredBy": USER_ID,
        }

    @staticmethod
    def _fills(rng: random.Random, order: dict[str, Any], at: datetime, now: datetime,
               first_id: int, places: int) -> list[dict[str, Any]]:
        executed = order["QuantityExecuted"]
        if not executed:
            return []
        parts = rng.choice((1, 2, 2, 3))
        sizes = [round(executed / parts, places)] * (parts - 1)
        sizes.append(round(executed - sum(sizes), places))
        fills = []
        for k, size in enumerate(sizes):
            when = min(now, at + timedelta(seconds=rng.uniform(1, 900) * (k + 1)))
            fills.append({
                "OMSId": OMS_ID, "TradeId": first_id + k, "OrderId": order["OrderId"],
                "AccountId": ACCOUNT_ID, "ClientOrderId": 0, "InstrumentId": order["Instrument"],
                "Side": order["Side"], "Quantity": size, "Price": order["Price"],
                "Value": round(size * order["Price"], 8), "TradeTime": ticks(when),
                "ContraAcctId": 7, "OrderTradeRevision": k + 1, "Direction": "NoChange",
            })
        return fills

    def user_info(self) -> dict[str, Any]:
        return {
            "UserId": self.user_id, "UserName": SIM_USERNAME, "Email": "sim-trader@example.com",
            "PasswordHash": "", "PendingEmailCode": "", "EmailVerified": True,
            "AccountId": self.account_id, "DateTimeCreated": self.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "AffiliateId": 0, "RefererId": 0, "OMSId": OMS_ID, "Use2FA": False,
            "PendingCodeTime": "0001-01-01T00:00:00Z",
        }

    def account_info(self) -> dict[str, Any]:
        return {
            "OMSID": OMS_ID, "AccountId": self.account_id, "AccountName": "sim-trader primary",
            "AccountType": "Asset", "FeeGroupID": 0, "ParentID": 0, "RiskType": "Normal",
            "VerificationLevel": 2, "FeeProductType": "BaseProduct", "FeeProduct": 0,
            "RefererId": 0, "AffiliateId": None, "SupportedVenueIds": [],
        }

    def answer(self, name: str, payload: Mapping[str, Any]) -> Any:
        """The reply to an account read of a logged-in session; LookupError for an error."""
        if name == "GetUserInfo":
            return self.user_info()
        if payload.get("AccountId") not in (None, self.account_id):
            raise LookupError("Not Authorized", NOT_AUTHORIZED, None)
        if name == "GetAccountInfo":
            return self.account_info()
        if name == "GetOpenOrders":
            return [order for order in self.orders if order["OrderState"] == "Working"]
        if name == "GetOrderHistory":
            return list(self.orders)
        try:
            start = max(0, int(payload.get("StartIndex") or 0))
            count = max(0, int(payload.get("Count") or 100))
        except (TypeError, ValueError):
            raise LookupError("Invalid Request", INVALID_REQUEST,
                              "StartIndex and Count are numbers") from None
        return self.fills[start:start + count]
