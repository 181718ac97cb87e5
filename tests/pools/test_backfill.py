"""The history back-fill: every page an upstream keeps, a bounded number per poll, resumed
where an interrupted poll stopped, with HTTP faked at the transport."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from dashboard.http import HttpClient
from dashboard.models import Source, Team
from dashboard.polling import source_poll
from dashboard.services import source_create
from dashboard.sources import PollContext
from pools import models as m
from pools.clients.btccom import BtcComClient
from pools.clients.history import Plan
from pools.clients.sbicrypto import SbiCryptoClient

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"
BTCCOM = "https://us-pool.api.btc.com"
SBI = "https://pool-api.sbicrypto.com"
AUTH = {"access_key": "r_AKtest123456", "puid": "88888"}
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
DAYS = 120


def payload(kind: str, name: str) -> Any:
    return json.loads((PAYLOADS / kind / f"{name}.json").read_text())


def query(request: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}


def tx(day: date) -> str:
    return f"{day:%Y%m%d}".ljust(64, "a")


def history_row(day: date, today: date) -> dict[str, Any]:
    """An earn-history row shaped like the seed's example; each finished day paid by its own
    transaction the morning after."""
    paid = day < today
    return {
        "date": int(f"{day:%Y%m%d}"), "earnings": 100_000_000 + day.toordinal() % 1000,
        "payment_time": f"{day + timedelta(days=1)} 01:45:37" if paid else "0",
        "payment_tx": tx(day) if paid else "", "address": "3NA8hsjfdgVkmmVS9moHmkZsVCoLxUkvvv",
        "paid_amount": 100_000_000 + day.toordinal() % 1000 if paid else 0,
        "diff": 422170566884, "payment_mode": "PPS", "earnings_rate": 0.044,
    }


class EarnHistory:
    """A BTC.com account with DAYS days of earnings, newest first, 50 to a page; `failing`
    pages answer `failure` instead."""

    def __init__(self, today: date, days: int = DAYS):
        self.days = [today - timedelta(days=n) for n in range(days)]
        self.today = today
        self.failing: set[int] = set()
        self.failure: Any = (502, {}, "<html>502 Bad Gateway</html>")
        self.pages: list[int] = []
        self.row = history_row

    def __call__(self, request: Any) -> Any:
        params = query(request)
        page, size = int(params["page"]), int(params["page_size"])
        assert (params["access_key"], params["puid"]) == (AUTH["access_key"], AUTH["puid"])
        self.pages.append(page)
        if page in self.failing:
            if isinstance(self.failure, Exception):
                raise self.failure
            return self.failure
        rows = self.days[(page - 1) * size: page * size]
        count = -(-len(self.days) // size)
        return 200, {}, json.dumps({"err_no": 0, "data": {
            "page": str(page), "page_size": str(size), "page_count": count,
            "total_count": len(self.days), "list": [self.row(d, self.today) for d in rows]}})


@pytest.fixture
def upstream() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def btccom_client(*, plan: Plan, options: dict[str, str] | None = None) -> BtcComClient:
    return BtcComClient(PollContext(
        base_url=BTCCOM, credentials=AUTH, options=options or {}, now=NOW, state={"history": plan},
        http=HttpClient(retries=0, backoff=0, sleep=lambda seconds: None),
    ))


def test_a_first_poll_reads_all_120_days_of_btccom_history(upstream: responses.RequestsMock) -> None:
    history = EarnHistory(NOW.date())
    upstream.add_callback(responses.GET, BTCCOM + "/v1/account/earn-history", callback=history)
    plan = Plan(pages=10)

    earnings, payouts = btccom_client(plan=plan).earn_history()

    assert history.pages == [1, 2, 3]  # 50, 50 and 20 days; page 1 also serves the recent window
    assert len(earnings) == DAYS and len({e.date for e in earnings}) == DAYS
    assert min(e.date for e in earnings) == NOW.date() - timedelta(days=DAYS - 1)
    assert len(payouts) == DAYS - 1  # today is not paid yet
    [position] = plan.results
    assert (position.dataset, position.done, position.pages_done, position.rows_done) == (
        "earnings", True, 3, DAYS)
    assert (position.pages_total, position.rows_total) == (3, DAYS)
    assert position.oldest == NOW.date() - timedelta(days=DAYS - 1) and position.error == ""


def test_the_back_fill_stops_at_its_page_budget_and_goes_on_from_there(
    upstream: responses.RequestsMock,
) -> None:
    history = EarnHistory(NOW.date())
    upstream.add_callback(responses.GET, BTCCOM + "/v1/account/earn-history", callback=history)
    first = Plan(pages=2)
    earnings, _ = btccom_client(plan=first).earn_history()
    [position] = first.results
    # The last row waits with the next page, which may hold more days of its payment.
    assert (len(earnings), position.cursor, position.done) == (99, {"page": 3}, False)
    assert [r["date"] for r in position.carry] == [int(f"{NOW.date() - timedelta(days=99):%Y%m%d}")]

    history.pages.clear()
    later = Plan(positions={"earnings": position}, pages=2)
    earnings, _ = btccom_client(plan=later).earn_history()
    # Page 1 for the recent window, then the back-fill's last page.
    assert history.pages == [1, 3]
    assert min(e.date for e in earnings) == NOW.date() - timedelta(days=DAYS - 1)
    [position] = later.results
    assert (position.done, position.pages_done, position.rows_done) == (True, 3, DAYS)


def test_history_days_caps_the_back_fill(upstream: responses.RequestsMock) -> None:
    history = EarnHistory(NOW.date())
    upstream.add_callback(responses.GET, BTCCOM + "/v1/account/earn-history", callback=history)
    plan = Plan(pages=10)
    earnings, _ = btccom_client(plan=plan, options={"history_days": "60"}).earn_history()
    assert history.pages == [1, 2]  # page 2 reaches past the cap: no page 3
    assert min(e.date for e in earnings) == NOW.date() - timedelta(days=60)
    assert plan.results[0].done


def test_a_transaction_split_over_two_polls_is_paid_once_in_full(
    upstream: responses.RequestsMock,
) -> None:
    """One payment for days 49 to 52 straddles pages 1 and 2; with one page per poll, the
    first poll holds the rows back rather than store a part of it."""
    history = EarnHistory(NOW.date())
    shared = [NOW.date() - timedelta(days=n) for n in range(49, 53)]

    def row(day: date, today: date) -> dict[str, Any]:
        found = history_row(day, today)
        return {**found, "payment_tx": tx(shared[0])} if day in shared else found

    history.row = row
    upstream.add_callback(responses.GET, BTCCOM + "/v1/account/earn-history", callback=history)
    first = Plan(pages=1)
    _, payouts = btccom_client(plan=first).earn_history()
    assert tx(shared[0]) not in {p.tx for p in payouts}
    assert len(first.results[0].carry) == 1  # day 49, the last of page 1
    later = Plan(positions={"earnings": first.results[0]}, pages=1)
    _, payouts = btccom_client(plan=later).earn_history()
    [joint] = [p for p in payouts if p.tx == tx(shared[0])]
    assert joint.amount == sum(Decimal(100_000_000 + d.toordinal() % 1000) for d in shared) / 10**8


# -- SBI Crypto: three financial lists, 0-based pages, by date range --

class SbiFinancials:
    """An SBI account with one BTC subaccount earning DAYS days; every list answers pages of
    at most 50 whatever size is asked, as a server that caps the size would."""

    size = 50

    def __init__(self, today: date):
        self.days = [today - timedelta(days=n) for n in range(1, DAYS + 1)]
        self.asked: dict[str, list[dict[str, str]]] = {}

    def page(self, path: str, rows: list[dict[str, Any]], request: Any) -> Any:
        params = query(request)
        self.asked.setdefault(path, []).append(params)
        number = int(params["page"])
        chosen = rows[number * self.size: (number + 1) * self.size]
        pages = -(-len(rows) // self.size)
        return 200, {}, json.dumps({
            "content": chosen, "first": number == 0, "last": number + 1 >= pages,
            "totalElements": len(rows), "totalPages": pages, "size": self.size, "number": number,
            "numberOfElements": len(chosen)})

    def within(self, request: Any, first: str, last: str) -> list[date]:
        params = query(request)
        return [d for d in self.days if params[first] <= d.isoformat() <= params[last]]

    def earnings(self, request: Any) -> Any:
        return self.page("v2", [{
            "earningsId": f"e-{d}", "subaccountId": 15, "subaccountName": "batchtest",
            "earningsFor": f"{d}T00:00:00.000+00:00", "earningScheme": "FPPS", "coin": "BTC",
            "address": "bc1q", "hashrate": 5548393.04, "grossOwed": 0.0066, "fee": 1.5,
            "feesPaid": 0.0001, "netOwed": 0.0065, "state": "CONFIRMED", "txId": f"tx-{d}",
            "paidOn": f"{d + timedelta(days=1)}T02:30:04.107+00:00",
        } for d in self.within(request, "startDate", "endDate")], request)

    def records(self, request: Any) -> Any:
        return self.page("v1", [{
            "id": f"r-{d}", "coin": {"id": 0, "code": "BTC", "name": "bitcoin"},
            "created": f"{d + timedelta(days=1)}T02:30:00.000+00:00", "subaccountName": "batchtest",
            "subaccountId": 15, "payoutAddress": "bc1q", "paymentMethod": "FPPS", "amount": 0.0065,
            "status": "CONFIRMED", "blockchainId": f"tx-{d}",
        } for d in self.within(request, "fromDate", "toDate")], request)

    def payouts(self, request: Any) -> Any:
        return self.page("payouts", [{
            "internalTxId": f"i-{d}", "coin": "BTC", "amount": 0.0065, "state": "CONFIRMED",
            "txId": f"tx-{d}", "paidOn": f"{d + timedelta(days=1)}T02:30:00.000+00:00",
            "details": [{"amount": 0.0065, "subaccount": "batchtest", "address": "bc1q"}],
        } for d in self.within(request, "startDate", "endDate")], request)


def serve_sbi(upstream: responses.RequestsMock, financials: SbiFinancials) -> None:
    from tests.pools.test_sbicrypto_client import serve_public

    serve_public(upstream)
    for name in ("account", "subaccounts", "workers", "subpools", "revenue"):
        upstream.get(f"{SBI}/api/external/v1/{name}", json=payload("sbicrypto", name))
    upstream.get(SBI + "/api/external/v1/subaccount/6/virtual", status=400,
                 json=payload("sbicrypto", "error-not-a-collector"))
    upstream.get(SBI + "/api/external/v1/subaccount/15/virtual",
                 json=payload("sbicrypto", "virtual-subaccounts"))
    for path, callback in (("/api/external/v2/earnings", financials.earnings),
                           ("/api/external/v1/earnings", financials.records),
                           ("/api/external/v1/payouts", financials.payouts)):
        upstream.add_callback(responses.GET, SBI + path, callback=callback)


def test_a_first_poll_reads_all_120_days_of_sbi_financials(upstream: responses.RequestsMock) -> None:
    financials = SbiFinancials(NOW.date())
    serve_sbi(upstream, financials)
    plan = Plan(pages=10)
    client = SbiCryptoClient(PollContext(
        base_url=SBI, credentials={"api_key": "k", "api_secret": "s"}, options={}, now=NOW,
        state={"history": plan}, http=HttpClient(retries=0, backoff=0, sleep=lambda seconds: None),
    ))
    snapshot = client.fetch()

    assert len(snapshot.earnings) == DAYS
    assert min(e.date for e in snapshot.earnings) == NOW.date() - timedelta(days=DAYS)
    assert len(snapshot.payouts) == DAYS and len({p.tx for p in snapshot.payouts}) == DAYS
    # The back-fill's reads: one date range from the earliest day to the day it began, page
    # by page, 0-based, until totalPages.
    backfill = [p for p in financials.asked["v2"] if p["startDate"] == "2009-01-03"]
    assert [p["page"] for p in backfill] == ["0", "1", "2"]
    assert {p["endDate"] for p in backfill} == {"2026-04-01"}
    assert [p["page"] for p in financials.asked["v1"] if p["fromDate"] == "2009-01-03"] == ["0", "1", "2"]
    assert {(p.dataset, p.done, p.pages_done, p.rows_done) for p in plan.results} == {
        ("earnings", True, 3, DAYS), ("payout_records", True, 3, DAYS), ("payouts", True, 3, DAYS)}


# -- whole polls: an interrupted back-fill resumes --

def counts(source: Source) -> tuple[int, int]:
    return (m.DailyEarning.objects.filter(source=source).count(),
            m.Payout.objects.filter(source=source).count())


@pytest.fixture
def btccom_upstream(upstream: responses.RequestsMock) -> EarnHistory:
    for name, path in (("account-info", "/v1/account/info"), ("earn-stats", "/v1/account/earn-stats"),
                       ("realtime-hashrate", "/v1/realtime/hashrate"),
                       ("worker-stats", "/v1/worker/stats"), ("pool-stats", "/public/v1/pool/stats"),
                       ("pool-stats", "/public/v1/pool/stats/merge")):
        upstream.get(BTCCOM + path, json=payload("btccom", name))
    upstream.get(BTCCOM + "/v1/worker", json={"err_no": 0, "data": payload("btccom", "worker-list")})
    history = EarnHistory(datetime.now(UTC).date())
    upstream.add_callback(responses.GET, BTCCOM + "/v1/account/earn-history", callback=history)
    return history


FAILURES: dict[str, tuple[Callable[[], Any], str]] = {
    "http 502": (lambda: (502, {}, "<html>502 Bad Gateway</html>"), "502"),
    "connection reset": (lambda: requests.ConnectionError("Connection reset by peer"), "could not connect"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_an_interrupted_back_fill_resumes_where_it_stopped(
    team: Team, btccom_upstream: EarnHistory, failure: str, settings: Any,
) -> None:
    settings.HTTP_RETRIES = 0
    make, words = FAILURES[failure]
    history = btccom_upstream
    history.failing, history.failure = {3}, make()
    source = source_create(team=team, kind="btccom", label="Spica", credentials=AUTH)

    first = source_poll(source_id=source.pk)
    assert first is not None and first.ok  # today's figures are stored all the same
    assert history.pages == [1, 2, 3]
    # Pages 1 and 2 kept: 99 days stored, and the 100th waits with the page that failed, in
    # case that page holds more days of its payment. Today is not paid yet.
    assert counts(source) == (99, 98)
    state = m.HistoryBackfill.objects.get(source=source, dataset="earnings")
    assert (state.cursor, state.pages_done, state.rows_done, state.done) == ({"page": 3}, 2, 100, False)
    assert len(state.carry) == 1
    assert words in state.last_error and state.last_error_at is not None
    assert "earn-history" in state.last_error and AUTH["access_key"] not in state.last_error

    history.failing, history.pages = set(), []
    second = source_poll(source_id=source.pk)
    assert second is not None and second.ok
    assert history.pages == [1, 3]  # the recent window, then on from page 3
    assert counts(source) == (DAYS, DAYS - 1)  # nothing lost, nothing doubled
    state.refresh_from_db()
    assert (state.cursor, state.pages_done, state.rows_done, state.last_error) == ({}, 3, DAYS, "")
    assert state.done and state.oldest == history.days[-1]

    history.pages = []
    third = source_poll(source_id=source.pk)
    assert third is not None and third.ok
    assert history.pages == [1]  # done: the recent window only
    assert counts(source) == (DAYS, DAYS - 1)


def test_the_per_poll_budget_is_a_setting(team: Team, btccom_upstream: EarnHistory, settings: Any) -> None:
    settings.HISTORY_PAGES_PER_POLL = 1
    source = source_create(team=team, kind="btccom", label="Spica", credentials=AUTH)
    polls = 0
    while not m.HistoryBackfill.objects.filter(source=source, finished_at__isnull=False).exists():
        run = source_poll(source_id=source.pk)
        assert run is not None and run.ok
        polls += 1
        assert polls <= 3
    assert polls == 3 and counts(source) == (DAYS, DAYS - 1)


def test_new_credentials_start_the_back_fill_again(team: Team, btccom_upstream: EarnHistory) -> None:
    source = source_create(team=team, kind="btccom", label="Spica", credentials=AUTH)
    source_poll(source_id=source.pk)
    assert m.HistoryBackfill.objects.get(source=source).done
    Source.objects.filter(pk=source.pk).update(credentials_changed_at=datetime.now(UTC))
    btccom_upstream.pages = []
    source_poll(source_id=source.pk)
    assert btccom_upstream.pages == [1, 2, 3]


def test_the_old_prefilled_history_days_is_forgotten(team: Team) -> None:
    from importlib import import_module

    from django.apps import apps

    migration = import_module("pools.migrations.0004_history_days_no_default")
    kept = source_create(team=team, kind="btccom", label="Capped", credentials=AUTH,
                         options={"history_days": "30", "region": "eu"})
    prefilled = source_create(team=team, kind="btccom", label="Prefilled", credentials=AUTH,
                              options={"history_days": "90", "region": "eu"})
    migration.forget_the_old_default(apps, None)
    kept.refresh_from_db()
    prefilled.refresh_from_db()
    assert kept.options == {"history_days": "30", "region": "eu"}
    assert prefilled.options == {"region": "eu"}
