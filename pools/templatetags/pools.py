from __future__ import annotations

import json
from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from pools.charts import format_hashrate, format_pool_hashrate

register = template.Library()


@register.filter
def hashrate(value_hs: float | None) -> str:
    return format_hashrate(value_hs)


@register.filter
def pool_hashrate(raw: str, raw_unit: str) -> str:
    return format_pool_hashrate(str(raw), str(raw_unit or ""))


@register.simple_tag(takes_context=True)
def sort_header(context: template.Context, field: str, label: str, css: str = "") -> SafeString:
    """A column header that sorts by `field`, and reverses when it already does.

    aria-sort belongs on the header cell (a link may not carry it); the arrow is drawn for
    the eye only, since aria-sort already tells a screen reader the order. The link's id lets
    HTMX give it focus back once the table it sorted is swapped in."""
    current = context.get("sort", "name")
    descending = current == f"-{field}"
    target = field if descending or current != field else f"-{field}"
    arrow = " ↓" if descending else " ↑" if current == field else ""
    base = context["query_without"]["sort"]
    href = f"?{base}&sort={target}" if base else f"?sort={target}"
    return format_html(
        '<th scope="col"{} aria-sort="{}"><a id="sort-{}" href="{}" hx-get="{}" hx-target="#workers-table"'
        ' hx-swap="outerHTML" hx-push-url="true">{}<span aria-hidden="true">{}</span></a></th>',
        format_html(' class="{}"', css) if css else "",
        "descending" if descending else "ascending" if current == field else "none",
        field, href, href, label, arrow,
    )


@register.filter
def coin(amount: object) -> str:
    """A coin amount with 8 decimals (satoshi precision), thousands separated."""
    if amount is None:
        return "—"
    return f"{amount:,.8f}"


@register.filter
def to_json(value: object) -> str:
    """JSON for a data- attribute; left unmarked so the template escapes it for the attribute.
    (A <script type="application/json"> would not survive an HTMX swap.)"""
    return json.dumps(value, separators=(",", ":"))


@register.filter
def coin_rate(amount: object) -> str:
    """A small per-TH amount: enough significant digits to compare two rates."""
    if amount is None:
        return "—"
    return f"{Decimal(str(amount)):.10f}".rstrip("0").rstrip(".")


@register.filter
def difficulty(value: float | None) -> str:
    if not value:
        return "—"
    for size, suffix in ((1e12, " T"), (1e9, " G"), (1e6, " M")):
        if value >= size:
            return f"{value / size:,.2f}{suffix}"
    return f"{value:,.0f}"
