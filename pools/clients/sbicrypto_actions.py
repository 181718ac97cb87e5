"""SBI Crypto UPDATE endpoints: switch a subaccount's mining coin, clear its inactive workers,
request a new payout address. They need an API key and secret with the UPDATE permission.

Each refusal is explained for the action that met it: the same status means different things
per endpoint (a 422 from a coin switch is a missing payout address), and the person reading
the message is about to decide whether to try again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dashboard.http import CredentialsRejected, UpstreamError, where
from dashboard.sources import PollContext
from pools.clients.sbicrypto_account import EXTERNAL
from pools.clients.sbicrypto_api import JSON, error_text

ERROR_STATUSES = frozenset({400, 401, 403, 404, 422})


@dataclass(frozen=True)
class ActionAnswer:
    status: int
    data: dict[str, Any]  # the upstream's JSON object; empty for a 204


class SbiActions:
    def __init__(self, ctx: PollContext) -> None:
        key, secret = (ctx.credentials.get(name) or "" for name in ("api_key", "api_secret"))
        if not (key and secret):
            raise CredentialsRejected("SBI Crypto actions need an API key and secret; an observer "
                                      "key can only read")
        self.ctx = ctx
        self.headers = {"X-API-Key": key, "X-API-Secret": secret, "Accept": JSON}
        self.secrets = (key, secret)

    def switch_coin(self, subaccount: str, coin: str) -> ActionAnswer:
        """200: the subaccount already mines `coin`; 202: switched."""
        body = {"subaccountName": subaccount, "coin": coin.upper()}
        return self._send("PATCH", f"{EXTERNAL}/subaccount", "switch_coin", subaccount, json_body=body)

    def clear_inactive_workers(self, subaccount: str) -> ActionAnswer:
        return self._send("POST", f"{EXTERNAL}/clear-inactive-workers", "clear_inactive_workers",
                          subaccount, params={"subaccountName": subaccount})

    def update_payout_address(self, subaccount: str, address: str, coin: str = "") -> ActionAnswer:
        """202: accepted, pending the pool's verification; payouts keep the old address until then."""
        body = {"name": subaccount, "address": address, **({"coin": coin.upper()} if coin else {})}
        return self._send("PATCH", f"{EXTERNAL}/subaccount/address", "update_payout_address",
                          subaccount, json_body=body)

    def _send(self, method: str, path: str, action: str, subaccount: str, *,
              params: dict[str, str] | None = None, json_body: Any = None) -> ActionAnswer:
        url = self.ctx.base_url + path
        response = self.ctx.http.request(method, url, params=params, headers=self.headers,
                                         json_body=json_body, accept=ERROR_STATUSES)
        if response.status in ERROR_STATUSES:
            raise self.error(response.status, error_text(response.text), action, subaccount, url)
        if response.status == 204 or not response.text.strip():
            return ActionAnswer(response.status, {})
        body = response.json()
        return ActionAnswer(response.status, body if isinstance(body, dict) else {"answer": body})

    def error(self, status: int, text: str, action: str, subaccount: str, url: str) -> UpstreamError:
        for secret in self.secrets:  # an upstream may quote the key it refuses
            text = text.replace(secret, "***")
        detail = f"(HTTP {status}: {text})"
        if status == 401:
            return CredentialsRejected(f"SBI Crypto rejected the API key and secret {detail}",
                                       status=status)
        if status == 403:
            return CredentialsRejected(
                f"SBI Crypto refused: this API key lacks the UPDATE permission, or may not act on "
                f"subaccount {subaccount} {detail}; grant it in the pool's API key settings",
                status=status)
        if status == 404:
            return UpstreamError(
                f"SBI Crypto has no subaccount {subaccount} among those this key may see, or "
                f"{where(url)} is not an SBI Crypto address {detail}",
                permanent=True, status=status, reason="not_found")
        return UpstreamError(f"SBI Crypto refused the request: {EXPLAINED[action].get(status, text)} "
                             f"{detail}", permanent=True, status=status, reason="rejected")


# The documented meanings of 400 and 422 for each action.
EXPLAINED: dict[str, dict[int, str]] = {
    "switch_coin": {
        400: "the pool does not support that coin",
        422: "the subaccount has no payout address for that coin; set one with "
             "'Update payout address' first",
    },
    "clear_inactive_workers": {400: "the subaccount name was missing"},
    "update_payout_address": {
        400: "the pool does not support that coin",
        422: "the address is not valid for that coin",
    },
}
