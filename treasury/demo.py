"""Demo mode's part of the treasury: machines behind the demo pools and a price per kWh, so
the demo shows profitability from its first poll. Sent through `demo_team_ready` at every
demo start: it sets only what is not set, so an operator's own values survive."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dashboard.models import Source, Team
from pools.selectors import source_coin, team_pool_sources

DEMO_PRICE, DEMO_CURRENCY = Decimal("0.62"), "BRL"
# SHA-256 coins follow the measured hashrate at an S19 XP's efficiency; the scrypt account
# counts a fixed draw, to show both ways of counting energy.
DEMO_EFFICIENCY = "21.5"
DEMO_SCRYPT_POWER_KW = "0.9"
ENERGY_KEYS = ("power_kw", "efficiency_j_per_th")


def demo_energy_options(source: Source) -> dict[str, Any]:
    if source_coin(source) == "LTC":
        return {"power_kw": DEMO_SCRYPT_POWER_KW}
    return {"efficiency_j_per_th": DEMO_EFFICIENCY}


def demo_seed(*, team: Team) -> None:
    if team.electricity_price is None:
        team.electricity_price, team.electricity_currency = DEMO_PRICE, DEMO_CURRENCY
        team.save(update_fields=["electricity_price", "electricity_currency"])
    for source in team_pool_sources(team=team):
        if any(source.options.get(key) for key in ENERGY_KEYS):
            continue
        Source.objects.filter(pk=source.pk).update(options={**source.options, **demo_energy_options(source)})


def on_demo_team_ready(sender: Any, *, team: Team, **kwargs: Any) -> None:
    demo_seed(team=team)
