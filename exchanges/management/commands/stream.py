"""`manage.py stream flowbtc [--source ID ...]`: the long-running FlowBTC gateway stream.

Streams every enabled flowbtc source (or the ones named), follows the sources table as it
changes, and stops cleanly on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.models import Source
from exchanges.stream import KIND, StreamService


class Command(BaseCommand):
    help = ("Stream FlowBTC's WebSocket gateway (books, trades, candles and, with a login, "
            "the account) into the database until stopped.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", metavar="KIND", help="the upstream kind: flowbtc")
        parser.add_argument(
            "--source", dest="source_ids", type=int, nargs="+", action="extend", metavar="ID",
            help="stream only these sources (default: every enabled flowbtc source)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["kind"] != KIND:
            raise CommandError(f"only {KIND} streams; {options['kind']!r} has no live stream "
                               "(its sources are polled by the worker)")
        ids: list[int] | None = options["source_ids"]
        if ids:
            self.check_sources(ids)
        elif not Source.objects.filter(kind=KIND, enabled=True).exists():
            self.stdout.write(f"No enabled {KIND} source yet; waiting for one to be added.")
        service = StreamService(source_ids=ids)
        which = ", ".join(map(str, ids)) if ids else f"every enabled {KIND} source"
        self.stdout.write(f"Streaming {which} (Ctrl-C to stop)")
        self.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(self.serve(service))
        self.stdout.write("Stream stopped.")

    def check_sources(self, ids: list[int]) -> None:
        sources = {s.pk: s for s in Source.objects.filter(pk__in=ids)}
        if missing := [str(i) for i in ids if i not in sources]:
            raise CommandError(f"no source with id {', '.join(missing)}")
        if other := [s for s in sources.values() if s.kind != KIND]:
            named = ", ".join(f"{s.pk} ({s.label}) is a {s.kind} source" for s in other)
            raise CommandError(f"only {KIND} streams: {named}")
        for source in sources.values():
            if not source.enabled:
                self.stderr.write(f"source {source.pk} ({source.label}) is disabled; "
                                  "it streams once enabled")

    @staticmethod
    async def serve(service: StreamService) -> None:
        if threading.current_thread() is threading.main_thread():
            loop = asyncio.get_running_loop()
            # Containers stop it with SIGTERM: finish the pending writes before exiting.
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, service.stop)
        await service.run()
