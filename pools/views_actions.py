"""Upstream actions of a source: pick one, read what it will do, confirm, see the answer."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dashboard.models import Role, Source
from dashboard.selectors import team_source_get
from dashboard.teams import team_view
from pools.actions import (
    ACTION_LABELS,
    ActionInvalid,
    ActionResult,
    action_effect,
    action_params_clean,
    source_action_run,
    source_can_act,
    source_coins_list,
    source_subaccounts_list,
)

CONFIRMED = "yes"


@team_view(Role.ADMIN)
def source_actions(request: HttpRequest, pk: int) -> HttpResponse:
    source = team_source_get(team=request.team, pk=pk)  # type: ignore[attr-defined]
    return render(request, "pools/actions.html", actions_context(source))


@require_POST
@team_view(Role.ADMIN)
def source_action_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Without the confirmation flag this only restates the action; with it, runs it."""
    source = team_source_get(team=request.team, pk=pk)  # type: ignore[attr-defined]
    action = request.POST.get("action", "")
    refusal = source_can_act(source)
    try:
        if refusal:
            raise ActionInvalid(refusal)
        params = action_params_clean(action=action, params=request.POST)
    except ActionInvalid as error:
        messages.error(request, str(error))
        return redirect("source_actions", pk=source.pk)
    if request.POST.get("confirmed") != CONFIRMED:
        current = next((sub["coin"] for sub in source_subaccounts_list(source=source)
                        if sub["name"] == params["subaccount"]), "")
        return render(request, "pools/action_confirm.html", {
            "source": source, "action": action, "label": ACTION_LABELS[action],
            "params": params, "effect": action_effect(action=action, params=params,
                                                      current_coin=current),
            "confirmed": CONFIRMED,
        })
    result = source_action_run(source=source, action=action, params=params, actor=request.user,
                               request=request)
    return render(request, "pools/actions.html",
                  {**actions_context(source), "result": result, "done": ACTION_LABELS[action],
                   "answer": answer_rows(result)})


def actions_context(source: Source) -> dict[str, Any]:
    subaccounts = source_subaccounts_list(source=source)
    return {
        "source": source, "refusal": source_can_act(source), "subaccounts": subaccounts,
        "coins": source_coins_list(source=source, subaccounts=subaccounts),
        "labels": ACTION_LABELS,
    }


def answer_rows(result: ActionResult) -> list[tuple[str, str]]:
    """The upstream's answer as field and value, for a definition list."""
    return [(str(key), str(value)) for key, value in (result.answer or {}).items()]
