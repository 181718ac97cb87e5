from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from dashboard import services
from dashboard.audit import audit_record
from dashboard.forms import SourceForm
from dashboard.models import Membership, Role, Source, Team
from dashboard.pages import kind_or_404, next_url, page
from dashboard.poll_now import source_poll_now_release, source_poll_now_request
from dashboard.registries import (
    overview_fragments,
    overview_head_templates,
    source_links,
    source_panel_fragments,
)
from dashboard.selectors import source_runs_recent, team_health_summary, team_source_get
from dashboard.sources import REGISTRY, get_kind
from dashboard.tasks import poll_enqueue
from dashboard.teams import SESSION_TEAM_KEY, team_view

# Why a page could not queue a poll (Redis, the broker, is unreachable), and what happens next.
QUEUE_DOWN = "the task queue (Redis) cannot be reached. Scheduled polls resume when it is back."


@team_view()
def overview(request: HttpRequest) -> HttpResponse:
    team = request.team  # type: ignore[attr-defined]
    context: dict[str, Any] = {"summary": team_health_summary(team=team)}
    # The feature apps' sections (pool totals, charts, prices) and the source tiles, in order.
    sections = overview_fragments(team=team, context=context) if context["summary"].total else []
    context |= {"sections": sections, "head_templates": overview_head_templates()}
    return page(request, "dashboard/overview.html", context, "overview-live")


@team_view()
def sources(request: HttpRequest) -> HttpResponse:
    summary = team_health_summary(team=request.team)  # type: ignore[attr-defined]
    return page(request, "dashboard/sources.html", {"summary": summary}, "sources-table")


def poll_queue_after_save(*, source: Source, trigger: str) -> str:
    """Queue a poll of a source just saved the way "Poll now" does: take its slot (so a press
    right after does not poll twice), queue, give the slot back if the queue is away.
    Returns why no poll was queued, or "" when one was; a disabled source is not polled."""
    now = timezone.now()
    refusal = source_poll_now_request(source=source, now=now)
    if refusal:
        return "" if refusal.reason == "disabled" else refusal.message
    if not poll_enqueue(source_id=source.pk, trigger=trigger):
        source_poll_now_release(source=source, requested_at=now)
        return QUEUE_DOWN
    return ""


@team_view()
def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    source = team_source_get(team=request.team, pk=pk)  # type: ignore[attr-defined]
    context = {"source": source, "health": source.health(), "runs": source_runs_recent(source=source),
               "panels": source_panel_fragments(source=source),
               "links": source_links(source=source, membership=request.membership)}  # type: ignore[attr-defined]
    return page(request, "dashboard/source_detail.html", context, "source-status")


@require_POST
@team_view(Role.ADMIN)
def source_poll_now(request: HttpRequest, pk: int) -> HttpResponse:
    source = team_source_get(team=request.team, pk=pk)  # type: ignore[attr-defined]
    back = redirect(next_url(request, reverse("source_detail", args=[source.pk])))
    retry = request.POST.get("confirm_retry") == "1"
    now = timezone.now()
    refusal = source_poll_now_request(source=source, now=now, confirm_retry=retry)
    if refusal and refusal.reason == "disabled":
        # Refused outright, not merely postponed: a Conflict, with the reason in words.
        return render(request, "dashboard/poll_refused.html",
                      {"source": source, "refusal": refusal, "back": back.url}, status=409)
    if refusal:
        messages.error(request, refusal.message)
        return back
    if not poll_enqueue(source_id=source.pk, trigger="manual"):
        source_poll_now_release(source=source, requested_at=now)
        messages.error(request, f"A poll of {source.label} could not be queued: {QUEUE_DOWN}")
        return back
    audit_record(team=source.team, actor=request.user, action="source.poll_requested",
                 target=source.label, detail={"source_id": source.pk, "retry_same_key": retry},
                 request=request)
    messages.info(request, f"A poll of {source.label} is queued; its result appears here shortly.")
    return back


@require_POST
def team_switch(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    membership = get_object_or_404(Membership, user=request.user, team_id=request.POST.get("team"))
    request.session[SESSION_TEAM_KEY] = membership.team_id
    return redirect("overview")


class TeamForm(forms.ModelForm):
    timezone = forms.ChoiceField(
        choices=[(name, name) for name in sorted(available_timezones())],
        help_text="Dates, charts and 'today' follow this time zone.",
    )

    class Meta:
        model = Team
        fields = ["name", "timezone", "require_2fa", "electricity_price", "electricity_currency"]

    def clean_electricity_currency(self) -> str:
        code = self.cleaned_data["electricity_currency"].strip().upper()
        if code and not (code.isalpha() and 3 <= len(code) <= 10):
            raise ValidationError("Use a currency code such as BRL or USD.")
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        price, currency = data.get("electricity_price"), data.get("electricity_currency")
        if price is not None and price < 0:
            self.add_error("electricity_price", "A price cannot be negative.")
        if (price is None) != (not currency) and "electricity_currency" not in self.errors:
            self.add_error("electricity_currency" if price is not None else "electricity_price",
                           "Give the price and its currency together, or leave both empty.")
        return data


@team_view()
def settings_team(request: HttpRequest) -> HttpResponse:
    team, membership = request.team, request.membership  # type: ignore[attr-defined]
    form = TeamForm(request.POST or None, instance=team)
    if request.method == "POST":
        if not membership.has_role(Role.OWNER):
            raise PermissionDenied("Only owners change the team's settings.")
        if form.is_valid():
            form.save()
            audit_record(team=team, actor=request.user, action="team.edited",
                         target=team.name, detail={"fields": form.changed_data}, request=request)
            if "require_2fa" in form.changed_data:
                audit_record(team=team, actor=request.user, action="team.2fa_required",
                             target=team.name, detail={"required": team.require_2fa},
                             request=request)
            messages.success(request, "Team settings saved.")
            return redirect("settings_team")
    members = team.memberships.select_related("user").order_by("role", "user__username")
    return render(request, "dashboard/settings_team.html", {"form": form, "members": members})


@team_view(Role.ADMIN)
def settings_sources(request: HttpRequest) -> HttpResponse:
    summary = team_health_summary(team=request.team)  # type: ignore[attr-defined]
    return render(request, "dashboard/settings_sources.html", {"summary": summary})


@team_view(Role.ADMIN)
def source_add_choose(request: HttpRequest) -> HttpResponse:
    kinds = sorted(REGISTRY.values(), key=lambda spec: (spec.category, spec.label))
    return render(request, "dashboard/source_add_choose.html", {"kinds": kinds})


@team_view(Role.ADMIN)
def source_add(request: HttpRequest, kind: str) -> HttpResponse:
    spec = kind_or_404(kind)
    form = SourceForm(request.POST or None, spec=spec)
    if request.method == "POST" and form.is_valid():
        try:
            source = services.source_create(
                team=request.team, kind=kind,  # type: ignore[attr-defined]
                label=form.cleaned_data["label"], base_url=form.cleaned_data["base_url"],
                interval=form.cleaned_data["interval"], enabled=form.cleaned_data["enabled"],
                options=form.option_values(), credentials=form.credential_values(),
                actor=request.user, request=request,
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            problem = poll_queue_after_save(source=source, trigger="created")
            if not source.enabled:
                messages.success(request, f"{source.label} added, disabled: it is not polled.")
            elif problem:
                messages.warning(request, f"{source.label} added; its first poll could not be "
                                          f"queued: {problem}")
            else:
                messages.success(request, f"{source.label} added; its first poll is on its way.")
            return redirect("source_detail", pk=source.pk)
    return render(request, "dashboard/source_form.html", {"form": form, "spec": spec})


@team_view(Role.ADMIN)
def source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    source = team_source_get(team=request.team, pk=pk)  # type: ignore[attr-defined]
    spec = get_kind(source.kind)
    form = SourceForm(request.POST or None, spec=spec, source=source)
    if request.method == "POST" and form.is_valid():
        try:
            services.source_update(
                source=source, label=form.cleaned_data["label"],
                base_url=form.cleaned_data["base_url"], interval=form.cleaned_data["interval"],
                enabled=form.cleaned_data["enabled"], options=form.option_values(),
                new_credentials=form.credential_values(), actor=request.user, request=request,
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            # Whatever was changed (a key, the address) is tried at once, not at the next slot.
            problem = poll_queue_after_save(source=source, trigger="edited")
            messages.success(request, f"{source.label} saved." if problem or not source.enabled else
                             f"{source.label} saved; a poll with the new settings is on its way.")
            return redirect("source_detail", pk=source.pk)
    return render(request, "dashboard/source_form.html",
                  {"form": form, "spec": spec, "source": source})


@require_POST
@team_view(Role.ADMIN)
def source_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    source = team_source_get(team=request.team, pk=pk)  # type: ignore[attr-defined]
    services.source_set_enabled(source=source, enabled=not source.enabled, actor=request.user,
                                request=request)
    state = "enabled" if source.enabled else "disabled; its data is kept"
    messages.success(request, f"{source.label} {state}.")
    return redirect(next_url(request, reverse("settings_sources")))


@team_view(Role.ADMIN)
def source_delete(request: HttpRequest, pk: int) -> HttpResponse:
    source = team_source_get(team=request.team, pk=pk)  # type: ignore[attr-defined]
    if request.method == "POST":
        label = source.label
        services.source_delete(source=source, actor=request.user, request=request)
        messages.success(request, f"{label} and all its data were deleted.")
        return redirect("settings_sources")
    return render(request, "dashboard/source_delete.html", {"source": source})
