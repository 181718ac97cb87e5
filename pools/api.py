"""Pool endpoints of /api/v1/ (see DESIGN.md): the same selectors as the pages, so the
numbers match what the pages show."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils import timezone

from dashboard.api import ApiError, api_view, iso, source_param
from pools import selectors
from pools.charts import MAX_POINTS, parse_moment
from pools.day_range import BadRange, day_param, days_in_order
from pools.models import Worker, WorkerStatus

API_PAGE_SIZE = 100


def decimal_text(amount: Decimal) -> str:
    """Whole coin units as a plain decimal string: no exponent, no trailing zeros."""
    return f"{amount.normalize():f}"


def moment_param(request: HttpRequest, name: str, default: datetime) -> datetime:
    raw = request.GET.get(name)
    if not raw:
        return default
    moment = parse_moment(raw)
    if moment is None:
        raise ApiError(400, f"'{name}' must be an ISO 8601 time such as 2026-11-01T00:00:00Z")
    return moment


def pool_source(request: HttpRequest) -> Any:
    source = source_param(request)
    if source.kind_spec.category != "pool":
        raise ApiError(400, f"source {source.pk} is not a mining pool")
    return source


@api_view
def hashrate(request: HttpRequest) -> dict[str, Any]:
    source = pool_source(request)
    end = moment_param(request, "end", timezone.now())
    start = moment_param(request, "start", end - timedelta(hours=24))
    if start >= end:
        raise ApiError(400, "'start' must be before 'end'")
    raw_points = request.GET.get("points", str(MAX_POINTS))
    if not raw_points.isdigit() or not 3 <= int(raw_points) <= MAX_POINTS:
        raise ApiError(400, f"'points' must be a whole number from 3 to {MAX_POINTS}")
    worker = request.GET.get("worker", "")
    if worker and not Worker.objects.filter(source=source, name=worker).exists():
        raise ApiError(404, f"no worker named {worker!r} in source {source.pk}")
    points = selectors.hashrate_series(source=source, worker_name=worker, start=start, end=end,
                                       max_points=int(raw_points))
    return {"unit": "H/s", "series": [{"t": iso(t), "v": v} for t, v in points]}


@api_view
def workers(request: HttpRequest) -> dict[str, Any]:
    source = pool_source(request)
    status = request.GET.get("status", "")
    if status and status not in WorkerStatus.values:
        raise ApiError(400, f"'status' must be one of {', '.join(WorkerStatus.values)}")
    rows = selectors.team_workers(sources=[source], status=status, q=request.GET.get("q", ""))
    paginator = Paginator(rows.order_by("name", "pk"), API_PAGE_SIZE)
    raw_page = request.GET.get("page", "1")
    if not raw_page.isdigit() or int(raw_page) < 1:
        raise ApiError(400, "'page' must be a whole number from 1")
    if int(raw_page) > paginator.num_pages:
        raise ApiError(404, f"there are {paginator.num_pages} page(s)")
    page = paginator.page(int(raw_page))
    return {
        "count": paginator.count,
        "results": [
            {"name": w.name, "status": w.status, "pool_status": w.pool_status,
             "hashrate_hs": w.hashrate_hs, "hashrate_24h_hs": w.hashrate_24h_hs,
             "last_share_at": iso(w.last_share_at), "listed": w.missing_since is None}
            for w in page.object_list
        ],
    }


@api_view
def earnings(request: HttpRequest) -> dict[str, Any]:
    source = pool_source(request)
    try:
        # Without dates, every day stored: the answer's shape predates the page's presets.
        start, end = day_param(request.GET, "start"), day_param(request.GET, "end")
        days_in_order(start, end)
    except BadRange as error:
        raise ApiError(400, error.message) from None
    rows = selectors.team_earnings(sources=[source], start=start, end=end)
    return {"results": [{"date": r.date.isoformat(), "coin": r.coin, "amount": decimal_text(r.amount)}
                        for r in rows]}


@api_view
def payouts(request: HttpRequest) -> dict[str, Any]:
    source = pool_source(request)
    rows = selectors.team_payouts(sources=[source])
    # `fee` is null where the pool does not report it (only SBI Crypto does).
    return {"results": [{"paid_at": iso(p.paid_at), "coin": p.coin, "amount": decimal_text(p.amount),
                         "address": p.address, "tx": p.tx,
                         "fee": None if p.fee is None else decimal_text(p.fee)} for p in rows]}
