from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser

from dashboard.management.commands._base import key_values, team_by_slug, validation_error
from dashboard.selectors import team_sources_list
from dashboard.services import source_create
from dashboard.sources import REGISTRY


class Command(BaseCommand):
    help = "Add or list a team's sources (pool and exchange accounts)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{add,list}")
        add = sub.add_parser("add", help="add a source; prints its id on the last line")
        add.add_argument("--team", required=True, metavar="SLUG")
        add.add_argument("--kind", required=True, help=f"one of: {', '.join(sorted(REGISTRY)) or 'none'}")
        add.add_argument("--label", required=True)
        add.add_argument("--base-url", default="", help="default: the provider's documented host")
        add.add_argument("--credential", action="append", default=[], metavar="KEY=VALUE")
        add.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
        add.add_argument("--interval", type=int, default=None, help="seconds between polls")
        listing = sub.add_parser("list", help="list a team's sources and their health")
        listing.add_argument("--team", required=True, metavar="SLUG")

    def handle(self, *args: Any, **options: Any) -> None:
        team = team_by_slug(options["team"])
        if options["action"] == "list":
            self.list_sources(team)
            return
        credentials = key_values(options["credential"], "credential")
        extra = key_values(options["option"], "option")
        try:
            source = source_create(
                team=team, kind=options["kind"], label=options["label"],
                base_url=options["base_url"], credentials=credentials, options=extra,
                interval=options["interval"],
            )
        except ValidationError as error:
            raise validation_error(error) from None
        self.stdout.write(f"Added {source.kind} source {source.label!r} to {team.slug}.")
        self.stdout.write(str(source.pk))

    def list_sources(self, team: Any) -> None:
        rows = [(str(s.pk), s.kind, s.label, s.status, s.last_success_at.isoformat()
                 if s.last_success_at else "never", s.last_error if s.status == "error" else "")
                for s in team_sources_list(team=team)]
        if not rows:
            self.stdout.write(f"{team.slug} has no sources; add one with 'manage.py sources add'.")
            return
        header = ("ID", "KIND", "LABEL", "STATUS", "LAST SUCCESS", "LAST ERROR")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
        for row in [header, *rows]:
            cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:5])]
            self.stdout.write("  ".join([*cells, row[5]]).rstrip())


