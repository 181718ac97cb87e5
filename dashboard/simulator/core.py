"""A tiny WSGI framework for fake upstream APIs.

Each simulated upstream is a `SimulatedApi` subclass mounted under its own path prefix on one
`Simulator` (a WSGI app). The simulator adds what tests need around every upstream: fault
injection, request counting and a reset, all reachable over HTTP under `/_sim/`.

Simulated data must be a pure function of (seed, account, entity, time): the helpers at the
bottom turn strings into stable pseudo-random numbers, so answers are identical at the same
instant, identical across restarts, and drift as the injected clock moves.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, ClassVar
from urllib.parse import parse_qs

log = logging.getLogger("dashboard.simulator")

Clock = Callable[[], datetime]
Handler = Callable[["Request"], "Response"]
WsgiStartResponse = Callable[..., Any]

DEFAULT_SEED = "hashwatch"
DEFAULT_FAULT_DELAY = 3.0
FAULTS = ("http_500", "http_429", "timeout", "malformed_json", "schema_change")
CONTROL_PREFIX = "_sim"


def utc_now() -> datetime:
    return datetime.now(UTC)


class FrozenClock:
    """A clock for tests: stands still until told to move."""

    def __init__(self, now: datetime):
        self.now = _as_utc(now)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta | float) -> datetime:
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else delta
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # inside the API, without its prefix: "/v1/worker"
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    now: datetime  # read once per request so every value in one answer agrees
    path_params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The parsed body; `ValueError` when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))


@dataclass(frozen=True)
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    payload: Any = None  # the object behind a JSON body, kept for schema_change

    @classmethod
    def json(
        cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode()
        merged = {"Content-Type": "application/json", **(headers or {})}
        return cls(status=status, body=body, headers=merged, payload=payload)

    @classmethod
    def text(
        cls,
        text: str,
        status: int = 200,
        content_type: str = "text/plain; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> Response:
        merged = {"Content-Type": content_type, **(headers or {})}
        return cls(status=status, body=text.encode(), headers=merged)


def route(method: str, path: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Mark a `SimulatedApi` method as the handler of METHOD PATH; `{name}` segments become
    `request.path_params[name]`."""

    def mark(func: Callable[..., Response]) -> Callable[..., Response]:
        routes: list[tuple[str, str]] = getattr(func, "_sim_routes", [])
        func._sim_routes = [*routes, (method.upper(), path)]  # type: ignore[attr-defined]
        return func

    return mark


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    attr: str


def _compile(path: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", path)
    regex = "".join(
        f"(?P<{part}>[^/]+)" if i % 2 else re.escape(part) for i, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$")


class SimulatedApi:
    """One fake upstream. Subclasses set `prefix` and decorate handlers with `@route`."""

    prefix: ClassVar[str]
    # Top-level keys that schema_change leaves alone, so clients still see the envelope and
    # fail on the records inside it.
    envelope_keys: ClassVar[frozenset[str]] = frozenset()
    _routes: ClassVar[tuple[_Route, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        found = [
            _Route(method, _compile(path), name)
            for name, member in vars(cls).items()
            for method, path in getattr(member, "_sim_routes", ())
        ]
        cls._routes = (*cls._routes, *found)

    def __init__(self, *, seed: str = DEFAULT_SEED):
        self.seed = seed

    def describe(self) -> str:
        """One line for humans starting the simulator (accounts to try, for example)."""
        return ""

    def dispatch(self, request: Request) -> Response:
        allowed: list[str] = []
        for candidate in self._routes:
            match = candidate.pattern.match(request.path)
            if match is None:
                continue
            if candidate.method != request.method:
                allowed.append(candidate.method)
                continue
            handler: Handler = getattr(self, candidate.attr)
            return handler(replace(request, path_params=match.groupdict()))
        if allowed:
            return Response.json(
                {"error": "method not allowed", "allowed": allowed},
                status=405,
                headers={"Allow": ", ".join(allowed)},
            )
        return not_found(f"/{self.prefix}{request.path}")

    def has_route(self, method: str, path: str) -> bool:
        return any(r.method == method and r.pattern.match(path) for r in self._routes)

    def apply_schema_change(self, response: Response) -> Response:
        """What this upstream looks like after an unannounced format change; by default
        every key turns camelCase."""
        if response.payload is None:
            return response
        payload = response.payload
        if isinstance(payload, dict):
            payload = {
                key if key in self.envelope_keys else _camel(key): _camelize(value)
                for key, value in payload.items()
            }
        else:
            payload = _camelize(payload)
        return Response.json(payload, status=response.status, headers=response.headers)


def not_found(path: str) -> Response:
    return Response.json({"error": "not found", "path": path}, status=404)


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _camelize(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel(str(k)): _camelize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camelize(v) for v in value]
    return value


@dataclass
class Fault:
    kind: str
    remaining: int | None  # None: every request until cleared
    delay: float

    def as_dict(self) -> dict[str, Any]:
        return {"fault": self.kind, "remaining": self.remaining, "delay": self.delay}


class Simulator:
    """The WSGI app: routes `/<prefix>/...` to mounted APIs and `/_sim/...` to controls."""

    def __init__(
        self,
        apis: Iterable[SimulatedApi] = (),
        *,
        clock: Clock = utc_now,
        fault_delay: float = DEFAULT_FAULT_DELAY,
    ):
        self.clock = clock
        self.fault_delay = fault_delay
        self.apis: dict[str, SimulatedApi] = {}
        self._lock = threading.Lock()
        self._faults: dict[str, Fault] = {}
        self._counts: Counter[tuple[str, str]] = Counter()
        for api in apis:
            self.mount(api)

    def mount(self, api: SimulatedApi) -> None:
        if api.prefix in self.apis or api.prefix == CONTROL_PREFIX:
            raise ValueError(f"an API is already mounted at /{api.prefix}")
        self.apis[api.prefix] = api

    # -- test controls, also reachable over HTTP under /_sim/ --

    def set_fault(
        self, api: str, fault: str | None, *, count: int | None = None, delay: float | None = None
    ) -> None:
        if api not in self.apis:
            raise ValueError(f"unknown api {api!r}; mounted: {', '.join(sorted(self.apis))}")
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)} or null")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                                  or count < 1):
            raise ValueError("count must be a positive integer or null (every request)")
        if delay is not None and (isinstance(delay, bool) or not isinstance(delay, int | float)
                                  or delay < 0):
            raise ValueError("delay must be a number of seconds")
        with self._lock:
            if fault is None:
                self._faults.pop(api, None)
            else:
                chosen = self.fault_delay if delay is None else float(delay)
                self._faults[api] = Fault(fault, count, chosen)

    def faults(self) -> dict[str, dict[str, Any] | None]:
        with self._lock:
            return {
                name: (f.as_dict() if (f := self._faults.get(name)) else None)
                for name in sorted(self.apis)
            }

    def request_counts(self) -> dict[str, dict[str, int]]:
        with self._lock:
            counts: dict[str, dict[str, int]] = {name: {} for name in sorted(self.apis)}
            for (api, path), n in sorted(self._counts.items()):
                counts[api][path] = n
            return counts

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._counts.clear()

    # -- WSGI --

    def __call__(self, environ: dict[str, Any], start_response: WsgiStartResponse) -> list[bytes]:
        try:
            response = self.handle(_request_from_environ(environ, now=_as_utc(self.clock())))
        except Exception:
            # Whatever a test sends, the server keeps serving the next request.
            log.exception("simulator handler failed")
            response = Response.json({"error": "simulator error"}, status=500)
        headers = {**response.headers, "Content-Length": str(len(response.body))}
        start_response(_status_line(response.status), list(headers.items()))
        return [response.body]

    def handle(self, request: Request) -> Response:
        prefix, _, rest = request.path.lstrip("/").partition("/")
        inner = replace(request, path="/" + rest.rstrip("/"))
        if prefix == CONTROL_PREFIX:
            return self._control(inner)
        api = self.apis.get(prefix)
        if api is None:
            return Response.json(
                {"error": "not found", "path": request.path, "apis": sorted(self.apis)},
                status=404,
            )
        with self._lock:
            self._counts[(prefix, inner.path)] += 1
        fault = self._take_fault(api, inner) if api.has_route(inner.method, inner.path) else None
        return self._serve(api, inner, fault)

    def _take_fault(self, api: SimulatedApi, request: Request) -> Fault | None:
        with self._lock:
            fault = self._faults.get(api.prefix)
            if fault is None:
                return None
            taken = Fault(fault.kind, fault.remaining, fault.delay)
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    del self._faults[api.prefix]
            return taken

    def _serve(self, api: SimulatedApi, request: Request, fault: Fault | None) -> Response:
        kind = fault.kind if fault else None
        if kind == "http_500":
            return Response.text(
                "<html><body><h1>500 Internal Server Error</h1></body></html>",
                status=500,
                content_type="text/html; charset=utf-8",
            )
        if kind == "http_429":
            return Response.text("Too Many Requests", status=429, headers={"Retry-After": "1"})
        if kind == "timeout" and fault:
            time.sleep(fault.delay)
        response = api.dispatch(request)
        if kind == "malformed_json":
            # Cut mid-document, as a dropped connection behind a proxy would.
            body = response.body[: len(response.body) // 2] or b"{"
            return Response(status=response.status, body=body, headers=response.headers)
        if kind == "schema_change":
            return api.apply_schema_change(response)
        return response

    def _control(self, request: Request) -> Response:
        target = (request.method, request.path)
        if target == ("GET", "/faults"):
            return Response.json({"faults": self.faults()})
        if target == ("POST", "/faults"):
            return self._post_fault(request)
        if target == ("GET", "/requests"):
            return Response.json({"requests": self.request_counts()})
        if target == ("POST", "/reset"):
            self.reset()
            return Response.json({"ok": True})
        return not_found(f"/{CONTROL_PREFIX}{request.path}")

    def _post_fault(self, request: Request) -> Response:
        try:
            spec = request.json()
        except ValueError:
            return Response.json({"error": "body must be JSON"}, status=400)
        if not isinstance(spec, dict) or "api" not in spec:
            return Response.json(
                {"error": 'expected {"api": ..., "fault": ..., "count": N}'}, status=400
            )
        try:
            self.set_fault(
                str(spec["api"]), spec.get("fault"), count=spec.get("count"),
                delay=spec.get("delay"),
            )
        except ValueError as exc:
            return Response.json({"error": str(exc)}, status=400)
        return Response.json({"faults": self.faults()})


def _request_from_environ(environ: dict[str, Any], *, now: datetime) -> Request:
    query = {
        key: values[0]
        for key, values in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()
    }
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = str(environ[key])
    try:
        length = max(int(environ.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length else b""
    return Request(
        method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
        path=str(environ.get("PATH_INFO") or "/"),
        query=query,
        headers=headers,
        body=body,
        now=now,
    )


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# -- deterministic values --


def _digest(parts: tuple[object, ...], size: int) -> bytes:
    key = "\x1f".join(map(str, parts)).encode()
    return hashlib.blake2b(key, digest_size=size).digest()


def unit_random(*parts: object) -> float:
    """A float in [0, 1) fixed by `parts`: the same parts give the same number, forever."""
    return int.from_bytes(_digest(parts, 8), "big") / 2**64


def unit_randoms(count: int, *parts: object) -> tuple[float, ...]:
    """`count` (at most 8) independent floats in [0, 1) from one hash: cheaper in hot loops."""
    return tuple(n / 2**64 for n in struct.unpack(f">{count}Q", _digest(parts, 8 * count)))


def between(low: float, high: float, *parts: object) -> float:
    return low + (high - low) * unit_random(*parts)


def stable_int(*parts: object) -> int:
    """A signed 64-bit integer fixed by `parts` (ids that look like real upstream ids)."""
    return int.from_bytes(_digest(parts, 8), "big", signed=True)


def stable_hex(*parts: object, length: int = 64) -> str:
    """Hex digits fixed by `parts`: transaction ids, hashes."""
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:length]


def wave(t: float, period: float, *parts: object) -> float:
    """A sine in [-1, 1] over `period` seconds with a phase fixed by `parts`, so each entity
    drifts on its own schedule."""
    return math.sin(2 * math.pi * (t / period + unit_random("phase", *parts)))
