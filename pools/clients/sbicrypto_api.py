"""SBI Crypto transport: authentication headers, error answers, 0-based pages, and the unit
and time parsers every SBI read shares.

Errors come as HTTP 401/403/404/400/422 with `{"error", "error_description"}`; hashrates are
MH/s; amounts are whole coins sent as JSON numbers or strings; pages follow Spring's shape
(`content`, `last`, `totalPages`, `number`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from dashboard.http import CredentialsRejected, SchemaError, UpstreamError, where
from dashboard.sources import PollContext
from pools.clients.base import as_object, from_utc_text, hashrate_from_unit, pick, to_int
from pools.clients.history import Page

Record = Mapping[str, Any]

JSON = "application/json"
# The documented page size default is 20 and no maximum is documented. A larger page cuts a
# big account's requests twenty-fold; a server that caps it answers smaller pages, and the
# pager follows `last` and `totalPages`, never the size it asked for.
PAGE_SIZE = 1000
MAX_PAGES = 10_000  # a server that ignores the page number must not keep us paging forever
ERROR_STATUSES = frozenset({400, 401, 403, 404, 422})
# Words a 2xx body may carry in `error` when the upstream reports a refusal without a status.
REFUSALS = {"invalid_token": 401, "unauthorized": 401, "access_denied": 403, "forbidden": 403}
WINDOWS = ("10m", "1h", "24h")  # the order of every SBI hashrate triple


class SbiApi:
    """GET requests to one SBI host with one set of credentials (or none, for public reads)."""

    def __init__(self, ctx: PollContext, *, headers: Mapping[str, str], credential: str,
                 secrets: Iterable[str] = (), base_url: str = "", missing_hint: str = ""):
        self.ctx = ctx
        self.base_url = (base_url or ctx.base_url).rstrip("/")
        self.headers = dict(headers)
        self.credential = credential  # what to call the credentials in a message
        self.secrets = [secret for secret in secrets if secret]
        # What a 404 tells the user to check: the host these requests go to.
        self.missing_hint = missing_hint or "check the source's base URL"

    def get(self, path: str, *, accept: str = JSON, url: str = "", **params: Any) -> Any:
        """The decoded body of GET base_url + path (or of `url`); None for an empty answer."""
        target = url or self.base_url + path
        response = self.ctx.http.request(
            "GET", target, params=params, headers={**self.headers, "Accept": accept},
            accept=ERROR_STATUSES,
        )
        if response.status in ERROR_STATUSES:
            raise self.error(response.status, error_text(response.text), target)
        if response.status == 204 or not response.text.strip():
            return None
        body = response.json()
        if isinstance(body, Mapping) and "error" in body and "error_description" in body:
            status = REFUSALS.get(str(body["error"]).lower(), 0)
            raise self.error(status, error_text(response.text), target, sent=response.status)
        return body

    def pages(self, path: str, *, page_param: str = "page", accept: str = JSON,
              **params: Any) -> Iterator[Any]:
        """Every record of a paged list, from page 0 until the server says it was the last."""
        cursor: Mapping[str, Any] | None = {page_param: 0}
        for _ in range(MAX_PAGES):
            if cursor is None:
                return
            page = self.page(path, cursor, page_param=page_param, accept=accept, **params)
            yield from page.rows
            cursor = page.next

    def page(self, path: str, cursor: Mapping[str, Any], *, page_param: str = "page",
             accept: str = JSON, **params: Any) -> Page:
        """The page `cursor` names ({page_param: n, and any other parameters}), with the cursor
        of the next one, None after the last."""
        number = to_int(cursor.get(page_param) or 0, field=page_param)
        query: dict[str, Any] = {**params, **cursor, page_param: number, "size": PAGE_SIZE}
        page = as_object(self.get(path, accept=accept, **query), what=f"page {number} of {path}")
        rows = pick(page, "content")
        if not isinstance(rows, list):
            raise SchemaError(f"{where(self.base_url + path)}: content is not a list")
        total, elements = page.get("totalPages"), page.get("totalElements")
        pages = None if total is None else to_int(total, field="totalPages")
        last = not rows or page.get("last") is True or (pages is not None and number + 1 >= pages)
        return Page(rows, None if last else {**cursor, page_param: number + 1}, pages_total=pages,
                    rows_total=None if elements is None else to_int(elements, field="totalElements"))

    def error(self, status: int, text: str, url: str, *, sent: int | None = None) -> UpstreamError:
        """The error for a refusal `status` (0: unknown), sent with HTTP `sent` (else `status`)."""
        for secret in self.secrets:  # an upstream may quote the key it refuses
            text = text.replace(secret, "***")
        place, detail = where(url), f"(HTTP {sent or status}: {text})"
        if status == 401:
            return CredentialsRejected(f"SBI Crypto rejected the {self.credential} {detail}",
                                       status=status)
        if status == 403:
            return CredentialsRejected(
                f"{place}: the {self.credential} may not read this {detail}; check the key's "
                "permissions and the subaccounts it may see", status=status)
        if status == 404:
            # The documented 404 is a subaccount name in a filter that the key cannot see; this
            # client sends no such filter, so the path itself is missing at this base URL, and
            # asking again will not make it appear.
            return UpstreamError(f"{place} does not exist {detail}; {self.missing_hint}",
                                 permanent=True, status=status, reason="not_found")
        if status in (400, 422):
            # The documented 400s and 422s are validation failures of the parameters (dates,
            # page numbers, filters, sort); ours are computed the same way every poll, so
            # the same request would be refused again.
            return UpstreamError(f"{place} refused our parameters {detail}",
                                 permanent=True, status=status, reason="rejected")
        return UpstreamError(f"{place} answered with an error {detail}")


def error_text(body: str) -> str:
    """`error: error_description` from an error body, or the start of a body without them."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, Mapping) and ("error" in parsed or "error_description" in parsed):
        words = [str(parsed[key]) for key in ("error", "error_description") if parsed.get(key)]
        return ": ".join(words)[:200] or "no message"
    return " ".join(body.split())[:200] or "no message"


def mhs(value: Any, *, field: str) -> float:
    return hashrate_from_unit(value, "M", field=field)


def triple(values: Any, *, field: str) -> tuple[float, float, float]:
    """A [10m, 1h, 1d] list in MH/s as H/s."""
    if not isinstance(values, list) or len(values) < len(WINDOWS):
        raise SchemaError(f"{field} is not a list of 10m, 1h and 1d hashrates")
    ten, hour, day = (mhs(values[i], field=f"{field}[{i}]") for i in range(len(WINDOWS)))
    return ten, hour, day


def moment(value: Any, *, field: str) -> datetime | None:
    """An ISO 8601 time ("2021-09-17T10:04:49.000+00:00", "...Z"); null or "" for none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return from_utc_text(value, field=field)


def required_moment(record: Record, key: str) -> datetime:
    found = moment(pick(record, key), field=key)
    if found is None:
        raise SchemaError(f"{key} is empty")
    return found


def text(record: Record, key: str) -> str:
    value = record.get(key)
    return "" if value is None else str(value).strip()


def required_text(record: Record, key: str) -> str:
    found = text(record, key)
    if not found:
        raise SchemaError(f"{key} is empty")
    return found


def listed(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise SchemaError(f"expected a list, got {type(value).__name__}")
    return value


def coin_code(record: Record, key: str) -> str:
    """A coin sent as its code ("BTC") or as an object with one ({"code": "BTC", ...})."""
    value = pick(record, key)
    if isinstance(value, Mapping):
        value = pick(value, "code")
    code = "" if value is None else str(value).strip().upper()
    if not code:
        raise SchemaError(f"{key} has no coin code")
    return code
