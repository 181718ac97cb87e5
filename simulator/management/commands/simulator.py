import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from simulator import DEFAULT_FAULT_DELAY, DEFAULT_SEED, build_simulator
from simulator.core.scenario import SCENARIOS
from simulator.flowbtc.gateway import SIM_PASSWORD, SIM_USERNAME, FlowBtcGateway
from simulator.server import SimulatorServer

# Two book changes, trades and ticks a second per market: lively on a page, light on a laptop.
GATEWAY_TICK_SECONDS = 0.5


class Command(BaseCommand):
    help = "Serve the simulated upstream APIs over HTTP until interrupted (Ctrl-C)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
        parser.add_argument("--port", type=int, default=8400, help="port to bind (default %(default)s)")
        parser.add_argument(
            "--gateway-port", type=int, default=8401,
            help="port of the FlowBTC WebSocket gateway (default %(default)s)",
        )
        parser.add_argument(
            "--seed", default=DEFAULT_SEED,
            help="another seed gives other (but again stable) data (default %(default)s)",
        )
        parser.add_argument(
            "--fault-delay", type=float, default=DEFAULT_FAULT_DELAY,
            help="seconds the 'timeout' fault holds a request (default %(default)s)",
        )
        parser.add_argument(
            "--scenario", choices=sorted(SCENARIOS), default=None,
            help="trouble on a timetable from the start, e.g. 'alerts': a few workers drop and "
                 "a pool answers 500 for a while, then all recovers (default: none)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ("port", "gateway_port"):
            if not 0 <= options[name] <= 65535:
                flag = "--" + name.replace("_", "-")
                raise CommandError(f"{flag} {options[name]} is not a TCP port (0-65535)")
        if options["port"] == options["gateway_port"] != 0:
            raise CommandError("--port and --gateway-port must differ")
        if options["fault_delay"] < 0:
            raise CommandError("--fault-delay must not be negative")
        simulator = build_simulator(seed=options["seed"], fault_delay=options["fault_delay"])
        if options["scenario"]:
            simulator.set_scenario(options["scenario"])
        server = SimulatorServer(simulator, host=options["host"], port=options["port"])
        gateway = FlowBtcGateway(host=options["host"], port=options["gateway_port"],
                                 seed=options["seed"], price_seed=options["seed"],
                                 tick_seconds=GATEWAY_TICK_SECONDS)
        try:
            server.start()
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {exc.strerror or exc}"
            ) from exc
        try:
            gateway.start()
        except OSError as exc:
            server.stop()
            raise CommandError(
                f"cannot listen on {options['host']}:{options['gateway_port']}: "
                f"{exc.strerror or exc}") from exc
        try:
            self.stdout.write(f"Simulator listening on {server.url} (Ctrl-C to stop)")
            for prefix, api in simulator.apis.items():
                line = f"  {prefix:<12} {server.base_url(prefix)}"
                if details := api.describe():
                    line += f"  {details}"
                self.stdout.write(line)
            self.stdout.write(f"  {'flowbtc-ws':<12} {gateway.url}  FlowBTC WebSocket gateway "
                              f"(login {SIM_USERNAME} / {SIM_PASSWORD})")
            self.stdout.write(f"  controls     {server.url}/_sim/faults, /_sim/scenario, /_sim/requests, "
                              "/_sim/reset")
            if options["scenario"]:
                self.stdout.write(f"  scenario     {options['scenario']}: "
                                  f"{SCENARIOS[options['scenario']].description}")
            self.stdout.flush()
            stopped = threading.Event()
            if threading.current_thread() is threading.main_thread():
                # Containers and test harnesses stop it with SIGTERM: shut down cleanly then too.
                signal.signal(signal.SIGTERM, lambda *_: stopped.set())
            stopped.wait()
        except KeyboardInterrupt:
            pass
        finally:
            gateway.stop()
            server.stop()
        self.stdout.write("Simulator stopped.")
