"""`manage.py demo`: the whole app on one machine, against the built-in simulator.

Starts the simulator (HTTP APIs and the FlowBTC WebSocket gateway), the web server, a Celery
worker with an embedded beat and the FlowBTC stream as child processes, and stops them all on
Ctrl-C or when one of them dies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from simulator.core.scenario import SCENARIOS
from simulator.demo import DEMO_SCENARIO, demo_setup


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

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("demo mode is off; run it through 'make demo' or set HASHWATCH_DEMO=1")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        host, port, sim_port = options["host"], options["port"], options["simulator_port"]
        gateway_port = options["gateway_port"] or sim_port + 1
        simulator_url = f"http://127.0.0.1:{sim_port}"
        gateway_url = f"ws://127.0.0.1:{gateway_port}/WSGateway/"
        login = demo_setup(simulator_url=simulator_url, gateway_url=gateway_url)
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
        processes = {name: subprocess.Popen(cmd, cwd=settings.BASE_DIR) for name, cmd in children.items()}
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
        self.supervise(processes)

    def supervise(self, processes: dict[str, subprocess.Popen[bytes]]) -> None:
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with status {process.returncode}; stopping.")
                        stopping = True
                time.sleep(0.5)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.kill(process.pid, signal.SIGKILL)
            self.stdout.write("Demo stopped.")
