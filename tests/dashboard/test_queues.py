"""Which queue each task goes to: the dispatcher alone, pools and markets apart."""

from __future__ import annotations

import pytest
from celery import current_app

from dashboard.models import Source
from dashboard.services import source_create
from dashboard.tasks import dispatch_due_sources, poll_source, prune_poll_runs
from exchanges.tasks import market_data_prune
from pools.tasks import hashrate_maintain


def queue_of(task: object, *args: object) -> str:
    router = current_app.amqp.router
    route = router.route({}, task.name, args, {})  # type: ignore[attr-defined]
    return route["queue"].name


def test_the_dispatcher_has_a_queue_of_its_own() -> None:
    assert queue_of(dispatch_due_sources) == "dispatch"


def test_pool_and_market_polls_go_to_their_own_queues(team, source: Source) -> None:
    market = source_create(team=team, kind="flowbtc", label="Market", credentials={})
    assert queue_of(poll_source, source.pk) == "pools"
    assert queue_of(poll_source, market.pk) == "markets"


@pytest.mark.django_db
def test_housekeeping_stays_out_of_the_way() -> None:
    assert queue_of(prune_poll_runs) == "maintenance"


@pytest.mark.django_db
def test_roll_ups_and_pruning_never_take_a_pollers_turn() -> None:
    assert queue_of(hashrate_maintain) == queue_of(market_data_prune) == "maintenance"
