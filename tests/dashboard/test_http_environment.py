"""The HTTP client reads proxies and the CA bundle from the environment once per host, and
still applies them as requests would (a proxy, NO_PROXY, REQUESTS_CA_BUNDLE)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from dashboard.http import HttpClient


class Recording(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> Any:  # type: ignore[override]
        self.calls.append(kwargs)
        answer = requests.Response()
        answer.status_code, answer._content = 200, b"{}"
        return answer


def test_the_environments_proxy_and_ca_bundle_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/company.pem")
    session = Recording()
    client = HttpClient(session=session)
    for _ in range(3):
        client.get_json("https://pool.example/v1/worker")
    client.get_json("https://internal.example/api")
    first, *_, internal = session.calls
    assert first["proxies"]["https"] == "http://proxy.example:3128"
    assert first["verify"] == "/etc/ssl/company.pem"
    assert internal["proxies"] == {}  # NO_PROXY
    assert len(client.environment) == 2  # read once per host, not per request
    assert session.trust_env is False  # so requests does not read it again itself
