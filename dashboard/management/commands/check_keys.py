"""`manage.py check_keys`: can the configured keys read every stored secret?

Run it after restoring a backup, after changing FIELD_ENCRYPTION_KEYS and before dropping an
old key. It reads ciphertext only and changes nothing.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard.encrypted_rows import LOST_KEY_ADVICE, encrypted_rows_walk, unreadable_rows


class Command(BaseCommand):
    help = (
        "Try the keys in FIELD_ENCRYPTION_KEYS on every stored secret (source credentials, "
        "authenticator secrets, alert channel URLs: every encrypted field); name the rows no "
        "key decrypts and exit non-zero if there are any. Changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        reports = encrypted_rows_walk(mode="check")
        count = len(settings.FIELD_ENCRYPTION_KEYS)
        self.stdout.write(f"{count} key(s) in FIELD_ENCRYPTION_KEYS; the first encrypts, "
                          "every one decrypts.")
        width = max((len(report.column.name) for report in reports), default=0)
        older = 0
        for report in reports:
            if report.missing_table:
                self.stdout.write(f"  {report.column.name:<{width}}  no table yet: run "
                                  "'python manage.py migrate' first")
                continue
            line = f"  {report.column.name:<{width}}  {report.readable} of {report.stored} decrypt"
            if report.under_older_key:
                line += f" ({report.under_older_key} only with an older key)"
            self.stdout.write(line)
            older += report.under_older_key
        if unreadable := unreadable_rows(reports):
            raise CommandError(
                f"no configured key decrypts {len(unreadable)} stored secret(s): "
                + ", ".join(unreadable) + ". " + LOST_KEY_ADVICE
            )
        if older:
            self.stdout.write(f"{older} secret(s) still need an older key: run "
                              "'python manage.py rotate_keys' before removing it.")
        if any(report.missing_table for report in reports):
            self.stdout.write("Every stored secret decrypts, in the tables that exist: run "
                              "'python manage.py migrate', then this again.")
        else:
            self.stdout.write(self.style.SUCCESS("Every stored secret decrypts."))
