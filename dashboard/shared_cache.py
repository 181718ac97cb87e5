"""The shared cache (Redis in production), for what a page can do without.

Every read and write of the shared cache goes through here, so that Redis being unreachable is
never an error page: a read is a miss, a write is skipped, and `is_down()` lets a page say why
it shows stored data instead of live data. Nothing in the cache is the only copy of anything a
user relies on (sessions and sign-in lockouts live in Postgres).

An outage is logged once when it starts and once when it ends, not on every request. For a few
seconds after a failure the cache is not tried at all, so that pages do not each wait for a
connection timeout while Redis is away.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Redis errors (refused, timed out, reset, loading); OSError for the quick start's file cache.
FAILURES = (RedisError, OSError)
RETRY_SECONDS = 5.0  # after a failure, the cache is left alone this long before the next try

_lock = threading.Lock()
_down_since: float | None = None  # wall-clock start of the current outage, as this process saw it
_last_failure = 0.0  # monotonic time of the newest failure


def is_down() -> bool:
    """True while this process's last attempt to reach the cache failed."""
    return _down_since is not None


def down_since() -> float | None:
    return _down_since


def _should_try() -> bool:
    return _down_since is None or time.monotonic() - _last_failure >= RETRY_SECONDS


def _failed(exc: BaseException, what: str) -> None:
    global _down_since, _last_failure
    with _lock:
        first = _down_since is None
        _last_failure = time.monotonic()
        if first:
            _down_since = time.time()
    if first:
        log.warning("The shared cache is unreachable (%s: %s); pages show stored data until "
                    "it is back", what, exc)


def _succeeded() -> None:
    global _down_since
    if _down_since is None:
        return
    with _lock:
        since, _down_since = _down_since, None
    if since is not None:
        log.warning("The shared cache is reachable again after %.0f s", time.time() - since)


def get(key: str, default: Any = None) -> Any:
    if not _should_try():
        return default
    try:
        value = cache.get(key, default)
    except FAILURES as exc:
        _failed(exc, "get")
        return default
    _succeeded()
    return value


def get_many(keys: Iterable[str]) -> dict[str, Any]:
    if not _should_try():
        return {}
    try:
        found = cache.get_many(list(keys))
    except FAILURES as exc:
        _failed(exc, "get_many")
        return {}
    _succeeded()
    return found


def set(key: str, value: Any, timeout: float | None) -> bool:
    """False when the value could not be stored."""
    if not _should_try():
        return False
    try:
        cache.set(key, value, timeout)
    except FAILURES as exc:
        _failed(exc, "set")
        return False
    _succeeded()
    return True


def incr(key: str, timeout: float) -> int | None:
    """Add one to a counter that starts at 1 and expires after `timeout`; None when the
    cache cannot be reached."""
    if not _should_try():
        return None
    try:
        value = 1 if cache.add(key, 1, timeout) else cache.incr(key)
    except ValueError:  # expired between add and incr: this is the first of a new window
        return 1 if set(key, 1, timeout) else None
    except FAILURES as exc:
        _failed(exc, "incr")
        return None
    _succeeded()
    return value


def delete(key: str) -> bool:
    if not _should_try():
        return False
    try:
        cache.delete(key)
    except FAILURES as exc:
        _failed(exc, "delete")
        return False
    _succeeded()
    return True


def ping() -> bool:
    """One real round trip, even within the pause after a failure (health checks)."""
    try:
        cache.set("healthz:ping", 1, timeout=10)
    except FAILURES as exc:
        _failed(exc, "ping")
        return False
    _succeeded()
    return True


def forget_outage() -> None:
    """Back to the state of a fresh process (tests that stop and start a server)."""
    global _down_since, _last_failure
    with _lock:
        _down_since, _last_failure = None, 0.0
