"""BTCpool.kz client against recorded bodies, with HTTP faked at the transport."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from dashboard.http import CredentialsRejected, HttpClient, SchemaError, UpstreamError
from dashboard.sources import PollContext
from pools.clients.base import HashrateSample, PoolCoinFigures, WorkerCounts
from pools.clients.btcpoolkz import BtcPoolKzClient

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "btcpoolkz"
BASE = "https://btcpool.kz"
URL = f"{BASE}/ru/api"
KEY = "5f42fd-1119a9-011313-c043cd-bd6d52"  # the documentation's example key
NOW = datetime(2023, 5, 2, 12, 0, tzinfo=UTC)  # just after the documented examples
LATER = datetime(2025, 6, 15, 12, 5, tzinfo=UTC)  # just after the recorded pages
ACCOUNT_METHODS = ("summary_data", "workers", "profit_history", "payment_history")
LIST_METHODS = ("workers", "profit_history", "payment_history")
EMPTY_PAGE = {"status": "OK", "data": [], "count": 0, "offset": 0, "limit": 100, "total": 0}


class Pages(dict[int, Any]):
    """Bodies by the offset asked for."""


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def seeds(**overrides: Any) -> dict[str, Any]:
    """Every method answers its documented example unless overridden."""
    bodies = {method: payload(method.replace("_", "-")) for method in (*ACCOUNT_METHODS, "main_stat")}
    return {**bodies, **overrides}


def params_of(call: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def calls_to(upstream: responses.RequestsMock, method: str) -> list[dict[str, str]]:
    return [params_of(c) for c in upstream.calls if params_of(c)["method"] == method]


@pytest.fixture
def upstream() -> Iterator[responses.RequestsMock]:
    # Each method is served whether or not a test's client gets as far as calling it.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def documented_query(method: str, currency: str) -> dict[str, str]:
    """The parameters the document gives each method: every one `v=1` and its name; account
    methods the coin; list methods a page (the offset is checked by the Pages served)."""
    query = {"v": "1", "method": method}
    if method != "main_stat":
        query["currency"] = currency
    if method in LIST_METHODS:
        query["limit"] = "100"
    return query


def serve(upstream: responses.RequestsMock, answers: Mapping[str, Any], url: str = URL,
          currency: str = "BTC") -> None:
    """Answer each method with a body, (HTTP status, body, headers) or Pages; a str body is
    sent as is. A request without the method's documented parameters matches nothing, and
    the mock then fails it."""

    def reply(request: Any) -> tuple[int, dict[str, str], str]:
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        answer = answers[query["method"]]
        if isinstance(answer, Pages):
            answer = answer[int(query["offset"])]
        status, body, headers = answer if isinstance(answer, tuple) else (200, answer, {})
        text = body if isinstance(body, str) else json.dumps(body)
        return status, {"Content-Type": "application/json", **headers}, text

    for method in answers:
        # main_stat takes no coin and no key, so its match is strict.
        upstream.add_callback(responses.GET, url, callback=reply, match=[
            responses.matchers.query_param_matcher(documented_query(method, currency),
                                                   strict_match=method == "main_stat")])


def make_client(
    *, now: datetime = NOW, last_success_at: datetime | None = None, base_url: str = BASE,
    credentials: Mapping[str, str] | None = None, **options: str,
) -> BtcPoolKzClient:
    http = HttpClient(retries=0, backoff=0, sleep=lambda seconds: None)
    return BtcPoolKzClient(PollContext(
        base_url=base_url, credentials={"api_key": KEY} if credentials is None else credentials,
        options=options, http=http, now=now, last_success_at=last_success_at,
    ))


def test_it_parses_the_documented_examples(upstream: responses.RequestsMock) -> None:
    serve(upstream, seeds())
    snapshot = make_client().fetch()

    assert snapshot.problems == [] and snapshot.fetched_at == NOW
    assert (snapshot.hashrate_hs, snapshot.hashrate_15m_hs, snapshot.hashrate_24h_hs) == (0, None, 0)
    assert snapshot.hashrate_samples == [
        HashrateSample(NOW, "10m", 0.0, "0", "H"), HashrateSample(NOW, "1h", 0.0, "0", "H"),
        HashrateSample(NOW, "24h", 0.0, "0", "H"),
    ]
    assert snapshot.worker_counts == WorkerCounts(online=0, offline=0, dead=0, total=0)
    [balance] = snapshot.balances
    assert (balance.coin, balance.unpaid) == ("BTC", Decimal("0.00015744"))
    assert (balance.today, balance.yesterday) == (Decimal("0.00045919"), Decimal("0.00074764"))
    # Neither is reported, and a later poll's window may hold no payment to infer them from:
    # unknown, not zero.
    assert (balance.paid_total, balance.last_paid_at) == (None, None)

    assert [e.date for e in snapshot.earnings] == [date(2023, 4, 26) + timedelta(days=n) for n in range(7)]
    first = snapshot.earnings[0]
    assert (first.coin, first.amount) == ("BTC", Decimal("0.00076085"))
    assert first.extra == {"pps": "0.00073035", "pplns": "0.00003050", "hashrate_hs": 293286989405200.68}
    assert all(Decimal(e.extra["pps"]) + Decimal(e.extra["pplns"]) == e.amount for e in snapshot.earnings)

    newest, older = snapshot.payouts
    assert newest.paid_at == datetime(2023, 5, 2, 8, 58, 55, tzinfo=UTC)
    assert (newest.coin, newest.amount) == ("BTC", Decimal("0.00149377"))
    assert newest.address == "bc1qllf33yhp7m80sfm35fce0tagcckey7dljauwd5"
    assert newest.tx == "7f37726aca676a11ae30277d1a12bfec761f3523dc64c151abe2ec7d410c36fb"
    assert older.amount == Decimal("0.00137954")

    assert [(s.scope, s.coin) for s in snapshot.pool_stats] == [
        (scope, coin) for coin in ("BTC", "BCH", "LTC") for scope in ("all", "network")]
    pool, network = snapshot.pool_stats[:2]
    assert pool.hashrate_hs == 109444141315644889.0 and pool.workers == 1853
    assert (pool.raw_hashrate, pool.raw_unit) == ("109444141315644889", "H")
    assert network.hashrate_hs == 4.4014015804097e20 and network.raw_hashrate == "4.4014015804097E+20"
    assert snapshot.pool_stats[5].hashrate_hs == 700700000000000.0
    # Every coin's figures: they are the pool's, whichever coin the account mines.
    assert [f.coin for f in snapshot.pool_figures] == ["BTC", "BCH", "LTC"]
    btc, bch = snapshot.pool_figures[:2]
    assert btc == PoolCoinFigures(
        "BTC", pool_hashrate_hs=109444141315644889.0, network_hashrate_hs=4.4014015804097e20,
        network_difficulty=52391178981379.0, miners=1853, fee_percent=Decimal(1))
    assert bch.network_difficulty == 404189587524.26
    assert snapshot.coin_hashrates == {}

    assert [w.name for w in snapshot.workers] == ["worker1", "6094", "897", "8d77", "1x5", "9be6"]
    retired, recent = snapshot.workers[:2]
    assert (retired.status, retired.pool_status) == ("dead", "inactive")
    assert retired.last_share_at == datetime(2023, 4, 11, 23, 17, 39, tzinfo=UTC)
    assert (recent.status, recent.pool_status, recent.hashrate_hs) == ("offline", "inactive", 0)
    assert recent.last_share_at == datetime(2023, 5, 2, 10, 40, tzinfo=UTC)
    assert (recent.raw_hashrate, recent.raw_unit, recent.hashrate_24h_hs) == ("0", "H", 0)
    assert recent.extra == {"worker_id": "23890575", "hashrate_1h_hs": 0.0, "reject_rate": "0.00000000"}


def test_it_sends_the_key_header_and_the_documented_parameters(upstream: responses.RequestsMock) -> None:
    serve(upstream, seeds())
    make_client().fetch()

    for call in upstream.calls:
        assert urlsplit(call.request.url).path == "/ru/api"
        params = params_of(call)
        assert params["v"] == "1"
        if params["method"] == "main_stat":
            assert params == {"v": "1", "method": "main_stat"}
            assert "X-API-KEY" not in call.request.headers
        else:
            assert params["currency"] == "BTC"
            assert call.request.headers["X-API-KEY"] == KEY
    [workers] = calls_to(upstream, "workers")
    assert workers == {"v": "1", "method": "workers", "currency": "BTC", "limit": "100", "offset": "0"}
    assert set(calls_to(upstream, "summary_data")[0]) == {"v", "method", "currency"}
    assert set(calls_to(upstream, "profit_history")[0]) == {
        "v", "method", "currency", "from", "to", "limit", "offset"}


def test_it_pages_by_the_rows_received_until_the_total(upstream: responses.RequestsMock) -> None:
    # Both examples echo an offset and a limit other than those asked for.
    serve(upstream, seeds())
    snapshot = make_client().fetch()

    profit_pages = calls_to(upstream, "profit_history")
    assert [(p["offset"], p["limit"]) for p in profit_pages] == [("0", "100"), ("7", "100")]
    payment_pages = calls_to(upstream, "payment_history")
    assert [p["offset"] for p in payment_pages] == ["0", "2", "4", "6", "8", "10"]
    assert all(p["from"] == payment_pages[0]["from"] for p in payment_pages)
    # The examples answer the same rows for every offset: repeats are dropped.
    assert len(snapshot.earnings) == 7 and len(snapshot.payouts) == 2


def test_it_reads_every_page_to_the_last(upstream: responses.RequestsMock) -> None:
    serve(upstream, seeds(
        workers=Pages({0: payload("workers-page-1"), 3: payload("workers-page-2")}),
        payment_history=Pages({0: payload("payment-history-page-1"),
                               2: payload("payment-history-page-2")}),
    ))
    snapshot = make_client(now=LATER).fetch()

    assert [p["offset"] for p in calls_to(upstream, "workers")] == ["0", "3"]
    assert [p["offset"] for p in calls_to(upstream, "payment_history")] == ["0", "2"]
    assert [w.name for w in snapshot.workers] == [
        "s19xp-03", "s19jpro-02", "s19jpro-01", "s19jpro-07", "spare"]
    assert [p.amount for p in snapshot.payouts] == [
        Decimal("0.00696809"), Decimal("0.00716932"),
        Decimal("0.00717237"),  # two payments in one transaction, added up
    ]


def test_an_empty_page_ends_the_listing(upstream: responses.RequestsMock) -> None:
    short = {**payload("workers"), "total": 600}  # claims more rows than it ever sends
    serve(upstream, seeds(workers=Pages({0: short, 6: EMPTY_PAGE})))
    assert len(make_client().workers()) == 6
    assert len(calls_to(upstream, "workers")) == 2


@pytest.mark.parametrize(("last_success_at", "options", "start"), [
    (None, {}, "2023-04-02"),  # the first poll's own window: 30 days, the back-fill does the rest
    (None, {"history_days": "7"}, "2023-04-25"),
    (NOW - timedelta(minutes=1), {}, "2023-04-30"),  # later polls re-read the last days
    (NOW - timedelta(days=10), {}, "2023-04-20"),  # after an outage, from before it began
    (NOW - timedelta(days=400), {}, "2022-03-26"),  # however long ago
    (NOW - timedelta(days=400), {"history_days": "90"}, "2023-02-01"),  # but not before a cap
])
def test_history_is_read_over_a_window(
    upstream: responses.RequestsMock, last_success_at: datetime | None, options: dict[str, Any],
    start: str,
) -> None:
    serve(upstream, seeds())
    make_client(last_success_at=last_success_at, **options).fetch()
    for method in ("profit_history", "payment_history"):
        for page in calls_to(upstream, method):
            # The pool's calendar runs ahead of UTC, so "to" is tomorrow.
            assert (page["from"], page["to"]) == (start, "2023-05-03")
    assert "from" not in calls_to(upstream, "workers")[0]


def test_the_currency_option_picks_the_coin(upstream: responses.RequestsMock) -> None:
    serve(upstream, seeds(), currency="LTC")
    snapshot = make_client(currency="ltc").fetch()
    assert {p["currency"] for m in ACCOUNT_METHODS for p in calls_to(upstream, m)} == {"LTC"}
    assert {e.coin for e in snapshot.earnings} | {p.coin for p in snapshot.payouts} == {"LTC"}
    assert snapshot.balances[0].coin == "LTC"
    assert {s.coin for s in snapshot.pool_stats} == {"BTC", "BCH", "LTC"}


@pytest.mark.parametrize(("options", "message"), [
    ({"currency": "DOGE"}, "currency must be one of BTC, BCH, LTC, not 'DOGE'"),
    ({"history_days": "ninety"}, "history_days must be a whole number of days, not 'ninety'"),
    ({"history_days": "0"}, "history_days must be a whole number of days, not '0'"),
])
def test_it_refuses_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        make_client(**options)
    assert caught.value.permanent and caught.value.message == f"BTCpool.kz option {message}"


def test_it_needs_an_api_key() -> None:
    with pytest.raises(CredentialsRejected, match="needs an API key"):
        make_client(credentials={"api_key": " "})


def test_it_reads_hashrates_and_amounts_in_exponent_notation(upstream: responses.RequestsMock) -> None:
    serve(upstream, seeds(summary_data=payload("summary-data-exponent"),
                          workers=payload("workers-page-1") | {"total": 3}))
    snapshot = make_client(now=LATER).fetch()

    assert snapshot.hashrate_hs == 4.4014015804097e15
    assert [s.raw_value for s in snapshot.hashrate_samples] == [
        "4.4014015804097E+15", "4.39E+15", "4401401580409700"]
    assert snapshot.hashrate_24h_hs == 4401401580409700.0
    assert snapshot.balances[0].unpaid == Decimal("0.00015744")
    fast, slower, _ = snapshot.workers
    assert (fast.hashrate_hs, fast.raw_hashrate) == (103445929054780.0, "1.0344592905478E+14")
    assert fast.extra["hashrate_1h_hs"] == 101176394255160.0
    assert slower.hashrate_hs == 95612730654614.25


def test_dead_means_inactive_for_more_than_a_day(upstream: responses.RequestsMock) -> None:
    serve(upstream, seeds(workers=Pages({0: payload("workers-page-1"), 3: payload("workers-page-2")})))
    snapshot = make_client(now=LATER).fetch()

    by_name = {w.name: w for w in snapshot.workers}
    assert by_name["s19xp-03"].status == "online"
    assert by_name["s19jpro-01"].status == "offline"  # inactive for 35 minutes
    assert by_name["s19jpro-07"].status == "dead"  # inactive for three days
    assert (by_name["spare"].status, by_name["spare"].last_share_at) == ("dead", None)  # never active
    # The summary's example counts no workers at all; the dead never outnumber its inactive.
    assert snapshot.worker_counts == WorkerCounts(online=0, offline=0, dead=0, total=0)


def test_the_summary_counts_split_inactive_into_offline_and_dead(upstream: responses.RequestsMock) -> None:
    serve(upstream, seeds(summary_data=payload("summary-data-exponent"),
                          workers=Pages({0: payload("workers-page-1"), 3: payload("workers-page-2")})))
    counts = make_client(now=LATER).fetch().worker_counts
    assert counts == WorkerCounts(online=38, offline=0, dead=2, total=40)


def test_bad_records_are_skipped_and_noted(upstream: responses.RequestsMock) -> None:
    serve(upstream, seeds(
        workers=payload("workers-bad-records"), profit_history=payload("profit-history-bad-record"),
        main_stat=payload("main-stat-bad-coin"), summary_data=payload("summary-data-bad-number"),
    ))
    snapshot = make_client(now=LATER).fetch()

    assert [w.name for w in snapshot.workers] == ["good"]
    assert [e.date for e in snapshot.earnings] == [date(2023, 4, 27)]
    assert [(s.scope, s.coin) for s in snapshot.pool_stats] == [("all", "BTC"), ("network", "BTC")]
    assert [f.coin for f in snapshot.pool_figures] == ["BTC"]
    assert snapshot.balances == [] and snapshot.worker_counts is None and snapshot.hashrate_hs is None
    assert snapshot.problems == [
        "BTCpool.kz summary_data skipped: hashrate_10min is not a number: '-'",
        "BTCpool.kz workers record 1 skipped: hashrate_10min is not a number: '-'",
        "BTCpool.kz workers record 2 skipped: worker odd-status: unknown worker_status '2'",
        "BTCpool.kz workers record 3 skipped: worker_name is empty",
        "BTCpool.kz profit_history record 1 skipped: date is not a YYYY-MM-DD date: '26.04.2023'",
        "BTCpool.kz main_stat BCH skipped: poolHs is not a number: '-'",
    ]


def test_the_pools_figures_do_without_difficulty_and_fee(upstream: responses.RequestsMock) -> None:
    body = payload("main-stat")
    for key in ("networkDiff", "fee"):
        del body["data"]["LTC"][key]
    body["data"]["BCH"]["fee"] = "0.5"
    serve(upstream, seeds(main_stat=body))
    figures = {f.coin: f for f in make_client().fetch().pool_figures}

    assert (figures["LTC"].network_difficulty, figures["LTC"].fee_percent) == (None, None)
    assert figures["LTC"].pool_hashrate_hs == 2419498243.0
    assert figures["BCH"].fee_percent == Decimal("0.5")


def test_the_body_status_wins_over_the_http_status(upstream: responses.RequestsMock) -> None:
    serve(upstream, seeds(summary_data=(500, payload("summary-data"), {})))
    assert make_client().fetch().balances[0].unpaid == Decimal("0.00015744")


@pytest.mark.parametrize(("http_status", "body", "message"), [
    (200, "error-invalid-key", "BTCpool.kz rejected the API key (status ERROR: Invalid API key)"),
    (403, "error-invalid-key", "BTCpool.kz rejected the API key (status ERROR: Invalid API key)"),
    (200, "error-invalid-key-ru", "BTCpool.kz rejected the API key (status ERROR: Неверный API ключ)"),
    (401, "error-no-message", "BTCpool.kz rejected the API key (status FAIL: no message)"),
    (200, "error-echoes-key", "BTCpool.kz rejected the API key (status ERROR: API key *** is not valid)"),
    (401, "<html>Unauthorized</html>", "btcpool.kz/ru/api rejected the credentials (HTTP 401); "
                                       "check the key and its permissions"),
])
def test_it_rejects_bad_key(
    upstream: responses.RequestsMock, http_status: int, body: str, message: str,
) -> None:
    sent = body if body.startswith("<") else payload(body)
    serve(upstream, seeds(summary_data=(http_status, sent, {})))
    with pytest.raises(CredentialsRejected) as caught:
        make_client().fetch()
    assert caught.value.permanent and caught.value.message == message
    assert KEY not in caught.value.message
    assert len(upstream.calls) == 1  # nothing else is asked with a rejected key


BUSY = ("btcpool.kz/ru/api (workers) answered with an error "
        "(status ERROR: Service temporarily unavailable, try again later)")


@pytest.mark.parametrize(("http_status", "body", "headers", "message"), [
    (200, "error-busy", {}, BUSY),
    (503, "error-busy", {"Retry-After": "30"}, BUSY),
    (500, "error-no-message", {}, "btcpool.kz/ru/api (workers) answered with an error "
                                  "(status FAIL: no message)"),
    (503, "", {}, "btcpool.kz/ru/api is failing (HTTP 503)"),
    (502, "<html><h1>502 Bad Gateway</h1></html>", {}, "btcpool.kz/ru/api is failing (HTTP 502)"),
    (500, {"error": "no status here"}, {}, "btcpool.kz/ru/api is failing (HTTP 500)"),
])
def test_outages_are_transient(
    upstream: responses.RequestsMock, http_status: int, body: Any, headers: dict[str, str],
    message: str,
) -> None:
    sent = payload(body) if isinstance(body, str) and body.startswith("error") else body
    serve(upstream, seeds(workers=(http_status, sent, headers)))
    with pytest.raises(UpstreamError) as caught:
        make_client().fetch()
    error = caught.value
    assert not isinstance(error, CredentialsRejected) and not error.permanent
    assert error.reason != "schema"
    assert (error.message, error.status) == (message, http_status)
    assert error.retry_after == (30 if headers else None)


def test_a_wrong_base_url_is_permanent(upstream: responses.RequestsMock) -> None:
    serve(upstream, seeds(summary_data=(404, "<html>Not Found</html>", {})))
    with pytest.raises(UpstreamError) as caught:
        make_client().fetch()
    assert caught.value.permanent and caught.value.reason == "not_found"


@pytest.mark.parametrize(("body", "message"), [
    ("status-missing", "btcpool.kz/ru/api (summary_data) answered without a status"),
    ("status-number", "btcpool.kz/ru/api (summary_data) answered with status 1"),
    ("status-ok-without-data", "btcpool.kz/ru/api (summary_data) answered without data (fields: status)"),
    ([1, 2], "btcpool.kz/ru/api (summary_data) answered without a status"),
    ("<html>maintenance</html>", "btcpool.kz/ru/api answered with something that is not JSON "
                                 "(application/json, 24 bytes)"),
])
def test_a_body_without_a_usable_status_is_a_schema_error(
    upstream: responses.RequestsMock, body: Any, message: str,
) -> None:
    sent = payload(body) if isinstance(body, str) and body.startswith("status") else body
    serve(upstream, seeds(summary_data=sent))
    with pytest.raises(SchemaError) as caught:
        make_client().fetch()
    assert caught.value.message == message


def test_a_list_that_is_not_a_list_is_a_schema_error(upstream: responses.RequestsMock) -> None:
    serve(upstream, seeds(workers={**EMPTY_PAGE, "data": {"0": {}}}))
    with pytest.raises(SchemaError, match=r"^BTCpool\.kz workers: data is not a list$"):
        make_client().fetch()


def test_a_page_without_a_total_is_a_schema_error(upstream: responses.RequestsMock) -> None:
    body = payload("workers")
    del body["total"]
    serve(upstream, seeds(workers=body))
    with pytest.raises(SchemaError, match=r"^BTCpool\.kz workers total is not a number: None$"):
        make_client().fetch()


def test_a_key_quoted_deep_in_a_long_message_is_still_hidden(upstream: responses.RequestsMock) -> None:
    text = "x" * 180 + f" key {KEY} was refused"  # the key straddles the 200-character cut
    serve(upstream, seeds(summary_data={"status": "ERROR", "message": text}))
    with pytest.raises(CredentialsRejected) as caught:
        make_client().fetch()
    assert KEY[:6] not in caught.value.message and "***" in caught.value.message


def test_it_appends_the_path_to_a_base_url_with_a_prefix(upstream: responses.RequestsMock) -> None:
    base = "http://127.0.0.1:8025/simulator/btcpoolkz"
    serve(upstream, seeds(), url=f"{base}/ru/api")
    assert len(make_client(base_url=base).fetch().workers) == 6
