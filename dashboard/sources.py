"""The source registry: what each upstream kind needs and which code serves it.

Forms, the admin, the CLI and the poller all read this, so adding a kind is one entry here
plus its client and ingest modules; no form code. Client and ingest are dotted paths,
imported on first use, so loading the registry never imports every upstream's code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any, Protocol

from django.utils.module_loading import import_string

from dashboard.http import HttpClient


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    required: bool = True
    help: str = ""
    choices: tuple[str, ...] = ()
    default: str = ""
    # What is wrong with a given value, or "" when it is fine (beyond `choices`).
    check: Callable[[str], str] | None = None


def decimal_check(*, minimum: Decimal, maximum: Decimal, unit: str) -> Callable[[str], str]:
    """A check for a number option: a plain decimal within [minimum, maximum] of `unit`."""

    def problem(value: str) -> str:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return f"must be a number of {unit}, e.g. {minimum + 1} (got {value!r})"
        if not number.is_finite() or not minimum <= number <= maximum:
            return f"must be from {minimum} to {maximum} {unit} (got {value!r})"
        return ""

    return problem


@dataclass(frozen=True)
class PollContext:
    """Everything a client may know about the source it fetches for."""

    base_url: str
    credentials: Mapping[str, str]
    options: Mapping[str, str]
    http: HttpClient
    now: datetime
    last_success_at: datetime | None = None
    # What earlier polls left for this one (e.g. how far a history back-fill has come), from
    # the kind's `state_path`; empty for kinds without one.
    state: Mapping[str, Any] = field(default_factory=dict)


class Client(Protocol):
    def __init__(self, ctx: PollContext) -> None: ...

    def fetch(self) -> Any:
        """Call the upstream and return normalized data for the kind's ingest function."""


Ingest = Callable[..., Mapping[str, int]]


@dataclass(frozen=True)
class SourceKind:
    kind: str
    label: str
    category: str  # "pool" or "exchange"
    client_path: str
    ingest_path: str
    base_url: str  # may name options in braces, e.g. https://{region}-pool.api.btc.com
    # Alternatives: a source fills every required field of one set (e.g. key + secret, or an
    # observer key). A kind whose public data needs no key has an empty set among them.
    credential_sets: tuple[tuple[Field, ...], ...] = ((),)
    options: tuple[Field, ...] = ()
    default_interval: int = 60
    docs: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    # Dotted path of `f(*, source) -> Mapping`, the PollContext.state a poll starts from.
    state_path: str = ""
    # Dotted path of `f(snapshot) -> str`: what a fetch found, in a few words ("128 workers,
    # balance 0.0123 BTC"), for "Test connection".
    describe_path: str = ""
    # Checks across options (two that exclude each other): each returns a problem or "".
    option_rules: tuple[Callable[[Mapping[str, Any]], str], ...] = ()

    @cached_property
    def credential_fields(self) -> tuple[Field, ...]:
        seen: dict[str, Field] = {}
        for fields in self.credential_sets:
            for item in fields:
                seen.setdefault(item.name, item)
        return tuple(seen.values())

    def default_options(self) -> dict[str, str]:
        return {item.name: item.default for item in self.options if item.default}

    def default_base_url(self, options: Mapping[str, Any]) -> str:
        return self.base_url.format(**{**self.default_options(), **options})

    def option_problems(self, options: Mapping[str, Any]) -> list[str]:
        known = {item.name: item for item in self.options}
        problems = []
        for name, value in options.items():
            if name not in known:
                names = ", ".join(known) or "none"
                problems.append(f"unknown option {name!r} for {self.label} (known: {names})")
            elif known[name].choices and str(value) not in known[name].choices:
                choices = ", ".join(known[name].choices)
                problems.append(f"option {name} must be one of {choices} (got {value!r})")
            elif (check := known[name].check) and (problem := check(str(value))):
                problems.append(f"option {name} {problem}")
        for item in self.options:
            if item.required and not options.get(item.name) and not item.default:
                problems.append(f"option {item.name} is required ({item.label})")
        problems += [problem for rule in self.option_rules if (problem := rule(options))]
        return problems

    def credential_problems(self, credentials: Mapping[str, str]) -> list[str]:
        known = {item.name for item in self.credential_fields}
        problems = [
            f"unknown credential {name!r} for {self.label} (known: {', '.join(sorted(known))})"
            for name in credentials
            if name not in known
        ]
        def complete(fields: tuple[Field, ...]) -> bool:
            return all(credentials.get(item.name) for item in fields if item.required)

        if not any(complete(fields) for fields in self.credential_sets):
            problems.append(f"{self.label} needs {self.describe_credentials()}")
            return problems
        # A kind that needs no key passes with none, but a half-filled login (a user name
        # without its password) would only fail later, upstream: say so now.
        if not any(complete(fields) for fields in self.credential_sets if fields):
            for fields in self.credential_sets:
                missing = [item.name for item in fields if item.required and not credentials.get(item.name)]
                if fields and missing and len(missing) < len(fields):
                    given = [item.name for item in fields if credentials.get(item.name)]
                    problems.append(f"{' and '.join(given)} needs {' and '.join(missing)} as well")
        return problems

    def describe_credentials(self) -> str:
        """e.g. "api_key and api_secret or observer_key"; "no key for public data; optionally
        username and password" for a kind whose public data needs none."""
        names = [" and ".join(item.name for item in fields if item.required)
                 for fields in self.credential_sets if fields]
        if len(names) < len(self.credential_sets):
            return "no key for public data" + (f"; optionally {' or '.join(names)}" if names else "")
        return " or ".join(names)

    def load_client(self) -> type[Client]:
        return import_string(self.client_path)  # type: ignore[no-any-return]

    def load_ingest(self) -> Ingest:
        return import_string(self.ingest_path)  # type: ignore[no-any-return]

    def describe(self, snapshot: Any) -> str:
        return import_string(self.describe_path)(snapshot) if self.describe_path else ""

    def poll_state(self, source: Any) -> Mapping[str, Any]:
        return import_string(self.state_path)(source=source) if self.state_path else {}


class UnknownKind(KeyError):
    def __str__(self) -> str:
        return f"unknown source kind {self.args[0]!r}; known kinds: {', '.join(sorted(REGISTRY))}"


REGISTRY: dict[str, SourceKind] = {}


def register(spec: SourceKind) -> SourceKind:
    REGISTRY[spec.kind] = spec
    return spec


def get_kind(kind: str) -> SourceKind:
    try:
        return REGISTRY[kind]
    except KeyError:
        raise UnknownKind(kind) from None


def kind_choices() -> list[tuple[str, str]]:
    return [(spec.kind, spec.label) for spec in REGISTRY.values()]
