"""What every page view uses, the core's and the feature apps' alike.

It imports nothing from the feature apps, so they can import it without a circle.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme


def next_url(request: HttpRequest, default: str) -> str:
    """Where a form asked to go back to, if that is a page of this site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def page(request: HttpRequest, template: str, context: dict, fragment: str = "") -> HttpResponse:
    """The whole page, or only `fragment` when HTMX asks for it."""
    htmx = request.htmx  # type: ignore[attr-defined]
    # A history restore (back button after the page left htmx's cache) needs the whole page.
    if fragment and htmx and not htmx.boosted and not htmx.history_restore_request:
        return render(request, f"{template}#{fragment}", context)
    return render(request, template, context)
