"""The WSGI app that mounts every simulated upstream and adds what tests need around them:
fault injection, request counting and a reset, all reachable over HTTP under `/_sim/`."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from simulator.core.api import SimulatedApi
from simulator.core.clock import Clock, as_utc, utc_now
from simulator.core.http import Request, Response, not_found, request_from_environ, status_line
from simulator.core.scenario import SCENARIOS, ScenarioRun

log = logging.getLogger("simulator")

WsgiStartResponse = Callable[..., Any]

DEFAULT_FAULT_DELAY = 3.0
FAULTS = ("http_500", "http_429", "timeout", "malformed_json", "schema_change")
CONTROL_PREFIX = "_sim"


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
        self._scenario: ScenarioRun | None = None
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
        self.set_scenario(None)

    def set_scenario(self, name: str | None, *, start: datetime | None = None) -> ScenarioRun | None:
        """Start a scenario (from `start`, default now), or stop the running one (None)."""
        if name is not None and name not in SCENARIOS:
            raise ValueError(f"unknown scenario {name!r}; one of {', '.join(sorted(SCENARIOS))} or null")
        run = None if name is None else ScenarioRun(SCENARIOS[name], as_utc(start or self.clock()))
        with self._lock:
            self._scenario = run
        for api in self.apis.values():
            api.scenario_changed(run)
        return run

    def scenario(self) -> dict[str, Any] | None:
        with self._lock:
            run = self._scenario
        return run.as_dict(as_utc(self.clock())) if run else None

    # -- WSGI --

    def __call__(self, environ: dict[str, Any], start_response: WsgiStartResponse) -> list[bytes]:
        try:
            response = self.handle(request_from_environ(environ, now=as_utc(self.clock())))
        except Exception:
            # Whatever a test sends, the server keeps serving the next request.
            log.exception("simulator handler failed")
            response = Response.json({"error": "simulator error"}, status=500)
        headers = {**response.headers, "Content-Length": str(len(response.body))}
        start_response(status_line(response.status), list(headers.items()))
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
        fault = (self._take_fault(api, inner) or self._scenario_fault(api, inner)
                 if api.has_route(inner.method, inner.path) else None)
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

    def _scenario_fault(self, api: SimulatedApi, request: Request) -> Fault | None:
        with self._lock:
            run = self._scenario
        kind = run.fault_at(api.prefix, request.now) if run else None
        return Fault(kind, None, self.fault_delay) if kind else None

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
        if target == ("GET", "/scenario"):
            return Response.json({"scenario": self.scenario(), "available": sorted(SCENARIOS)})
        if target == ("POST", "/scenario"):
            return self._post_scenario(request)
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

    def _post_scenario(self, request: Request) -> Response:
        try:
            spec = request.json()
        except ValueError:
            return Response.json({"error": "body must be JSON"}, status=400)
        if not isinstance(spec, dict) or "name" not in spec:
            return Response.json(
                {"error": 'expected {"name": "alerts"} (or null to stop), optionally "start": '
                          '"2026-01-01T00:00:00Z"'}, status=400)
        try:
            start = datetime.fromisoformat(str(spec["start"])) if spec.get("start") else None
            self.set_scenario(None if spec["name"] is None else str(spec["name"]), start=start)
        except ValueError as exc:
            return Response.json({"error": str(exc)}, status=400)
        return Response.json({"scenario": self.scenario()})
