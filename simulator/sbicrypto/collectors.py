"""The seed's "External Collector APIs" section: the virtual subaccounts of a collector."""

from __future__ import annotations

from datetime import timedelta

from simulator.core import Request, Response, route, stable_hex
from simulator.sbicrypto.base import SbiCryptoBase
from simulator.sbicrypto.earnings import midnight, shares
from simulator.sbicrypto.model import DAY, READ, SUBS, ApiError, Sub, Virtual, bad_request
from simulator.sbicrypto.params import _ids, _page, _paging, _sort


class CollectorRoutes(SbiCryptoBase):
    """External Collector APIs (the reads; nothing creates or changes a collector here)."""

    @route("GET", "/api/external/v1/subaccount/{collector}/virtual")
    def collector(self, request: Request) -> Response:
        _, subs = self._key(request, READ)
        raw = request.path_params["collector"]
        if not raw.isdigit() or int(raw) not in SUBS:
            raise bad_request(f"{raw} is not a valid subaccount")
        sub = SUBS[int(raw)]
        if sub not in subs:
            raise ApiError(403, "access_denied", f"The API key has no access to subaccount {sub.name}")
        if not sub.virtual:
            raise bad_request(f"{sub.name} is not a collector subaccount")
        wanted = _ids(request, "vSubaccountIds")
        return self._virtual_page(request, [(sub, v) for v in sub.virtual if not wanted or v.id in wanted])

    @route("GET", "/api/external/v1/subaccount/virtual")
    def virtual(self, request: Request) -> Response:
        _, subs = self._key(request, READ)
        collectors, wanted = _ids(request, "collectorIds"), _ids(request, "vSubaccountIds")
        if not collectors or not wanted:
            raise bad_request("collectorIds and vSubaccountIds are required")
        if any(c not in {s.id for s in subs} for c in collectors):
            raise ApiError(403, "access_denied", "The API key has no access to every collector asked for")
        name = request.query.get("filter", "").strip()
        return self._virtual_page(request, [
            (sub, v) for sub in subs if sub.id in collectors for v in sub.virtual
            if v.id in wanted and name in v.name])

    def _virtual_page(self, request: Request, found: list[tuple[Sub, Virtual]]) -> Response:
        page, size = _paging(request, "page")
        today = request.now.date()
        rows = []
        for sub, v in found:
            _, sums = self._totals((sub,), request.now)
            revenue = [round(next(s.net for s in shares(self.seed, sub, day) if s.virtual == v)
                             * fraction, 8) for day, fraction in (
                (today - timedelta(days=1), 1.0),
                (today, (request.now - midnight(today)).total_seconds() / DAY))]
            allocation = int(sums[2] * v.share)
            link = f"https://pool.sbicrypto.com/observers?linkId={stable_hex(self.seed, v.id, length=32)}"
            rows.append({
                "collectorId": sub.id, "collectorName": sub.name, "coin": sub.coin, "scheme": sub.scheme,
                "feeRate": sub.fee, "allocation": allocation, "magnitude": "MH/s",
                "hashrate": [value * v.share for value in sums], "revenue": revenue, "balance": revenue[1],
                "observerLink": link,
                "percentage": v.share, "address": v.address, "note": "NO_CHANGE", "newAllocation": allocation,
                "tier": v.tier, "newTier": v.tier, "vsubaccountName": v.name, "vsubaccountId": v.id,
                "isOverflow": v.overflow, "isPaymentEnabled": True,
            })
        field, ascending = _sort(request, rows, default=("percentage", False), secondary="vsubaccountId")
        return Response.json(_page(rows, page, size, field, ascending))
