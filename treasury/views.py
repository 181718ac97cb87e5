"""The Treasury page: the team's coins valued three ways, what it holds outside the pools,
and a "what if I sell" box answered live."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dashboard.audit import audit_record
from dashboard.models import Role
from dashboard.pages import page
from dashboard.teams import team_view
from treasury.holdings import team_coins, team_holdings
from treasury.models import HeldCoin
from treasury.quotes import QuoteProblem, amount_parse
from treasury.routes import team_routes


class HeldForm(forms.Form):
    coin = forms.CharField(max_length=16, help_text="e.g. BTC")
    amount = forms.DecimalField(max_digits=28, decimal_places=12, min_value=Decimal(0),
                                help_text="0 removes the coin from the list.")
    note = forms.CharField(max_length=200, required=False, help_text="Where it is held, e.g. cold wallet.")

    def clean_coin(self) -> str:
        coin = self.cleaned_data["coin"].strip().upper()
        if not coin.isalnum():
            raise forms.ValidationError("Use the coin's ticker, letters and digits only, e.g. BTC.")
        return coin


def sell_context(request: HttpRequest, coins: list[str]) -> dict:
    """What the "what if I sell" box shows for the query's coin and amount."""
    coin = request.GET.get("coin", "").strip().upper() or (coins[0] if coins else "")
    raw = request.GET.get("amount", "").strip()
    context: dict = {"sell_coin": coin, "sell_amount": raw, "coins": coins, "sell_error": "",
                     "sell_routes": None}
    if not raw:
        return context
    try:
        amount = amount_parse(raw)
    except QuoteProblem as problem:
        context["sell_error"] = f"Enter the amount to sell: {problem}."
        return context
    if not coin.isalnum():
        context["sell_error"] = "Pick a coin."
        return context
    context["sell_routes"] = team_routes(team=request.team, coin=coin, amount=amount)  # type: ignore[attr-defined]
    context["sell_value"] = amount
    return context


@team_view()
def treasury(request: HttpRequest) -> HttpResponse:
    team = request.team  # type: ignore[attr-defined]
    coins = team_coins(team=team)
    context = {"holdings": team_holdings(team=team), "held": list(HeldCoin.objects.filter(team=team)),
               "held_form": HeldForm(), **sell_context(request, coins)}
    return page(request, "treasury/treasury.html", context, "sell-result")


@team_view()
def treasury_sell(request: HttpRequest) -> HttpResponse:
    coins = team_coins(team=request.team)  # type: ignore[attr-defined]
    return render(request, "treasury/treasury.html#sell-result", sell_context(request, coins))


@require_POST
@team_view(Role.ADMIN)
def treasury_held(request: HttpRequest) -> HttpResponse:
    team = request.team  # type: ignore[attr-defined]
    form = HeldForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(map(str, errors))}" for name, errors in form.errors.items())
        messages.error(request, f"Nothing saved. {problems}")
        return redirect("treasury")
    coin, amount = form.cleaned_data["coin"], form.cleaned_data["amount"]
    if amount == 0:
        HeldCoin.objects.filter(team=team, coin=coin).delete()
        messages.success(request, f"{coin} held elsewhere removed.")
    else:
        HeldCoin.objects.update_or_create(team=team, coin=coin, defaults={
            "amount": amount, "note": form.cleaned_data["note"]})
        messages.success(request, f"{coin} held elsewhere set to {amount.normalize():f}.")
    audit_record(team=team, actor=request.user, action="treasury.held_set", target=coin,
                 detail={"amount": f"{amount.normalize():f}"}, request=request)
    return redirect("treasury")

