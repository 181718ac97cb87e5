"""A total paid the pool does not report, and a payout's fee where it does: stored as the pool
said, and shown as such on the overview, the Earnings page, the payouts CSV and the JSON API."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from dashboard.models import Source, Team
from dashboard.polling import source_poll
from dashboard.services import apitoken_create, source_create
from pools.models import Balance, Payout
from pools.selectors import team_pool_overview
from simulator.server import SimulatorServer
from tests.conftest import client_for

SBI_KEYS = {"api_key": "sim-sbi-key-alpha", "api_secret": "sim-sbi-secret-alpha"}


def kz_source(team: Team, label: str, *, paid: list[str]) -> Source:
    """A BTCpool.kz source as a poll leaves it: a balance without a total, and its payouts."""
    source = source_create(team=team, kind="btcpoolkz", label=label, credentials={"api_key": "k"})
    now = timezone.now()
    Balance.objects.create(source=source, coin="BTC", unpaid=Decimal("0.001"), paid_total=None,
                           updated_at=now)
    for number, amount in enumerate(paid):
        Payout.objects.create(source=source, key=f"tx{number}", tx=f"tx{number}", paid_at=now,
                              coin="BTC", amount=Decimal(amount))
    return source


def test_a_pool_without_a_total_or_a_payout_shows_not_reported(alice: User, team: Team) -> None:
    kz_source(team, "KZ farm", paid=[])
    [btc] = team_pool_overview(sources=list(Source.objects.filter(team=team))).coins
    assert not btc.paid_known and btc.paid_unknown == ["KZ farm"]

    body = client_for(alice).get("/").content.decode()
    assert "paid so far: <span class=\"paid-note\">not reported</span>" in body
    assert "paid so far 0" not in body


def test_a_total_the_pool_does_not_report_is_summed_from_its_payouts_and_says_so(
        alice: User, team: Team) -> None:
    kz_source(team, "KZ farm", paid=["0.5", "0.25"])
    [btc] = team_pool_overview(sources=list(Source.objects.filter(team=team))).coins
    assert btc.paid_total == Decimal("0.75") and btc.paid_summed == ["KZ farm"]

    body = client_for(alice).get("/").content.decode()
    assert "paid so far 0.75" in body
    assert "summed from the stored payouts of KZ farm (no total reported)" in body


def test_reported_and_unreported_totals_add_up_and_name_the_unknown(team: Team) -> None:
    reported = source_create(team=team, kind="fake", label="Reported", credentials={"api_key": "r"})
    Balance.objects.create(source=reported, coin="BTC", unpaid=Decimal(0), paid_total=Decimal("2"),
                           updated_at=timezone.now())
    kz_source(team, "KZ summed", paid=["0.5"])
    kz_source(team, "KZ silent", paid=[])
    [btc] = team_pool_overview(sources=list(Source.objects.filter(team=team))).coins
    assert btc.paid_total == Decimal("2.5")
    assert btc.paid_note == ("summed from the stored payouts of KZ summed (no total reported); "
                             "KZ silent: not reported")


@pytest.fixture
def sbi(team: Team, simulator: SimulatorServer) -> Source:
    source = source_create(
        team=team, kind="sbicrypto", label="SBI farm", base_url=simulator.base_url("sbicrypto"),
        credentials=SBI_KEYS, options={"stats_url": simulator.base_url("sbicrypto-stats") + "/poolstats"},
    )
    run = source_poll(source_id=source.pk)
    assert run is not None and run.ok, run.message if run else "skipped"
    return source


def test_sbi_payout_fees_are_stored_and_shown_beside_the_amount(alice: User, sbi: Source) -> None:
    payouts = Payout.objects.filter(source=sbi)
    with_fee = payouts.exclude(fee=None)
    assert with_fee.exists()
    payout = with_fee.order_by("-paid_at").first()
    assert payout is not None and 0 < payout.fee < payout.amount

    body = client_for(alice).get("/earnings/?range=all").content.decode()
    head = body.split("<h2>Payouts</h2>")[1].split("</thead>")[0]
    assert head.index(">Amount<") < head.index(">Tx fee<")
    assert f'<td data-label="Tx fee" class="num">{payout.fee:,.8f} {payout.coin}</td>' in body


def test_the_payouts_csv_ends_with_the_fee(alice: User, sbi: Source) -> None:
    response = client_for(alice).get("/earnings/payouts.csv?range=all")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["paid_at", "source", "coin", "amount", "address", "tx", "fee"]
    by_tx = {row[5]: row for row in rows[1:]}
    for payout in Payout.objects.filter(source=sbi):
        expected = "" if payout.fee is None else f"{payout.fee.normalize():f}"
        assert by_tx[payout.tx][6] == expected
    assert any(row[6] for row in rows[1:])


def test_the_payouts_api_adds_the_fee_and_keeps_its_keys(team: Team, sbi: Source,
                                                         polled_sources: list[Source]) -> None:
    _, token = apitoken_create(team=team)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    results = api.get(f"/api/v1/payouts?source={sbi.pk}").json()["results"]
    assert results and all(set(r) == {"paid_at", "coin", "amount", "address", "tx", "fee"}
                           for r in results)
    stored = {p.tx: p.fee for p in Payout.objects.filter(source=sbi)}
    assert {r["tx"]: r["fee"] for r in results} == {
        tx: None if fee is None else f"{fee.normalize():f}" for tx, fee in stored.items()}
    # A pool that reports no fee answers null, not a made-up 0.
    btccom = api.get(f"/api/v1/payouts?source={polled_sources[0].pk}").json()["results"]
    assert btccom and {r["fee"] for r in btccom} == {None}
