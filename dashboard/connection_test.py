"""'Test connection': one fetch through the kind's normal client with the settings a form
holds, before anything is saved, answered in words.

It goes through the same path as a poll (the registry's client, dashboard.http's timeouts and
error mapping, the same scrubbing of keys from messages) and stops before ingest: nothing is
stored, no PollRun is written, the source's state is not touched.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from dashboard import shared_cache
from dashboard.crypto import Credentials
from dashboard.http import HttpClient, UpstreamError
from dashboard.models import Source, Team
from dashboard.polling import fetch, poll_failure
from dashboard.sources import SourceKind

# Upstream failures the person at the form can act on, by dashboard.http's reasons.
UNREACHABLE = {"timeout", "unreachable", "reset", "deadline"}


@dataclass(frozen=True)
class ConnectionAnswer:
    ok: bool
    message: str


def connection_http_client() -> HttpClient:
    """A poll's timeouts, without its retries: somebody is waiting at the form, and pressing
    the button again is a retry they choose."""
    return HttpClient(
        timeout=(5.0, float(settings.HTTP_TIMEOUT_SECONDS)), retries=0,
        deadline=time.monotonic() + settings.CONNECTION_TEST_DEADLINE_SECONDS,
    )


def source_connection_test(
    *,
    team: Team,
    spec: SourceKind,
    base_url: str,
    options: Mapping[str, Any],
    credentials: Mapping[str, str],
    http: HttpClient | None = None,
) -> ConnectionAnswer:
    """Fetch once with these settings and say what came back. `credentials` are the ones to
    use (on an edit, the stored ones merged with those typed); they never appear in the answer."""
    # An unsaved row: fetch() reads its settings the way a poll does, and nothing saves it.
    source = Source(team=team, kind=spec.kind, base_url=base_url.rstrip("/"),
                    options=dict(options), credentials=Credentials(credentials))
    http = http or connection_http_client()
    try:
        # No state: a test reads the account as it is now, not the history a poll back-fills.
        snapshot = fetch(source=source, now=timezone.now(), http=http, state={})
    except Exception as error:  # every failure becomes words, as a poll's does
        return ConnectionAnswer(False, failure_words(error, source=source, spec=spec, http=http))
    summary = spec.describe(snapshot)
    return ConnectionAnswer(True, f"Connected: {summary}" if summary else "Connected.")


def failure_words(error: Exception, *, source: Source, spec: SourceKind, http: HttpClient) -> str:
    """The poll's wording of a failure, led by what to do about it."""
    message = poll_failure(error, source).message
    if not isinstance(error, UpstreamError):
        return message[:1].upper() + message[1:]
    host = urlsplit(source.effective_base_url).netloc or source.effective_base_url
    if error.reason == "credentials":
        status = f" (HTTP {error.status})" if error.status else ""
        return (f"{spec.label} refused the key{status}: check the {credential_labels(spec)}. "
                f"{message[:1].upper()}{message[1:]}.")
    if error.reason in UNREACHABLE:
        if error.reason == "timeout":
            return f"Could not reach {host}: timed out after {http.timeout[1]:g} s."
        if error.reason == "deadline":
            return (f"{host} did not finish answering within "
                    f"{settings.CONNECTION_TEST_DEADLINE_SECONDS} s; a poll may still succeed.")
        return f"Could not reach {host}: {message}."
    if error.reason == "rate_limited":
        return f"{spec.label} is rate limiting requests: {message}. Try again later."
    if error.reason == "not_found":
        return f"{host} answered, but {message}."
    return f"{spec.label} answered with an error: {message}."


def credential_labels(spec: SourceKind) -> str:
    """ "API key", "Access key and PUID": the fields as the form names them."""
    sets = [" and ".join(item.label for item in fields if item.required)
            for fields in spec.credential_sets if fields]
    return " or ".join(sets) or "credentials"


def connection_test_allowed(*, user_id: int, now: float | None = None) -> bool:
    """A per-user budget of tests a minute: each one calls an upstream, and an upstream that
    sees a burst of calls with a wrong key may lock the account. Counted in the shared cache;
    with the cache away the budget is not enforced (a test is one person's click)."""
    window = int((now if now is not None else time.time()) // 60)
    key = f"connection-test:{user_id}:{window}"
    count = shared_cache.incr(key, timeout=120)
    return count is None or count <= settings.CONNECTION_TESTS_PER_MINUTE
