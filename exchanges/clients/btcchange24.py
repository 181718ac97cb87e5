"""btcchange24: the public rate export (XML, JSON or TXT) and the partner API."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from dashboard.http import CredentialsRejected, SchemaError, UpstreamError, where
from dashboard.sources import PollContext
from exchanges.clients import exchanger_base as eb
from pools.clients.base import as_object, from_epoch, parse_records, pick, shown, to_decimal, to_int

T = TypeVar("T")
Record = Mapping[str, Any]

EXPORT_FORMATS = ("xml", "json", "txt")
PARTNER_PATH = "/service/partner/api.php"
DEFAULT_HISTORY_DAYS = 30
# Partner rows are read again from a little before the last success, in case the upstream
# records an exchange or a click after its own timestamp.
OVERLAP = timedelta(hours=1)
ERROR_BODY = re.compile(r"(?:<\?xml[^>]*\?>\s*)?<error>(.*)</error>|(maintenance)", re.I | re.S)
TXT_FIELDS = ("from", "to", "in", "out", "amount")
# The same rate fields under the XML/TXT names and the JSON export's names.
ALIASES = {
    "min": ("minamount", "frommin", "in_min_amount"),
    "max": ("maxamount", "frommax", "in_max_amount"),
    "from_fee": ("fromfee", "in_min_fee"),
    "to_fee": ("tofee", "out_min_fee"),
    "flags": ("param", "options"),
}


def first(record: Record, names: tuple[str, ...]) -> Any:
    return next((record[n] for n in names if record.get(n) not in (None, "")), None)


def amount_with_currency(value: Any, *, field: str) -> tuple[Decimal, str]:
    """`10`, `"10"` or `"10 USD"`: older exports name the currency after the amount."""
    number, _, currency = str(value).strip().partition(" ")
    return to_decimal(number if isinstance(value, str) else value, field=field), currency.strip()


def fee(value: Any, *, field: str) -> eb.Fee | None:
    if value is None:
        return None
    text = str(value).strip()
    if text.endswith("%"):
        return eb.Fee(to_decimal(text[:-1], field=field), is_percent=True)
    return eb.Fee(to_decimal(value, field=field))


def flags(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else str(value or "").split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


def positive(record: Record, key: str) -> Decimal:
    number = to_decimal(pick(record, key), field=key)
    if number <= 0:
        raise SchemaError(f"{key} is not positive: {shown(record[key])}")
    return number


def parse_rate(record: Record) -> eb.ExchangeRate:
    source = str(pick(record, "from")).strip()
    limits: dict[str, Decimal | None] = {"min": None, "max": None}
    currencies = set()
    for key in limits:
        value = first(record, ALIASES[key])
        if value is not None:
            limits[key], currency = amount_with_currency(value, field=key)
            currencies.add(currency or source)
    if len(currencies) > 1:
        raise SchemaError(f"limits are in different currencies: {', '.join(sorted(currencies))}")
    optional = {k: to_decimal(record[k], field=k) for k in ("tomin", "tomax") if record.get(k)}
    return eb.ExchangeRate(
        from_currency=source,
        to_currency=str(pick(record, "to")).strip(),
        rate_in=positive(record, "in"),
        rate_out=positive(record, "out"),
        reserve=to_decimal(pick(record, "amount"), field="amount"),
        min_amount=limits["min"],
        max_amount=limits["max"],
        amount_currency=currencies.pop() if currencies else "",
        to_min=optional.get("tomin"),
        to_max=optional.get("tomax"),
        from_fee=fee(first(record, ALIASES["from_fee"]), field="from_fee"),
        to_fee=fee(first(record, ALIASES["to_fee"]), field="to_fee"),
        city=str(record.get("city") or "").strip(),
        flags=flags(first(record, ALIASES["flags"])),
    )


def xml_rows(text: str) -> list[dict[str, str]]:
    # The standard library parser expands internal entities, so a body declaring any is
    # refused outright rather than risking an entity-expansion bomb.
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise SchemaError("the XML export declares a DTD or entities; refused")
    try:
        root = ET.fromstring(text)  # noqa: S314 - see the DTD check above
    except ET.ParseError as exc:
        raise SchemaError(f"the XML export does not parse ({exc})") from None
    if root.tag == "error":
        raise maintenance(root.text or "")
    if root.tag != "rates":
        raise SchemaError(f"the XML export's root is <{root.tag}>, not <rates>")
    return [{child.tag: (child.text or "").strip() for child in item} for item in root.iter("item")]


def txt_rows(text: str) -> list[Any]:
    rows: list[Any] = []
    for line in filter(None, (line.strip() for line in text.splitlines())):
        values = line.removesuffix(";").split(";")
        # A line of the wrong width is passed on as is, for parse_records to report.
        rows.append(dict(zip(TXT_FIELDS, values, strict=True)) if len(values) == 5 else line)
    return rows


def json_rows(body: Any) -> list[Any]:
    if isinstance(body, Mapping) and "error" in body:
        raise maintenance(str(body["error"]))
    rows = pick(as_object(body, what="the JSON export"), "rates")
    if not isinstance(rows, list):
        raise SchemaError("the JSON export's rates is not a list")
    return rows


def maintenance(text: str) -> UpstreamError:
    return UpstreamError(f"btcchange24 reports: {text.strip()[:100] or 'an error'}",
                         reason="unavailable")


def items(data: Record) -> list[Any]:
    """Partner rows are an object keyed by id; PHP sends an empty one as `[]`."""
    rows = data.get("items") or {}
    if isinstance(rows, Mapping):
        return list(rows.values())
    if isinstance(rows, list):
        return rows
    raise SchemaError("items is neither an object nor a list")


def parse_exchange(row: Record) -> eb.PartnerExchange:
    money = {k: to_decimal(pick(row, k), field=k) for k in (
        "course_give", "course_get", "amount_give", "amount_get", "partner_reward")}
    return eb.PartnerExchange(
        id=str(pick(row, "id")), at=from_epoch(pick(row, "time")),
        succeeded=to_int(pick(row, "exchange_success"), field="exchange_success") == 1,
        accrued=to_int(pick(row, "accrued"), field="accrued") == 1,
        user_hash=str(row.get("user_hash") or ""), **money,
    )


def parse_click(row: Record) -> eb.LinkClicks:
    text = {k: str(row.get(k) or "") for k in ("browser", "ip", "referrer", "user_hash",
                                                  "query_string")}
    return eb.LinkClicks(id=str(pick(row, "id")), at=from_epoch(pick(row, "time")), **text)


class Btcchange24Client:
    def __init__(self, ctx: PollContext) -> None:
        self.ctx = ctx
        self.base_url = ctx.base_url.rstrip("/")
        self.api_key = ctx.credentials.get("api_key") or ""
        self.problems: list[str] = []

    def fetch(self) -> eb.ExchangerSnapshot:
        self.problems = []
        snapshot = eb.ExchangerSnapshot(fetched_at=self.ctx.now, rates=self.rates())
        if self.api_key:
            since, until = self.window()
            snapshot.info = self.info()
            snapshot.exchanges = self.exchanges(since, until)
            snapshot.clicks = self.links(since, until)
        snapshot.problems = self.problems
        return snapshot

    def window(self) -> tuple[datetime, datetime]:
        days = int(self.ctx.options.get("history_days") or DEFAULT_HISTORY_DAYS)
        oldest = self.ctx.now - timedelta(days=days)
        if self.ctx.last_success_at is None:
            return oldest, self.ctx.now
        return max(oldest, self.ctx.last_success_at - OVERLAP), self.ctx.now

    def rates(self) -> list[eb.ExchangeRate]:
        fmt = self.ctx.options.get("export_format") or "xml"
        code = self.ctx.options.get("export_code") or ""
        if fmt not in EXPORT_FORMATS or not code:
            raise UpstreamError("btcchange24 needs an export code and a format of xml, json or txt",
                                permanent=True, reason="rejected")
        url = f"{self.base_url}/service/export/{fmt}/{code}"
        response = self.ctx.http.request("GET", url)
        text = response.text.strip()
        # Every format may answer maintenance as one plain word instead of its own shape.
        error = ERROR_BODY.fullmatch(text)
        if error:
            raise maintenance(error.group(1) or error.group(2))
        parse: dict[str, Callable[[], list[Any]]] = {
            "xml": lambda: xml_rows(text), "json": lambda: json_rows(response.json()),
            "txt": lambda: txt_rows(text),
        }
        return parse_records(parse[fmt](), parse_rate, what=f"btcchange24 {fmt} rate",
                             problems=self.problems)

    def info(self) -> eb.PartnerInfo | None:
        data = self._partner("get_info")
        try:
            return eb.PartnerInfo(
                balance=to_decimal(pick(data, "balance"), field="balance"),
                total_received=to_decimal(pick(data, "totalReceived"), field="totalReceived"),
                link=str(data.get("link") or ""),
                min_payout=to_decimal(pick(data, "min_payout"), field="min_payout"),
                payment_methods=dict(as_object(data.get("items") or {}, what="items")),
            )
        except SchemaError as exc:
            self.problems.append(f"btcchange24 get_info skipped: {exc.message}")
            return None

    def exchanges(self, since: datetime, until: datetime) -> list[eb.PartnerExchange]:
        return self._rows("get_exchanges", parse_exchange, since, until)

    def links(self, since: datetime, until: datetime) -> list[eb.LinkClicks]:
        return self._rows("get_links", parse_click, since, until)

    def _rows(self, method: str, parse: Callable[[Record], T], since: datetime,
              until: datetime) -> list[T]:
        data = self._partner(method, start_time=int(since.timestamp()),
                             end_time=int(until.timestamp()))
        return parse_records(items(data), parse, what=f"btcchange24 {method}",
                             problems=self.problems)

    def _partner(self, method: str, **params: Any) -> Record:
        if not self.api_key:
            raise CredentialsRejected("the btcchange24 partner API needs an api_key")
        url = self.base_url + PARTNER_PATH
        query = {"api_action": "pp", "api_key": self.api_key, "method": method, **params}
        body = as_object(self.ctx.http.get_json(url, params=query), what=f"{where(url)} answer")
        try:
            number = to_int(body.get("error") or 0, field="error")
        except SchemaError as exc:
            raise SchemaError(f"{where(url)}: {exc.message}") from None
        # Both fields say whether it worked; a refusal may set only one of them.
        status = body.get("status")
        refused = status is not None and str(status).strip().lower() != "success"
        if number or refused:
            # An upstream may echo the parameters it refuses.
            # Scrubbed before shortening, which could otherwise cut the key and leave half of it.
            text = str(body.get("error_text") or "no message").replace(self.api_key, "***")[:200]
            said = shown(status).replace(self.api_key, "***")[:40]
            what = f"error {number}" if number else f"status {said}"
            error = CredentialsRejected if "key" in text.lower() else UpstreamError
            raise error(f"{where(url)} {method} answered with {what}: {text}")
        return as_object(pick(body, "data"), what=f"data from {method}")
