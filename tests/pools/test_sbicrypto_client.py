"""SBI Crypto client against recorded bodies, with HTTP faked at the transport."""

from __future__ import annotations

import json
import re
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
from pools.clients.base import WorkerCounts
from pools.clients.sbicrypto import SbiCryptoClient
from pools.clients.sbicrypto_api import PAGE_SIZE

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "sbicrypto"
BASE = "https://pool-api.sbicrypto.com"
# The host of the document's observer examples, where observer-key requests go by default.
OBSERVER_HOST = "https://pool.sbicrypto.com"
STATS = "https://stats.sbicrypto.com/poolstats"
KEY, SECRET = "5adbf1b4-1ff8-4149-af3c-7cdcd06b8cb3", "aWZXNoK04YUUXy6m6uB5LaCwM3BsL_1S"
OBSERVER_KEY = "348UpQjhPMRPxTK8QVDqY9RavwGrMVebox"
KEYS = {"api_key": KEY, "api_secret": SECRET}
NOW = datetime(2022, 4, 12, 12, 0, tzinfo=UTC)
M = 1e6  # MH/s in H/s

PUBLIC = {
    "public-hashrates": "/api/external/v1/public/hashrates",
    "public-exchangerate": "/api/external/v1/public/exchangerate",
    "public-rate": "/api/external/v1/public/poolstats/rate",
    "public-coins": "/api/external/v1/public/coins",
    "public-payout": "/api/external/v1/public/poolstats/payout",
    "public-blocks": re.compile(BASE + r"/api/external/v1/public/poolstats/blocks/\w+"),
    "public-luck": re.compile(BASE + r"/api/external/v1/public/poolstats/luck/\w+"),
}
KEYED = {
    "account": "/api/external/v1/account",
    "subaccounts": "/api/external/v1/subaccounts",
    "workers": "/api/external/v1/workers",
    "subpools": "/api/external/v1/subpools",
    "earnings-v1": "/api/external/v1/earnings",
    "earnings-v2": "/api/external/v2/earnings",
    "revenue": "/api/external/v1/revenue",
    "payouts": "/api/external/v1/payouts",
}
OBSERVED = {
    "observer-status": "/api/observer/v1/workers/status",
    "observer-hashrates-subaccount": "/api/observer/v1/workers/hashrates",
    "observer-hashrates-coin": "/api/observer/v1/hashrates/coin",
    "observer-workers": "/api/observer/v1/workers/details",
}


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def make_client(credentials: dict[str, str] | None = None, *, now: datetime = NOW,
                last_success_at: datetime | None = None, **options: str) -> SbiCryptoClient:
    http = HttpClient(retries=1, backoff=0, sleep=lambda seconds: None)
    ctx = PollContext(base_url=BASE, credentials=KEYS if credentials is None else credentials,
                      options=options, http=http, now=now, last_success_at=last_success_at)
    return SbiCryptoClient(ctx)


def url(target: str | re.Pattern[str]) -> str | re.Pattern[str]:
    return BASE + target if isinstance(target, str) else target


def query(call: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def calls_to(upstream: responses.RequestsMock, path: str) -> list[Any]:
    return [c for c in upstream.calls if urlsplit(c.request.url).path == path]


@pytest.fixture
def upstream() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def serve_public(upstream: responses.RequestsMock, host: str = BASE) -> None:
    for name, target in PUBLIC.items():
        # The documented host keeps each pattern itself, which a test may replace.
        at = url(target) if host == BASE else host + target if isinstance(target, str) else re.compile(
            target.pattern.replace(BASE, re.escape(host)))
        upstream.get(at, json=payload(name))
    upstream.get(STATS, json=payload("legacy-poolstats"))


def serve_keyed(upstream: responses.RequestsMock, **overrides: Any) -> None:
    """Every READ and FINANCIALS read answers its documented example unless overridden;
    subaccount 15 is a collector, 6 is not."""
    serve_public(upstream)
    for name, path in KEYED.items():
        upstream.get(BASE + path, json=overrides.get(name, payload(name)))
    upstream.get(BASE + "/api/external/v1/subaccount/6/virtual", json=payload("error-not-a-collector"),
                 status=400)
    upstream.get(BASE + "/api/external/v1/subaccount/15/virtual", json=payload("virtual-subaccounts"))


def serve_observed(upstream: responses.RequestsMock, host: str = OBSERVER_HOST) -> None:
    serve_public(upstream)
    upstream.get(host + "/api/observer/v1/workers/validate", status=204)
    for name, path in OBSERVED.items():
        upstream.get(host + path, json=payload(name))


def test_it_parses_the_documented_examples(upstream: responses.RequestsMock) -> None:
    serve_keyed(upstream)
    snapshot = make_client().fetch()

    assert snapshot.problems == []
    assert snapshot.fetched_at == NOW
    assert snapshot.hashrate_hs == pytest.approx(2.9906012588065426e10 * M)
    assert snapshot.hashrate_15m_hs is None  # SBI reports 10m, 1h and 1d
    assert snapshot.hashrate_24h_hs == pytest.approx(3.2469555711894417e10 * M)
    assert [(s.window, s.raw_value, s.raw_unit) for s in snapshot.hashrate_samples] == [
        ("10m", "29906012588.065426", "M"), ("1h", "29836308437.58277", "M"),
        ("24h", "32469555711.894417", "M"),
    ]
    assert snapshot.worker_counts == WorkerCounts(online=2018, offline=0, dead=5482, total=7500)
    # Per coin, the 10-minute figures of the subaccounts mining it.
    assert snapshot.coin_hashrates == {"BCH": 0.0, "BTC": pytest.approx(2.991328402496378e10 * M)}

    [worker] = snapshot.workers
    assert (worker.name, worker.status, worker.pool_status) == ("simulator123-1003397789", "online", "ONLINE")
    assert worker.hashrate_hs == pytest.approx(1.3839186354940586e7 * M)
    assert worker.hashrate_24h_hs == pytest.approx(2378202.9282266074 * M)
    assert (worker.raw_hashrate, worker.raw_unit) == ("13839186.354940586", "M")
    assert worker.last_share_at == datetime(2021, 9, 17, 10, 4, 49, tzinfo=UTC)
    assert worker.extra == {"subaccount": "batchtest", "subaccount_id": 15,
                            "hashrate_1h_hs": pytest.approx(1.3487342634052267e7 * M)}

    account = snapshot.account
    assert account is not None
    assert (account.name, account.account_id, account.payout_address) == (
        "accountemail@domain.com", "", "")  # two subaccounts, two addresses
    assert account.extra["timezone"] == "Asia/Tokyo"
    bch, btc = account.extra["subaccounts"]
    assert (bch["id"], bch["name"], bch["coin"]) == (6, "bchtestpayout", "BCH")
    assert bch["virtual_subaccounts"] == []  # answered 400: not a collector
    assert bch["payout_address"] == "bchtest:qr4tnlf3ujkgup2y8unrcw86wrq2zxgh3srtxnc7em"
    assert btc["workers"] == {"online": 2018, "offline": 0, "dead": 5482, "total": 7500}
    assert btc["hashrate_hs"]["10m"] == pytest.approx(2.991328402496378e10 * M)
    assert "observer" not in json.dumps(account.extra, default=str)  # a link is a credential
    [vsub] = btc["virtual_subaccounts"]
    assert (vsub["id"], vsub["name"], vsub["collector_id"], vsub["coin"]) == (1, "vsub2", 101, "BTC")
    assert vsub["allocation_hs"] == 50 * M
    assert vsub["balance"] == Decimal("0.00001237")
    assert vsub["revenue"] == {"yesterday": Decimal("2.0947369"), "today": Decimal("2.09198749")}
    assert account.extra["subpools"] == [{
        "name": "US Subpool", "region": 2, "coins": ["BTC", "BCH", "LTC"],
        "stratum": ["stratum+tcp://us1.sbicrypto.com:3333", "stratum+tcp://eth.us1.sbicrypto.com:3333"],
    }]

    [earning] = snapshot.earnings
    assert (earning.date, earning.coin, earning.amount) == (date(2022, 3, 23), "BTC", Decimal("0.64997"))
    [part] = earning.extra["subaccounts"]
    assert (part["subaccount"], part["vsubaccount"], part["state"]) == ("agentbsv", "vsub1", "CONFIRMED")
    assert (part["gross"], part["fees"], part["fee_percent"]) == (
        Decimal("12.99937"), Decimal("12.34940"), Decimal("5.0"))
    assert part["hashrate_hs"] == pytest.approx(5548393.040923901 * M)

    record, transaction = snapshot.payouts
    assert (record.coin, record.amount, record.tx[:8]) == ("BSV", Decimal(1208), "12adf27a")
    assert record.paid_at == datetime(2021, 9, 14, 5, 0, 0, 277000, tzinfo=UTC)
    assert record.address == "mkxSFCsiPyLYej1jxsyXHBj3L91Ze8qdk2"
    assert (transaction.coin, transaction.amount) == ("BTC", Decimal("71236821638612"))
    assert transaction.paid_at == datetime(2022, 4, 15, 2, 30, tzinfo=UTC)
    assert transaction.address == "bc1qm0r99me8s6zuscskfgm9a7x8hc27kjjtxea838"
    # The document's txFee, kept beside the amount; the per-address records carry none.
    assert (transaction.fee, record.fee) == (Decimal("82371.0"), None)

    balances = {b.coin: b for b in snapshot.balances}
    assert sorted(balances) == ["BCH", "BTC", "ETH"]
    assert (balances["BTC"].paid_total, balances["BTC"].pending, balances["BTC"].unpaid) == (
        Decimal("0.64997"), 0, 0)
    assert balances["ETH"].today == Decimal("81470.53078003156")
    assert balances["ETH"].yesterday == Decimal("301979.40471687075")
    assert balances["BTC"].last_paid_at == datetime(2022, 4, 15, 2, 30, tzinfo=UTC)
    assert account.extra["estimated_revenue"][0] == {
        "date": date(2022, 1, 19), "subaccount": "eth1", "coin": "ETH",
        "amount": Decimal("301979.40471687075"),
    }


def test_it_reads_the_pools_public_figures(upstream: responses.RequestsMock) -> None:
    serve_keyed(upstream)
    snapshot = make_client().fetch()

    stats = {s.coin: s for s in snapshot.pool_stats}
    assert sorted(stats) == ["BCH", "BTC", "ETHW"]
    # The legacy stats host is fresher and brings reject and stale rates.
    assert stats["BTC"].hashrate_hs == pytest.approx(2580725e12)
    assert (stats["BTC"].raw_hashrate, stats["BTC"].raw_unit) == ("2580725", "T")
    assert stats["BTC"].reject_rates == {"24h_reject": 0.009800306632223777, "24h_stale": 0.13315705941280784}
    assert (stats["ETHW"].hashrate_hs, stats["ETHW"].raw_unit) == (pytest.approx(3378e6), "M")

    figures = {f.coin: f for f in snapshot.pool_figures}
    assert sorted(figures) == ["BCH", "BTC", "ETHW"]
    btc = figures["BTC"]
    assert btc.pool_hashrate_hs == pytest.approx(2580725e12)
    assert btc.as_of == datetime.fromtimestamp(1675324808, UTC)  # the stats host's time
    # The last of the lookup days' rates is yesterday's.
    assert (btc.payout_rate, btc.payout_rate_unit) == (Decimal("4.491"), "BTC/TH/day")
    assert btc.usd_rate == Decimal(17000)
    assert btc.luck == {"7d": 70.0, "30d": 70.0}
    assert (btc.name, btc.algorithm, btc.paid_daily) == ("bitcoin", "sha256", Decimal("72.4"))
    assert (figures["BCH"].name, figures["BCH"].paid_daily) == ("bitcoin cash", Decimal("21.5"))
    assert [(b.height, b.reward, b.found_at) for b in btc.blocks] == [
        (776572, Decimal("6.2507198"), datetime(2023, 1, 22, 20, 16, 46, tzinfo=UTC)),
        (776563, Decimal("6.25279884"), datetime(2023, 1, 22, 18, 25, 37, tzinfo=UTC)),
    ]
    assert btc.blocks[0].hash == "00000000000000000013bcaf65c5ae9ba9260f026e71850793b97bb78266cf1d"
    # SBI publishes no network figures, miner or worker counts, or fee.
    assert (btc.network_hashrate_hs, btc.network_difficulty, btc.miners, btc.workers, btc.fee_percent) == (
        None, None, None, None, None)
    ethw = figures["ETHW"]  # mined by no subaccount: no luck or blocks read for it
    assert (ethw.pool_hashrate_hs, ethw.luck, ethw.blocks) == (pytest.approx(3378e6), {}, [])
    assert (ethw.payout_rate, ethw.usd_rate) == (None, Decimal(1000))
    assert snapshot.account and "pool" not in snapshot.account.extra
    # Luck and blocks for the coins the subaccounts mine and the source's coin.
    lucky = sorted(c.request.url.rsplit("/", 1)[1] for c in upstream.calls if "/luck/" in c.request.url)
    assert lucky == ["BCH", "BTC"]


def test_it_asks_the_documented_parameters(upstream: responses.RequestsMock) -> None:
    serve_keyed(upstream)
    make_client().fetch()

    params = {urlsplit(c.request.url).path: query(c) for c in upstream.calls}
    assert params["/api/external/v1/public/hashrates"] == {"resolution": "7"}
    assert params["/api/external/v1/public/poolstats/rate"] == {"days": "7"}
    assert params["/api/external/v1/public/poolstats/payout"] == {"range": "7"}
    assert params["/api/external/v1/workers"] == {"pageNumber": "0", "size": str(PAGE_SIZE)}
    # First poll: its recent 30 days (older ones are the back-fill's); the locale-dated reads
    # get a day more on each side.
    assert params["/api/external/v1/earnings"] == {
        "fromDate": "2022-03-14", "toDate": "2022-04-12", "page": "0", "size": str(PAGE_SIZE)}
    assert params["/api/external/v2/earnings"] == {
        "startDate": "2022-03-13", "endDate": "2022-04-13", "page": "0", "size": str(PAGE_SIZE)}
    assert params["/api/external/v1/payouts"] == params["/api/external/v2/earnings"]
    assert params["/api/external/v1/subaccount/15/virtual"] == {"page": "0", "size": str(PAGE_SIZE)}


def test_it_never_calls_an_update_endpoint(upstream: responses.RequestsMock) -> None:
    serve_keyed(upstream)
    make_client().fetch()
    assert {c.request.method for c in upstream.calls} == {"GET"}
    assert not any(re.search(r"/clear-inactive-workers|/subaccount/address$|/subaccount$",
                             urlsplit(c.request.url).path) for c in upstream.calls)


def test_it_sends_the_key_and_secret_only_to_account_reads(upstream: responses.RequestsMock) -> None:
    serve_keyed(upstream)
    make_client().fetch()

    for call in upstream.calls:
        headers, path = call.request.headers, urlsplit(call.request.url).path
        assert headers["Accept"] == "application/json"
        if "/public/" in path or call.request.url.startswith(STATS):
            assert "X-API-Key" not in headers and "X-API-Secret" not in headers
        else:
            assert (headers["X-API-Key"], headers["X-API-Secret"]) == (KEY, SECRET)
        assert KEY not in call.request.url and SECRET not in call.request.url


def test_it_reads_a_subaccount_with_an_observer_key(upstream: responses.RequestsMock) -> None:
    serve_observed(upstream)
    snapshot = make_client({"observer_key": OBSERVER_KEY}).fetch()

    assert snapshot.problems == []
    assert snapshot.worker_counts == WorkerCounts(online=2500, offline=1648, dead=26431, total=30579)
    assert snapshot.hashrate_hs == 0.0 and snapshot.earnings == [] and snapshot.balances == []
    assert [(w.name, w.status, w.hashrate_24h_hs) for w in snapshot.workers] == [
        ("simulator123-998953873", "dead", pytest.approx(242707.01116833184 * M)),
        ("simulator123-9989487", "dead", pytest.approx(241078.10505310816 * M)),
    ]
    account = snapshot.account
    assert account and (account.account_id, account.name) == ("16", "workeraggregatortest")
    assert snapshot.coin_hashrates == {
        "BTC": pytest.approx(sum((91.3, 21.7, 30.5, 45.1, 61.8, 40.1, 72.4)) / 7 * M),
        "BCH": pytest.approx(sum((23.7, 42, 57.1, 45.1, 61.8, 40.1, 21.5)) / 7 * M),
        "BSV": pytest.approx(sum((23.7, 42, 57.1, 45.1, 61.8, 40.1, 1.7)) / 7 * M),
    }
    [sub] = account.extra["subaccounts"]
    assert (sub["id"], sub["coin"], sub["workers"]["total"]) == (16, "", 30579)  # three coins, so none

    accepts = {urlsplit(c.request.url).path: c.request.headers["Accept"] for c in upstream.calls}
    assert accepts["/api/observer/v1/workers/details"] == "application/vnd.sbi.details.worker+json"
    assert accepts["/api/observer/v1/workers/hashrates"] == "application/vnd.sbi.hashrate.subaccount+json"
    assert accepts["/api/observer/v1/workers/status"] == "application/vnd.sbi.workerstatus.subaccount+json"
    assert accepts["/api/observer/v1/hashrates/coin"] == "*/*"
    for call in upstream.calls:
        if "/api/observer/" in call.request.url:
            assert call.request.url.startswith(OBSERVER_HOST + "/")
            assert call.request.headers["X-observer-key"] == OBSERVER_KEY
            assert "X-API-Key" not in call.request.headers
        else:  # the public reads stay on the API host, and carry no key
            assert "X-observer-key" not in call.request.headers
    params = {urlsplit(c.request.url).path: query(c) for c in upstream.calls}
    assert params["/api/observer/v1/workers/details"] == {
        "hashrateRanges": "10,60,1440", "page": "0", "size": str(PAGE_SIZE)}
    assert params["/api/observer/v1/workers/hashrates"] == {"ranges": "10,60,1440"}
    assert params["/api/observer/v1/hashrates/coin"] == {"range": "0:60", "resolution": "6"}


def test_an_observer_falls_back_to_the_example_path_for_coin_hashrates(
    upstream: responses.RequestsMock,
) -> None:
    upstream.get(OBSERVER_HOST + "/api/observer/v1/hashrates/coin", json=payload("error-404"), status=404)
    upstream.get(OBSERVER_HOST + "/api/observer/v1/workers/hashrates/coin",
                 json=payload("observer-hashrates-coin"))
    found = make_client({"observer_key": OBSERVER_KEY}).coin_hashrates()
    assert sorted(found) == ["BCH", "BSV", "BTC"]


def test_it_rejects_a_bad_observer_key(upstream: responses.RequestsMock) -> None:
    upstream.get(OBSERVER_HOST + "/api/observer/v1/workers/validate",
                 json=payload("error-observer-key-invalid"), status=401)
    with pytest.raises(CredentialsRejected) as caught:
        make_client({"observer_key": OBSERVER_KEY}).fetch()
    assert caught.value.permanent and caught.value.status == 401
    assert caught.value.message == (
        "SBI Crypto rejected the observer key (HTTP 401: invalid_token: Observer Key is invalid.)")
    assert len(upstream.calls) == 1


def test_the_observer_host_option_moves_the_observer_calls(upstream: responses.RequestsMock) -> None:
    serve_observed(upstream, host=BASE)
    snapshot = make_client({"observer_key": OBSERVER_KEY}, observer_url=BASE + "/").fetch()
    assert snapshot.worker_counts is not None and snapshot.worker_counts.total == 30579
    assert not [c for c in upstream.calls if c.request.url.startswith(OBSERVER_HOST)]


def test_a_source_pointed_at_another_server_keeps_its_observer_calls_there(
    upstream: responses.RequestsMock,
) -> None:
    """A simulator or a test server serves every path under the source's base URL."""
    other = "http://127.0.0.1:8047/sbicrypto"
    serve_observed(upstream, host=other)
    serve_public(upstream, host=other)
    http = HttpClient(retries=0, backoff=0, sleep=lambda seconds: None)
    client = SbiCryptoClient(PollContext(
        base_url=other, credentials={"observer_key": OBSERVER_KEY},
        options={"observer_url": OBSERVER_HOST, "stats_url": STATS}, http=http, now=NOW))
    assert client.fetch().worker_counts is not None
    assert all(c.request.url.startswith((other, STATS)) for c in upstream.calls)


def test_a_404_from_the_observer_host_says_which_host_to_try(upstream: responses.RequestsMock) -> None:
    upstream.get(OBSERVER_HOST + "/api/observer/v1/workers/validate", body="<html>Not Found</html>",
                 status=404)
    with pytest.raises(UpstreamError) as caught:
        make_client({"observer_key": OBSERVER_KEY}).fetch()
    assert caught.value.permanent and caught.value.status == 404
    assert caught.value.message == (
        "pool.sbicrypto.com/api/observer/v1/workers/validate does not exist (HTTP 404: <html>Not "
        "Found</html>); check the source's observer host option (now https://pool.sbicrypto.com; "
        "the document also names https://pool-api.sbicrypto.com)")
    assert OBSERVER_KEY not in caught.value.message


def test_the_source_form_says_which_observer_host_to_try() -> None:
    from pools.sources import SBICRYPTO

    [option] = [item for item in SBICRYPTO.options if item.name == "observer_url"]
    assert option.default == OBSERVER_HOST and not option.required
    assert "https://pool-api.sbicrypto.com" in option.help and "404" in option.help
    assert "try the other one" in option.help


def test_it_needs_a_key_and_secret_or_an_observer_key() -> None:
    with pytest.raises(CredentialsRejected, match="needs an API key and secret, or an observer key"):
        make_client({"api_key": KEY})


def test_a_key_and_secret_win_over_an_observer_key(upstream: responses.RequestsMock) -> None:
    upstream.get(BASE + "/api/external/v1/account", json=payload("error-401"), status=401)
    with pytest.raises(CredentialsRejected, match="rejected the API key and secret"):
        make_client({**KEYS, "observer_key": OBSERVER_KEY}).fetch()
    assert upstream.calls[0].request.headers["X-API-Key"] == KEY


def test_it_reads_every_worker_page(upstream: responses.RequestsMock) -> None:
    for number in range(3):
        upstream.get(BASE + "/api/external/v1/workers", json=payload(f"workers-page-{number}"), match=[
            matchers.query_param_matcher({"pageNumber": number, "size": PAGE_SIZE}),
            matchers.header_matcher({"X-API-Key": KEY, "X-API-Secret": SECRET, "Accept": "application/json"}),
        ])
    client = make_client()
    workers = {w.name: w for w in client.workers("/api/external/v1/workers", page_param="pageNumber")}

    # The server answered pages of 2 where 1000 were asked: its `last` ends the paging.
    assert [query(c)["pageNumber"] for c in upstream.calls] == ["0", "1", "2"]
    assert list(workers) == ["batchtest.rig-a", "rig-b", "rig-c", "rig-f", "rig-d", "usonly.rig-a"]
    rig_a = workers["batchtest.rig-a"]
    assert rig_a.hashrate_hs == pytest.approx(13839186.354940586 * M)  # "1.38E7" as a string
    assert rig_a.raw_hashrate == "1.3839186354940586E7"
    assert workers["usonly.rig-a"].extra["subaccount"] == "usonly"
    # Sent without a state: the pool's rule on the last share's age decides, the empty word stays.
    assert (workers["rig-b"].status, workers["rig-b"].pool_status) == ("offline", "")
    assert workers["rig-b"].extra["status_inferred"] is True
    assert workers["rig-b"].extra["hashrate_1h_hs"] == pytest.approx(9.1e7 * M)
    assert (workers["rig-c"].status, workers["rig-c"].last_share_at) == ("online", None)
    assert (workers["rig-f"].status, workers["rig-f"].pool_status) == ("online", "PAUSED")
    assert (workers["rig-d"].status, workers["rig-d"].hashrate_hs) == ("dead", 0.0)
    assert "status_inferred" not in workers["rig-d"].extra
    assert client.problems == ["SBI Crypto workers record 7 skipped: hashrates[0] is not a number: '-'"]


@pytest.mark.parametrize(("age", "rate", "expected"), [
    (timedelta(seconds=119), 1e12, "online"), (timedelta(minutes=2, seconds=1), 1e12, "offline"),
    (timedelta(minutes=10), 0.0, "offline"), (timedelta(minutes=10, seconds=1), 0.0, "dead"),
    (None, 5.0, "online"), (None, 0.0, "dead"),
])
def test_it_infers_a_missing_state_by_the_pools_rule(
    age: timedelta | None, rate: float, expected: str,
) -> None:
    assert make_client().inferred_status(None if age is None else NOW - age, rate) == expected


def test_it_stops_at_the_page_the_server_calls_last(upstream: responses.RequestsMock) -> None:
    upstream.get(BASE + "/api/external/v1/example", json=payload("pagination-example"))
    rows = list(make_client().api.pages("/api/external/v1/example"))
    assert rows == [{"name": "foo"}] and len(upstream.calls) == 1


def test_it_stops_on_an_empty_page(upstream: responses.RequestsMock) -> None:
    body = {**payload("workers-page-0"), "last": False, "totalPages": 9, "content": []}
    upstream.get(BASE + "/api/external/v1/workers", json=body)
    assert make_client().workers("/api/external/v1/workers", page_param="pageNumber") == []
    assert len(upstream.calls) == 1


def test_without_page_totals_it_pages_until_an_empty_page(upstream: responses.RequestsMock) -> None:
    for number, content in enumerate([[{"n": 1}, {"n": 2}], [{"n": 3}], []]):
        upstream.get(BASE + "/api/external/v1/example", json={"content": content},
                     match=[matchers.query_param_matcher({"page": number, "size": PAGE_SIZE})])
    assert [row["n"] for row in make_client().api.pages("/api/external/v1/example")] == [1, 2, 3]


def test_it_reads_numbers_sent_as_strings(upstream: responses.RequestsMock) -> None:
    serve_keyed(upstream, account=payload("account-strings"))
    snapshot = make_client().fetch()
    assert snapshot.worker_counts == WorkerCounts(online=2018, offline=0, dead=5482, total=7500)
    assert snapshot.hashrate_24h_hs == pytest.approx(3.2469555711894417e16)
    assert snapshot.hashrate_samples[0].raw_value == "2.9906012588065426E10"


@pytest.mark.parametrize(("status", "body", "expected"), [
    (401, "error-401", "SBI Crypto rejected the API key and secret (HTTP 401: unauthorized: "
                       "Full authentication is required to access this resource)"),
    (403, "error-403", "pool-api.sbicrypto.com/api/external/v1/account: the API key and secret may not read "
                       "this (HTTP 403: access_denied: The API key does not have the FINANCIALS permission); "
                       "check the key's permissions and the subaccounts it may see"),
])
def test_it_rejects_bad_credentials(
    upstream: responses.RequestsMock, status: int, body: str, expected: str,
) -> None:
    upstream.get(BASE + "/api/external/v1/account", json=payload(body), status=status)
    with pytest.raises(CredentialsRejected) as caught:
        make_client().fetch()
    assert caught.value.permanent and caught.value.status == status
    assert caught.value.message == expected
    assert len(upstream.calls) == 1  # a permanent error is not retried


@pytest.mark.parametrize(("status", "body", "reason", "expected"), [
    (404, "error-404", "not_found", "pool-api.sbicrypto.com/api/external/v1/subaccounts does not exist "
                                    "(HTTP 404: not_found: Subaccount not found: usonly); check the "
                                    "source's base URL"),
    (400, "error-400", "rejected", "pool-api.sbicrypto.com/api/external/v1/subaccounts refused our "
                                   "parameters (HTTP 400: bad_request: startDate is after endDate)"),
    (422, "error-422", "rejected", "pool-api.sbicrypto.com/api/external/v1/subaccounts refused our "
                                   "parameters (HTTP 422: unprocessable_entity: Invalid sort parameter: "
                                   "paidOn,sideways)"),
])
def test_documented_request_errors_are_permanent(
    upstream: responses.RequestsMock, status: int, body: str, reason: str, expected: str,
) -> None:
    upstream.get(BASE + "/api/external/v1/subaccounts", json=payload(body), status=status)
    with pytest.raises(UpstreamError) as caught:
        make_client().api.get("/api/external/v1/subaccounts")
    assert not isinstance(caught.value, CredentialsRejected)
    assert (caught.value.permanent, caught.value.status, caught.value.reason) == (True, status, reason)
    assert caught.value.message == expected
    assert len(upstream.calls) == 1


@pytest.mark.parametrize(("status", "reason"), [(500, "unavailable"), (503, "unavailable"),
                                                (429, "rate_limited")])
def test_server_errors_and_rate_limits_are_transient(
    upstream: responses.RequestsMock, status: int, reason: str,
) -> None:
    upstream.get(BASE + "/api/external/v1/account", body="<html>busy</html>", status=status)
    with pytest.raises(UpstreamError) as caught:
        make_client().fetch()
    assert not caught.value.permanent
    assert (caught.value.status, caught.value.reason) == (status, reason)
    assert len(upstream.calls) == 2  # retried once


def test_an_error_body_with_http_200_is_still_an_error(upstream: responses.RequestsMock) -> None:
    upstream.get(BASE + "/api/external/v1/account", json=payload("error-observer-key-invalid"))
    with pytest.raises(CredentialsRejected, match=r"\(HTTP 200: invalid_token: Observer Key is invalid.\)"):
        make_client().fetch()


def test_an_unknown_error_body_is_transient(upstream: responses.RequestsMock) -> None:
    upstream.get(BASE + "/api/external/v1/account",
                 json={"error": "server_busy", "error_description": "Try again later"})
    with pytest.raises(UpstreamError) as caught:
        make_client().fetch()
    assert not caught.value.permanent
    assert caught.value.message == ("pool-api.sbicrypto.com/api/external/v1/account answered with an "
                                    "error (HTTP 200: server_busy: Try again later)")


def test_no_error_message_contains_the_key_or_secret(upstream: responses.RequestsMock) -> None:
    upstream.get(BASE + "/api/external/v1/account", json=payload("error-echoes-key"), status=401)
    with pytest.raises(CredentialsRejected) as caught:
        make_client().fetch()
    assert KEY not in str(caught.value) and SECRET not in str(caught.value)
    assert "API key *** with secret *** is not valid" in caught.value.message


@pytest.mark.parametrize("failure", [
    {"status": 502}, {"body": requests.ConnectTimeout()}, {"body": "<html>Bad Gateway</html>"},
])
def test_errors_from_the_http_layer_never_show_the_key(
    upstream: responses.RequestsMock, failure: dict[str, Any],
) -> None:
    upstream.get(BASE + "/api/external/v1/account", **failure)
    with pytest.raises(UpstreamError) as caught:
        make_client().fetch()
    assert KEY not in str(caught.value) and SECRET not in str(caught.value)


def test_a_key_without_financials_still_polls(upstream: responses.RequestsMock) -> None:
    serve_keyed(upstream, **{name: payload("error-403") for name in (
        "earnings-v1", "earnings-v2", "revenue", "payouts")})
    for name in ("earnings-v1", "earnings-v2", "revenue", "payouts"):
        upstream.replace(responses.GET, BASE + KEYED[name], json=payload("error-403"), status=403)
    snapshot = make_client().fetch()

    assert len(snapshot.workers) == 1 and snapshot.account is not None
    assert (snapshot.earnings, snapshot.payouts, snapshot.balances) == ([], [], [])
    assert [p.split(":")[0] for p in snapshot.problems] == [
        "SBI Crypto earnings skipped", "SBI Crypto payout records skipped", "SBI Crypto payouts skipped",
        "SBI Crypto revenue skipped",
    ]
    assert all("HTTP 403" in problem for problem in snapshot.problems)


def test_a_key_that_may_not_list_payouts_keeps_the_payout_records(upstream: responses.RequestsMock) -> None:
    serve_keyed(upstream)
    upstream.replace(responses.GET, BASE + KEYED["payouts"], json=payload("error-403"), status=403)
    snapshot = make_client().fetch()
    assert [p.coin for p in snapshot.payouts] == ["BSV"]
    assert len(snapshot.problems) == 1


def test_an_unauthorised_financial_read_fails_the_poll(upstream: responses.RequestsMock) -> None:
    serve_keyed(upstream)
    upstream.replace(responses.GET, BASE + KEYED["revenue"], json=payload("error-401"), status=401)
    with pytest.raises(CredentialsRejected):
        make_client().fetch()


def test_a_failing_public_read_is_noted_and_the_poll_goes_on(upstream: responses.RequestsMock) -> None:
    serve_keyed(upstream)
    upstream.replace(responses.GET, STATS, body=requests.ConnectionError())
    upstream.replace(responses.GET, PUBLIC["public-luck"], json=payload("error-404"), status=404)
    snapshot = make_client().fetch()

    assert len(snapshot.workers) == 1
    assert [p.split(" skipped")[0] for p in snapshot.problems] == [
        "SBI Crypto legacy stats", "SBI Crypto BCH luck", "SBI Crypto BTC luck"]
    # Without the stats host, yesterday's daily figure stands in.
    assert {s.coin: s.raw_hashrate for s in snapshot.pool_stats} == {"BCH": "21.5", "BTC": "72.4"}
    btc = next(f for f in snapshot.pool_figures if f.coin == "BTC")
    assert (btc.pool_hashrate_hs, btc.as_of, btc.luck) == (pytest.approx(72.4 * M), None, {})
    assert btc.blocks and btc.payout_rate == Decimal("4.491")


def test_the_legacy_stats_come_from_the_stats_url_option(upstream: responses.RequestsMock) -> None:
    other = "http://127.0.0.1:8400/sbicrypto-stats/poolstats"
    serve_keyed(upstream)
    upstream.get(other, json=payload("legacy-poolstats"))
    make_client(stats_url=other).fetch()
    assert any(c.request.url == other for c in upstream.calls)
    assert not any(c.request.url.startswith(STATS) for c in upstream.calls)


def test_earnings_are_summed_per_day_and_coin_over_subaccounts(upstream: responses.RequestsMock) -> None:
    row = payload("earnings-v2")["content"][0]
    rows = [
        {**row, "earningsId": "a", "subaccountName": "btc-1", "vSubaccountName": None, "netOwed": "0.1"},
        {**row, "earningsId": "b", "subaccountName": "btc-2", "vSubaccountName": None, "netOwed": 2.5e-7},
        {**row, "earningsId": "c", "coin": "BCH", "netOwed": 3, "state": "PENDING", "txId": None},
        {**row, "earningsId": "a", "subaccountName": "btc-1", "vSubaccountName": None, "netOwed": "0.1"},
        {**row, "earningsId": "d", "earningsFor": "2021-01-01T00:00:00.000+00:00"},  # out of the window
    ]
    serve_keyed(upstream, **{"earnings-v2": {**payload("earnings-v2"), "content": rows}})
    snapshot = make_client().fetch()

    earnings = {(e.date, e.coin): e for e in snapshot.earnings}
    assert sorted(earnings) == [(date(2022, 3, 23), "BCH"), (date(2022, 3, 23), "BTC")]
    btc = earnings[(date(2022, 3, 23), "BTC")]
    assert btc.amount == Decimal("0.10000025")
    assert [p["subaccount"] for p in btc.extra["subaccounts"]] == ["btc-1", "btc-2"]
    bch = {b.coin: b for b in snapshot.balances}["BCH"]
    assert (bch.pending, bch.unpaid, bch.paid_total) == (Decimal(3), Decimal(3), Decimal(0))


def test_later_polls_read_a_recent_overlapping_window(upstream: responses.RequestsMock) -> None:
    serve_keyed(upstream)
    make_client(last_success_at=NOW - timedelta(minutes=1)).fetch()
    [v1], [v2] = (map(query, calls_to(upstream, KEYED[name])) for name in ("earnings-v1", "earnings-v2"))
    assert (v1["fromDate"], v1["toDate"]) == ("2022-03-14", "2022-04-12")  # 30 days
    assert (v2["startDate"], v2["endDate"]) == ("2022-03-13", "2022-04-13")


def test_a_long_outage_reads_back_to_the_last_success(upstream: responses.RequestsMock) -> None:
    serve_keyed(upstream)
    make_client(last_success_at=NOW - timedelta(days=50), history_days="365").fetch()
    v1 = query(calls_to(upstream, KEYED["earnings-v1"])[0])
    assert v1["fromDate"] == "2022-02-20"  # the day before the last success


def test_history_days_must_be_a_number(upstream: responses.RequestsMock) -> None:
    serve_keyed(upstream)
    with pytest.raises(UpstreamError, match="option history_days must be a whole number") as caught:
        make_client(history_days="ninety").fetch()
    assert caught.value.permanent


def test_payouts_are_one_per_transaction(upstream: responses.RequestsMock) -> None:
    record = payload("earnings-v1")["content"][0]
    records = [
        {**record, "id": "1", "blockchainId": "tx-1", "amount": "0.5", "subaccountName": "a"},
        {**record, "id": "2", "blockchainId": "tx-1", "amount": 0.25, "payoutAddress": "elsewhere"},
        {**record, "id": "3", "blockchainId": None, "status": "NEW"},
        {**record, "id": "4", "blockchainId": "tx-2", "status": "FAILED"},
    ]
    pending = {**payload("payouts")["content"][0], "state": "NEW", "txId": None, "paidOn": None}
    serve_keyed(upstream, **{
        "earnings-v1": {**payload("earnings-v1"), "content": records},
        "payouts": {**payload("payouts"), "content": [pending]},
    })
    [payout] = make_client().fetch().payouts
    assert (payout.tx, payout.amount, payout.address) == ("tx-1", Decimal("0.75"), "")


def test_collectors_can_be_named_or_skipped(upstream: responses.RequestsMock) -> None:
    serve_keyed(upstream)
    body = payload("virtual-subaccounts")
    body["content"][0]["collectorId"] = 15
    upstream.get(BASE + "/api/external/v1/subaccount/virtual", json=body)
    account = make_client(collectors="15", virtual_subaccounts="1, 2").fetch().account
    assert account is not None
    assert [v["name"] for v in account.extra["subaccounts"][1]["virtual_subaccounts"]] == ["vsub2"]
    [call] = calls_to(upstream, "/api/external/v1/subaccount/virtual")
    assert query(call) == {"collectorIds": "15", "vSubaccountIds": "1,2", "page": "0", "size": str(PAGE_SIZE)}
    assert not calls_to(upstream, "/api/external/v1/subaccount/15/virtual")

    upstream.calls.reset()
    make_client(collectors="none").fetch()
    assert not any("/virtual" in c.request.url for c in upstream.calls)

    with pytest.raises(UpstreamError, match="option collectors must be comma-separated ids"):
        make_client(collectors="alpha").fetch()


def test_it_fails_on_a_body_that_is_not_json(upstream: responses.RequestsMock) -> None:
    upstream.get(BASE + "/api/external/v1/account", body="<html>Maintenance</html>", content_type="text/html")
    with pytest.raises(SchemaError, match="is not JSON"):
        make_client().fetch()


def test_it_registers_the_kind() -> None:
    from pools.sources import SBICRYPTO

    assert SBICRYPTO.load_client() is SbiCryptoClient
    assert SBICRYPTO.default_base_url({}) == BASE
    assert SBICRYPTO.default_options() == {"currency": "BTC", "stats_url": STATS,
                                           "observer_url": OBSERVER_HOST, "metrics_per_worker": "off"}
    assert SBICRYPTO.credential_problems({"observer_key": OBSERVER_KEY}) == []
    assert SBICRYPTO.credential_problems(KEYS) == []
    assert SBICRYPTO.credential_problems({"api_key": KEY}) == [
        "SBI Crypto pool needs api_key and api_secret or observer_key",
    ]
