"""A real local HTTP endpoint for Apprise's json:// scheme: it records every POST, and can be
told to answer an error status or to hang on a path, to play a broken service."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.behaviour: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.closing = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                path = self.path.split("?", 1)[0]
                with receiver.lock:
                    rule = dict(receiver.behaviour.get(path, {}))
                    try:
                        body = json.loads(raw or b"{}")
                    except ValueError:
                        body = {"raw": raw.decode(errors="replace")}
                    receiver.posts.append((path, body))
                receiver.closing.wait(rule.get("hang", 0))
                with contextlib.suppress(OSError):  # the sender may have given up
                    self.send_response(rule.get("status", 200))
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str = "/hook") -> str:
        """The Apprise URL of a path of this endpoint."""
        return f"json://127.0.0.1:{self.port}{path}"

    def set(self, path: str, **rule: Any) -> None:
        with self.lock:
            self.behaviour[path] = rule

    def received(self, path: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [body for p, body in self.posts if path is None or p == path]


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.closing.set()
        receiver.server.shutdown()
        receiver.server.server_close()
