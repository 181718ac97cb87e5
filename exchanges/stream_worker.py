"""A thread that runs blocking calls (the ORM, the cache) for the stream service's event loop.

Plain calls run in order. Keyed calls keep only the newest per key: a book that changed ten
times while the thread was busy is written once, as it is now. A call that fails is logged and
dropped, so one bad write (or a database that is down for a while) never stops the stream.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.db import DatabaseError, close_old_connections, connections

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[], Any]
MAX_BACKLOG = 10_000  # plain calls waiting; beyond it new ones are dropped, not queued


class Worker:
    def __init__(self, name: str, *, max_backlog: int = MAX_BACKLOG) -> None:
        self.name = name
        self.max_backlog = max_backlog
        self.dropped = 0
        self._jobs: deque[Job] = deque()
        self._keyed: dict[Hashable, Job] = {}
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, job: Job, *, always: bool = False) -> bool:
        """Queue `job`; False when it was not (the worker stops, or too much waits)."""
        with self._wake:
            if self._stopping:
                return False
            if len(self._jobs) >= self.max_backlog and not always:
                self.dropped += 1
                if self.dropped % 1000 == 1:
                    log.error("%s: %s writes waiting; dropped %s so far", self.name,
                              len(self._jobs), self.dropped)
                return False
            self._jobs.append(job)
            self._wake.notify()
            return True

    def replace(self, key: Hashable, job: Job) -> None:
        """Run `job` unless a newer job of the same key comes before the thread gets to it."""
        with self._wake:
            if not self._stopping:
                self._keyed[key] = job
                self._wake.notify()

    async def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` in the thread and await its result (or its exception)."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def job() -> None:
            try:
                future.set_result(fn())
            except Exception as exc:
                future.set_exception(exc)
        if not self.submit(job, always=True):
            raise RuntimeError(f"{self.name} has stopped")
        return await asyncio.wrap_future(future)

    def stop(self, timeout: float = 10.0) -> None:
        """Run what is queued, then end the thread."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while True:
                with self._wake:
                    while not (self._jobs or self._keyed or self._stopping):
                        self._wake.wait()
                    if not (self._jobs or self._keyed):
                        return
                    jobs = [*self._jobs, *self._keyed.values()]
                    self._jobs.clear()
                    self._keyed.clear()
                # Drops a connection that broke or outlived CONN_MAX_AGE; the next query
                # opens a new one, so a database restart heals by itself.
                close_old_connections()
                for job in jobs:
                    try:
                        job()
                    except DatabaseError as exc:
                        # Expected now and then (a database restart, a source deleted
                        # meanwhile): the message says it all.
                        log.warning("%s: a write failed: %s", self.name, exc)
                    except Exception:
                        log.exception("%s: a write failed", self.name)
        finally:
            connections.close_all()
