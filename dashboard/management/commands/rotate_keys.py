from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dashboard.encrypted_rows import LOST_KEY_ADVICE, encrypted_rows_walk, unreadable_rows


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret (source credentials, authenticator secrets, alert "
        "channel URLs: every encrypted field) under the first key of FIELD_ENCRYPTION_KEYS. "
        "Run it after putting a new key first; then the old key can be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        reports = encrypted_rows_walk(mode="rotate")
        for report in reports:
            if report.missing_table:
                self.stdout.write(f"{report.column.name}: no table yet (not migrated); skipped.")
                continue
            self.stdout.write(f"{report.column.name}: re-encrypted {report.rewritten} of "
                              f"{report.stored} under the first key.")
        if unreadable := unreadable_rows(reports):
            raise CommandError(
                "no configured key decrypts " + ", ".join(unreadable) + " (the others were "
                "re-encrypted). " + LOST_KEY_ADVICE
            )
