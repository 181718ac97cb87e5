"""Formatting shared by every page: relative times with the exact one on hover, durations,
health badges."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from dashboard import registries
from dashboard.registries import Fragment, NavItem

register = template.Library()

HEALTH_WORDS = {
    "ok": "OK",
    "error": "Error",
    "stale": "Stale",
    "disabled": "Disabled",
    "pending": "Pending",
}
PENDING_TITLE = "Waiting for its first poll"


def relative(moment: datetime, now: datetime) -> str:
    seconds = int((now - moment).total_seconds())
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 45:
        return "in a moment" if future else "just now"
    if seconds < 3600:
        text = f"{max(1, round(seconds / 60))} min"
    elif seconds < 86400:
        text = f"{seconds // 3600} h"
    elif seconds < 86400 * 365:
        text = f"{seconds // 86400} d"
    else:
        text = f"{seconds // (86400 * 365)} y"
    return f"in {text}" if future else f"{text} ago"


@register.simple_tag(takes_context=True)
def timeago(context: template.Context, moment: datetime | None, empty: str = "never") -> SafeString:
    """<time> with "3 min ago" as text and the exact time, in the team's zone, on hover."""
    if moment is None:
        return format_html('<span class="muted">{}</span>', empty)
    team = context.get("team")
    zone = ZoneInfo(team.timezone if team else "UTC")
    local = moment.astimezone(zone)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.isoformat(), local.strftime("%Y-%m-%d %H:%M:%S %Z"), relative(moment, timezone.now()),
    )


@register.filter
def duration_ms(value: int | None) -> str:
    if value is None:
        return "—"
    if value < 1000:
        return f"{value} ms"
    if value < 60_000:
        return f"{value / 1000:.1f} s"
    return f"{value // 60_000} min {value % 60_000 // 1000} s"


@register.filter
def seconds_human(value: int) -> str:
    if value % 3600 == 0:
        return f"{value // 3600} h"
    if value % 60 == 0:
        return f"{value // 60} min"
    return f"{value} s"


@register.simple_tag
def health_badge(health: str) -> SafeString:
    value = getattr(health, "value", health)
    if value == "pending":
        return format_html('<span class="badge badge-pending" title="{}">{}</span>',
                           PENDING_TITLE, HEALTH_WORDS[value])
    return format_html('<span class="badge badge-{}">{}</span>', value, HEALTH_WORDS.get(value, value))


@register.simple_tag(takes_context=True)
def fragment(context: template.Context, item: Fragment) -> SafeString:
    """Render a registered fragment (an overview section, a source panel) with the page's
    context plus its own, as `{% include %}` would with that context added."""
    engine = context.template.engine  # type: ignore[union-attr]
    with context.push(item.context):
        return engine.get_template(item.template).render(context)  # type: ignore[no-any-return]


@register.simple_tag
def nav_items() -> list[NavItem]:
    """The feature apps' pages for the top bar, in order."""
    return registries.nav_items()
