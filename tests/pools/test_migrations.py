"""Data migrations of the pools app, run forward over rows written by the older schema."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = ("pools", "0004_history_days_no_default")
AFTER = ("pools", "0005_balance_paid_total_unknown_payout_fee_pool_stat_5m")


@pytest.mark.django_db(transaction=True)
def test_a_stored_btcpoolkz_total_of_0_becomes_unknown_and_others_stay() -> None:
    executor = MigrationExecutor(connection)
    # Every other app as it is now, pools as it was.
    before = [node for node in executor.loader.graph.leaf_nodes() if node[0] != "pools"] + [BEFORE]
    executor.migrate([BEFORE])
    old = executor.loader.project_state(before).apps
    team = old.get_model("dashboard", "Team").objects.create(name="T", slug="t")
    source_model = old.get_model("dashboard", "Source")
    balance = old.get_model("pools", "Balance")
    now = timezone.now()
    for kind, total in (("btcpoolkz", Decimal(0)), ("btccom", Decimal("1.5"))):
        source = source_model.objects.create(team=team, kind=kind, label=kind)
        balance.objects.create(source=source, coin="BTC", unpaid=Decimal(0), paid_total=total,
                               updated_at=now)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([AFTER])
    new = executor.loader.project_state([AFTER]).apps
    totals = dict(new.get_model("pools", "Balance").objects.values_list("source__kind", "paid_total"))
    assert totals == {"btcpoolkz": None, "btccom": Decimal("1.5")}
