"""The energy options of pool sources and the team's default price: checked, with messages
that say what to fix."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from dashboard.models import Team
from dashboard.services import source_create
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def problems(team, **options) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        source_create(team=team, kind="btccom", label="Farm", options=options,
                      credentials={"access_key": "k", "puid": "1"})
    return caught.value.message_dict["options"]


def test_good_energy_options_are_stored(team) -> None:
    source = source_create(team=team, kind="sbicrypto", label="Farm", credentials={"observer_key": "o"},
                           options={"efficiency_j_per_th": "17.5", "electricity_price": "0.41",
                                    "electricity_currency": "BRL"})
    assert source.options["efficiency_j_per_th"] == "17.5"


@pytest.mark.parametrize(("options", "message"), [
    ({"power_kw": "lots"}, "option power_kw must be a number of kW, e.g. 1.001 (got 'lots')"),
    ({"power_kw": "-3"}, "option power_kw must be from 0.001 to 1000000 kW (got '-3')"),
    ({"efficiency_j_per_th": "0"}, "option efficiency_j_per_th must be from 0.1 to 10000000 J/TH (got '0')"),
    ({"power_kw": "3", "efficiency_j_per_th": "20"}, "give either power_kw or efficiency_j_per_th, not both"),
    ({"electricity_price": "0.5"}, "electricity_price and electricity_currency go together"),
    ({"electricity_price": "0.5", "electricity_currency": "reais"},
     "option electricity_currency must be a currency code in capitals, e.g. BRL or USD (got 'reais')"),
])
def test_bad_energy_options_say_what_to_fix(team, options, message) -> None:
    assert any(message in problem for problem in problems(team, **options))


def test_the_source_form_shows_the_problem(alice, team) -> None:
    response = client_for(alice).post("/settings/sources/new/btcpoolkz/", {
        "label": "Farm", "interval": 60, "enabled": "on", "credential_api_key": "k",
        "option_power_kw": "3 kW"})
    assert response.status_code == 200
    assert "option power_kw must be a number of kW" in response.content.decode()


def test_the_team_default_price_is_set_in_settings(alice, team) -> None:
    client = client_for(alice)
    data = {"name": team.name, "timezone": "UTC", "electricity_price": "0.62", "electricity_currency": "brl"}
    assert client.post("/settings/", data).status_code == 302
    team = Team.objects.get(pk=team.pk)
    assert str(team.electricity_price.normalize()) == "0.62" and team.electricity_currency == "BRL"


@pytest.mark.parametrize(("data", "message"), [
    ({"electricity_price": "0.62"}, "Give the price and its currency together"),
    ({"electricity_price": "-1", "electricity_currency": "BRL"}, "A price cannot be negative"),
    ({"electricity_price": "0.6", "electricity_currency": "R$"}, "Use a currency code such as BRL or USD"),
])
def test_a_bad_team_default_is_refused_and_nothing_is_lost(alice, team, data, message) -> None:
    response = client_for(alice).post("/settings/", {"name": team.name, "timezone": "UTC", **data})
    assert response.status_code == 200 and message in response.content.decode()
    assert Team.objects.get(pk=team.pk).electricity_price is None
