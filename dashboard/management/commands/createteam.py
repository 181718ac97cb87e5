from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser

from dashboard.management.commands._base import validation_error
from dashboard.services import team_create


class Command(BaseCommand):
    help = "Create a team, optionally with an existing user as its owner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="short name used in URLs and the CLI, e.g. 'acme'")
        parser.add_argument("--name", default="", help="display name (default: from the slug)")
        parser.add_argument("--owner", default="", metavar="USERNAME", help="existing user to make owner")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            team = team_create(slug=options["slug"], name=options["name"],
                               owner_username=options["owner"])
        except ValidationError as error:
            raise validation_error(error) from None
        owner = f" with owner {options['owner']}" if options["owner"] else ""
        self.stdout.write(f"Created team {team.slug} ({team.name}){owner}.")
