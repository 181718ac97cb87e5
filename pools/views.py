"""Pool pages: hashrate, workers, earnings. Views check access, call selectors, render."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from dashboard.models import Source
from dashboard.pages import page
from dashboard.registries import earnings_columns, earnings_panel_fragments, worker_panel_fragments
from dashboard.selectors import team_source_get
from dashboard.teams import team_view
from exchanges.fiat import FIAT, DayPrices, Valued, fiat_hint, team_day_prices
from pools import selectors
from pools.charts import DEFAULT_RANGE, RANGES, Line, Point, format_hashrate, parse_moment
from pools.day_range import CUSTOM, BadRange, DayRange, day_range_parse
from pools.models import PoolAccount, PoolCoinStat, Worker
from pools.presenters import (
    block_url,
    earnings_chart,
    explorer_url,
    fiat_totals,
    hashrate_chart,
)

WORKER_SORTS = {
    "name": "name", "source": "source__label", "status": "status",
    "hashrate": "hashrate_hs", "hashrate_24h": "hashrate_24h_hs", "last_share": "last_share_at",
}
WORKERS_PER_PAGE = 50
SPARSE_POINTS = 10  # fewer readings than this: say why the line is short
EARNING_RANGES = {"30d": 30, "90d": 90, "1y": 365, "all": None}
# The per-day and payout tables are paged: a year of 50 sources is 18,000 days and 6,000
# payouts, which no page should draw (totals and charts still count every row, and the CSVs
# have them all).
EARNING_ROWS_PER_PAGE = 50
PAYOUTS_PER_PAGE = 50


@dataclass(frozen=True)
class Scope:
    """Which of the team's pool sources a page shows: its `pool` (kind), `source` and
    `subaccount` filters, and how to keep them in links that change something else."""

    every: list[Source]
    sources: list[Source]
    pool: str = ""
    picked: frozenset[int] = frozenset()
    subaccount: str = ""

    @property
    def kinds(self) -> list[tuple[str, str]]:
        return sorted({(s.kind, s.kind_label) for s in self.every}, key=lambda k: k[1])

    @property
    def query(self) -> str:
        """`pool=...&source=...&` to put before another parameter in a link."""
        params = [("pool", self.pool)] if self.pool else []
        params += [("source", str(pk)) for pk in sorted(self.picked)]
        if self.subaccount:
            params.append(("subaccount", self.subaccount))
        return urlencode(params) + "&" if params else ""

    @property
    def subaccounts(self) -> list[str]:
        names = set()
        for info in PoolAccount.objects.filter(source__in=self.sources).values_list("info", flat=True):
            names |= {str(sub.get("name")) for sub in (info or {}).get("subaccounts", []) if sub.get("name")}
        return sorted(names)


def scope_of(request: HttpRequest) -> Scope:
    every = selectors.team_pool_sources(team=request.team)  # type: ignore[attr-defined]
    pool = request.GET.get("pool", "")
    wanted = frozenset(int(v) for v in request.GET.getlist("source") if v.isdigit())
    sources = [s for s in every if (not pool or s.kind == pool) and (not wanted or s.pk in wanted)]
    return Scope(every, sources, pool, wanted, request.GET.get("subaccount", "").strip()[:100])


def chosen_range(request: HttpRequest, choices: dict[str, Any], default: str) -> str:
    value = request.GET.get("range", default)
    return value if value in choices else default


@team_view()
def hashrate(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request)
    range_key = chosen_range(request, RANGES, DEFAULT_RANGE)
    end = timezone.now()
    start = end - RANGES[range_key]
    context = {"range_key": range_key, "ranges": RANGES, "scope": scope, "start": start, "end": end,
               "charts": [], "totals": [], "several_coins": [], "step_seconds": None}
    if len(scope.sources) == 1:
        [source] = scope.sources
        points = selectors.hashrate_series(source=source, start=start, end=end)
        context["charts"] = [source_chart(source, points, start=start, end=end)]
    elif scope.sources:
        context.update(hashrate_overview(scope.sources, start=start, end=end))
    return page(request, "pools/hashrate.html", context, "charts")


def hashrate_overview(sources: list[Source], *, start: datetime, end: datetime) -> dict[str, Any]:
    """Every source's chart and one total per coin, from a single grouped query: lines on a
    common grid of round steps, as many small charts need no more points than that."""
    grid = selectors.sources_hashrate_grid(sources=sources, start=start, end=end)
    accounts = {a.source_id: a for a in PoolAccount.objects.filter(source__in=sources)}
    groups = selectors.sources_by_coin(sources=sources, accounts=accounts)
    totals = []
    for coin, mining in groups.by_coin.items():
        points = grid.total(mining)
        totals.append({
            "coin": coin, "algorithm": selectors.coin_algorithm(coin), "sources": len(mining),
            "chart_id": f"chart-total-{coin}", "has_data": bool(points),
            "sparse": len(points) < SPARSE_POINTS,
            "latest": format_hashrate(points.latest) if points else None,
            "spec": hashrate_chart([(f"{coin} total", points)], start=start, end=end),
        })
    return {"charts": [source_chart(s, grid.points(s), start=start, end=end) for s in sources],
            "totals": totals, "several_coins": groups.several,
            "step_seconds": int(grid.step.total_seconds())}


def source_chart(source: Source, points: Sequence[Point] | Line, *, start: datetime,
                 end: datetime) -> dict[str, Any]:
    line = points if isinstance(points, Line) else Line.of(points)
    return {
        "source": source, "chart_id": f"chart-{source.pk}", "has_data": bool(line),
        "sparse": len(line) < SPARSE_POINTS,
        "spec": hashrate_chart([(source.label, line)], start=start, end=end),
        "latest": format_hashrate(line.latest) if line else None,
    }


@team_view()
def workers(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request)
    status = request.GET.get("status", "")
    q = request.GET.get("q", "").strip()[:100]
    sort = request.GET.get("sort", "name")
    field = WORKER_SORTS.get(sort.lstrip("-"), "name")
    descending = sort.startswith("-")
    ordering = [f"-{field}" if descending else field, "name", "pk"]
    rows = selectors.team_workers(sources=scope.sources, status=status, q=q,
                                  subaccount=scope.subaccount).order_by(*ordering)
    paginator = Paginator(rows, WORKERS_PER_PAGE)
    workers_page = paginator.get_page(request.GET.get("page"))
    counts = selectors.worker_status_counts(sources=scope.sources, q=q, subaccount=scope.subaccount)
    context = {
        "workers_page": workers_page, "counts": counts, "status": status, "q": q,
        "sort": sort, "scope": scope, "total": sum(counts.values()),
        "query_without": query_without(request),
    }
    return page(request, "pools/workers.html", context, "workers-table")


def query_without(request: HttpRequest) -> dict[str, str]:
    """The workers page's query string without one parameter, for links that change only it
    (a new filter or order starts again at the first page)."""
    return {"status": query_dropping(request, "status", "page"),
            "sort": query_dropping(request, "sort", "page"), "page": query_dropping(request, "page")}


def query_dropping(request: HttpRequest, *names: str) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


@team_view()
def worker_detail(request: HttpRequest, pk: int) -> HttpResponse:
    worker = get_object_or_404(Worker.objects.select_related("source"), pk=pk,
                               source__team=request.team)  # type: ignore[attr-defined]
    range_key = chosen_range(request, RANGES, DEFAULT_RANGE)
    end = timezone.now()
    start = end - RANGES[range_key]
    points = selectors.hashrate_series(source=worker.source, worker_name=worker.name, start=start, end=end)
    context = {"worker": worker, "range_key": range_key, "ranges": RANGES, "has_data": bool(points),
               "spec": hashrate_chart([(worker.name, points)], start=start, end=end),
               "panels": worker_panel_fragments(source=worker.source, worker_name=worker.name)}
    return page(request, "pools/worker_detail.html", context, "worker-chart")


@team_view()
def pool_index(request: HttpRequest) -> HttpResponse:
    """The team's pools, each with the figures it publishes about itself, leading to its page."""
    sources = selectors.team_pool_sources(team=request.team)  # type: ignore[attr-defined]
    stats: dict[int, list[PoolCoinStat]] = defaultdict(list)
    for stat in PoolCoinStat.objects.filter(source__in=sources).order_by("coin"):
        stats[stat.source_id].append(stat)
    rows = [{"source": source, "figures": stats.get(source.pk, [])} for source in sources]
    return render(request, "pools/pool_index.html", {"rows": rows})


@team_view()
def pool_page(request: HttpRequest, pk: int) -> HttpResponse:
    source = team_source_get(team=request.team, pk=pk)  # type: ignore[attr-defined]
    if source.kind_spec.category != "pool":
        raise Http404("Not a mining pool.")
    account = PoolAccount.objects.filter(source=source).first()
    mined = set(selectors.coin_shares(source, account))
    # The coins this account mines first: the rest is context the pool publishes anyway.
    figures = sorted(PoolCoinStat.objects.filter(source=source), key=lambda f: (f.coin not in mined, f.coin))
    rates = {r.coin: r for r in selectors.source_earning_rates(source=source, today=timezone.now().date())}
    for stat in figures:
        stat.mined = stat.coin in mined  # type: ignore[attr-defined]
        stat.earning_rate = rates.get(stat.coin)  # type: ignore[attr-defined]
        stat.block_list = [  # type: ignore[attr-defined]
            {**block, "explorer": block_url(stat.coin, str(block.get("hash") or "")),
             "found": parse_moment(str(block.get("found_at") or ""))}
            for block in stat.blocks[:20]
        ]
    context = {"source": source, "figures": figures, "account": account}
    return render(request, "pools/pool.html", context)


def earnings_window(request: HttpRequest) -> DayRange:
    """The asked range of pool days; raises BadRange with the reason when it is unreadable."""
    return day_range_parse(request.GET, today=timezone.now().date(), presets=EARNING_RANGES,
                           default="30d")


def bad_range_csv(error: BadRange) -> HttpResponse:
    """A CSV asked for an unreadable range: the reason as plain text, not a file of defaults."""
    return HttpResponse(f"{error.message}\n", status=400, content_type="text/plain; charset=utf-8")


def utc_day(moment: datetime | None) -> Any:
    return moment.astimezone(UTC).date() if moment else None


def payout_values(in_range: Any, *, prices: DayPrices,
                  quotes: list[str]) -> list[tuple[str, int, list[Valued]]]:
    """Every payout in the range as (coin, id, values), for the totals."""
    if not quotes:
        return []
    rows = in_range.select_related(None).order_by().values_list("coin", "pk", "amount", "paid_at")
    return [(coin, pk, prices.row_values(coin=coin, amount=amount, day=utc_day(at), quotes=quotes))
            for coin, pk, amount, at in rows]


def earnings_charts(earnings: Any, sources: list[Source], *, start: date | None,
                    end: date) -> list[dict[str, Any]]:
    """Per coin, a bar a day stacked by source."""
    labels = {source.pk: source.label for source in sources}
    noon_ms: dict[date, int] = {}  # a year of rows has only 365 days to convert
    by_coin: dict[str, dict[str, Line]] = defaultdict(dict)
    first = start or end
    for (coin, source_id), (days, amounts) in selectors.arrays_by_key(
            earnings, keys=["coin", "source_id"], x="date", y="amount").items():
        for day in days:
            if day not in noon_ms:
                noon_ms[day] = int(datetime.combine(day, time(12), tzinfo=UTC).timestamp() * 1000)
        by_coin[coin][labels[source_id]] = Line([noon_ms[day] for day in days], [float(a) for a in amounts])
        first = min(first, days[0])
    chart_start = datetime.combine(first, time(0), tzinfo=UTC)
    chart_end = datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC)
    return [{"coin": coin, "spec": earnings_chart(sorted(per_source.items()), coin=coin,
                                                  start=chart_start, end=chart_end)}
            for coin, per_source in sorted(by_coin.items())]


def paged(request: HttpRequest, rows: Any, per_page: int, param: str, *, count: int) -> Any:
    """One page of a queryset of `count` rows: only the page's rows are loaded."""
    paginator = Paginator(rows, per_page)
    paginator.count = count  # known already: spares a COUNT over the whole range
    return paginator.get_page(request.GET.get(param))


def total_rows(earned: list[Any], paid: list[Any]) -> list[list[Any]]:
    """The total cards in one row, or a row each for earnings and payouts when either has
    several (one per coin and one across coins): six cards in a row leave no room."""
    return [earned, paid] if len(earned) > 1 or len(paid) > 1 else [earned + paid]


@team_view()
def earnings(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request)
    sources = scope.sources
    try:
        window = earnings_window(request)
    except BadRange as error:
        return earnings_refused(request, scope=scope, error=error)
    range_key, start, end = window.key, window.start, window.end
    earnings_in_range = selectors.team_earnings(sources=sources, start=start, end=end)
    payouts_in_range = selectors.team_payouts(sources=sources, start=start, end=end)
    earned, paid = selectors.range_sums(earnings_in_range), selectors.range_sums(payouts_in_range, fees=True)
    earning_totals, payout_totals = earned.totals, paid.totals
    # Charts and totals read plain values; model rows are loaded for the shown pages only.
    rows_page = paged(request, earnings_in_range.select_related(None), EARNING_ROWS_PER_PAGE, "page",
                      count=earned.count)
    payouts_page = paged(request, payouts_in_range.select_related(None).order_by("-paid_at", "-pk"),
                         PAYOUTS_PER_PAGE, "payouts_page", count=paid.count)
    rows = list(selectors.with_known_sources(rows_page.object_list, sources))
    payouts = list(selectors.with_known_sources(payouts_page.object_list, sources))
    # Every row is worth its amount at the price of its own (UTC pool) day.
    day_prices = team_day_prices(team=request.team, start=start, end=end,  # type: ignore[attr-defined]
                                 coins={*earning_totals, *payout_totals})
    quotes = day_prices.quotes
    for row in rows:
        row.fiat = day_prices.row_values(  # type: ignore[attr-defined]
            coin=row.coin, amount=row.amount, day=row.date, quotes=quotes)
    for payout in payouts:
        payout.explorer = explorer_url(payout.coin, payout.tx)  # type: ignore[attr-defined]
        payout.fiat = day_prices.row_values(  # type: ignore[attr-defined]
            coin=payout.coin, amount=payout.amount, day=utc_day(payout.paid_at), quotes=quotes)
    earned_values = [(coin, day, day_prices.row_values(coin=coin, amount=amount, day=day, quotes=quotes))
                     for coin, day, amount in earnings_in_range.select_related(None).order_by()
                     .values_list("coin", "date", "amount")] if quotes else []
    context = {
        "rows": rows, "rows_page": rows_page, "payouts": payouts, "payouts_page": payouts_page,
        "charts": earnings_charts(earnings_in_range.select_related(None), sources, start=start, end=end),
        "range_key": range_key,
        # A fee column only where some pool reports fees: for the others it would be all dashes.
        "payout_fees": paid.with_fee > 0,
        "ranges": EARNING_RANGES, "start": start, "end": end, "scope": scope,
        "earning_totals": earning_totals, "payout_totals": payout_totals, "quotes": quotes,
        "total_rows": total_rows(
            # Counted by day: two pools' rows of one day share that day's price, or its lack.
            [("Earned in range", total.note("day"), total) for total in fiat_totals(
                earned_values, quotes=quotes, amounts=earning_totals, unit="day")],
            [("Paid out in range", total.note("payout"), total) for total in fiat_totals(
                payout_values(payouts_in_range, prices=day_prices, quotes=quotes),
                quotes=quotes, amounts=payout_totals, unit="payout")],
        ),
        "fiat_hint": None if quotes or not (rows or payouts) else fiat_hint(team=request.team),  # type: ignore[attr-defined]
        # The range and sources as asked, without the tables' pages: for the CSVs and pagers.
        "query": query_dropping(request, "page", "payouts_page"),
        # The custom range's date inputs start from the range shown.
        "picked_start": start.isoformat() if start else "", "picked_end": end.isoformat(),
        # What other apps show about the same days (treasury: profitability).
        "earnings_panels": earnings_panel_fragments(
            team=request.team, sources=sources, start=start, end=end),  # type: ignore[attr-defined]
    }
    return page(request, "pools/earnings.html", context, "earnings-body")


def earnings_refused(request: HttpRequest, *, scope: Scope, error: BadRange) -> HttpResponse:
    """The page with the reason and the range picker, instead of another range's figures."""
    today = timezone.now().date()
    context = {"scope": scope, "ranges": EARNING_RANGES, "range_key": CUSTOM, "end": today,
               "range_error": error.message, "picked_start": request.GET.get("start", "")[:40],
               "picked_end": request.GET.get("end", "")[:40]}
    response = page(request, "pools/earnings.html", context, "earnings-body")
    # htmx swaps only 2xx answers in; the reason is in the fragment either way.
    response.status_code = 200 if request.htmx else 400  # type: ignore[attr-defined]
    return response


# Streamed a thousand lines at a time: a response chunk per line cost more than the lines.
CSV_CHUNK_LINES = 1000


def csv_response(filename: str, header: list[str], rows: Iterable[list[str]]) -> StreamingHttpResponse:
    def chunks() -> Iterator[str]:
        remaining = iter(rows)
        chunk = [header]
        while chunk:
            buffer = io.StringIO()
            csv.writer(buffer).writerows(chunk)
            yield buffer.getvalue()
            chunk = list(islice(remaining, CSV_CHUNK_LINES))

    response = StreamingHttpResponse(chunks(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@team_view()
def earnings_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    sources = scope_of(request).sources
    try:
        window = earnings_window(request)
    except BadRange as error:
        return bad_range_csv(error)
    start, end = window.start, window.end
    rows = selectors.team_earnings(sources=sources, start=start, end=end)
    prices = team_day_prices(team=request.team, start=start, end=end).prices  # type: ignore[attr-defined]
    extra = [(columns.headers, found) for columns in earnings_columns() if (found := columns.values(
        team=request.team, sources=sources, start=start, end=end)) is not None]  # type: ignore[attr-defined]
    labels = {source.pk: source.label for source in sources}

    unpriced = [""] * len(FIAT)

    def worth(coin: str, amount: Decimal, day: date, quote: str) -> str:
        price = prices.get((coin, quote, day))
        return "" if price is None else f"{price.value(amount):f}"

    # Plain values, not models: a year of 50 sources is 18,000 lines.
    def line(day: date, source_id: int, coin: str, amount: Decimal) -> list[str]:
        values = [worth(coin, amount, day, quote) for quote in FIAT] if prices else unpriced
        cells = [day.isoformat(), labels[source_id], coin, f"{amount.normalize():f}", *values]
        for headers, found in extra:
            cells += found.get((source_id, day, coin), [""] * len(headers))
        return cells

    return csv_response(
        f"hashwatch-earnings-{window.slug}.csv",
        ["date", "source", "coin", "amount", *(f"value_{quote.lower()}" for quote in FIAT),
         *(header for headers, _ in extra for header in headers)],
        (line(*row) for row in rows.select_related(None)
         .values_list("date", "source_id", "coin", "amount").iterator(chunk_size=CSV_CHUNK_LINES)),
    )


@team_view()
def payouts_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    sources = scope_of(request).sources
    try:
        window = earnings_window(request)
    except BadRange as error:
        return bad_range_csv(error)
    rows = selectors.team_payouts(sources=sources, start=window.start, end=window.end)
    return csv_response(
        f"hashwatch-payouts-{window.slug}.csv",
        # The fee goes last, so scripts that read the earlier columns by position keep working;
        # empty where the pool does not report it.
        ["paid_at", "source", "coin", "amount", "address", "tx", "fee"],
        ([p.paid_at.isoformat() if p.paid_at else "", p.source.label, p.coin,
          f"{p.amount.normalize():f}", p.address, p.tx,
          "" if p.fee is None else f"{p.fee.normalize():f}"]
         for p in selectors.with_known_sources(rows.select_related(None).iterator(), sources)),
    )


