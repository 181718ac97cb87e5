from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dashboard.management.commands._base import team_by_slug
from dashboard.services import apitoken_create


class Command(BaseCommand):
    help = "Create an API token for a team; prints it once, on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{create}")
        create = sub.add_parser("create", help="create a read-only token for /api/v1/")
        create.add_argument("--team", required=True, metavar="SLUG")
        create.add_argument("--name", default="", help="what it is for, e.g. 'grafana'")

    def handle(self, *args: Any, **options: Any) -> None:
        team = team_by_slug(options["team"])
        row, token = apitoken_create(team=team, name=options["name"])
        self.stdout.write(f"Created token {row.name!r} for {team.slug}. It is shown only now:")
        self.stdout.write(token)
