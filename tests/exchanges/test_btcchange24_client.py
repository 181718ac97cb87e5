"""btcchange24 client against recorded and documented bodies, with HTTP faked at the transport."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from dashboard.http import CredentialsRejected, HttpClient, SchemaError, UpstreamError
from dashboard.sources import PollContext
from exchanges.clients.btcchange24 import Btcchange24Client
from exchanges.clients.exchanger_base import ExchangeRate, Fee

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "btcchange24"
BASE = "https://www.btcchange24.com"
CODE = "abc123"
KEY = "pk_test_0123456789"
API = f"{BASE}/service/partner/api.php"
NOW = datetime(2024, 3, 3, 12, 0, tzinfo=UTC)


def text(name: str) -> str:
    return (PAYLOADS / name).read_text()


def documented(name: str) -> str:
    """The partner document's examples are JavaScript literals: quote keys, drop trailing commas."""
    body = re.sub(r"(?m)^(\s*)(\w+):", r'\1"\2":', text(name))
    return re.sub(r",(\s*[}\]])", r"\1", body)


def make_client(fmt: str = "xml", *, api_key: str = "", last_success_at: datetime | None = None,
                **options: str) -> Btcchange24Client:
    http = HttpClient(retries=0, backoff=0, sleep=lambda seconds: None)
    ctx = PollContext(
        base_url=BASE, credentials={"api_key": api_key} if api_key else {},
        options={"export_format": fmt, "export_code": CODE, **options}, http=http, now=NOW,
        last_success_at=last_success_at,
    )
    return Btcchange24Client(ctx)


def export(upstream: responses.RequestsMock, fmt: str, body: str, status: int = 200) -> None:
    upstream.add(responses.GET, f"{BASE}/service/export/{fmt}/{CODE}", body=body, status=status)


def partner(upstream: responses.RequestsMock, method: str, body: str) -> None:
    upstream.add(responses.GET, API, body=body,
                 match=[responses.matchers.query_param_matcher({"method": method}, strict_match=False)])


def query(call: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


@pytest.fixture
def upstream() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def test_xml_sample(upstream: responses.RequestsMock) -> None:
    export(upstream, "xml", text("rates-eref-1.1.xml"))
    assert make_client().rates() == [ExchangeRate(
        from_currency="USDT", to_currency="CASHUSD", rate_in=Decimal(1), rate_out=Decimal("1.2"),
        reserve=Decimal(2000000), min_amount=Decimal(100), max_amount=Decimal(1000),
        amount_currency="USDT", to_min=Decimal(120), to_max=Decimal(1200),
        from_fee=Fee(Decimal(10)), to_fee=Fee(Decimal("0.01"), is_percent=True), city="FNCH",
        flags=("manual",),
    )]


def test_json_sample_reads_its_own_field_names(upstream: responses.RequestsMock) -> None:
    export(upstream, "json", text("rates.json"))
    first, second = make_client("json").rates()
    assert (first.from_currency, first.to_currency, first.rate_out, first.reserve) == (
        "WMZ", "WMR", Decimal("44.62"), Decimal("32092.23"))
    assert first.min_amount is None and first.flags == () and first.from_fee is None
    assert second.rate_in == Decimal("45.12") and second.reserve == Decimal("1255.70")
    assert second.min_amount == Decimal(100) and second.amount_currency == "WMR"
    assert second.from_fee == Fee(Decimal(5)) and second.to_fee == Fee(Decimal(1), is_percent=True)
    assert second.flags == ("manual",)


def test_txt_sample_with_trailing_semicolon(upstream: responses.RequestsMock) -> None:
    export(upstream, "txt", text("rates.txt"))
    rates = make_client("txt").rates()
    assert [(r.from_currency, r.to_currency, r.rate_in, r.rate_out, r.reserve) for r in rates] == [
        ("WMZ", "WMR", Decimal(1), Decimal("44.62"), Decimal("32092.23")),
        ("WMR", "WMZ", Decimal("45.12"), Decimal(1), Decimal("1255.70")),
    ]


def test_xml_currency_suffix_percent_flags_and_bad_records(upstream: responses.RequestsMock) -> None:
    export(upstream, "xml", text("rates-mixed.xml"))
    client = make_client()
    (rate,) = client.rates()
    assert (rate.min_amount, rate.max_amount, rate.amount_currency) == (
        Decimal(10), Decimal(5000), "USD")
    assert rate.from_fee == Fee(Decimal("0.5"), is_percent=True)
    assert rate.flags == ("manual", "juridical")
    assert len(client.problems) == 2
    assert "record 2 skipped: out is not a number" in client.problems[0]
    assert "record 3 skipped: field to is missing" in client.problems[1]


def test_json_numbers_as_strings_and_bad_records(upstream: responses.RequestsMock) -> None:
    export(upstream, "json", text("rates-strings.json"))
    client = make_client("json")
    (rate,) = client.rates()
    assert rate.rate_out == Decimal("44014.015804097") and rate.reserve == Decimal("250000.00")
    assert rate.to_fee == Fee(Decimal(1)) and rate.flags == ("manual", "reg")
    assert [p.split(":")[0] for p in client.problems] == [
        "btcchange24 json rate record 2 skipped", "btcchange24 json rate record 3 skipped"]


def test_txt_bad_line_is_skipped(upstream: responses.RequestsMock) -> None:
    export(upstream, "txt", text("rates-bad.txt"))
    client = make_client("txt")
    assert [r.from_currency for r in client.rates()] == ["BTC", "PMUSD"]
    assert len(client.problems) == 1 and "record 2" in client.problems[0]


@pytest.mark.parametrize(("fmt", "name"), [
    ("xml", "maintenance.xml"), ("json", "maintenance.json"), ("txt", "maintenance.txt"),
    ("json", "maintenance.xml"), ("txt", "maintenance.xml"), ("xml", "maintenance.txt"),
])
def test_maintenance_is_transient(upstream: responses.RequestsMock, fmt: str, name: str) -> None:
    export(upstream, fmt, text(name))
    with pytest.raises(UpstreamError) as caught:
        make_client(fmt).rates()
    assert not caught.value.permanent and "Maintenance" in caught.value.message


def test_xml_with_dtd_is_refused(upstream: responses.RequestsMock) -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rates>&a;</rates>'
    export(upstream, "xml", bomb)
    with pytest.raises(SchemaError, match="DTD"):
        make_client().rates()


def test_malformed_export_is_a_schema_error(upstream: responses.RequestsMock) -> None:
    export(upstream, "xml", "<rates><item>")
    with pytest.raises(SchemaError):
        make_client().rates()


def test_missing_export_code_is_permanent() -> None:
    client = make_client(export_code="")
    with pytest.raises(UpstreamError) as caught:
        client.rates()
    assert caught.value.permanent


def test_documented_partner_answers(upstream: responses.RequestsMock) -> None:
    client = make_client(api_key=KEY)
    partner(upstream, "get_info", documented("partner-get-info.doc.txt"))
    partner(upstream, "get_exchanges", documented("partner-get-exchanges.doc.txt"))
    partner(upstream, "get_links", documented("partner-get-links.doc.txt"))
    info = client.info()
    assert info is not None
    assert (info.balance, info.total_received, info.link, info.min_payout) == (
        Decimal(15), Decimal(0), "test", Decimal(99999999))
    (exchange,) = client.exchanges(NOW - timedelta(days=1), NOW)
    assert exchange.id == "1895" and exchange.at == datetime(2020, 5, 24, 21, 37, 44, tzinfo=UTC)
    assert exchange.amount_get == Decimal("241.57") and exchange.succeeded and exchange.accrued
    (click,) = client.links(NOW - timedelta(days=1), NOW)
    assert click.id == "1631577600" and click.browser == "Unknown" and click.user_hash == "613fe600"
    assert query(upstream.calls[1]) == {
        "api_action": "pp", "api_key": KEY, "method": "get_exchanges",
        "start_time": str(int((NOW - timedelta(days=1)).timestamp())),
        "end_time": str(int(NOW.timestamp())),
    }


def test_partner_strings_and_bad_row(upstream: responses.RequestsMock) -> None:
    partner(upstream, "get_exchanges", text("partner-get-exchanges-strings.json"))
    client = make_client(api_key=KEY)
    (exchange,) = client.exchanges(NOW, NOW)
    assert exchange.partner_reward == Decimal("0.43") and not exchange.accrued
    assert "get_exchanges record 2 skipped: course_get is not a number" in client.problems[0]


def test_partner_error_envelope_hides_key(upstream: responses.RequestsMock) -> None:
    partner(upstream, "get_info", text("partner-error.json").replace("Invalid", f"Invalid {KEY}"))
    with pytest.raises(CredentialsRejected) as caught:
        make_client(api_key=KEY).info()
    assert KEY not in caught.value.message and "error 3" in caught.value.message


def test_fetch_without_key_reads_rates_only(upstream: responses.RequestsMock) -> None:
    export(upstream, "xml", text("rates-mixed.xml"))
    snapshot = make_client().fetch()
    assert snapshot.fetched_at == NOW and len(snapshot.rates) == 1 and len(snapshot.problems) == 2
    assert snapshot.info is None and snapshot.exchanges == [] and snapshot.clicks == []
    assert len(upstream.calls) == 1


@pytest.mark.parametrize(("last_success_at", "options", "start"), [
    (None, {}, NOW - timedelta(days=30)),
    (None, {"history_days": "2"}, NOW - timedelta(days=2)),
    (NOW - timedelta(minutes=10), {}, NOW - timedelta(minutes=70)),
    (NOW - timedelta(days=90), {}, NOW - timedelta(days=30)),
])
def test_fetch_window_advances(upstream: responses.RequestsMock, last_success_at: datetime | None,
                               options: dict[str, str], start: datetime) -> None:
    export(upstream, "txt", text("rates.txt"))
    partner(upstream, "get_info", documented("partner-get-info.doc.txt"))
    partner(upstream, "get_exchanges", documented("partner-get-exchanges.doc.txt"))
    partner(upstream, "get_links", documented("partner-get-links.doc.txt"))
    snapshot = make_client("txt", api_key=KEY, last_success_at=last_success_at, **options).fetch()
    assert len(snapshot.rates) == 2 and snapshot.info is not None
    assert len(snapshot.exchanges) == 1 and len(snapshot.clicks) == 1 and snapshot.problems == []
    windows = {(q["start_time"], q["end_time"]) for q in map(query, upstream.calls[2:])}
    assert windows == {(str(int(start.timestamp())), str(int(NOW.timestamp())))}


def test_partner_json_is_checked(upstream: responses.RequestsMock) -> None:
    partner(upstream, "get_info", json.dumps(["not", "an", "object"]))
    with pytest.raises(SchemaError):
        make_client(api_key=KEY).info()


def test_a_status_other_than_success_is_an_error_even_with_error_0(
    upstream: responses.RequestsMock,
) -> None:
    """The document's envelope carries both `status` and `error`; either may say it failed."""
    partner(upstream, "get_info", documented("partner-status-error.doc.txt"))
    with pytest.raises(UpstreamError) as caught:
        make_client(api_key=KEY).info()
    assert not isinstance(caught.value, CredentialsRejected) and not caught.value.permanent
    assert caught.value.message == (
        "www.btcchange24.com/service/partner/api.php get_info answered with status 'error': "
        "Method temporarily disabled")


def test_a_refused_key_under_a_failed_status_is_a_credentials_error(
    upstream: responses.RequestsMock,
) -> None:
    body = documented("partner-status-error.doc.txt").replace(
        "Method temporarily disabled", f"Invalid api key {KEY}")
    partner(upstream, "get_exchanges", body)
    with pytest.raises(CredentialsRejected) as caught:
        make_client(api_key=KEY).exchanges(NOW, NOW)
    assert KEY not in caught.value.message and "status 'error'" in caught.value.message


def test_the_documented_success_status_passes(upstream: responses.RequestsMock) -> None:
    partner(upstream, "get_info", documented("partner-get-info.doc.txt").replace(
        '"success"', '"Success"'))
    assert make_client(api_key=KEY).info() is not None
