"""Bulk upserts on natural keys, shared by every app's ingest: a repeated or overlapping
poll rewrites the same rows instead of adding new ones."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

from django.db import connection, models, transaction
from django.db.models import QuerySet

Row = dict[str, Any]
T = TypeVar("T")

BATCH_SIZE = 2000
COPY_MIN_ROWS = 1000  # below this one INSERT statement is as quick as COPY


def upsert(
    model: type[models.Model], rows: Sequence[Row], *, unique: list[str], update: list[str]
) -> int:
    """Insert rows (field name -> value, the same names in every row), or update the
    `update` fields of rows that already hold their `unique` key."""
    if not rows:
        return 0
    if connection.vendor == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        copy_upsert(model, rows, unique=unique, update=update)
    elif connection.vendor == "sqlite" and len(rows) >= COPY_MIN_ROWS:
        executemany_upsert(model, rows, unique=unique, update=update)
    else:
        model._default_manager.bulk_create(
            [model(**row) for row in rows], batch_size=BATCH_SIZE, update_conflicts=True,
            unique_fields=unique, update_fields=update,
        )
    return len(rows)


def copy_upsert(
    model: type[models.Model], rows: Sequence[Row], *, unique: list[str], update: list[str]
) -> None:
    """COPY into a temporary table, then one INSERT ... ON CONFLICT from it. Preparing each
    value through the ORM costs more than the database's own work for a large account, so
    this is what keeps a 30,000-worker poll within its budget. Values go to psycopg as they
    are: only rows of numbers, text, aware times and JSON may come here."""
    fields = concrete_fields(model)
    names = list(rows[0])
    # One encoder per column, made once: json.dumps(cls=...) builds a new one per value.
    encoders = {
        index: (field.encoder or json.JSONEncoder)(separators=(",", ":")).encode
        for index, name in enumerate(names) if isinstance(field := fields[name], models.JSONField)
    }
    quote, column = connection.ops.quote_name, quoted_columns(model).__getitem__

    # Only names from the model go into the SQL text; every value travels through COPY.
    every = ", ".join(map(column, names))
    table, temp = quote(model._meta.db_table), quote(f"incoming_{model._meta.db_table}")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temp} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {every} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {temp} ({every}) FROM STDIN") as copy:
            for row in rows:
                values = list(row.values())
                for index, encoder in encoders.items():
                    values[index] = encoder(values[index])
                copy.write_row(values)
        cursor.execute(
            f"INSERT INTO {table} ({every}) SELECT {every} FROM {temp} "  # noqa: S608
            f"{on_conflict(model, unique=unique, update=update)}"
        )
        cursor.execute(f"DROP TABLE {temp}")


def executemany_upsert(
    model: type[models.Model], rows: Sequence[Row], *, unique: list[str], update: list[str]
) -> None:
    """SQLite's counterpart of `copy_upsert` (demo mode): one prepared INSERT ... ON
    CONFLICT run for every row. Each value goes through its field's own preparation, once,
    without the ORM compiling a statement per batch: a demo's 3,000-worker account, polled
    at every past moment of the week it fills, was mostly that compiling. The same rows as
    `copy_upsert` may come here."""
    fields = concrete_fields(model)
    names = list(rows[0])
    prepare = [fields[name].get_db_prep_save for name in names]
    quote, column = connection.ops.quote_name, quoted_columns(model).__getitem__

    placeholders = ", ".join(["%s"] * len(names))
    sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(column, names))}) "  # noqa: S608
           f"VALUES ({placeholders}) {on_conflict(model, unique=unique, update=update)}")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, [
            [prep(value, connection) for prep, value in zip(prepare, row.values(), strict=True)]
            for row in rows
        ])


def upsert_select(
    model: type[models.Model], rows: QuerySet, *, fields: list[str], unique: list[str],
    update: list[str],
) -> int:
    """Insert what a query selects (its columns, in order, are `fields`), or update the
    `update` fields of rows that already hold their `unique` key: one statement run inside
    the database, so the rows never travel through Python (a roll-up of 100,000 workers
    spends most of its time there otherwise). How many rows were written."""
    quote, column = connection.ops.quote_name, quoted_columns(model).__getitem__

    select, params = rows.query.sql_with_params()
    # SQLite needs the SELECT to have a WHERE clause here (the query's filter is one), or it
    # reads ON CONFLICT as a join's ON.
    sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(column, fields))}) "
           f"{select} {on_conflict(model, unique=unique, update=update)}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def on_conflict(model: type[models.Model], *, unique: list[str], update: list[str]) -> str:
    """The upsert's clause, the same on Postgres and SQLite: on a `unique` key already held,
    take the incoming `update` fields."""
    column = quoted_columns(model).__getitem__
    assignments = ", ".join(f"{column(name)} = EXCLUDED.{column(name)}" for name in update)
    return f"ON CONFLICT ({', '.join(map(column, unique))}) DO UPDATE SET {assignments}"


def quoted_columns(model: type[models.Model]) -> dict[str, str]:
    """The model's column names, quoted for SQL, by field name and by attribute name."""
    return {name: connection.ops.quote_name(str(field.column))
            for name, field in concrete_fields(model).items()}


def concrete_fields(model: type[models.Model]) -> dict[str, models.Field]:
    """The model's columns by field name and by attribute name ("source" and "source_id")."""
    fields: dict[str, models.Field] = {}
    for field in model._meta.concrete_fields:
        fields[field.name] = fields[field.attname] = field
    return fields


class LazyRows(Sequence[Row], Generic[T]):
    """Rows made from items one at a time, as they are sent: COPY streams them, so a
    100,000-worker poll holds its workers once rather than again as 100,000 row dicts,
    which were most of its peak memory."""

    def __init__(self, items: Sequence[T], make: Callable[[T], Row]) -> None:
        self.items, self.make = items, make

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, slice):
            return [self.make(item) for item in self.items[index]]
        return self.make(self.items[index])

    def __iter__(self) -> Iterator[Row]:
        return map(self.make, self.items)
