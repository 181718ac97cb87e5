import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.simulator import DEFAULT_FAULT_DELAY, DEFAULT_SEED, build_simulator
from dashboard.simulator.server import SimulatorServer


class Command(BaseCommand):
    help = "Serve the simulated upstream APIs over HTTP until interrupted (Ctrl-C)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
        parser.add_argument("--port", type=int, default=8400, help="port to bind (default %(default)s)")
        parser.add_argument(
            "--seed", default=DEFAULT_SEED,
            help="another seed gives other (but again stable) data (default %(default)s)",
        )
        parser.add_argument(
            "--fault-delay", type=float, default=DEFAULT_FAULT_DELAY,
            help="seconds the 'timeout' fault holds a request (default %(default)s)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 <= options["port"] <= 65535:
            raise CommandError(f"--port {options['port']} is not a TCP port (0-65535)")
        if options["fault_delay"] < 0:
            raise CommandError("--fault-delay must not be negative")
        simulator = build_simulator(seed=options["seed"], fault_delay=options["fault_delay"])
        server = SimulatorServer(simulator, host=options["host"], port=options["port"])
        try:
            server.start()
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {exc.strerror or exc}"
            ) from exc
        try:
            self.stdout.write(f"Simulator listening on {server.url} (Ctrl-C to stop)")
            for prefix, api in simulator.apis.items():
                line = f"  {prefix:<12} {server.base_url(prefix)}"
                if details := api.describe():
                    line += f"  {details}"
                self.stdout.write(line)
            self.stdout.write(f"  controls     {server.url}/_sim/faults, /_sim/requests, /_sim/reset")
            self.stdout.flush()
            stopped = threading.Event()
            if threading.current_thread() is threading.main_thread():
                # Containers and test harnesses stop it with SIGTERM: shut down cleanly then too.
                signal.signal(signal.SIGTERM, lambda *_: stopped.set())
            stopped.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
        self.stdout.write("Simulator stopped.")
