"""Actions that change something at the upstream pool, run for a person who confirmed them.

Only SBI Crypto offers such actions. They go through the same HTTP client, base URL and
credentials as a poll, every attempt is audited (with its parameters, never the keys), and a
success queues a poll so the pages show the pool's new state.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from django.utils import timezone

from dashboard.audit import audit_record
from dashboard.http import UpstreamError
from dashboard.models import Source
from dashboard.polling import http_client, scrub
from dashboard.sources import PollContext, get_kind
from dashboard.tasks import poll_enqueue
from pools.clients.sbicrypto_actions import ActionAnswer, SbiActions
from pools.models import PoolAccount, PoolCoinStat

SWITCH_COIN, CLEAR_INACTIVE, PAYOUT_ADDRESS = (
    "switch_coin", "clear_inactive_workers", "update_payout_address")
ACTION_LABELS = {
    SWITCH_COIN: "Switch mining coin",
    CLEAR_INACTIVE: "Clear inactive workers",
    PAYOUT_ADDRESS: "Update payout address",
}
PARAMS = {SWITCH_COIN: ("subaccount", "coin"), CLEAR_INACTIVE: ("subaccount",),
          PAYOUT_ADDRESS: ("subaccount", "coin", "address")}
NAME = re.compile(r"^[A-Za-z0-9_-]{1,35}$")  # the pool's rule for subaccount names
COIN = re.compile(r"^[A-Z0-9]{2,10}$")
ADDRESS = re.compile(r"^[A-Za-z0-9:]{20,128}$")  # base58, bech32 and cashaddr ("bitcoincash:q...")


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    message: str
    answer: dict[str, Any] | None = None


class ActionInvalid(ValueError):
    """The action or its parameters cannot be sent; the message says why, for the user."""


def source_can_act(source: Source) -> str:
    """Why the source cannot run upstream actions, or "" when it can."""
    if source.kind != "sbicrypto":
        return "Upstream actions exist for SBI Crypto sources only."
    if source.credentials.unreadable:
        return ("The stored credentials cannot be decrypted; enter them again in the source's "
                "settings.")
    if not (source.credentials.get("api_key") and source.credentials.get("api_secret")):
        return ("This source reads with an observer key, which cannot change anything. Actions "
                "need an API key and secret with the UPDATE permission, set in the source's "
                "settings.")
    return ""


def source_subaccounts_list(*, source: Source) -> list[dict[str, str]]:
    """Name, coin and payout address of each subaccount the latest poll saw."""
    account = PoolAccount.objects.filter(source=source).first()
    listed = (account.info or {}).get("subaccounts") if account else None
    return [{"name": str(sub.get("name") or ""), "coin": str(sub.get("coin") or ""),
             "payout_address": str(sub.get("payout_address") or "")}
            for sub in listed or [] if isinstance(sub, dict) and sub.get("name")]


def source_coins_list(*, source: Source, subaccounts: list[dict[str, str]]) -> list[str]:
    """The coins the pool published figures for, and those its subaccounts mine."""
    published = PoolCoinStat.objects.filter(source=source).values_list("coin", flat=True)
    return sorted({*published, *(sub["coin"] for sub in subaccounts)} - {""})


def action_params_clean(*, action: str, params: Mapping[str, str]) -> dict[str, str]:
    """The parameters of `action`, trimmed and checked; ActionInvalid when one is wrong."""
    if action not in PARAMS:
        raise ActionInvalid("Unknown action.")
    clean = {name: str(params.get(name) or "").strip() for name in PARAMS[action]}
    if "coin" in clean:
        clean["coin"] = clean["coin"].upper()
    if not NAME.match(clean["subaccount"]):
        raise ActionInvalid("Choose a subaccount.")
    if action == SWITCH_COIN and not COIN.match(clean["coin"]):
        raise ActionInvalid("Choose the coin to mine.")
    if action == PAYOUT_ADDRESS:
        if clean["coin"] and not COIN.match(clean["coin"]):
            raise ActionInvalid("The coin is not a coin code such as BTC.")
        if not ADDRESS.match(clean["address"]):
            raise ActionInvalid("The address must be 20 to 128 letters and digits.")
    return clean


def action_effect(*, action: str, params: Mapping[str, str], current_coin: str = "") -> str:
    """What the action will do, in words, for the confirmation page."""
    sub = params["subaccount"]
    if action == SWITCH_COIN:
        coin = params["coin"]
        if current_coin == coin:
            return f"Subaccount {sub} already mines {coin}; the pool will answer that nothing changed."
        source_coin = f" from {current_coin}" if current_coin else ""
        return (f"Switch subaccount {sub}{source_coin} to {coin}. New shares will be paid in "
                f"{coin}, to the subaccount's {coin} payout address, from the next payout period; "
                "the workers keep their stratum settings.")
    if action == CLEAR_INACTIVE:
        return (f"Remove every inactive worker from subaccount {sub} at the pool. They come back "
                "if they submit shares again; their history there is lost.")
    coin = params.get("coin") or current_coin or "its coin"
    return (f"Ask the pool to pay subaccount {sub}'s {coin} earnings to {params['address']}. "
            "The pool verifies the change with the account holder, then takes about 24 hours; "
            "until then payouts still go to the current address. A later request replaces this one.")


def source_action_run(*, source: Source, action: str, params: Mapping[str, str],
                      actor: AbstractBaseUser | AnonymousUser | None,
                      request: HttpRequest | None = None) -> ActionResult:
    refusal = source_can_act(source)
    if refusal:
        return ActionResult(False, refusal)
    try:
        clean = action_params_clean(action=action, params=params)
    except ActionInvalid as error:
        return ActionResult(False, str(error))
    try:
        answer = RUNNERS[action](actions_client(source), clean)
    except UpstreamError as error:
        result = ActionResult(False, scrub(error.message, source))
        audit(source, action, clean, result, actor, request, status=error.status)
        return result
    result = ActionResult(True, success_message(action, clean, answer), answer.data)
    audit(source, action, clean, result, actor, request, status=answer.status)
    # The action is done upstream; with the broker away its effect shows at the next scheduled poll.
    poll_enqueue(source_id=source.pk, trigger="action")
    return result


def actions_client(source: Source) -> SbiActions:
    """The action client, built as a poll builds its client."""
    spec = get_kind(source.kind)
    ctx = PollContext(
        base_url=source.effective_base_url, credentials=source.credentials,
        options={**spec.default_options(), **source.options}, http=http_client(),
        now=timezone.now(), last_success_at=source.last_success_at,
    )
    return SbiActions(ctx)


RUNNERS: dict[str, Callable[[SbiActions, dict[str, str]], ActionAnswer]] = {
    SWITCH_COIN: lambda client, p: client.switch_coin(p["subaccount"], p["coin"]),
    CLEAR_INACTIVE: lambda client, p: client.clear_inactive_workers(p["subaccount"]),
    PAYOUT_ADDRESS: lambda client, p: client.update_payout_address(
        p["subaccount"], p["address"], coin=p["coin"]),
}


def success_message(action: str, params: Mapping[str, str], answer: ActionAnswer) -> str:
    sub = params["subaccount"]
    if action == SWITCH_COIN:
        if answer.status == 200:
            return f"Subaccount {sub} already mines {params['coin']}; nothing changed."
        return f"Subaccount {sub} now mines {answer.data.get('coin') or params['coin']}."
    if action == CLEAR_INACTIVE:
        return f"The inactive workers of subaccount {sub} were cleared."
    return (f"The pool accepted the new payout address for subaccount {sub}; it takes effect "
            "after verification, in about 24 hours.")


def audit(source: Source, action: str, params: Mapping[str, str], result: ActionResult,
          actor: AbstractBaseUser | AnonymousUser | None, request: HttpRequest | None, *,
          status: int | None) -> None:
    audit_record(
        team=source.team, actor=actor, action=f"upstream.{action}",
        target=f"{source.label} / {params['subaccount']}", request=request,
        detail={"source_id": source.pk, **params, "ok": result.ok, "status": status,
                "message": result.message},
    )
