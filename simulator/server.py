"""Serve a `Simulator` over HTTP from a daemon thread (tests, `manage.py simulator`)."""

from __future__ import annotations

import logging
import socketserver
import threading
from types import TracebackType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from simulator import build_simulator
from simulator.core import Simulator

log = logging.getLogger("simulator")


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    # A request held open by the "timeout" fault must not stall the others or the shutdown.
    daemon_threads = True
    block_on_close = False


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class SimulatorServer:
    """`with SimulatorServer() as sim: sim.base_url("btccom")` -> "http://127.0.0.1:PORT/btccom".

    Port 0 picks a free port. Without a simulator, every registered API is mounted with the
    real clock.
    """

    def __init__(
        self, simulator: Simulator | None = None, *, host: str = "127.0.0.1", port: int = 0
    ):
        self.simulator = simulator if simulator is not None else build_simulator()
        self.host = host
        self.port = port
        self._server: ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator server is not running; call start() first")
        return f"http://{self.host}:{self._server.server_port}"

    def base_url(self, kind: str) -> str:
        return f"{self.url}/{kind}"

    def start(self) -> SimulatorServer:
        if self._server is not None:
            return self
        server = make_server(
            self.host,
            self.port,
            self.simulator,
            server_class=ThreadingWSGIServer,
            handler_class=QuietHandler,
        )
        assert isinstance(server, ThreadingWSGIServer)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1},
            name="hashwatch-simulator", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
