from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.models import Source
from dashboard.polling import source_poll


class Command(BaseCommand):
    help = "Poll sources once, now, in this process. Exits 1 if any source failed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source_ids", nargs="*", type=int, metavar="SOURCE_ID")
        parser.add_argument("--all", action="store_true", help="every enabled source")

    def handle(self, *args: Any, **options: Any) -> None:
        ids: list[int] = options["source_ids"]
        if options["all"] and ids:
            raise CommandError("give source ids or --all, not both")
        if options["all"]:
            ids = list(Source.objects.filter(enabled=True).order_by("pk").values_list("pk", flat=True))
        elif not ids:
            raise CommandError("name the sources to poll (ids from 'manage.py sources list') or use --all")
        known = set(Source.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if missing := [str(i) for i in ids if i not in known]:
            raise CommandError(f"no source with id {', '.join(missing)}")
        failed = 0
        for source_id in ids:
            run = source_poll(source_id=source_id, trigger="cli")
            label = Source.objects.filter(pk=source_id).values_list("label", flat=True).first()
            if run is None:
                self.stdout.write(f"{source_id} {label}: skipped, another worker is polling it")
            elif run.ok:
                rows = ", ".join(f"{k} {v}" for k, v in run.rows.items()) or "no rows"
                self.stdout.write(f"{source_id} {label}: ok in {run.duration_ms} ms ({rows})")
            else:
                failed += 1
                self.stderr.write(f"{source_id} {label}: {run.get_outcome_display()}: {run.message}")
        if failed:
            raise CommandError(f"{failed} of {len(ids)} source(s) failed", returncode=1)
