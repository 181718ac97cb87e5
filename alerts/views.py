"""The alerts pages: what fires now and what fired, the rules, the channels, the silences.

Views check access, call a selector or a service, render. Everybody in the team reads; admins
and owners change, and the check is here (a viewer's POST is a 403), not only in a template.
Every change goes through the services in alerts.rules, alerts.silences and alerts.channels,
which audit it.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from alerts import channels as channel_services
from alerts import forms as alert_forms
from alerts import rules as rule_services
from alerts import selectors, selectors_pages, silences
from alerts.delivery import deliveries_inbox
from alerts.forms import ChannelForm, RuleForm, SilenceForm, add_service_errors, sentence
from alerts.models import AlertState, Channel, Rule, Silence
from dashboard.models import Role, Team
from dashboard.pages import page
from dashboard.teams import team_view

HISTORY_PER_PAGE = 50
INBOX_SHOWN = 10
NOW_SHOWN = 100
STATES = {"firing": "Firing", "pending": "Pending", "resolved": "Resolved"}


def require_manager(request: HttpRequest) -> None:
    if not request.membership.can_manage_sources:  # type: ignore[attr-defined]
        raise PermissionDenied("Changing alerts needs the admin role.")


# Alerts ----------------------------------------------------------------------------------------


@team_view()
def alerts_page(request: HttpRequest) -> HttpResponse:
    team: Team = request.team  # type: ignore[attr-defined]
    filters = selectors_pages.AlertFilters.from_query(request.GET, team=team)
    alerts = selectors.alerts_list(team=team, state=filters.state or None,
                                   source=filters.source, rule=filters.rule)
    if filters.state:
        open_alerts, history = alerts.none(), alerts
    else:
        # Open ones first (firing, then pending on their way), then the history, newest first.
        open_alerts = alerts.filter(state__in=selectors.OPEN)
        history = alerts.filter(state=AlertState.RESOLVED).order_by("-resolved_at", "-id")
    # An outage can open thousands at once: the first ones, and how many more there are.
    now_rows = list(open_alerts[:NOW_SHOWN])
    now_count = len(now_rows) if len(now_rows) < NOW_SHOWN else open_alerts.count()
    history_page = Paginator(history, HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    selectors_pages.alerts_describe([*now_rows, *history_page.object_list])
    context = {
        "filters": filters, "now_rows": now_rows, "now_count": now_count,
        "now_more": now_count - len(now_rows), "history_page": history_page,
        "states": STATES, "state_label": STATES.get(filters.state, ""),
        "sources": filters.sources, "rules": filters.rules, "rule_count": len(filters.rules),
        "watching": sum(1 for r in filters.rules if r.enabled),
        "inbox": deliveries_inbox(team=team)[:INBOX_SHOWN],
        "open_filter": filters.state in (AlertState.FIRING, AlertState.PENDING),
        "query_without_page": filters.query, "checked_at": timezone.now(),
    }
    return page(request, "alerts/alerts.html", context, "alerts-live")


# Rules -----------------------------------------------------------------------------------------


@team_view()
def rules_page(request: HttpRequest) -> HttpResponse:
    team: Team = request.team  # type: ignore[attr-defined]
    return render(request, "alerts/rules.html", {
        "rules": selectors_pages.rules_with_counts(team=team),
        "has_sources": team.sources.exists()})


@team_view(Role.ADMIN)
def rule_add_choose(request: HttpRequest) -> HttpResponse:
    kinds = [{"kind": kind, "label": spec.label, "help": spec.help,
              "sources": alert_forms.kind_sources(spec, team=request.team),  # type: ignore[attr-defined]
              "team_scope": alert_forms.kind_allows_team_scope(spec)}
             for kind, spec in rule_services.RULE_KINDS.items()]
    return render(request, "alerts/rule_choose.html", {"kinds": kinds})


@team_view(Role.ADMIN)
def rule_add(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in rule_services.RULE_KINDS:
        raise Http404("No such rule kind.")
    team: Team = request.team  # type: ignore[attr-defined]
    form = RuleForm(request.POST or None, team=team, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            rule = rule_services.rule_create(team=team, kind=kind, actor=request.user, request=request,
                                             **form.service_arguments())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Rule added: {rule_services.rule_describe(rule)}.")
            return redirect("alert_rules")
    return render(request, "alerts/rule_form.html", {"form": form, "kind": kind, "rule": None})


def team_rule(request: HttpRequest, pk: int) -> Rule:
    return get_object_or_404(Rule.objects.select_related("source"), team=request.team, pk=pk)  # type: ignore[attr-defined]


@team_view(Role.ADMIN)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = team_rule(request, pk)
    rule.description = rule_services.rule_describe(rule)  # type: ignore[attr-defined]
    form = RuleForm(request.POST or None, team=rule.team, kind=rule.kind, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            rule_services.rule_update(rule=rule, actor=request.user, request=request,
                                      **form.service_arguments())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Rule saved: {rule_services.rule_describe(rule)}.")
            return redirect("alert_rules")
    return render(request, "alerts/rule_form.html", {"form": form, "kind": rule.kind, "rule": rule})


@require_POST
@team_view(Role.ADMIN)
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    rule = team_rule(request, pk)
    try:
        rule_services.rule_set_enabled(rule=rule, enabled=not rule.enabled, actor=request.user,
                                       request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        state = "watching again" if rule.enabled else "paused: its open alerts resolve"
        messages.success(request, f"{rule_services.rule_describe(rule)}: {state}.")
    return redirect("alert_rules")


@team_view(Role.ADMIN)
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = team_rule(request, pk)
    description = rule_services.rule_describe(rule)
    if request.method == "POST":
        rule_services.rule_delete(rule=rule, actor=request.user, request=request)
        messages.success(request, f"Rule deleted: {description}.")
        return redirect("alert_rules")
    return render(request, "alerts/confirm_delete.html", {
        "title": f"Delete the rule “{description}”?", "cancel": "alert_rules",
        "explain": "Its alerts and their history are deleted with it. To stop it for a while "
                   "but keep the history, disable it instead.",
        "alternative": "alert_rule_toggle" if rule.enabled else "", "object": rule})


@require_POST
@team_view(Role.ADMIN)
def rules_recommended(request: HttpRequest) -> HttpResponse:
    added = rule_services.rules_add_recommended(team=request.team, actor=request.user,  # type: ignore[attr-defined]
                                                request=request)
    if added:
        messages.success(request, f"Added {len(added)} recommended rule{'s' if len(added) != 1 else ''}: "
                                  + "; ".join(rule_services.rule_describe(r) for r in added) + ".")
    else:
        messages.info(request, "The team already has every recommended rule.")
    return redirect("alert_rules")


# Channels --------------------------------------------------------------------------------------


@team_view()
def channels_page(request: HttpRequest) -> HttpResponse:
    team: Team = request.team  # type: ignore[attr-defined]
    form = ChannelForm(request.POST or None)
    if request.method == "POST":
        require_manager(request)
        if form.is_valid():
            data = form.cleaned_data
            try:
                channel = channel_services.channel_create(
                    team=team, kind=data["kind"], label=data["label"], url=form.address(),
                    actor=request.user, request=request)
            except ValidationError as error:
                # The service's reasons are about the address (it names no field).
                field = {"apprise": "url", "email": "addresses"}.get(data["kind"])
                form.add_error(field, [sentence(m) for m in error.messages])
            else:
                messages.success(request, f"Channel {channel.label} added. Send it a test message "
                                          "to check it reaches you.")
                return redirect("alert_channels")
    context = {"form": form, "channels": channel_services.channels_for_team(team=team)}
    return render(request, "alerts/channels.html", context)


def team_channel(request: HttpRequest, pk: int) -> Channel:
    return get_object_or_404(Channel, team=request.team, pk=pk)  # type: ignore[attr-defined]


@require_POST
@team_view(Role.ADMIN)
def channel_test(request: HttpRequest, pk: int) -> HttpResponse:
    channel = team_channel(request, pk)
    delivery = channel_services.channel_test(channel=channel, actor=request.user, request=request)
    if delivery.status == "sent":
        messages.success(request, f"Test message sent to {channel.label}. Check that it arrived.")
    elif delivery.last_error:
        messages.error(request, f"The test message to {channel.label} failed: {delivery.last_error}")
    else:
        messages.info(request, f"The test message to {channel.label} is "
                               f"{delivery.get_status_display().lower()}.")
    return redirect("alert_channels")


@require_POST
@team_view(Role.ADMIN)
def channel_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    channel = team_channel(request, pk)
    channel_services.channel_set_enabled(channel=channel, enabled=not channel.enabled,
                                         actor=request.user, request=request)
    state = "receives alerts again" if channel.enabled else "is paused: nothing is sent to it"
    messages.success(request, f"{channel.label} {state}.")
    return redirect("alert_channels")


@team_view(Role.ADMIN)
def channel_delete(request: HttpRequest, pk: int) -> HttpResponse:
    channel = team_channel(request, pk)
    if request.method == "POST":
        channel_services.channel_delete(channel=channel, actor=request.user, request=request)
        messages.success(request, f"Channel {channel.label} deleted.")
        return redirect("alert_channels")
    return render(request, "alerts/confirm_delete.html", {
        "title": f"Delete the channel {channel.label}?", "cancel": "alert_channels",
        "explain": "Nothing more is sent to it, and its delivery log is deleted with it. Its "
                   "stored URL is gone for good: to use it again, paste it again.",
        "alternative": "alert_channel_toggle" if channel.enabled else "", "object": channel})


# Silences --------------------------------------------------------------------------------------


@team_view()
def silences_page(request: HttpRequest) -> HttpResponse:
    team: Team = request.team  # type: ignore[attr-defined]
    form = SilenceForm(request.POST or None, team=team)
    if request.method == "POST":
        require_manager(request)
        if form.is_valid():
            data = form.cleaned_data
            try:
                silence = silences.silence_create(
                    team=team, ends_at=data["ends_at"], reason=data["reason"], source=data["source"],
                    rule=data["rule"], worker_pattern=data["worker_pattern"], actor=request.user,
                    request=request)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Silenced until {silence_end_text(silence, team)}: "
                                          f"{silence.reason}")
                return redirect("alert_silences")
    active, past = selectors_pages.silences_split(team=team, now=timezone.now())
    return render(request, "alerts/silences.html", {"form": form, "active": active, "past": past})


def silence_end_text(silence: Silence, team: Team) -> str:
    return silence.ends_at.astimezone(ZoneInfo(team.timezone)).strftime("%Y-%m-%d %H:%M")


@require_POST
@team_view(Role.ADMIN)
def silence_end(request: HttpRequest, pk: int) -> HttpResponse:
    silence = get_object_or_404(Silence, team=request.team, pk=pk)  # type: ignore[attr-defined]
    if silence.ends_at <= timezone.now():
        messages.info(request, "That silence had already ended.")
    else:
        silences.silence_end(silence=silence, actor=request.user, request=request)
        messages.success(request, f"Silence ended: {silence.reason}.")
    return redirect("alert_silences")
