"""One fake upstream: a `SimulatedApi` subclass whose handlers are marked with `@route`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from simulator.core.http import Request, Response, not_found
from simulator.core.scenario import ScenarioRun

Handler = Callable[[Request], Response]

DEFAULT_SEED = "hashwatch"


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
        # Every class of the MRO, base first: an upstream may be assembled from one mixin per
        # section of its document, each with its own routes.
        found: dict[tuple[str, str, str], _Route] = {}
        for klass in reversed(cls.__mro__[:-1]):
            for name, member in vars(klass).items():
                for method, path in getattr(member, "_sim_routes", ()):
                    found.setdefault((method, path, name), _Route(method, _compile(path), name))
        cls._routes = tuple(found.values())

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

    def scenario_changed(self, run: ScenarioRun | None) -> None:
        """A scenario started (or stopped: None). Upstreams with workers drop the ones its
        steps name; faults need nothing from the upstream."""

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


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _camelize(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel(str(k)): _camelize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camelize(v) for v in value]
    return value
