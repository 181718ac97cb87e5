"""`manage.py demo`: the whole app on one machine, against the built-in simulator.

Starts the simulator (HTTP APIs and the FlowBTC WebSocket gateway), the web server, a Celery
worker with an embedded beat and the FlowBTC stream as child processes, and stops them all,
with everything they started, on Ctrl-C, on SIGTERM or when one of them dies (see
simulator/processes.py).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from simulator.core.scenario import SCENARIOS
from simulator.demo import DEMO_SCENARIO, demo_setup
from simulator.demo_history import BUDGET_SECONDS, demo_history_fill
from simulator.processes import Supervisor


class Command(BaseCommand):
    help = "Run Hashwatch in demo mode: simulator, web server, worker, beat and the FlowBTC stream."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--simulator-port", type=int, default=8400)
        parser.add_argument("--gateway-port", type=int, default=None,
                            help="the simulated FlowBTC gateway's port (default: simulator port + 1)")
        parser.add_argument("--scenario", choices=[*sorted(SCENARIOS), "none"], default=DEMO_SCENARIO,
                            help="the simulator's trouble on a timetable, so alerts fire and resolve "
                                 "(default: %(default)s; 'none' for calm upstreams)")
        parser.add_argument("--no-history", action="store_true",
                            help="start without filling the past week (since the last run) "
                                 "from the simulator")
        parser.add_argument("--history-seconds", type=float, default=BUDGET_SECONDS,
                            help="about how long filling the past week may take; a longer "
                                 "time polls it more densely (default: %(default)s)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("demo mode is off; run it through 'make demo' or set HASHWATCH_DEMO=1")
        began = time.monotonic()
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        host, port, sim_port = options["host"], options["port"], options["simulator_port"]
        gateway_port = options["gateway_port"] or sim_port + 1
        simulator_url = f"http://127.0.0.1:{sim_port}"
        gateway_url = f"ws://127.0.0.1:{gateway_port}/WSGateway/"
        login = demo_setup(simulator_url=simulator_url, gateway_url=gateway_url)
        if not options["no_history"]:
            # Before anything serves: the charts open on a week, not on one dot.
            fill = demo_history_fill(team=login.team, simulator_port=sim_port,
                                     budget=options["history_seconds"], say=self.stderr.write)
            if fill.polls:
                self.stderr.write(f"History: {fill.polls} polls at {fill.moments} past moments "
                                  f"(every {fill.step}) in {fill.seconds:.1f} s "
                                  f"({fill.failed} failed); set up in "
                                  f"{time.monotonic() - began:.1f} s.")
        python = sys.executable
        manage = [python, str(settings.BASE_DIR / "manage.py")]
        scenario = [] if options["scenario"] == "none" else ["--scenario", options["scenario"]]
        children = {
            "simulator": [*manage, "simulator", "--host", "127.0.0.1", "--port", str(sim_port),
                          "--gateway-port", str(gateway_port), *scenario],
            "web": [python, "-m", "gunicorn", "dashboard.wsgi:application", "--bind",
                    f"{host}:{port}", "--workers", "2", "--threads", "4",
                    "--access-logfile", "-", "--log-level", "warning"],
            "worker": [python, "-m", "celery", "-A", "dashboard", "worker", "--beat",
                       "-Q", "dispatch,pools,markets,maintenance",
                       "--concurrency", "2", "--loglevel", "info",
                       "--schedule", str(settings.VAR_DIR / "celerybeat-schedule")],
            # Retries its connection until the simulator's gateway listens.
            "stream": [*manage, "stream", "flowbtc"],
        }
        # The simulator stops last: the others may be waiting on it.
        supervisor = Supervisor(stop_last={"simulator"}, say=self.stderr.write)
        supervisor.start(children, cwd=settings.BASE_DIR)
        self.stdout.write(self.style.SUCCESS(
            f"\nHashwatch demo is starting at http://{host}:{port}/\n"
            f"  sign in as: {login.username}\n  password:   {login.password}\n"
            f"  database:   {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
            f"queue: {str(settings.CELERY_BROKER_URL).split('://')[0]}\n"
            f"  simulator:  {simulator_url} (simulated BTC.com, BTCpool.kz, SBI Crypto, FlowBTC "
            "and btcchange24 accounts)\n"
            f"  stream:     FlowBTC live from {gateway_url}\n"
            f"  scenario:   {SCENARIOS[options['scenario']].description if scenario else 'none'}\n"
            "Press Ctrl-C to stop.\n"
        ))
        self.stdout.flush()
        supervisor.run()
        self.stdout.write("Demo stopped.")
