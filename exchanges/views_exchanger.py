"""The Exchanger page: a btcchange24 source's rate table, its partner account and the
referral links built from it. The view checks access, calls selectors_exchanger, renders."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from dashboard.models import Source
from dashboard.pages import page
from dashboard.teams import team_view
from exchanges import selectors_exchanger as sel
from exchanges.models import PartnerBalance, PartnerExchange
from pools.presenters import epoch_ms, time_unit

TEMPLATE = "exchanges/exchanger.html"
RANGES = {"7d": 7, "30d": 30, "90d": 90, "1y": 365}
RANGE_WORDS = {"7d": "7 days", "30d": "30 days", "90d": "90 days", "1y": "year"}
DEFAULT_RANGE = "30d"
# Everything the page's address remembers, in the order links spell it.
STATE = ("source", "q", "sort", "range", "cur_from", "cur_to")
FRAGMENTS = {"exchanger-rates": "rates", "exchanger-partner": "partner",
             "exchanger-referral": "referral"}
CURRENCY = re.compile(r"[A-Za-z0-9._-]{1,24}")
REF_CODE = re.compile(r"[A-Za-z0-9_-]{1,100}")
SIGNIFICANT = 6
SPARSE_POINTS = 3
COLUMNS = (
    ("from", "From", ""), ("to", "To", ""), ("rate", "1 From buys", "num"),
    ("inverse", "1 To costs", "num"),
    ("reserve", "Reserve", "num"), ("min", "Min", "num"), ("max", "Max", "num"),
    ("fee", "Fees", ""), ("city", "City", ""), ("flags", "Flags", ""),
)
GREEN, RED, GREY, BLUE, AMBER = "#059669", "#dc2626", "#94a3b8", "#2563eb", "#d97706"


def amount(value: Decimal | None) -> str:
    """Six significant digits (cents at least from 1 up), thousands grouped, no trailing
    zeros: one table holds 63123.45678901 and 0.0000158412."""
    if value is None:
        return "—"
    if value == 0:
        return "0"
    places = max(SIGNIFICANT - 1 - value.adjusted(), 2 if abs(value) >= 1 else 0)
    text = f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN):,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def money(value: Decimal | None) -> str:
    """A partner balance or reward: as `amount`, but never fewer than two decimals, so a
    column of them lines up (0.30, 13.63, 270.23)."""
    text = amount(value)
    if text == "—":
        return text
    whole, _, cents = text.partition(".")
    return f"{whole}.{cents.ljust(2, '0')}"


def fee_text(fee: sel.Fee | None, currency: str) -> str:
    if fee is None:
        return ""
    return f"{amount(fee.value)}%" if fee.is_percent else f"{amount(fee.value)} {currency}"


def partner_link(source: Source, stored: str) -> str:
    """The partner link as an absolute http(s) URL, or "" when there is none to offer. The
    upstream's own example sends a bare code ("test") where the site shows a full link; a
    link in any other scheme is never put in an href."""
    stored = stored.strip()
    parts = urlsplit(stored)
    if parts.scheme in ("http", "https") and parts.netloc:
        return stored
    if REF_CODE.fullmatch(stored):
        return f"{source.effective_base_url}/ref/{stored}/"
    return ""


def referral_url(link: str, *, cur_from: str = "", cur_to: str = "") -> str:
    """The partner link opening the exchanger on one direction (`cur_from`, `cur_to`)."""
    if not link:
        return ""
    parts = urlsplit(link)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in ("cur_from", "cur_to")]
    query += [(k, v) for k, v in (("cur_from", cur_from), ("cur_to", cur_to)) if v]
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass(frozen=True)
class State:
    """The page's address, cleaned: links that change one thing keep the rest."""

    source: str
    q: str = ""
    sort: str = ""  # empty for the default order
    range: str = ""  # empty for DEFAULT_RANGE
    cur_from: str = ""
    cur_to: str = ""

    @classmethod
    def of(cls, request: HttpRequest, source: Source) -> State:
        get = request.GET
        key, descending = sel.sort_parse(get.get("sort", sel.DEFAULT_RATE_SORT))
        sort = f"-{key}" if descending else key
        currencies = {name: get.get(name, "").strip().upper() for name in ("cur_from", "cur_to")}
        return cls(
            source=str(source.pk), q=get.get("q", "").strip()[:100],
            sort="" if sort == sel.DEFAULT_RATE_SORT else sort,
            range=get.get("range", "") if get.get("range") in RANGES else "",
            **{k: v if CURRENCY.fullmatch(v) else "" for k, v in currencies.items()},
        )

    @property
    def sort_key(self) -> str:
        return self.sort or sel.DEFAULT_RATE_SORT

    @property
    def range_key(self) -> str:
        return self.range or DEFAULT_RANGE

    def query(self, **changes: str) -> str:
        values = {**asdict(self), **changes}
        return "?" + urlencode([(name, values[name]) for name in STATE if values[name]])


@dataclass(frozen=True)
class RateLine:
    """A rate row with its figures written out, and the links for its direction."""

    row: sel.RateRow
    published: str
    price: str
    inverse: str
    reserve: str
    min: str
    max: str
    to_limits: str
    from_fee: str
    to_fee: str
    ref_url: str
    builder_href: str
    builder_vals: str


def rate_lines(rows: list[sel.RateRow], *, link: str, state: State) -> list[RateLine]:
    lines = []
    for r in rows:
        to_limits = " – ".join(amount(v) for v in (r.to_min, r.to_max) if v is not None)
        lines.append(RateLine(
            row=r, published=f"published: {amount(r.rate_in)} {r.from_currency} buys "
                             f"{amount(r.rate_out)} {r.to_currency}",
            price=amount(r.price), inverse=amount(r.inverse), reserve=amount(r.reserve),
            min=amount(r.min_amount), max=amount(r.max_amount),
            to_limits=f"{to_limits} {r.to_currency}" if to_limits else "",
            from_fee=fee_text(r.from_fee, r.from_currency), to_fee=fee_text(r.to_fee, r.to_currency),
            ref_url=referral_url(link, cur_from=r.from_currency, cur_to=r.to_currency),
            builder_href=state.query(cur_from=r.from_currency, cur_to=r.to_currency),
            builder_vals=json.dumps({"cur_from": r.from_currency, "cur_to": r.to_currency}),
        ))
    return lines


def sort_headers(state: State) -> list[dict[str, str]]:
    current, descending = sel.sort_parse(state.sort_key)
    headers = []
    for key, label, css in COLUMNS:
        active = key == current
        target = f"-{key}" if active and not descending else key
        target = "" if target == sel.DEFAULT_RATE_SORT else target
        headers.append({
            "key": key, "label": label, "css": css, "href": state.query(sort=target),
            "vals": json.dumps({"sort": target}),
            "aria_sort": ("descending" if descending else "ascending") if active else "none",
            "arrow": (" ↓" if descending else " ↑") if active else "",
        })
    return headers


def rates_context(*, source: Source, state: State, link: str) -> dict[str, Any]:
    table = sel.exchanger_rates_search(source=source, q=state.q, sort=state.sort_key)
    return {
        "table": table, "lines": rate_lines(table.rows, link=link, state=state),
        "headers": sort_headers(state), "health": source.health(),
        "clear_href": state.query(q=""),
    }


def referral_context(*, source: Source, state: State, link: str) -> dict[str, Any]:
    built = referral_url(link, cur_from=state.cur_from, cur_to=state.cur_to)
    return {"currencies": sel.exchanger_currencies(source=source),
            "built_link": built if state.cur_from or state.cur_to else ""}


def day_bars(window: sel.DayWindow, datasets: list[tuple[str, str, list[Any]]], *,
             unit: str, title: str, decimals: int) -> dict[str, Any]:
    """A bar chart spec for static/js/charts.js: one bar a day, stacked when several sets."""
    return {
        "type": "bar", "stacked": len(datasets) > 1, "unit": unit, "decimals": decimals,
        "tick_decimals": 0 if decimals == 0 else 2, "y_title": title,
        "time_unit": time_unit(window.end - window.start),
        "tooltip_format": "yyyy-MM-dd", "x_title": f"Day ({window.zone.key})",
        "start": epoch_ms(window.start), "end": epoch_ms(window.stop),
        "datasets": [{"label": label, "color": color,
                      "times": [epoch_ms(window.noon(day)) for day, _ in points],
                      "values": [float(v) for _, v in points]}
                     for label, color, points in datasets],
    }


def balance_line(window: sel.DayWindow, points: list[tuple[datetime, Decimal]]) -> dict[str, Any]:
    return {
        "type": "line", "unit": "", "decimals": 2, "tick_decimals": 2, "y_title": f"Balance ({NO_CURRENCY})",
        "time_unit": time_unit(window.end - window.start), "x_title": f"Time ({window.zone.key})",
        "start": epoch_ms(window.start), "end": epoch_ms(window.stop),
        "datasets": [{"label": "Balance", "color": AMBER,
                      "times": [epoch_ms(at) for at, _ in points], "values": [float(v) for _, v in points]}],
    }


def percent(part: Decimal, whole: Decimal) -> str:
    return f"{min(part / whole, Decimal(1)) * 100:.0f}%" if whole > 0 else ""


# The partner API names no currency for its balance, rewards and exchange amounts, nor the
# pair of an exchange's course: the page says so beside every such figure instead of guessing.
NO_CURRENCY = "currency not given"


def recent_rows(exchanges: list[PartnerExchange]) -> list[dict[str, Any]]:
    return [{
        "at": x.at, "give": amount(x.amount_give), "get": amount(x.amount_get),
        "course": f"{amount(x.course_give)} → {amount(x.course_get)}", "succeeded": x.succeeded,
        "accrued": x.accrued, "reward": money(x.partner_reward),
    } for x in exchanges]


def balance_note(window: sel.DayWindow, points: list[Any]) -> str:
    if len(points) < SPARSE_POINTS:
        return "one reading an hour: the line fills in as polls land"
    return "hourly" if window.end - window.start <= sel.HOURLY_BALANCE_SPAN else "each day's last"


def partner_charts(window: sel.DayWindow, *, days: list[sel.ExchangeDay],
                   clicks: list[tuple[Any, int]], balance: list[tuple[datetime, Decimal]]
                   ) -> list[dict[str, Any]]:
    return [
        {"id": "chart-partner-balance", "title": "Balance", "has_data": bool(balance),
         "note": balance_note(window, balance), "empty": "No balance recorded in this range.",
         "spec": balance_line(window, balance)},
        {"id": "chart-partner-exchanges", "title": "Referred exchanges per day",
         "has_data": any(d.count for d in days), "note": "succeeded and not",
         "empty": "No referred exchange in this range.",
         "spec": day_bars(window, [
             ("Succeeded", GREEN, [(d.day, d.succeeded) for d in days]),
             ("Not succeeded", RED, [(d.day, d.failed) for d in days]),
         ], unit="exchanges", title="Exchanges per day", decimals=0)},
        {"id": "chart-partner-rewards", "title": "Rewards per day",
         "has_data": any(d.reward for d in days), "note": "accrued and pending",
         "empty": "No partner reward in this range.",
         "spec": day_bars(window, [
             ("Accrued", BLUE, [(d.day, d.reward_accrued) for d in days]),
             ("Pending", GREY, [(d.day, d.reward_pending) for d in days]),
         ], unit="", title=f"Reward per day ({NO_CURRENCY})", decimals=2)},
        {"id": "chart-partner-clicks", "title": "Link clicks per day",
         "has_data": any(c for _, c in clicks), "note": "",
         "empty": "No click through the partner link in this range.",
         "spec": day_bars(window, [("Clicks", AMBER, clicks)], unit="clicks",
                          title="Clicks per day", decimals=0)},
    ]


def partner_context(*, source: Source, state: State, latest: PartnerBalance | None,
                    zone: ZoneInfo) -> dict[str, Any]:
    range_key = state.range_key
    links = [{"key": key, "href": state.query(range="" if key == DEFAULT_RANGE else key),
              "vals": json.dumps({"range": "" if key == DEFAULT_RANGE else key})} for key in RANGES]
    context: dict[str, Any] = {"range_key": range_key, "range_words": RANGE_WORDS[range_key],
                               "range_links": links}
    if latest is None:
        return context
    window = sel.DayWindow.ending(now=timezone.now(), days=RANGES[range_key], zone=zone)
    days = sel.partner_exchanges_per_day(source=source, window=window)
    clicks = sel.link_clicks_per_day(source=source, window=window)
    balance = sel.partner_balance_series(source=source, window=window)
    remaining = max(latest.min_payout - latest.balance, Decimal(0))
    return context | {
        "window": window,
        "remaining": remaining,
        "progress": max(min(latest.balance, latest.min_payout), Decimal(0))
        if latest.min_payout > 0 else None,
        "figures": {
            "balance": money(latest.balance), "min_payout": money(latest.min_payout),
            "total_received": money(latest.total_received), "remaining": money(remaining),
            "percent": percent(max(latest.balance, Decimal(0)), latest.min_payout),
            "reward": money(sum((d.reward for d in days), Decimal(0))),
            "no_currency": NO_CURRENCY,
        },
        "totals": {
            "exchanges": sum(d.count for d in days), "succeeded": sum(d.succeeded for d in days),
            "clicks": sum(c for _, c in clicks),
        },
        "charts": partner_charts(window, days=days, clicks=clicks, balance=balance),
        "recent": recent_rows(sel.partner_exchanges_recent(source=source)),
    }


def chosen_source(request: HttpRequest, sources: list[Source]) -> Source | None:
    """The `source` asked for, picked from the team's btcchange24 sources (another team's
    answers 404, as does a source of another kind), else the first of them."""
    raw = request.GET.get("source", "")
    if not raw.isdigit():
        return sources[0] if sources else None
    for source in sources:
        if source.pk == int(raw):
            return source
    raise Http404("No such btcchange24 source.")


@team_view()
def exchanger(request: HttpRequest) -> HttpResponse:
    team = request.team  # type: ignore[attr-defined]
    sources = sel.team_exchanger_sources(team=team)
    source = chosen_source(request, sources)
    context: dict[str, Any] = {"sources": sources, "source": source}
    fragment = ""
    htmx = request.htmx  # type: ignore[attr-defined]
    if htmx and not htmx.history_restore_request:
        fragment = FRAGMENTS.get(htmx.target or "", "rates")
    zone = sel.team_zone(team=team)
    if source is not None:
        state = State.of(request, source)
        latest = sel.partner_balance_latest(source=source)
        link = partner_link(source, latest.link) if latest else ""
        has_key = bool(source.credentials and source.credentials.get("api_key"))
        context |= {"state": state, "partner": latest, "has_key": has_key, "partner_link": link}
        if fragment in ("", "rates"):
            context |= rates_context(source=source, state=state, link=link)
        if fragment in ("", "referral"):
            context |= referral_context(source=source, state=state, link=link)
        if fragment in ("", "partner"):
            context |= partner_context(source=source, state=state, latest=latest, zone=zone)
    # Times on this page are the team's, as the footer says.
    with timezone.override(zone):
        response = page(request, TEMPLATE, context, fragment)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response
