"""Every stored secret, wherever it lives: the encrypted columns of all installed apps.

`check_keys` (can the configured keys read them all?) and `rotate_keys` (re-encrypt them under
the first key) walk them here. The columns are found through the app registry, so a feature
app's encrypted field (an alert channel's Apprise URL) is covered without the core naming it.
Values are read and written as raw ciphertext, never through the models: a row that no key
decrypts is reported, not turned into an empty value, and saving nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction

from dashboard.crypto import EncryptedJSONField, fernet, rotate

Mode = Literal["check", "rotate"]

LOST_KEY_ADVICE = (
    "Put the key they were written with back into FIELD_ENCRYPTION_KEYS (anywhere after the "
    "first: the first key encrypts, every key decrypts) and run 'python manage.py check_keys' "
    "again. If that key is lost, so are these secrets: enter them again (a source's "
    "credentials in its settings, an alert channel's URL on the Alerts page; delete a lost "
    "authenticator in the admin so that its user enrols again)."
)


@dataclass(frozen=True)
class EncryptedColumn:
    model: type[models.Model]
    field: EncryptedJSONField

    @property
    def name(self) -> str:
        """What an operator can look up: "dashboard.Source.credentials"."""
        return f"{self.model._meta.label}.{self.field.name}"


@dataclass
class ColumnReport:
    column: EncryptedColumn
    readable: int = 0
    # Readable only with a key other than the first: rotate_keys before dropping that key.
    under_older_key: int = 0
    rewritten: int = 0
    # The app's tables are not created yet (a dump from an older version, not migrated yet).
    missing_table: bool = False
    # "dashboard.Source 3 (Main farm)": the row, never its secret.
    unreadable: list[str] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return self.readable + len(self.unreadable)


def encrypted_columns() -> list[EncryptedColumn]:
    columns = [
        EncryptedColumn(model, model_field)
        for model in apps.get_models()
        if not model._meta.proxy  # a proxy's rows are its concrete model's
        for model_field in model._meta.concrete_fields
        if isinstance(model_field, EncryptedJSONField)
    ]
    return sorted(columns, key=lambda column: column.name)


def encrypted_rows_walk(*, mode: Mode) -> list[ColumnReport]:
    """Try every stored value with the configured keys; with mode "rotate", also re-encrypt
    each readable one under the first key (one transaction, rows locked on Postgres)."""
    with transaction.atomic():
        tables = set(connection.introspection.table_names())
        return [_column_walk(column, mode=mode) if column.model._meta.db_table in tables
                else ColumnReport(column, missing_table=True) for column in encrypted_columns()]


def _column_walk(column: EncryptedColumn, *, mode: Mode) -> ColumnReport:
    quote = connection.ops.quote_name
    meta = column.model._meta
    table = quote(meta.db_table)
    value = quote(column.field.column or column.field.attname)
    pk = quote(meta.pk.column or meta.pk.attname)
    report = ColumnReport(column)
    first_key = Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode())
    query = f"SELECT {pk}, {value} FROM {table} WHERE {value} <> '' ORDER BY {pk}"  # noqa: S608
    if mode == "rotate" and connection.vendor == "postgresql":
        query += " FOR UPDATE"
    failed = []
    with connection.cursor() as cursor:
        cursor.execute(query)
        for row_pk, token in cursor.fetchall():
            try:
                if mode == "rotate":
                    cursor.execute(f"UPDATE {table} SET {value} = %s WHERE {pk} = %s",  # noqa: S608
                                   [rotate(token), row_pk])
                    report.rewritten += 1
                else:
                    fernet().decrypt(token.encode())
            except InvalidToken:
                failed.append(row_pk)
                continue
            report.readable += 1
            if mode == "check" and not _decrypts(first_key, token):
                report.under_older_key += 1
    report.unreadable = _row_names(column, failed)
    return report


def _decrypts(key: Fernet, token: str) -> bool:
    try:
        key.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def _row_names(column: EncryptedColumn, pks: list[object]) -> list[str]:
    """Each row's model, id and own name (str() of the row, loaded without its secrets)."""
    if not pks:
        return []
    model = column.model
    secrets = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedJSONField)]
    rows = {row.pk: row for row in model._base_manager.filter(pk__in=pks).defer(*secrets)}
    names = []
    for pk in pks:
        row = rows.get(pk)
        label = str(row) if row is not None else ""
        names.append(f"{model._meta.label} {pk}" + (f" ({label})" if label else ""))
    return names


def unreadable_rows(reports: list[ColumnReport]) -> list[str]:
    return [name for report in reports for name in report.unreadable]
