"""Read-only reads of the own FlowBTC account over a gateway connection: log in, then read the
user, the account, open orders, order history and new fills every `account_interval` seconds.

Every call goes through GatewayConnection._call, so ALLOWED_CALLS bounds what it can ask.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from dashboard.http import CredentialsRejected
from exchanges.clients.flowbtc_account import (
    TRADES_PAGE,
    AccountFill,
    AccountSnapshot,
    login_user_id,
    parse_account,
    parse_fills,
    parse_orders,
    parse_user,
)
from exchanges.clients.flowbtc_protocol import OMS_ID
from exchanges.clients.flowbtc_ws_connection import CONNECTION_ERRORS, GatewayConnection, utc_now

AccountCallback = Callable[[AccountSnapshot], None]
MAX_TRADE_PAGES = 20


class AccountReader(GatewayConnection):
    def __init__(self, url: str, *, on_account: AccountCallback | None = None,
                 credentials: tuple[str, str] | None = None, account_interval: float = 60.0,
                 **connection: Any) -> None:
        super().__init__(url, **connection)
        self.on_account = on_account
        self.credentials = credentials
        self.account_interval = account_interval
        self.authenticated: bool | None = None if credentials is None else False
        self.account_id: int | None = None
        # A refused login stays refused for this stream's life: retrying a wrong password
        # only gets the account locked. The owner of the stream replaces it on an edit.
        self.login_error: CredentialsRejected | None = None
        self._all_symbols: dict[int, str] = {}  # every instrument: own orders may be on any
        self._seen_fills: set[int] = set()

    def _background(self) -> list[Coroutine[Any, Any, None]]:
        own = [self._account_loop()] if self.credentials is not None else []
        return [*super()._background(), *own]

    def _on_closed(self) -> None:
        super()._on_closed()
        if self.authenticated:
            self.authenticated = False  # the login belonged to that connection

    async def _account_loop(self) -> None:
        """Log in, then read the account every `account_interval` seconds."""
        while self.login_error is None:
            try:
                if not self.authenticated:
                    await self._login()
                snapshot = await self._read_account()
            except CredentialsRejected as exc:
                if self.authenticated:
                    # The session lost its rights (it expired, say): log in afresh next time.
                    self.authenticated = False
                else:
                    self.login_error = exc
                self._report(exc)
            except CONNECTION_ERRORS as exc:
                if self._closing:
                    return
                self._report(exc)
            else:
                if self.on_account is not None:
                    self.on_account(snapshot)
            if self.login_error is not None:
                return
            await asyncio.sleep(self.account_interval)

    async def _login(self) -> None:
        assert self.credentials is not None
        username, password = self.credentials
        login_user_id(await self._call("WebAuthenticateUser",
                                       {"UserName": username, "Password": password}))
        self.authenticated = True

    async def _read_account(self) -> AccountSnapshot:
        user = parse_user(await self._call("GetUserInfo", {}))
        account_id = self.account_id = user.account_id
        which = {"OMSId": OMS_ID, "AccountId": account_id}
        snapshot = AccountSnapshot(fetched_at=utc_now(), user=user,
                                   account=parse_account(await self._call("GetAccountInfo", which)))
        symbols, problems = self._all_symbols, snapshot.problems
        snapshot.open_orders = parse_orders(await self._call("GetOpenOrders", which), symbols,
                                            what="GetOpenOrders", problems=problems)
        snapshot.history = parse_orders(await self._call("GetOrderHistory", which), symbols,
                                        what="GetOrderHistory", problems=problems)
        snapshot.trades = await self._account_fills(which, problems)
        return snapshot

    async def _account_fills(self, which: dict[str, int], problems: list[str]) -> list[AccountFill]:
        """Pages from the newest fill (StartIndex 0) back, until a page is short or holds only
        fills an earlier read already brought."""
        fills: list[AccountFill] = []
        for page in range(MAX_TRADE_PAGES):
            payload = await self._call("GetAccountTrades", {
                **which, "StartIndex": page * TRADES_PAGE, "Count": TRADES_PAGE})
            rows = parse_fills(payload, self._all_symbols, problems=problems)
            fills.extend(rows)
            if len(payload) < TRADES_PAGE or all(r.trade_id in self._seen_fills for r in rows):
                break
        self._seen_fills.update(row.trade_id for row in fills)
        return fills
