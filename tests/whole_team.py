"""A team with something on every page: every pool kind and the exchanger polled from the
simulator, a FlowBTC market, an alert rule, alert, channel and silence, and (optionally) one
source with a long name, to look at every page as a user with data sees it."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from alerts.models import Alert, AlertState, Channel, Rule, Silence
from dashboard.models import Source, Team
from dashboard.polling import source_poll
from pools.models import Worker
from simulator import btcchange24 as sim_exchanger
from simulator.server import SimulatorServer
from tests.exchanges.test_exchanger_ingest import exchanger_source
from tests.exchanges.test_markets_page import flowbtc_source, seed_market

# The longest label the source form accepts, with no space to break at.
LONG_NAME = "Farm-" + "x" * 40 + "-LongFarmNameWithoutAnySpacesAtAll-" + "y" * 20
assert len(LONG_NAME) == 100


def whole_team(team: Team, simulator: SimulatorServer, pools: list[Source], *,
               long_name: str = "") -> dict[str, object]:
    """`pools` are conftest's all_pools (already polled); the first one takes `long_name`."""
    exchanger = exchanger_source(team, label="btcchange24 partner", api_key=sim_exchanger.API_KEY,
                                 base_url=simulator.base_url("btcchange24"))
    run = source_poll(source_id=exchanger.pk)
    assert run is not None and run.ok, run.message if run else "skipped"
    market = flowbtc_source(team, "FlowBTC main")
    seed_market(market, now=timezone.now())
    pool = pools[0]
    if long_name:
        Source.objects.filter(pk=pool.pk).update(label=long_name)
        pool.refresh_from_db()
    rule = Rule.objects.create(team=team, kind="worker_offline", scope="source", source=pool)
    now = timezone.now()
    worker = Worker.objects.filter(source=pool).order_by("pk").first()
    assert worker is not None
    Alert.objects.create(team=team, rule=rule, source=pool, subject_key=worker.name,
                         subject=worker.name, state=AlertState.FIRING, started_at=now,
                         value="offline", message=f"{worker.name} of {pool.label} is offline")
    Channel.objects.create(team=team, kind="in_app", label="Inbox")
    Silence.objects.create(team=team, source=pool, starts_at=now, ends_at=now + timedelta(hours=2),
                           reason="Maintenance of the racks")
    return {"pool": pool, "worker": worker, "exchanger": exchanger, "market": market, "rule": rule}
