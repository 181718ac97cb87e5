"""Postgres: the raw hashrate samples become a table partitioned by day (see pools.partitions).

The rows already stored are not copied: the old table is attached as it is, as the partition
of every time before the next UTC midnight, and goes as a whole once its newest rows are past
their window. The migration reads it once (the ATTACH checks the bound) and writes nothing.
The indexes and constraints are recreated on the new table under their own names, so later
migrations find them as Django named them.

SQLite keeps its plain table: nothing is done there.
"""

from datetime import UTC, datetime, timedelta

from django.db import migrations

TABLE = "pools_hashratesample"
OLD = f"{TABLE}_unpartitioned"
DEFAULT = f"{TABLE}_default"


def fetch(cursor, sql, params=()):
    cursor.execute(sql, params)
    return cursor.fetchall()


def partition_by_day(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        (kind,), = fetch(cursor, "SELECT relkind FROM pg_class WHERE oid = %s::regclass", [TABLE])
        if kind == "p":
            return  # partitioned already: migrated back to 0005 and forward again
        constraints = fetch(cursor, (
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('u', 'f', 'c') ORDER BY contype DESC"
        ), [TABLE])
        indexes = fetch(cursor, (
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        ), [TABLE])
        index_names = [name for (name,) in fetch(cursor, (
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary"
        ), [TABLE])]
        (last_id, newest), = fetch(cursor, f"SELECT max(id), max(at) FROM {TABLE}")  # noqa: S608

        # The old table steps aside, its index names with it (they are unique per schema).
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
        for name in index_names:
            cursor.execute(f'ALTER INDEX "{name}" RENAME TO "{name[:56]}_before"')
        # A partition may not have an identity column of its own: ids come from the parent's
        # sequence from now on, numbered on from the last one.
        cursor.execute(f"ALTER TABLE {OLD} ALTER COLUMN id DROP IDENTITY IF EXISTS")

        cursor.execute(f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS) PARTITION BY RANGE (at)")
        cursor.execute(f"CREATE SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq')")
        if last_id is not None:
            cursor.execute(f"SELECT setval('{TABLE}_id_seq', %s)", [last_id])
        for name, definition in constraints:
            cursor.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')
        for (definition,) in indexes:
            cursor.execute(definition)  # "CREATE INDEX name ON public.pools_hashratesample ..."
        cursor.execute(f"CREATE TABLE {DEFAULT} PARTITION OF {TABLE} DEFAULT")

        if newest is None:
            cursor.execute(f"DROP TABLE {OLD}")
            return
        today = datetime.now(UTC)
        end = (max(newest, today) + timedelta(days=1)).date()
        cursor.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {OLD} FOR VALUES FROM (MINVALUE) "
                       f"TO ('{end.isoformat()}T00:00:00+00:00'::timestamptz)")
        cursor.execute(f"ALTER TABLE {OLD} RENAME TO {TABLE}_before_{end:%Y%m%d}")


class Migration(migrations.Migration):

    dependencies = [
        ("pools", "0006_hashrate_sample_account_idx"),
    ]

    operations = [
        # Backwards, the partitioned table serves the older code as it is.
        migrations.RunPython(partition_by_day, migrations.RunPython.noop, elidable=False),
    ]
