"""Treasury and profitability endpoints of /api/v1/ (see DESIGN.md): the same code as the
pages, amounts as decimal strings, times ISO 8601 UTC."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from dashboard.api import ApiError, api_view, iso, source_param
from pools.api import decimal_text, pool_source
from pools.charts import parse_moment
from treasury.profitability import source_profit_days
from treasury.quotes import QuoteProblem, amount_parse, quote_make
from treasury.routes import team_routes


def text(amount: Decimal | None) -> str | None:
    return None if amount is None else decimal_text(amount)


def amount_param(request: HttpRequest) -> Decimal:
    try:
        return amount_parse(request.GET.get("amount", ""))
    except QuoteProblem as problem:
        raise ApiError(problem.status, f"'amount': {problem}") from None


@api_view
def quote(request: HttpRequest) -> dict[str, Any]:
    source = source_param(request)
    amount = amount_param(request)
    try:
        made = quote_make(source=source, product=request.GET.get("product", ""),
                          side=request.GET.get("side", "sell"), amount=amount)
    except QuoteProblem as problem:
        raise ApiError(problem.status, str(problem)) from None
    fill = made.fill
    return {
        "source": source.pk, "product": made.product, "side": made.side, "coin": made.coin,
        "currency": made.currency, "amount": text(fill.amount), "filled": text(fill.filled),
        "unfilled": text(fill.unfilled), "complete": fill.complete, "proceeds": text(fill.total),
        "average_price": text(fill.average_price), "best_price": text(fill.best_price),
        "worst_price": text(fill.worst_price),
        "slippage_pct": text(quantized(fill.slippage_pct, "0.0001")),
        "live": made.book.live, "as_of": iso(made.as_of),
    }


@api_view
def routes(request: HttpRequest) -> dict[str, Any]:
    coin = request.GET.get("coin", "").strip().upper()
    if not coin.isalnum() or len(coin) > 24:
        raise ApiError(400, "'coin' is required, e.g. coin=BTC")
    amount = amount_param(request)
    found = team_routes(team=request.api_team, coin=coin, amount=amount)  # type: ignore[attr-defined]
    return {"coin": coin, "amount": text(amount), "results": [
        {"via": r.via, "source": r.source.pk, "name": r.name, "to": r.to, "receive": text(r.receive),
         "rate": text(r.rate), "possible": r.possible, "reason": r.reason, "as_of": iso(r.as_of),
         "equivalent": None if r.equivalent is None else {
             "amount": text(r.equivalent.amount.quantize(Decimal("0.01"))),
             "currency": r.equivalent.currency, "rate": r.equivalent.rate_text or None}}
        for r in found]}


def day_param(request: HttpRequest, name: str) -> Any:
    raw = request.GET.get(name, "")
    if not raw:
        return None
    moment = parse_moment(raw if "T" in raw else f"{raw}T00:00:00Z")
    if moment is None:
        raise ApiError(400, f"'{name}' must be a date such as 2026-11-01")
    return moment.date()


@api_view
def profitability(request: HttpRequest) -> dict[str, Any]:
    source = pool_source(request)
    start = day_param(request, "start")
    end = day_param(request, "end") or timezone.now().date()
    if start and start > end:
        raise ApiError(400, "'start' must not be after 'end'")
    rows = source_profit_days(team=request.api_team, sources=[source], start=start, end=end)  # type: ignore[attr-defined]
    return {"results": [
        {"date": r.day.isoformat(), "coin": r.coin, "revenue_coin": text(r.revenue_coin),
         "revenue_fiat": text(r.revenue_fiat), "currency": r.currency,
         "energy_kwh": text(r.energy_kwh), "energy_cost": text(r.energy_cost),
         "electricity_currency": r.setup.currency or None, "profit": text(r.profit),
         "margin_pct": text(r.margin_pct), "hashprice": text(quantized(r.hashprice_coin)),
         "hashprice_fiat": text(quantized(r.hashprice_fiat, "0.0001")),
         "breakeven_electricity_price": text(quantized(r.breakeven_power_price, "0.0001")),
         "breakeven_coin_price": text(quantized(r.breakeven_coin_price, "0.01")),
         "why": r.profit_why or r.energy.why or None}
        for r in rows]}


def quantized(value: Decimal | None, places: str = "0.000000000001") -> Decimal | None:
    return None if value is None else value.quantize(Decimal(places))
