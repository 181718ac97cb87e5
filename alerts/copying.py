"""Bulk inserts through COPY, for the rows a whole farm going down produces at once:
thousands of alerts and their links to the message that announced them. Preparing each value
through the ORM would cost more than the rest of the evaluation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model
from django.db.models.expressions import RawSQL

# Below this many rows COPY's round trips cost more than bulk_create's statement.
COPY_MIN_ROWS = 500


def copy_worthwhile(count: int) -> bool:
    return connection.vendor == "postgresql" and count >= COPY_MIN_ROWS


def rows_copy(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY the rows (values in the order of `columns`) into the model's table."""
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {table} ({names}) FROM STDIN") as copy:  # only the model's names in the SQL
        for row in rows:
            copy.write_row(row)


def ids_any(ids: list[int]) -> list[int] | RawSQL:
    """The right side of `pk__in` for thousands of ids: one array parameter on Postgres,
    instead of one placeholder each that the driver splits the statement around."""
    if not copy_worthwhile(len(ids)):
        return ids
    return RawSQL("SELECT unnest(%s::bigint[])", [ids])
