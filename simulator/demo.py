"""Demo mode: a team, a user and one source per simulated upstream account."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.db import transaction

from dashboard.models import Membership, Role, Source, Team
from dashboard.registries import demo_team_ready
from dashboard.services import source_create
from simulator import btcchange24, btccom, btcpoolkz, sbicrypto
from simulator.flowbtc.account import SIM_PASSWORD, SIM_USERNAME

DEMO_TEAM = "demo"
DEMO_USER = "demo"
# The simulator's trouble on a timetable in demo mode: alerts fire and resolve within minutes.
DEMO_SCENARIO = "alerts"
# The source whose workers that scenario drops: the first BTC.com account's.
SCENARIO_WORKER_SOURCES = {f"BTC.com · {btccom.ACCOUNTS[0].user_name}"}


@dataclass(frozen=True)
class DemoSource:
    kind: str
    label: str
    credentials: dict[str, str]
    options: dict[str, Any]


def gateway_url_for(simulator_url: str) -> str:
    """The simulator serves the FlowBTC gateway on the port after its own."""
    parts = urlsplit(simulator_url)
    return f"ws://{parts.hostname}:{(parts.port or 80) + 1}/WSGateway/"


def demo_sources(simulator_url: str, gateway_url: str | None = None) -> list[DemoSource]:
    return [
        *(DemoSource("btccom", f"BTC.com · {account.user_name}",
                     {"access_key": account.access_key, "puid": str(account.puid)}, {})
          for account in btccom.ACCOUNTS),
        *(DemoSource("btcpoolkz", f"BTCpool.kz · {account.currency}",
                     {"api_key": account.api_key}, {"currency": account.currency})
          for account in btcpoolkz.ACCOUNTS),
        # Single-coin observer views: the per-coin totals of a multi-coin key account are
        # not split yet, so the demo shows SBI through one subaccount per source.
        *(DemoSource("sbicrypto", f"SBI Crypto · {sub.name}", {"observer_key": sub.observer_key},
                     {"currency": sub.coin, "stats_url": f"{simulator_url}/sbicrypto-stats/poolstats"})
          for sub in (sbicrypto.BRAVO, sbicrypto.ALPHA_BCH)),
        DemoSource("btcchange24", "btcchange24 · partner", {"api_key": btcchange24.API_KEY},
                   {"export_code": btcchange24.EXPORT_CODE}),
        # Polled over REST like the others, and streamed live (with the account) from the
        # simulated gateway by `manage.py stream flowbtc`.
        DemoSource("flowbtc", f"FlowBTC · {SIM_USERNAME}",
                   {"username": SIM_USERNAME, "password": SIM_PASSWORD},
                   {"ws_url": gateway_url or gateway_url_for(simulator_url)}),
    ]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    team: Team
    created_sources: int


@transaction.atomic
def demo_setup(*, simulator_url: str, gateway_url: str | None = None) -> DemoLogin:
    """Idempotent: re-running points the demo sources at the simulator's current address
    and gives the demo user a fresh password (it is printed, never stored in clear)."""
    team, _ = Team.objects.get_or_create(slug=DEMO_TEAM, defaults={"name": "Demo Mining Co."})
    user, _ = get_user_model().objects.get_or_create(username=DEMO_USER)
    password = secrets.token_urlsafe(9)
    user.set_password(password)
    user.is_staff = user.is_superuser = True
    user.save()
    Membership.objects.get_or_create(team=team, user=user, defaults={"role": Role.OWNER})
    created = 0
    troubled: list[Source] = []
    for spec in demo_sources(simulator_url, gateway_url):
        base_url = f"{simulator_url}/{spec.kind}"
        existing = Source.objects.filter(team=team, label=spec.label).first()
        if existing:
            changes: dict[str, Any] = {"base_url": base_url}
            if spec.kind == "flowbtc":
                # The gateway moves with the simulator's port, and its address is an option.
                changes["options"] = {**existing.options, **spec.options}
            Source.objects.filter(pk=existing.pk).update(
                **changes, next_poll_at=None, error_is_permanent=False
            )
            source = existing
        else:
            source = source_create(team=team, kind=spec.kind, label=spec.label, base_url=base_url,
                                   credentials=spec.credentials, options=spec.options, interval=60)
            created += 1
        if spec.label in SCENARIO_WORKER_SOURCES:
            troubled.append(source)
    # The apps add what shows their features on the demo team (the alerts app: its
    # recommended rules and an in-app channel).
    demo_team_ready.send(sender=Team, team=team, troubled=troubled)
    return DemoLogin(DEMO_USER, password, team, created)
