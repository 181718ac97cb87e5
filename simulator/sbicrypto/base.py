"""What every SBI Crypto endpoint shares: the changes UPDATE actions made, key and observer
checks, and worker and earning reads over the simulated accounts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from simulator.core import DEFAULT_SEED, Request, Response, SimulatedApi, stable_hex
from simulator.sbicrypto.earnings import Share, at, iso, shares, uuid_of
from simulator.sbicrypto.model import (
    KEYS,
    OBSERVERS,
    OTHER_ADDRESSES,
    OWNER,
    SLOT,
    SUBS,
    Account,
    ApiError,
    Sub,
)
from simulator.sbicrypto.params import _envelope, _kept, _snake, _snakeize, _window
from simulator.sbicrypto.workers import Listing, last_share, reading, slot_totals


class SbiCryptoBase(SimulatedApi):
    """The state and helpers of the API; the routes are in one mixin per section of the
    document."""

    def __init__(self, *, seed: str = DEFAULT_SEED):
        super().__init__(seed=seed)
        self._lock = threading.Lock()  # the server answers requests on several threads
        self.coins: dict[int, str] = {}
        self.addresses: dict[int, dict[str, str]] = {}
        self.cleared: set[int] = set()
        self.forget_changes()

    def forget_changes(self) -> None:
        """Undo every UPDATE action."""
        with self._lock:
            self.coins = {sub.id: sub.coin for sub in SUBS.values()}
            self.addresses = {sub.id: {sub.coin: sub.address, **OTHER_ADDRESSES.get(sub.id, {})}
                              for sub in SUBS.values()}
            self.cleared = set()

    def coin_of(self, sub: Sub) -> str:
        return self.coins[sub.id]

    def address_of(self, sub: Sub) -> str:
        return self.addresses[sub.id].get(self.coins[sub.id], "")

    def describe(self) -> str:
        return ("api_key sim-sbi-key-alpha api_secret sim-sbi-secret-alpha (7,500 workers); "
                "observer_key sim-sbi-observer-bravo (240 workers)")

    def dispatch(self, request: Request) -> Response:
        try:
            response = super().dispatch(request)
        except ApiError as error:
            return Response.json({"error": error.error, "error_description": error.description},
                                 status=error.status)
        if response.status in (404, 405) and isinstance(response.payload, dict) \
                and "error_description" not in response.payload:
            return Response.json({"error": "not_found" if response.status == 404 else "method_not_allowed",
                                  "error_description": f"No endpoint {request.method} {request.path}"},
                                 status=response.status, headers=response.headers)
        return response

    def apply_schema_change(self, response: Response) -> Response:
        """This API's keys are camelCase already; a format change makes them snake_case."""
        if response.payload is None:
            return response
        payload = response.payload
        if isinstance(payload, dict):
            payload = {k if k in self.envelope_keys else _snake(k): _snakeize(v) for k, v in payload.items()}
        else:
            payload = _snakeize(payload)
        return Response.json(payload, status=response.status, headers=response.headers)

    def _key(self, request: Request, permission: str) -> tuple[Account, tuple[Sub, ...]]:
        """The account and subaccounts the request's key may read with `permission`."""
        key = KEYS.get(request.headers.get("x-api-key", ""))
        if key is None or key.api_secret != request.headers.get("x-api-secret"):
            raise ApiError(401, "unauthorized", "X-API-Key and X-API-Secret are missing or not valid")
        if permission not in key.permissions:
            raise ApiError(403, "access_denied", f"The API key does not have the {permission} permission")
        if not key.sub_ids:
            raise ApiError(403, "access_denied", "The API key has no access to any subaccount")
        return OWNER[key.sub_ids[0]], tuple(SUBS[i] for i in key.sub_ids)

    def _observer(self, request: Request) -> Sub:
        sub = OBSERVERS.get(request.headers.get("x-observer-key", ""))
        if sub is None:
            raise ApiError(401, "invalid_token", "Observer Key is invalid.")
        return sub

    def _totals(self, subs: tuple[Sub, ...], now: datetime) -> tuple[list[int], list[float]]:
        """(online, offline, dead) and 10m, 1h and 1d MH/s of the subaccounts' workers now."""
        slot = int(now.timestamp() // SLOT)
        found = [slot_totals(self.seed, sub.id, slot, sub.id in self.cleared) for sub in subs]
        return ([sum(counts[i] for counts, _ in found) for i in range(3)],
                [sum(sums[i] for _, sums in found) for i in range(3)])

    def _shares(self, subs: tuple[Sub, ...], first: date, last: date, now: datetime) -> Iterator[Share]:
        """Every earning in [first, last], for finished UTC days since the account opened."""
        start = max(first, OWNER[subs[0].id].since)
        end = min(last, now.date() - timedelta(days=1))
        for offset in range((end - start).days + 1):
            for sub in subs:
                yield from shares(self.seed, sub, start + timedelta(days=offset))

    def _tx(self, coin: str, day: date) -> tuple[str, str]:
        """(chain tx id, pool tx id) of the daily payment of a coin."""
        return stable_hex(self.seed, "tx", coin, day), uuid_of(self.seed, "internal", coin, day)

    def _listing(self, subs: tuple[Sub, ...] | list[Sub], request: Request, states: set[str],
                 name: str) -> Listing:
        slot = int(request.now.timestamp() // SLOT)
        ordered = sorted(subs, key=lambda sub: sub.prefix)
        cleared = {sub.id for sub in ordered} & self.cleared
        if not states and not name and not cleared:
            return Listing(ordered)
        return Listing(ordered, [
            (sub, index) for sub in ordered for index in range(sub.workers)
            if (not name or name in sub.worker_name(index))
            and _kept(reading(self.seed, sub, index, slot).state, sub, states, cleared)])

    def _worker_page(self, listed: Listing, request: Request, page: int, size: int, ranges: tuple[int, ...]
                     | list[int], ascending: bool, field: str = "name") -> dict[str, Any]:
        total = len(listed)
        chosen = listed.slice(page * size, (page + 1) * size, ascending)
        content = self._rows(chosen, request, ranges)
        return _envelope(content, total, page, size, field, ascending)

    def _rows(self, workers: Iterator[tuple[Sub, int]] | Listing, request: Request,
              ranges: tuple[int, ...] | list[int]) -> list[dict[str, Any]]:
        slot, t = int(request.now.timestamp() // SLOT), request.now.timestamp()
        rows = []
        for sub, index in workers:
            found = reading(self.seed, sub, index, slot)
            rows.append({
                "name": sub.worker_name(index), "state": found.shown,
                "lastShareTime": iso(at(last_share(self.seed, sub, index, found, t))),
                "subaccountId": sub.id, "subaccount": sub.name,
                "hashrates": [found.mhs[_window(r)] for r in ranges],
            })
        return rows
