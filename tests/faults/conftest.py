"""The fault suite's stack: real Celery workers and beat on Postgres and Redis, a local
upstream that can hang or refuse, a TCP proxy in front of the test database that a test can
cut, and a private Redis a test can kill. Timeouts are short (a 3 s lease, 1 s dispatch)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from dashboard.models import AuditEvent, PollRun, Source, Team
from dashboard.services import source_create
from tests.e2e.conftest import (
    ARTIFACTS,
    celery_process,
    child_env,
    free_port,
    test_database_url,
    wait_for,
)
from tests.faults import kinds

LEASE_SECONDS = 3


class Upstream:
    """A small HTTP upstream: `/<name>/data` answers JSON, after hanging if told to, or with
    the status and headers it is told to."""

    def __init__(self) -> None:
        self.behaviour: dict[str, dict[str, Any]] = {}
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.closing = threading.Event()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.strip("/").split("/")[0]
                with upstream.lock:
                    upstream.counts[name] += 1
                    rule = dict(upstream.behaviour.get(name, {}))
                upstream.closing.wait(rule.get("hang", 0))
                body = b'{"readings": 1}'
                with contextlib.suppress(OSError):  # the poller may have given up
                    self.send_response(rule.get("status", 200))
                    for key, value in rule.get("headers", {}).items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def set(self, name: str, **rule: Any) -> None:
        with self.lock:
            self.behaviour[name] = rule

    def count(self, name: str) -> int:
        with self.lock:
            return self.counts[name]


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    server.thread.start()
    yield server
    server.closing.set()
    server.server.shutdown()
    server.server.server_close()


class TcpProxy:
    """Forwards a port to the test database. `cut()` drops every connection and refuses new
    ones (to the worker, the database is gone); `restore()` lets them through again."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    @staticmethod
    def pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.open = False
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def db_proxy(transactional_db: None) -> Iterator[TcpProxy]:
    db = connection.settings_dict
    proxy = TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    yield proxy
    proxy.close()


class PrivateRedis:
    """A redis-server of the test's own on a free port, to kill and restart."""

    def __init__(self, binary: str, log: Path) -> None:
        self.binary, self.log = binary, log
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no"], stdout=out, stderr=subprocess.STDOUT)
        wait_for(self.answers, timeout=20, what="the private Redis to answer")

    def answers(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(
            ("127.0.0.1", self.port), timeout=1
        ) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
        return False

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        pytest.skip("redis-server not found (Debian/Ubuntu: apt-get install redis-server)")
    ARTIFACTS.mkdir(exist_ok=True)
    redis = PrivateRedis(binary, ARTIFACTS / "faults-private-redis.log")
    redis.start()
    yield redis
    redis.kill()


class Stack:
    """Celery workers and beat for one test, all stopped at its end."""

    def __init__(self, exits: ExitStack, schedule: Path) -> None:
        self.exits, self.schedule = exits, schedule
        self.env: dict[str, str] = {
            "DATABASE_URL": test_database_url(),
            "HASHWATCH_PLUGINS": "tests.fakes,tests.faults.kinds",
            "POLL_CLAIM_SECONDS": str(LEASE_SECONDS),
            "POLL_DEADLINE_SECONDS": "30",
            "HTTP_TIMEOUT_SECONDS": "20",
            "POLL_DISPATCH_SECONDS": "1",
        }
        self.logs: dict[str, Path] = {}

    def worker(self, name: str, *args: str, **env: str) -> subprocess.Popen[bytes]:
        log_name = f"faults-{name}.log"
        self.logs[name] = ARTIFACTS / log_name
        return self.exits.enter_context(celery_process(
            "worker", "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--purge",
            *args, env=child_env(**{**self.env, **env}), log_name=log_name,
        ))

    def beat(self, **env: str) -> subprocess.Popen[bytes]:
        self.logs["beat"] = ARTIFACTS / "faults-beat.log"
        return self.exits.enter_context(celery_process(
            "beat", "--schedule", str(self.schedule), env=child_env(**{**self.env, **env}),
            log_name="faults-beat.log",
        ))

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")


@pytest.fixture
def stack(transactional_db: None, tmp_path: Path) -> Iterator[Stack]:
    with ExitStack() as exits:
        yield Stack(exits, tmp_path / "celerybeat-schedule")


def faulty(team: Team, upstream: Upstream, name: str, kind: str = "faultpool") -> Source:
    """A source of a fault kind whose upstream is `upstream`'s `/<name>`."""
    return source_create(team=team, kind=kind, label=name.title(), base_url=upstream.url(name),
                         credentials={})


def counts(source: Source) -> tuple[int, int]:
    """(poll runs, stored readings) of a source: what 'nothing lost, nothing doubled' counts."""
    stored = AuditEvent.objects.filter(action=kinds.INGESTED, detail__source_id=source.pk)
    return PollRun.objects.filter(source=source).count(), stored.count()


def settle(seconds: float) -> None:
    """Give the stack time to do something it must not do (a second request, a second run)."""
    time.sleep(seconds)
