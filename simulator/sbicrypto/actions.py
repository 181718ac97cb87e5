"""The seed's "External Update APIs" section (UPDATE permission): switch a subaccount's coin,
clear its inactive workers, change its payout address."""

from __future__ import annotations

from simulator.core import Request, Response, route
from simulator.sbicrypto.base import SbiCryptoBase
from simulator.sbicrypto.model import UPDATE, ApiError, bad_request
from simulator.sbicrypto.params import _body, _supported_coin, _target


class ActionRoutes(SbiCryptoBase):
    """External Update APIs; they change this instance's memory, so later reads show them."""

    @route("PATCH", "/api/external/v1/subaccount")
    def switch_coin(self, request: Request) -> Response:
        _, subs = self._key(request, UPDATE)
        body = _body(request)
        sub = _target(subs, body.get("subaccountName"))
        coin = _supported_coin(body.get("coin"))
        with self._lock:
            address = self.addresses[sub.id].get(coin)
            if not address:
                raise ApiError(422, "unprocessable_entity",
                               f"Subaccount {sub.name} does not have a configured payout address for {coin}")
            unchanged = self.coins[sub.id] == coin
            self.coins[sub.id] = coin
        return Response.json({"subaccountName": sub.name, "coin": coin, "payoutAddress": address},
                             status=200 if unchanged else 202)

    @route("POST", "/api/external/v1/clear-inactive-workers")
    def clear_inactive_workers(self, request: Request) -> Response:
        _, subs = self._key(request, UPDATE)
        name = request.query.get("subaccountName", "").strip()
        if not name:
            raise bad_request("subaccountName is required")
        sub = _target(subs, name)
        with self._lock:
            self.cleared.add(sub.id)
        return Response(status=204)

    @route("PATCH", "/api/external/v1/subaccount/address")
    def update_payout_address(self, request: Request) -> Response:
        _, subs = self._key(request, UPDATE)
        body = _body(request)
        sub = _target(subs, body.get("name"))
        coin = _supported_coin(body.get("coin") or self.coin_of(sub))
        address = str(body.get("address") or "").strip()
        if not address:
            raise bad_request("address is required")
        with self._lock:
            self.addresses[sub.id][coin] = address
        return Response.json({"id": sub.id, "address": address, "coin": coin}, status=202)
