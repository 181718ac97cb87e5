"""The seed's observer section: a subaccount's workers, hashrates and status read with an
observer key (X-Observer-Key)."""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import date, datetime, timedelta

from simulator.core import Request, Response, route
from simulator.sbicrypto.base import SbiCryptoBase
from simulator.sbicrypto.model import DAY, MINUTE, Sub, bad_request
from simulator.sbicrypto.params import _date, _int, _now, _paging, _sort_param, _states, _window


class ObserverRoutes(SbiCryptoBase):
    """Observer Key Access Control endpoints."""

    @route("GET", "/api/observer/v1/workers/validate")
    def observer_validate(self, request: Request) -> Response:
        self._observer(request)
        return Response(status=204)

    @route("GET", "/api/observer/v1/workers/details")
    def observer_workers(self, request: Request) -> Response:
        sub = self._observer(request)
        name = request.query.get("nameFilter", "")
        if name and not 2 <= len(name) <= 20:
            raise bad_request("nameFilter must be 2 to 20 characters")
        ranges = [int(r) for r in (request.query.get("hashrateRanges") or "10,60,1440").split(",")
                  if r.strip().isdigit()]
        if "text/csv" in request.headers.get("accept", ""):
            return self._csv(sub, request, ranges)
        page, size = _paging(request, "page")
        field, ascending = _sort_param(request, ("name",), ("name", True))
        listed = self._listing((sub,), request, _states(request), name)
        return Response.json(self._worker_page(listed, request, page, size, ranges, ascending, field))

    @route("GET", "/api/observer/v1/hashrates/coin")
    @route("GET", "/api/observer/v1/workers/hashrates/coin")  # the path of the document's example
    def observer_coin_hashrates(self, request: Request) -> Response:
        sub = self._observer(request)
        match = re.fullmatch(r"(\d+):(\d+)", request.query.get("range", ""))
        resolution = _int(request, "resolution", low=1, high=1440)
        if not match or not int(match[1]) < int(match[2]) <= DAY // MINUTE:
            raise bad_request("range must be start:end in minutes before now, within a day")
        start, end = int(match[1]), int(match[2])
        points = [request.now - timedelta(minutes=end - (k + 0.5) * resolution)
                  for k in range(math.ceil((end - start) / resolution))]
        wanted = {c.strip().upper() for c in request.query.get("coins", "").split(",") if c.strip()}
        if wanted and sub.coin not in wanted:
            return Response.json({"now": _now(request), "hashrate": {}})
        return Response.json({"now": _now(request), "hashrate": {
            sub.coin: [self._totals((sub,), moment)[1][0] for moment in points]}})

    @route("GET", "/api/observer/v1/workers/hashrates")
    def observer_hashrates(self, request: Request) -> Response:
        sub = self._observer(request)
        raw = request.query.get("ranges", "")
        if not re.fullmatch(r"\d+(,\d+)*", raw):
            raise bad_request("ranges must be comma-separated minutes")
        _, sums = self._totals((sub,), request.now)
        return Response.json({"now": _now(request), "subaccounts": {sub.name: sub.id},
                              "hashrate": {sub.name: [sums[_window(int(r))] for r in raw.split(",")]}})

    @route("GET", "/api/observer/v1/workers/status")
    def observer_status(self, request: Request) -> Response:
        sub = self._observer(request)
        counts, _ = self._totals((sub,), request.now)
        return Response.json({"status": {str(sub.id): {
            "name": sub.name, "online": counts[0], "offline": counts[1], "dead": counts[2]}}})

    def _csv(self, sub: Sub, request: Request, ranges: list[int]) -> Response:
        first = _date(request, "startDate", date.min)
        last = _date(request, "endDate", date.max)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["worker", "subaccount", "status", "lastShareDate",
                         *(f"hashrate{r}m" for r in ranges)])
        for row in self._rows(self._listing((sub,), request, _states(request),
                                            request.query.get("nameFilter", "")), request, ranges):
            shared = datetime.fromisoformat(row["lastShareTime"])
            if first <= shared.date() <= last:
                writer.writerow([row["name"], row["subaccount"], row["state"],
                                 shared.isoformat(timespec="seconds"), *row["hashrates"]])
        return Response.text(out.getvalue(), content_type="text/csv; charset=utf-8")
