"""BTC.com client against recorded bodies, with HTTP faked at the transport."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from dashboard.http import CredentialsRejected, HttpClient, SchemaError, UpstreamError
from dashboard.sources import PollContext
from pools.clients.base import (
    PoolCoinFigures,
    WorkerCounts,
    from_epoch,
    from_yyyymmdd,
    hashrate_from_unit,
    satoshi_to_btc,
    to_decimal,
    to_float,
)
from pools.clients.btccom import BtcComClient
from pools.clients.history import Plan

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "btccom"
BASE = "https://us-pool.api.btc.com"
KEY, PUID = "r_AKtest123456", "88888"
AUTH = {"access_key": KEY, "puid": PUID}
NOW = datetime(2024, 3, 3, 12, 0, tzinfo=UTC)
P, T = 1e15, 1e12

ENDPOINTS = {
    "pool-stats": "/public/v1/pool/stats",
    "pool-stats-merge": "/public/v1/pool/stats/merge",
    "account-info": "/v1/account/info",
    "earn-stats": "/v1/account/earn-stats",
    "earn-history": "/v1/account/earn-history",
    "realtime-hashrate": "/v1/realtime/hashrate",
    "worker-stats": "/v1/worker/stats",
    "worker-list": "/v1/worker",
}


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


# The recorded earn-history is from 2017: the back-fill reads all of it unless a test caps it.
ALL_HISTORY: dict[str, str] = {}


def make_client(
    base_url: str = BASE, *, options: dict[str, str] | None = None,
    last_success_at: datetime | None = None, backfill: bool = True, **credentials: str,
) -> BtcComClient:
    http = HttpClient(retries=1, backoff=0, sleep=lambda seconds: None)
    ctx = PollContext(
        base_url=base_url, credentials=credentials or AUTH, options=options or ALL_HISTORY,
        http=http, now=NOW, last_success_at=last_success_at,
        state={"history": Plan()} if backfill else {},
    )
    return BtcComClient(ctx)


def query(call: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def calls_to(upstream: responses.RequestsMock, endpoint: str) -> list[dict[str, str]]:
    return [query(c) for c in upstream.calls if urlsplit(c.request.url).path == endpoint]


@pytest.fixture
def upstream() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def serve(upstream: responses.RequestsMock, endpoint: str, body: Any, **kwargs: Any) -> None:
    upstream.get(BASE + ENDPOINTS[endpoint], json=body, **kwargs)


def serve_seeds(upstream: responses.RequestsMock, **overrides: Any) -> None:
    """Every endpoint answers its documented example unless overridden."""
    bodies = {name: payload(name) for name in ENDPOINTS if name != "worker-list"}
    bodies["pool-stats-merge"] = payload("pool-stats")
    # The worker-list example is the envelope's data, as the provider documents it.
    bodies["worker-list"] = {"err_no": 0, "data": payload("worker-list")}
    for name, body in {**bodies, **overrides}.items():
        serve(upstream, name, body)


def test_it_parses_the_documented_examples(upstream: responses.RequestsMock) -> None:
    serve_seeds(upstream)
    snapshot = make_client().fetch()

    assert snapshot.problems == [] and snapshot.skipped_records == 0
    assert snapshot.fetched_at == NOW
    assert snapshot.hashrate_hs == pytest.approx(22.55 * P)  # worker/stats, 1 minute
    assert snapshot.hashrate_15m_hs == pytest.approx(22.88 * P)  # realtime/hashrate wins
    assert snapshot.hashrate_24h_hs == pytest.approx(23.33 * P)
    assert [(s.window, s.raw_value, s.raw_unit) for s in snapshot.hashrate_samples] == [
        ("1m", "22.55", "P"), ("5m", "22.79", "P"), ("15m", "22.88", "P"), ("24h", "23.33", "P"),
    ]
    counts = snapshot.worker_counts
    assert counts == WorkerCounts(online=1999, offline=1, dead=1, total=2000)

    assert snapshot.account and snapshot.account.account_id == "88888"
    assert snapshot.account.name == "spica"
    assert snapshot.account.payout_address == "3NA8hsjfdgVkmmVS9moHmkZsVCoLxUkvvv"
    assert snapshot.account.region == "America"
    assert "contact" not in snapshot.account.extra

    [balance] = snapshot.balances
    assert (balance.coin, balance.unpaid, balance.paid_total) == ("BTC", 0, 0)
    assert (balance.today, balance.yesterday, balance.last_paid_at) == (0, 0, None)

    assert [(e.date, e.amount) for e in snapshot.earnings] == [
        (date(2017, 2, 13), Decimal(0)), (date(2017, 2, 12), Decimal("13.80002903")),
    ]
    assert snapshot.earnings[1].extra == {
        "payment_mode": "PPS", "diff": 422170566884, "earnings_rate": 0.044,
    }
    [payout] = snapshot.payouts
    assert payout.paid_at == datetime(2017, 2, 13, 1, 45, 37, tzinfo=UTC)
    assert (payout.coin, payout.amount) == ("BTC", Decimal("13.80002903"))
    assert payout.address == "3NA8hsjfdgVkmmVS9moHmkZsVCoLxUkvvv"
    assert payout.tx == "466af581cbf52af00dc0273ced28c17e8b7a7c6a92a4ce0ae104af4ff0d557c0"

    node, merged = snapshot.pool_stats
    assert (node.scope, merged.scope, node.coin) == ("node", "all", "BTC")
    assert node.hashrate_hs == pytest.approx(114.6 * P)
    assert node.hashrate_15m_hs == pytest.approx(115.8 * P)
    assert node.hashrate_5m_hs == pytest.approx(115.6 * P)
    assert (node.workers, node.users) == (15424, 555)
    assert (node.raw_hashrate, node.raw_unit) == ("114.6", "P")
    assert node.reject_rates == {"1m": 0, "5m": 0, "15m": 0.0007}
    assert snapshot.pool_figures == [PoolCoinFigures(
        "BTC", pool_hashrate_hs=pytest.approx(114.6 * P), miners=555, workers=15424)]
    assert snapshot.coin_hashrates == {}  # a BTC.com account mines BTC alone

    # The example is page 6 of 41 pages: every page is asked for, repeats are dropped.
    assert len(calls_to(upstream, "/v1/worker")) == 41
    assert [w.name for w in snapshot.workers] == ["55x2", "55x19", "55x18"]
    worker = snapshot.workers[0]
    assert (worker.status, worker.pool_status) == ("online", "ACTIVE")
    assert worker.hashrate_hs == pytest.approx(16.41 * T)
    assert worker.hashrate_24h_hs == pytest.approx(11.76 * T)
    assert (worker.raw_hashrate, worker.raw_unit) == ("16.41", "T")
    assert worker.last_share_at == datetime(2017, 4, 19, 1, 52, 28, tzinfo=UTC)
    assert worker.extra["hashrate_15m_hs"] == pytest.approx(13.13 * T)
    assert snapshot.workers[1].extra["worker_id"] == "-1956288636539691820"


def test_it_authenticates_account_calls_only(upstream: responses.RequestsMock) -> None:
    serve_seeds(upstream, **{"worker-list": {"err_no": 0, "data": {"page_count": 1, "data": []}}})
    make_client().fetch()

    for call in upstream.calls:
        path, params = urlsplit(call.request.url).path, query(call)
        if path.startswith("/public/"):
            assert params == {}
        else:
            assert (params["access_key"], params["puid"]) == (KEY, PUID)


def test_it_appends_paths_to_a_base_url_with_a_prefix(upstream: responses.RequestsMock) -> None:
    base = "http://127.0.0.1:8025/simulator/btccom"
    upstream.get(f"{base}/v1/realtime/hashrate", json=payload("realtime-hashrate"))
    assert len(make_client(base).realtime_hashrate()) == 2


@pytest.mark.parametrize(("unit", "factor"), [
    ("H", 1), ("K", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15), ("E", 1e18),
])
def test_it_converts_hashrate_units(unit: str, factor: float) -> None:
    assert hashrate_from_unit("2.5", unit) == pytest.approx(2.5 * factor)
    assert hashrate_from_unit(2.5, unit.lower()) == pytest.approx(2.5 * factor)


def test_it_rejects_an_unknown_unit() -> None:
    with pytest.raises(SchemaError, match="shares_1m has an unknown unit: 'Z'"):
        hashrate_from_unit("1", "Z", field="shares_1m")


def test_it_reads_units_and_numbers_sent_as_numbers(upstream: responses.RequestsMock) -> None:
    serve(upstream, "realtime-hashrate", payload("realtime-hashrate-numbers"))
    serve(upstream, "worker-stats", payload("worker-stats-numbers"))
    serve(upstream, "pool-stats-merge", payload("pool-stats-merge"))
    client = make_client()

    m15, d1 = client.realtime_hashrate()
    assert (m15.hashrate_hs, m15.raw_value, m15.raw_unit) == (pytest.approx(950.5e9), "950.5", "G")
    assert d1.hashrate_hs == pytest.approx(1.25 * T)
    counts, samples = client.worker_stats()
    assert counts and (counts.online, counts.dead, counts.total) == (1999, 0, 2000)
    assert [s.hashrate_hs for s in samples] == pytest.approx(
        [22.55 * T, 22.79 * T, 4.4014015804097e13])
    merged = client.pool_stats(merge=True)
    assert merged and merged.hashrate_hs == pytest.approx(0.5213e18)
    assert (merged.workers, merged.users, merged.reject_rates["15m"]) == (301245, 10236, 0.0007)
    assert client.problems == []


def test_the_pools_figures_are_of_all_its_nodes(upstream: responses.RequestsMock) -> None:
    serve_seeds(upstream, **{"pool-stats-merge": payload("pool-stats-merge")})
    [figures] = make_client().fetch().pool_figures

    assert figures.pool_hashrate_hs == pytest.approx(0.5213e18)
    assert (figures.miners, figures.workers) == (10236, 301245)
    # BTC.com publishes nothing about the network, luck, blocks, fees or payout rates.
    assert (figures.network_hashrate_hs, figures.fee_percent, figures.payout_rate) == (None, None, None)
    assert (figures.luck, figures.blocks, figures.as_of) == ({}, [], None)


def test_the_nodes_figures_stand_in_for_unreadable_merged_ones(upstream: responses.RequestsMock) -> None:
    merged = payload("pool-stats-merge")
    del merged["data"]["users"]
    serve_seeds(upstream, **{"pool-stats-merge": merged})
    snapshot = make_client().fetch()

    assert [(f.pool_hashrate_hs, f.miners) for f in snapshot.pool_figures] == [
        (pytest.approx(114.6 * P), 555)]
    assert snapshot.problems == ["BTC.com /public/v1/pool/stats/merge skipped: field users is missing"]


def test_it_prefers_pure_hashrates(upstream: responses.RequestsMock) -> None:
    serve(upstream, "realtime-hashrate", payload("realtime-hashrate-pure"))
    m15, d1 = make_client().realtime_hashrate()
    assert m15.hashrate_hs == 22884123456789012.0
    assert (m15.raw_value, m15.raw_unit) == ("22884123456789012", "H")
    assert d1.hashrate_hs == 23331234567890123.0


@pytest.mark.parametrize(("value", "expected"), [
    ("22.88", Decimal("22.88")), (22.88, Decimal("22.88")), (7, Decimal(7)),
    ("4.4014015804097E+20", Decimal("440140158040970000000")), (" 0 ", Decimal(0)),
])
def test_it_parses_numbers_from_strings_and_numbers(value: Any, expected: Decimal) -> None:
    assert to_decimal(value) == expected
    assert to_float(value) == pytest.approx(float(expected))


@pytest.mark.parametrize("value", ["-", "", None, "NaN", "inf", True, [1], "12abc"])
def test_it_names_the_field_of_an_unparseable_number(value: Any) -> None:
    with pytest.raises(SchemaError, match=r"^unpaid is not a"):
        to_decimal(value, field="unpaid")
    with pytest.raises(SchemaError, match=r"^shares_1m is not a"):
        to_float(value, field="shares_1m")


def test_satoshi_amounts_stay_exact() -> None:
    assert satoshi_to_btc(1380002903) == Decimal("13.80002903")
    assert satoshi_to_btc("1380002903") == Decimal("13.80002903")
    assert satoshi_to_btc(1) == Decimal("0.00000001")
    assert satoshi_to_btc("2100000000000000") == Decimal(21_000_000)
    assert satoshi_to_btc(123456789012345678) == Decimal("1234567890.12345678")
    with pytest.raises(SchemaError, match="not a whole number"):
        satoshi_to_btc("0.5")


def test_it_parses_dates_and_epochs() -> None:
    assert from_yyyymmdd(20170213) == from_yyyymmdd("20170213") == date(2017, 2, 13)
    assert from_epoch(1492566748) == from_epoch("1492566748") == datetime(
        2017, 4, 19, 1, 52, 28, tzinfo=UTC)
    assert from_epoch(0) is None
    for bad in ("2017-02-13", 201702, "20171301", None):
        with pytest.raises(SchemaError, match="YYYYMMDD"):
            from_yyyymmdd(bad)


def test_it_rejects_bad_key(upstream: responses.RequestsMock) -> None:
    serve(upstream, "account-info", payload("error-20001"))
    with pytest.raises(CredentialsRejected) as caught:
        make_client().fetch()
    assert caught.value.permanent
    assert caught.value.message == (
        "BTC.com rejected the access key and puid (err_no 20001: permissions denied)"
    )
    assert len(upstream.calls) == 1  # a permanent error is not retried


def test_it_reads_the_error_fields_the_prose_names(upstream: responses.RequestsMock) -> None:
    """The document's prose calls the envelope's fields error_no and error_msg."""
    serve(upstream, "account-info", payload("error-prose-names"))
    with pytest.raises(CredentialsRejected) as caught:
        make_client().fetch()
    assert caught.value.permanent
    assert caught.value.message == (
        "BTC.com rejected the access key and puid (error_no 20001: permissions denied)"
    )


def test_a_success_under_the_prose_names_is_read(upstream: responses.RequestsMock) -> None:
    serve(upstream, "pool-stats", payload("success-prose-names"))
    stats = make_client().pool_stats()
    assert stats is not None and stats.workers == 15424
    assert stats.hashrate_5m_hs == pytest.approx(115.6 * P)


def test_an_error_under_either_name_is_an_error(upstream: responses.RequestsMock) -> None:
    serve(upstream, "account-info", {"err_no": 0, "error_no": 20001, "error_msg": "permissions denied"})
    with pytest.raises(CredentialsRejected, match="error_no 20001: permissions denied"):
        make_client().account_info()


def test_pool_stats_without_a_5m_figure_leave_it_unknown(upstream: responses.RequestsMock) -> None:
    body = payload("pool-stats")
    del body["data"]["shares"]["shares_5m"]
    serve(upstream, "pool-stats", body)
    stats = make_client().pool_stats()
    assert stats is not None and stats.hashrate_5m_hs is None
    assert stats.hashrate_15m_hs == pytest.approx(115.8 * P)


def test_it_treats_an_observer_without_permission_as_permanent(
    upstream: responses.RequestsMock,
) -> None:
    serve(upstream, "worker-stats", payload("error-20002"))
    with pytest.raises(CredentialsRejected, match="err_no 20002") as caught:
        make_client().worker_stats()
    assert caught.value.permanent


def test_it_flattens_an_err_msg_object(upstream: responses.RequestsMock) -> None:
    serve(upstream, "earn-history", payload("error-msg-object"))
    with pytest.raises(UpstreamError) as caught:
        make_client(backfill=False).earn_history()
    assert caught.value.message == (
        "us-pool.api.btc.com/v1/account/earn-history refused our parameters "
        "(err_no 1: note: page_size must be between 1 and 50); check the puid"
    )
    assert caught.value.permanent


def test_it_treats_other_error_codes_as_transient(upstream: responses.RequestsMock) -> None:
    serve(upstream, "realtime-hashrate", payload("error-busy"))
    with pytest.raises(UpstreamError) as caught:
        make_client().realtime_hashrate()
    assert not caught.value.permanent
    assert "err_no 10001: system busy" in caught.value.message


def test_no_error_message_contains_the_access_key(upstream: responses.RequestsMock) -> None:
    serve(upstream, "account-info", payload("error-echoes-key"))
    with pytest.raises(CredentialsRejected) as caught:
        make_client().account_info()
    assert KEY not in str(caught.value) and PUID not in str(caught.value)
    assert "access_key: *** does not match puid ***" in caught.value.message


@pytest.mark.parametrize("failure", [
    {"status": 503}, {"body": requests.ConnectTimeout()}, {"body": "<html>Bad Gateway</html>"},
])
def test_errors_from_the_http_layer_never_show_the_access_key(
    upstream: responses.RequestsMock, failure: dict[str, Any],
) -> None:
    upstream.get(BASE + "/v1/account/info", **failure)
    with pytest.raises(UpstreamError) as caught:
        make_client().account_info()
    assert KEY not in str(caught.value) and "access_key" not in str(caught.value)


def test_it_needs_both_credentials() -> None:
    with pytest.raises(CredentialsRejected, match="needs an access key and a puid"):
        make_client(access_key=KEY)


def test_it_reads_every_earn_history_page(upstream: responses.RequestsMock) -> None:
    for page in (1, 2, 3):
        upstream.get(
            BASE + "/v1/account/earn-history", json=payload(f"earn-history-page-{page}"),
            match=[matchers.query_param_matcher({**AUTH, "page": page, "page_size": 50})],
        )
    client = make_client()
    earnings, payouts = client.earn_history()

    assert [c["page"] for c in calls_to(upstream, "/v1/account/earn-history")] == ["1", "2", "3"]
    assert [(e.date, e.amount) for e in earnings] == [
        (date(2024, 3, 3), Decimal("5.12345678")),
        (date(2024, 3, 2), Decimal("4.98765432")),
        (date(2024, 2, 29), Decimal("5.00000000")),
        (date(2024, 2, 28), Decimal("0.00000001")),  # served twice, kept once
        (date(2024, 2, 27), Decimal("4.99999999")),
    ]
    assert [(p.tx[:6], p.amount, p.paid_at) for p in payouts] == [
        ("3a1b5f", Decimal("4.98765432"), datetime(2024, 3, 3, 2, 11, 9, tzinfo=UTC)),
        # One transaction paid two days: one payout, their sum.
        ("9f8e7d", Decimal("9.99999999"), datetime(2024, 3, 1, 1, 0, tzinfo=UTC)),
    ]
    [problem] = client.problems
    assert problem == "BTC.com earn-history record 3 skipped: earnings is not a number: '-'"


@pytest.mark.parametrize(("options", "last_success_at", "pages", "oldest"), [
    # A later poll re-reads from two days before its last success, and no further.
    ({}, NOW - timedelta(hours=1), ["1", "2"], date(2024, 3, 2)),  # 03-01 is the bad record
    # A first poll without a back-fill reads its recent window, no further back than the cap.
    ({"history_days": "4"}, None, ["1", "2", "3"], date(2024, 2, 28)),
])
def test_it_stops_reading_history_at_the_window(
    upstream: responses.RequestsMock, options, last_success_at, pages, oldest
) -> None:
    for page in map(int, pages):
        upstream.get(
            BASE + "/v1/account/earn-history", json=payload(f"earn-history-page-{page}"),
            match=[matchers.query_param_matcher({**AUTH, "page": page, "page_size": 50})],
        )
    client = make_client(options=options, last_success_at=last_success_at, backfill=False)
    earnings, _ = client.earn_history()
    assert [c["page"] for c in calls_to(upstream, "/v1/account/earn-history")] == pages
    assert min(e.date for e in earnings) == oldest


def test_it_reads_every_worker_page(upstream: responses.RequestsMock) -> None:
    for page in (1, 2, 3):
        upstream.get(
            BASE + "/v1/worker", json=payload(f"worker-list-page-{page}"),
            match=[matchers.query_param_matcher(
                {**AUTH, "status": "all", "page": page, "page_size": 50})],
        )
    client = make_client()
    workers = {w.name: w for w in client.workers()}

    # The first page tells the count; the others may arrive in any order.
    assert sorted(c["page"] for c in calls_to(upstream, "/v1/worker")) == ["1", "2", "3"]
    assert list(workers) == ["55x2", "s9-gh", "pure-1", "rack-p", "old-rig", "farm-e"]
    assert workers["s9-gh"].hashrate_hs == pytest.approx(13500.5e9)
    assert workers["s9-gh"].hashrate_24h_hs == pytest.approx(13.49 * T)
    assert workers["pure-1"].hashrate_hs == 11723456789012.0
    assert workers["pure-1"].extra["hashrate_15m_hs"] == 10710000000000.0
    assert (workers["rack-p"].status, workers["rack-p"].pool_status) == ("offline", "INACTIVE")
    assert workers["rack-p"].hashrate_hs == pytest.approx(1.2 * P)
    assert workers["rack-p"].last_share_at == datetime(2017, 4, 19, 1, 40, tzinfo=UTC)
    assert workers["rack-p"].extra["worker_id"] == "-9223372036854775808"
    assert (workers["old-rig"].status, workers["old-rig"].last_share_at) == ("dead", None)
    assert (workers["farm-e"].status, workers["farm-e"].pool_status) == ("online", "active")
    assert workers["farm-e"].hashrate_hs == pytest.approx(0.0012e18)
    assert client.problems == [
        "BTC.com worker list record 6 skipped: shares_1m is not a number: '-'",
    ]


def test_it_follows_a_worker_list_that_grew_while_it_was_read(upstream: responses.RequestsMock) -> None:
    pages = {page: payload(f"worker-list-page-{page}") for page in (1, 2, 3)}
    # By the time page 3 is read, a fourth page exists.
    pages[3]["data"]["page_count"] = 4
    pages[4] = {"err_no": 0, "data": {"page": 4, "page_size": 50, "page_count": 4, "data": [
        {**pages[1]["data"]["data"][0], "worker_name": "late-arrival"}]}}
    for page, body in pages.items():
        upstream.get(BASE + "/v1/worker", json=body, match=[matchers.query_param_matcher(
            {**AUTH, "status": "all", "page": page, "page_size": 50})])

    names = [w.name for w in make_client().workers()]

    assert sorted(c["page"] for c in calls_to(upstream, "/v1/worker")) == ["1", "2", "3", "4"]
    assert names[-1] == "late-arrival"


def test_it_counts_a_record_whose_fields_changed(upstream: responses.RequestsMock) -> None:
    serve_seeds(upstream, **{
        "realtime-hashrate": payload("realtime-hashrate-renamed"),
        "worker-list": {"err_no": 0, "data": {"page_count": 1, "data": []}},
    })
    snapshot = make_client().fetch()

    assert snapshot.skipped_records == 1
    assert snapshot.problems == [
        "BTC.com /v1/realtime/hashrate skipped: field shares_15m is missing",
    ]
    assert snapshot.hashrate_15m_hs == pytest.approx(22.85 * P)  # worker/stats still has it
    assert snapshot.hashrate_24h_hs is None


def test_it_fails_on_a_schema_change(upstream: responses.RequestsMock) -> None:
    serve(upstream, "realtime-hashrate", payload("schema-changed"))
    with pytest.raises(SchemaError, match=r"^us-pool.api.btc.com/v1/realtime/hashrate answered "
                                          r"without data \(fields: code, message, result\)$"):
        make_client().realtime_hashrate()


@pytest.mark.parametrize("body", ["[1, 2]", '"ok"', "null"])
def test_it_fails_on_a_body_that_is_not_an_object(
    upstream: responses.RequestsMock, body: str,
) -> None:
    upstream.get(BASE + "/v1/account/earn-stats", body=body, content_type="application/json")
    with pytest.raises(SchemaError, match="not an object"):
        make_client().earn_stats()


def test_it_fails_on_a_body_that_is_not_json(upstream: responses.RequestsMock) -> None:
    upstream.get(BASE + "/v1/account/earn-stats", body="<html>Maintenance</html>",
                 content_type="text/html")
    with pytest.raises(SchemaError, match="is not JSON"):
        make_client().earn_stats()


def test_it_fails_when_a_page_has_no_list(upstream: responses.RequestsMock) -> None:
    serve(upstream, "worker-list", {"err_no": 0, "data": {"page_count": 3, "list": []}})
    with pytest.raises(SchemaError, match="field data is missing"):
        make_client().workers()


def test_it_retries_a_server_error_then_gives_up(upstream: responses.RequestsMock) -> None:
    serve(upstream, "pool-stats", {"err_no": 0}, status=502)
    with pytest.raises(UpstreamError) as caught:
        make_client().pool_stats()
    assert not caught.value.permanent
    assert (caught.value.status, caught.value.reason) == (502, "unavailable")
    assert len(upstream.calls) == 2


def test_it_reports_a_timeout(upstream: responses.RequestsMock) -> None:
    upstream.get(BASE + "/v1/worker/stats", body=requests.ConnectTimeout())
    with pytest.raises(UpstreamError) as caught:
        make_client().worker_stats()
    assert not caught.value.permanent
    assert caught.value.reason == "timeout"
    assert caught.value.message == (
        "us-pool.api.btc.com/v1/worker/stats did not answer in time (after 2 attempts)"
    )


def test_it_registers_the_kind() -> None:
    from pools.sources import BTCCOM

    assert BTCCOM.load_client() is BtcComClient
    assert BTCCOM.default_base_url({}) == "https://us-pool.api.btc.com"
    assert BTCCOM.default_base_url({"region": "eu"}) == "https://eu-pool.api.btc.com"
    assert BTCCOM.credential_problems({"access_key": KEY}) == [
        "BTC.com pool needs access_key and puid",
    ]
    assert BTCCOM.option_problems({"region": "mars"}) == [
        "option region must be one of us, cn, eu, sz (got 'mars')",
    ]
