from typing import Any

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from dashboard.crypto import rotate
from dashboard.models import Source


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored credential under the first key of FIELD_ENCRYPTION_KEYS. "
        "Run it after putting a new key first; then the old key can be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        table = connection.ops.quote_name(Source._meta.db_table)
        rotated, unreadable = 0, []
        # Raw ciphertext in and out: rows are re-encrypted without passing through the model.
        with transaction.atomic(), connection.cursor() as cursor:
            query = f"SELECT id, label, credentials FROM {table} WHERE credentials <> ''"  # noqa: S608
            if connection.vendor == "postgresql":
                query += " FOR UPDATE"
            cursor.execute(query)
            for pk, label, token in cursor.fetchall():
                try:
                    new_token = rotate(token)
                except InvalidToken:
                    unreadable.append(f"{pk} ({label})")
                    continue
                cursor.execute(f"UPDATE {table} SET credentials = %s WHERE id = %s",  # noqa: S608
                               [new_token, pk])
                rotated += 1
        self.stdout.write(f"Re-encrypted the credentials of {rotated} source(s) under the first key.")
        if unreadable:
            raise CommandError(
                "no configured key decrypts the credentials of source " + ", ".join(unreadable)
                + ". Put the key they were written with back into FIELD_ENCRYPTION_KEYS, or "
                "enter their credentials again in the source's settings."
            )
