"""Demo mode gives the demo pools machines and the team a price per kWh, once."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from dashboard.models import Source, Team
from dashboard.registries import demo_team_ready
from tests.treasury.helpers import pool

pytestmark = pytest.mark.django_db


def test_the_demo_signal_sets_energy_where_none_is_set(team) -> None:
    btc = pool(team, label="BTC farm")
    ltc = pool(team, label="LTC farm", currency="LTC")
    own = pool(team, label="Own", power_kw="12")
    demo_team_ready.send(sender=Team, team=team)
    demo_team_ready.send(sender=Team, team=team)  # every demo start sends it again
    assert Source.objects.get(pk=btc.pk).options["efficiency_j_per_th"] == "21.5"
    assert Source.objects.get(pk=ltc.pk).options["power_kw"] == "0.9"
    assert Source.objects.get(pk=own.pk).options == {"currency": "BTC", "power_kw": "12"}
    team.refresh_from_db()
    assert team.electricity_price == D("0.62") and team.electricity_currency == "BRL"
