"""The only module that talks to the outside world over HTTP.

Every client gets an `HttpClient`: default timeouts, a User-Agent, bounded retries with
backoff and jitter that honour `Retry-After`, and one error type. Error messages name the
host and path but never the query string, because some upstreams take keys as parameters.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests

from dashboard import __version__

log = logging.getLogger(__name__)

USER_AGENT = f"Hashwatch/{__version__} (self-hosted mining dashboard)"
RETRY_STATUSES = {429, 500, 502, 503, 504}
T = TypeVar("T")


class UpstreamError(Exception):
    """An upstream call failed. `permanent` errors will not heal by retrying (bad key,
    documented fatal code); the rest are transient (outage, timeout, rate limit).

    The message is shown to users as is: it must never contain a credential.
    """

    reason = "upstream"

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
        reason: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status = status
        self.retry_after = retry_after
        if reason:
            self.reason = reason


class CredentialsRejected(UpstreamError):
    reason = "credentials"

    def __init__(self, message: str, **kwargs: Any):
        kwargs.setdefault("permanent", True)
        super().__init__(message, **kwargs)


class SchemaError(UpstreamError):
    """The upstream answered, but not in the documented shape (malformed JSON, missing field)."""

    reason = "schema"


class DeadlineExceeded(UpstreamError):
    """The poll ran out of its time (POLL_DEADLINE_SECONDS) while the upstream was slow."""

    reason = "deadline"


def connection_error(exc: requests.RequestException, url: str) -> UpstreamError:
    """Say what happened to the connection: refused, reset, or dropped before an answer."""
    place = where(url)
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:  # the reason is buried in urllib3's wrappers (args, __cause__, __context__)
        cause = pending.pop()
        if id(cause) in seen:
            continue
        seen.add(id(cause))
        if isinstance(cause, ConnectionResetError):
            return UpstreamError(f"the connection to {place} was reset", reason="reset")
        if isinstance(cause, http.client.RemoteDisconnected):
            return UpstreamError(f"{place} closed the connection without answering",
                                 reason="reset")
        pending += [a for a in getattr(cause, "args", ()) if isinstance(a, BaseException)]
        pending += [c for c in (cause.__cause__, cause.__context__) if c is not None]
        reason = getattr(cause, "reason", None)
        if isinstance(reason, BaseException):
            pending.append(reason)
    return UpstreamError(f"could not connect to {place}", reason="unreachable")


def where(url: str) -> str:
    """host/path of a URL, without scheme and query: safe to show and to log."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (now if now is not None else time.time()))


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: Mapping[str, str]
    text: str

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            content_type = self.headers.get("Content-Type", "no content type")
            raise SchemaError(
                f"{where(self.url)} answered with something that is not JSON "
                f"({content_type}, {len(self.text)} bytes)"
            ) from None


class HttpClient:
    def __init__(
        self,
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        retries: int = 2,
        backoff: float = 0.5,
        max_retry_after: float = 20.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        deadline: float | None = None,
        guard: Callable[[], None] | None = None,
    ):
        # `deadline` (time.monotonic()) bounds the whole poll: no request starts after it and
        # none waits past it. `guard` runs before every attempt and raises to stop the poll
        # (its lease was taken over).
        self.deadline = deadline
        self.guard = guard
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        # requests reads proxies and the CA bundle from the environment again for every
        # request, which was a tenth of a 2,000-page poll; they are read once per host here.
        self.session.trust_env = False
        self.environment: dict[str, dict[str, Any]] = {}
        self.sleep = sleep
        self.request_count = 0
        self.counting = threading.Lock()  # pages may be fetched on several threads at once

    def environment_for(self, url: str) -> dict[str, Any]:
        """The proxies (HTTPS_PROXY, NO_PROXY...) and CA bundle (REQUESTS_CA_BUNDLE) the
        environment sets for the url's host, as requests itself would apply them."""
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        if host not in self.environment:
            self.environment[host] = {
                "proxies": requests.utils.get_environ_proxies(url),
                "verify": os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True,
            }
        return self.environment[host]

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        accept: frozenset[int] | set[int] = frozenset(),
    ) -> Response:
        """Send a request, retrying what may heal. Statuses in `accept` are returned to the
        caller (for upstreams that explain errors in the body); other 4xx raise at once."""
        attempt = 0
        while True:
            attempt += 1
            if self.guard is not None:
                self.guard()
            timeout = self.timeout_left(url)
            with self.counting:
                self.request_count += 1
            try:
                raw = self.session.request(
                    method, url, params=params, headers=headers, json=json_body,
                    timeout=timeout, **self.environment_for(url),
                )
            except requests.Timeout:
                if self.deadline is not None and time.monotonic() >= self.deadline - 0.1:
                    raise DeadlineExceeded(
                        f"the poll stopped at its time limit: {where(url)} had not answered"
                    ) from None
                error = UpstreamError(f"{where(url)} did not answer in time", reason="timeout")
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                error = connection_error(exc, url)
            except requests.RequestException as exc:
                error = UpstreamError(f"request to {where(url)} failed ({type(exc).__name__})")
            else:
                response = Response(url, raw.status_code, raw.headers, raw.text)
                if raw.status_code < 400 or raw.status_code in accept:
                    return response
                error = status_error(response)
            if error.permanent or attempt > self.retries:
                if attempt > 1:
                    error.message += f" (after {attempt} attempts)"
                    error.args = (error.message,)
                raise error
            delay = self.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
            if error.retry_after is not None:
                if error.retry_after > self.max_retry_after:
                    raise error  # the poll scheduler waits that long instead of this worker
                delay = max(delay, error.retry_after)
            if self.deadline is not None and time.monotonic() + delay >= self.deadline:
                raise error  # no time left for another attempt
            log.info("retrying %s in %.1fs: %s", where(url), delay, error.message)
            self.sleep(delay)

    def timeout_left(self, url: str) -> tuple[float, float]:
        """The request timeout, shortened to what is left before the poll's deadline."""
        if self.deadline is None:
            return self.timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded(f"the poll reached its time limit before calling {where(url)}")
        return (min(self.timeout[0], left), min(self.timeout[1], left))

    def get_json(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs).json()


def in_order(fetch: Callable[[int], T], numbers: Iterable[int], *, at_once: int) -> Iterator[T]:
    """fetch(n) for every n, up to `at_once` of them running together on threads, the
    results yielded in the order of `numbers`. A fetch that fails raises when its turn comes;
    a consumer that stops (or a failure) cancels the fetches not yet started and waits for
    the running ones, which the client's timeouts and the poll's deadline bound."""
    remaining = iter(numbers)
    with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="hashwatch-fetch") as pool:
        running: deque[Future[T]] = deque(pool.submit(fetch, n) for n in islice(remaining, at_once))
        try:
            while running:
                done = running.popleft().result()
                running.extend(pool.submit(fetch, n) for n in islice(remaining, 1))
                yield done
        finally:
            for future in running:
                future.cancel()


def status_error(response: Response) -> UpstreamError:
    status, place = response.status, where(response.url)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        wait = f"; it asks to wait {retry_after:.0f} s" if retry_after is not None else ""
        return UpstreamError(
            f"{place} is rate limiting us (HTTP 429{wait})",
            status=status, retry_after=retry_after, reason="rate_limited",
        )
    if status in (401, 403):
        return CredentialsRejected(
            f"{place} rejected the credentials (HTTP {status}); check the key and its permissions",
            status=status,
        )
    if status == 404:
        return UpstreamError(
            f"{place} does not exist (HTTP 404); check the source's base URL",
            permanent=True, status=status, reason="not_found",
        )
    if status in RETRY_STATUSES or status >= 500:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return UpstreamError(
            f"{place} is failing (HTTP {status})",
            status=status, retry_after=retry_after, reason="unavailable",
        )
    return UpstreamError(
        f"{place} refused the request (HTTP {status})",
        permanent=status != 408, status=status, reason="rejected",
    )
