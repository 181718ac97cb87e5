"""The seed's "External Financial APIs" section (FINANCIALS permission): payouts, earnings
and revenue."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from simulator.core import Request, Response, between, route
from simulator.sbicrypto.base import SbiCryptoBase
from simulator.sbicrypto.earnings import Share, iso, midnight, pay_state, pay_time, shares, uuid_of
from simulator.sbicrypto.model import DAY, FINANCIALS
from simulator.sbicrypto.params import _currency, _filtered, _month, _named, _page, _paging, _range, _sort


class FinancialRoutes(SbiCryptoBase):
    """External Financial APIs."""

    @route("GET", "/api/external/v1/earnings")
    def payout_information(self, request: Request) -> Response:
        _, subs = self._key(request, FINANCIALS)
        first, last = _range(request, "fromDate", "toDate", default=None)
        page, size = _paging(request, "page", default_size=100)
        rows = []
        for share in self._shares(subs, first, last, request.now):
            state = pay_state(self.seed, share.sub.coin, share.day, request.now)
            if state == "PENDING":
                continue  # the record is made when the payout is computed
            tx = self._tx(share.sub.coin, share.day)
            rows.append({
                "id": uuid_of(self.seed, "record", share.sub.id, share.virtual_id, share.day),
                "coin": _currency(share.sub.coin, full=False),
                "created": iso(pay_time(self.seed, share.sub.coin, share.day)),
                "asOf": iso(midnight(share.day + timedelta(days=1))),
                "subaccountName": share.sub.name, "subaccountId": share.sub.id,
                "payoutAddress": share.address, "paymentMethod": share.sub.scheme,
                "amount": share.net, "feesPaid": round(share.gross - share.net, 8),
                "systemFeePercentage": share.sub.fee, "transactionId": tx[1], "status": state,
                "blockchainId": tx[0],
            })
        rows.sort(key=lambda row: (row["created"], row["id"]), reverse=True)
        return Response.json(_page(rows, page, size, "created", ascending=False))

    @route("GET", "/api/external/v2/earnings")
    def earnings(self, request: Request) -> Response:
        _, subs = self._key(request, FINANCIALS)
        first, last = _range(request, "startDate", "endDate", default=_month(request.now.date()))
        page, size = _paging(request, "page", required=True)
        wanted = {int(v) for v in request.query.get("vSubaccounts", "").split(",") if v.strip().isdigit()}
        rows = []
        for share in self._shares(subs, first, last, request.now):
            if wanted and (share.virtual is None or share.virtual.id not in wanted):
                continue
            state = pay_state(self.seed, share.sub.coin, share.day, request.now)
            tx, internal = self._tx(share.sub.coin, share.day) if state != "PENDING" else (None, None)
            rows.append({
                "earningsId": uuid_of(self.seed, "earning", share.sub.id, share.virtual_id, share.day),
                "subaccountId": share.sub.id, "subaccountName": share.sub.name,
                "vSubaccountId": share.virtual_id, "vSubaccountName": share.virtual_name,
                "earningsFor": iso(midnight(share.day)), "earningScheme": share.sub.scheme,
                "coin": share.sub.coin, "address": share.address, "hashrate": share.mhs,
                "grossOwed": share.gross, "fee": share.sub.fee,
                "feesPaid": round(share.gross - share.net, 8), "netOwed": share.net, "state": state,
                "txId": tx, "internalTxId": internal,
                "paidOn": iso(pay_time(self.seed, share.sub.coin, share.day)) if tx else None,
            })
        rows = _filtered(rows, request, ("coin", "txId", "address"))
        field, ascending = _sort(request, rows, default=("earningsFor", False), secondary="earningsFor")
        return Response.json(_page(rows, page, size, field, ascending))

    @route("GET", "/api/external/v1/revenue")
    def revenue(self, request: Request) -> Response:
        _, subs = self._key(request, FINANCIALS)
        today = request.now.date()
        elapsed = (request.now - midnight(today)).total_seconds() / DAY
        by_day: dict[str, list[dict[str, Any]]] = {}
        for day, fraction in ((today, elapsed), (today - timedelta(days=1), 1.0)):
            by_day[iso(midnight(day))] = [{
                "subaccountName": sub.name, "coin": sub.coin,
                "amount": round(sum(s.net for s in shares(self.seed, sub, day)) * fraction
                                * between(0.97, 1.03, self.seed, sub.id, "estimate", day), 8),
            } for sub in _named(subs, request)]
        return Response.json({"estimatedRevenues": by_day})

    @route("GET", "/api/external/v1/payouts")
    def payouts(self, request: Request) -> Response:
        _, subs = self._key(request, FINANCIALS)
        first, last = _range(request, "startDate", "endDate", default=_month(request.now.date()))
        page, size = _paging(request, "page")
        coins = {c.strip().upper() for c in request.query.get("coinFilters", "").split(",") if c.strip()}
        vsubs = {int(v) for v in request.query.get("vSubaccountIds", "").split(",") if v.strip().isdigit()}
        by_tx: dict[tuple[str, date], list[Share]] = {}
        # Paid on the day after the earning: the dates select by payment day.
        for share in self._shares(subs, first - timedelta(days=1), last - timedelta(days=1), request.now):
            if (not coins or share.sub.coin in coins) and (
                    not vsubs or (share.virtual is not None and share.virtual.id in vsubs)):
                by_tx.setdefault((share.sub.coin, share.day), []).append(share)
        rows = []
        for (coin, day), paid in by_tx.items():
            state = pay_state(self.seed, coin, day, request.now)
            tx, internal = self._tx(coin, day)
            rows.append({
                "internalTxId": internal, "coin": coin, "amount": round(sum(s.net for s in paid), 8),
                "txFee": round(between(1e-5, 5e-5, self.seed, coin, "txfee", day), 8),
                "state": "NEW" if state == "PENDING" else state, "txId": None if state == "PENDING" else tx,
                "paidOn": None if state == "PENDING" else iso(pay_time(self.seed, coin, day)),
                "details": [{"amount": s.net, "subaccount": s.sub.name, "address": s.address,
                             "vsubaccountName": s.virtual_name} for s in paid],
            })
        rows = _filtered(rows, request, ("txId",))
        field, ascending = _sort(request, rows, default=("paidOn", False), secondary="paidOn",
                                 ascending_by_default=True)
        return Response.json(_page(rows, page, size, field, ascending))
