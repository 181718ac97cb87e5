"""What every page view uses, the core's and the feature apps' alike.

It imports nothing from the feature apps, so they can import it without a circle.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from dashboard.sources import SourceKind, UnknownKind, get_kind


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


def kind_or_404(kind: str) -> SourceKind:
    """The source kind a URL names, or a 404 that names it."""
    try:
        return get_kind(kind)
    except UnknownKind:
        raise Http404(f"No source kind {kind!r}.") from None
