"""The seed's "External Read APIs" section (READ permission): account, subaccounts, workers
and subpools."""

from __future__ import annotations

from simulator.core import Request, Response, route
from simulator.sbicrypto.base import SbiCryptoBase
from simulator.sbicrypto.model import READ, SUBPOOLS
from simulator.sbicrypto.params import _currency, _named, _paging, _states


class AccountRoutes(SbiCryptoBase):
    """External Read APIs."""

    @route("GET", "/api/external/v1/account")
    def account(self, request: Request) -> Response:
        account, subs = self._key(request, READ)
        counts, sums = self._totals(subs, request.now)
        return Response.json({
            "name": account.name, "timezone": account.timezone, "hashrate": sums,
            "subaccounts": [{"subaccountId": s.id, "subaccountName": s.name,
                             "currentMiningCurrency": _currency(self.coin_of(s), full=True)} for s in subs],
            "workerStatus": {"OFFLINE": counts[1], "DEAD": counts[2], "ONLINE": counts[0]},
            "numOfWorkers": sum(counts), "numOfSubaccounts": len(subs),
        })

    @route("GET", "/api/external/v1/subaccounts")
    def subaccounts(self, request: Request) -> Response:
        account, subs = self._key(request, READ)
        rows = []
        for sub in _named(subs, request):
            counts, sums = self._totals((sub,), request.now)
            rows.append({
                "subaccountId": sub.id, "subaccountName": sub.name,
                "currentMiningCurrency": _currency(self.coin_of(sub), full=False),
                "payoutAddress": self.address_of(sub),
                "observerLink": f"https://pool.sbicrypto.com/observers?linkId={sub.observer_key}",
                "hashrate": sums,
                "workerStatus": {"offline": counts[1], "online": counts[0], "dead": counts[2]},
                "totalWorkers": sum(counts),
            })
        return Response.json({"accountName": account.name, "subaccounts": rows})

    @route("GET", "/api/external/v1/workers")
    def workers(self, request: Request) -> Response:
        _, subs = self._key(request, READ)
        page, size = _paging(request, "pageNumber")
        wanted = _states(request)
        listed = self._listing(_named(subs, request), request, wanted, request.query.get("workerName", ""))
        return Response.json(self._worker_page(listed, request, page, size, (10, 60, 1440), ascending=True))

    @route("GET", "/api/external/v1/subpools")
    def subpools(self, request: Request) -> Response:
        self._key(request, READ)
        return Response.json(SUBPOOLS)
