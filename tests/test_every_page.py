"""Every page of the app, signed in with data, renders without template syntax left in it:
a `{# ... #}` comment spanning lines is not a comment to Django and shows as text."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import client_for
from tests.whole_team import whole_team

pytestmark = pytest.mark.django_db

# Not pages: machine-readable answers, actions that only take POST, downloads, the admin.
NOT_PAGES = re.compile(r"^(api_|metrics|healthz|logout|favicon|admin:|team_switch|.*_csv$|.*(toggle|revoke|"
                       r"remove|role|leave|invite|test|end|poll_now)$)")


def named_patterns(patterns: list[object], prefix: str = "") -> list[tuple[str, str]]:
    """(name, route) of every named URL, the admin's left out."""
    found = []
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin":
                continue
            found += named_patterns(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern) and p.name:
            found.append((p.name, prefix + str(p.pattern)))
    return found


def page_paths(data: dict[str, object]) -> list[str]:
    pool, worker, rule = data["pool"], data["worker"], data["rule"]
    by_object = {
        "source_detail": pool, "source_edit": pool, "source_delete": pool, "pool_page": pool,
        "source_actions": pool, "worker_detail": worker, "alert_rule_edit": rule,
        "alert_rule_delete": rule,
    }
    paths = []
    for name, route in named_patterns(get_resolver().url_patterns):
        if NOT_PAGES.match(name):
            continue
        if "<" not in route:
            paths.append(reverse(name))
        elif name in by_object:
            paths.append(reverse(name, args=[by_object[name].pk]))  # type: ignore[attr-defined]
    paths += [reverse("source_add", args=["btccom"]), reverse("alert_rule_add", args=["worker_offline"]),
              "/no-such-page/"]
    return paths


def test_no_page_shows_template_syntax(alice, team, simulator, all_pools) -> None:
    data = whole_team(team, simulator, all_pools)
    client = client_for(alice)
    paths = page_paths(data)
    # The discovery found the pages the app is made of, not an empty list.
    for expected in ("/", "/workers/", "/exchanger/", "/markets/", "/settings/audit/", "/alerts/silences/",
                     f"/workers/{data['worker'].pk}/"):  # type: ignore[attr-defined]
        assert expected in paths
    for path in paths:
        response = client.get(path)
        if response.status_code == 302:  # signed-out pages send a signed-in user on
            assert path.startswith("/accounts/"), path
            continue
        if response.status_code == 405:  # an action that takes POST only
            continue
        assert response.status_code in (200, 404), (path, response.status_code)
        body = response.content.decode()
        assert "{#" not in body and "{%" not in body, path
    client.logout()
    for path in ("/accounts/login/", "/accounts/password/reset/"):
        body = client.get(path).content.decode()
        assert "{#" not in body and "{%" not in body, path
