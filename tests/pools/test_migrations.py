"""Data migrations of the pools app, run forward over rows written by the older schema."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from pools import partitions
from pools.ingest import samples_upsert
from tests.pools.test_partitions import partitions_of_a_fresh_install

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


PARTITIONED = ("pools", "0007_hashrate_sample_partitioned_by_day")


def relkind(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = %s::regclass", [table])
        return str(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_partitioning_the_samples_keeps_every_stored_row() -> None:
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate([AFTER])
    old = executor.loader.project_state([n for n in leaves if n[0] != "pools"] + [AFTER]).apps
    team = old.get_model("dashboard", "Team").objects.create(name="T", slug="t")
    source = old.get_model("dashboard", "Source").objects.create(team=team, kind="btccom", label="p")
    sample = old.get_model("pools", "HashrateSample")
    # Migrating back leaves the partitioned table (it serves the older code as well): the
    # plain table of an install that never had 0006 is made here as 0005 left it.
    with connection.schema_editor() as editor:
        editor.execute(f"DROP TABLE {partitions.TABLE}")
        editor.create_model(sample)
    assert relkind(partitions.TABLE) == "r"
    now = timezone.now()
    stored = {(name, now - timedelta(hours=hours), float(hours))
              for name in ("", "rig-a") for hours in (-2, 0, 1, 50, 200)}
    for name, at, rate in stored:
        sample.objects.create(source_id=source.pk, worker_name=name, at=at, hashrate_hs=rate)
    last_id = sample.objects.order_by("-id").values_list("id", flat=True).first()
    try:
        MigrationExecutor(connection).migrate([PARTITIONED])
        new = MigrationExecutor(connection).loader.project_state(leaves).apps
        sample = new.get_model("pools", "HashrateSample")

        assert relkind(partitions.TABLE) == "p"
        assert set(sample.objects.values_list("worker_name", "at", "hashrate_hs")) == stored
        tomorrow = (now + timedelta(days=1)).date()
        assert partitions.children(partitions.TABLE) == [
            f"pools_hashratesample_before_{tomorrow:%Y%m%d}", partitions.DEFAULT]
        # Ids go on from the last one, and the natural key still holds over the old rows.
        added = sample.objects.create(source_id=source.pk, at=now + timedelta(days=3), hashrate_hs=1)
        assert added.id > last_id
        samples_upsert([{"source_id": source.pk, "worker_name": "rig-a", "at": now,
                         "hashrate_hs": 99.0, "avg_window": "", "raw_value": "", "raw_unit": ""}])
        assert sample.objects.get(worker_name="rig-a", at=now).hashrate_hs == 99.0
    finally:
        MigrationExecutor(connection).migrate(leaves)
        partitions_of_a_fresh_install()
