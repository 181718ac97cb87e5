"""manage.py unlock USERNAME: lift a sign-in lockout before it runs out."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dashboard.auth import unlock


class Command(BaseCommand):
    help = "Clear the failed sign-in count and lockout of a username, from every address."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        unlock(username)
        self.stdout.write(f"Sign-ins for {username!r} are unlocked.")
