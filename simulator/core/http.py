"""Requests and responses as the simulated APIs see them, and their WSGI translation."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs


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


def not_found(path: str) -> Response:
    return Response.json({"error": "not found", "path": path}, status=404)


def request_from_environ(environ: dict[str, Any], *, now: datetime) -> Request:
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


def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"
