"""Storing btcchange24 polls: the rate table replaced whole, partner history idempotent, and
whole polls through dashboard.polling against the simulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from dashboard.models import PollRun, Source, Team
from dashboard.polling import source_poll
from dashboard.services import source_create
from exchanges import models as m
from exchanges.clients import exchanger_base as eb
from exchanges.ingest import exchanger_snapshot_ingest
from simulator import btcchange24 as sim
from simulator.server import SimulatorServer

NOW = datetime(2025, 6, 15, 12, 20, tzinfo=UTC)


def rate(source: str = "BTC", target: str = "USDTTRC20", rate_in: str = "1",
         rate_out: str = "63000", reserve: str = "180000", **extra: object) -> eb.ExchangeRate:
    return eb.ExchangeRate(from_currency=source, to_currency=target, rate_in=Decimal(rate_in),
                           rate_out=Decimal(rate_out), reserve=Decimal(reserve), **extra)  # type: ignore[arg-type]


def info(balance: str = "12.5", link: str = "https://www.btcchange24.com/ref/XXXX/",
         min_payout: str = "50") -> eb.PartnerInfo:
    return eb.PartnerInfo(balance=Decimal(balance), total_received=Decimal("120"), link=link,
                          min_payout=Decimal(min_payout))


def exchange(id: str, at: datetime, *, succeeded: bool = True, accrued: bool = False,
             reward: str = "1.25") -> eb.PartnerExchange:
    return eb.PartnerExchange(id=id, at=at, course_give=Decimal(1), course_get=Decimal("63000"),
                              amount_give=Decimal("0.01"), amount_get=Decimal("630"),
                              succeeded=succeeded, accrued=accrued, partner_reward=Decimal(reward),
                              user_hash="1r7")


def click(id: str, at: datetime) -> eb.LinkClicks:
    return eb.LinkClicks(id=id, at=at, browser="Firefox", ip="203.0.113.9",
                         referrer="https://kurs.expert/", user_hash="613fe600",
                         query_string="cur_from=BTC&cur_to=ETH")


def snapshot(*rates: eb.ExchangeRate, at: datetime = NOW, **partner: object) -> eb.ExchangerSnapshot:
    return eb.ExchangerSnapshot(fetched_at=at, rates=list(rates), **partner)  # type: ignore[arg-type]


def store(source: Source, shot: eb.ExchangerSnapshot, now: datetime = NOW) -> dict[str, int]:
    return exchanger_snapshot_ingest(source=source, snapshot=shot, now=now)


def exchanger_source(team: Team, *, label: str = "btcchange24", api_key: str = "",
                     base_url: str = "", fmt: str = "xml", code: str = sim.EXPORT_CODE) -> Source:
    return source_create(team=team, kind="btcchange24", label=label, base_url=base_url,
                         credentials={"api_key": api_key} if api_key else {},
                         options={"export_code": code, "export_format": fmt})


@pytest.fixture
def source(team: Team) -> Source:
    return exchanger_source(team, api_key="pk_test_0123456789")


def directions(source: Source) -> list[tuple[str, str, str]]:
    return list(m.ExchangerRate.objects.filter(source=source)
                .values_list("from_currency", "to_currency", "city"))


def test_a_new_poll_replaces_the_rate_table(source: Source) -> None:
    store(source, snapshot(rate(), rate("ETH", "BTC", "18", "1"), rate("USDTTRC20", "CASHUSD", city="MSK")))
    later = NOW + timedelta(minutes=1)
    counts = store(source, snapshot(rate(rate_out="64000"), rate("LTC", "BTC", "800", "1"), at=later), later)
    assert counts["exchanger_rates"] == 2
    assert sorted(directions(source)) == [("BTC", "USDTTRC20", ""), ("LTC", "BTC", "")]
    btc = m.ExchangerRate.objects.get(source=source, from_currency="BTC")
    assert btc.rate_out == Decimal(64000) and btc.updated_at == later


def test_it_stores_limits_fees_city_and_flags(source: Source) -> None:
    store(source, snapshot(rate("SBERRUB", "BTC", "6000000", "1", min_amount=Decimal(100),
                                max_amount=Decimal(10000), amount_currency="SBERRUB",
                                from_fee=eb.Fee(Decimal("0.5"), is_percent=True),
                                to_fee=eb.Fee(Decimal("0.0001")), city="MSK",
                                flags=("manual", "cardverify"))))
    row = m.ExchangerRate.objects.get(source=source)
    assert (row.min_amount, row.max_amount, row.amount_currency) == (Decimal(100), Decimal(10000), "SBERRUB")
    assert (row.from_fee, row.to_fee, row.city) == ("0.5%", "0.0001", "MSK")
    assert row.flags == ["manual", "cardverify"]


def test_an_empty_export_keeps_the_last_table(source: Source) -> None:
    store(source, snapshot(rate(), rate("ETH", "BTC", "18", "1")))
    counts = store(source, snapshot(at=NOW + timedelta(minutes=1)), NOW + timedelta(minutes=1))
    assert counts["exchanger_rates"] == 0
    assert len(directions(source)) == 2
    assert {r.updated_at for r in m.ExchangerRate.objects.filter(source=source)} == {NOW}


def test_another_sources_table_is_left_alone(source: Source, team: Team) -> None:
    other = exchanger_source(team, label="second exchanger")
    store(other, snapshot(rate("XMR", "BTC", "380", "1")))
    store(source, snapshot(rate()))
    store(source, snapshot(rate("ETH", "BTC", "18", "1")))
    assert directions(other) == [("XMR", "BTC", "")]


def test_partner_rows_are_idempotent_on_re_poll(source: Source) -> None:
    shot = snapshot(rate(), info=info(), exchanges=[exchange("1895", NOW - timedelta(hours=3))],
                    clicks=[click("1631577600", NOW - timedelta(hours=2))])
    store(source, shot)
    store(source, shot)
    assert m.PartnerExchange.objects.filter(source=source).count() == 1
    assert m.LinkClick.objects.filter(source=source).count() == 1
    # The exchange is listed again once its reward accrues: the same row, updated.
    later = NOW + timedelta(days=1)
    store(source, snapshot(rate(), exchanges=[exchange("1895", NOW - timedelta(hours=3), accrued=True)],
                           at=later), later)
    row = m.PartnerExchange.objects.get(source=source)
    assert row.accrued is True and row.partner_reward == Decimal("1.25")


def test_the_balance_is_one_row_per_hour(source: Source) -> None:
    for minutes, balance in ((0, "10"), (20, "11"), (39, "12")):
        at = NOW.replace(minute=minutes)
        store(source, snapshot(rate(), info=info(balance), at=at), at)
    next_hour = NOW.replace(minute=5) + timedelta(hours=1)
    store(source, snapshot(rate(), info=info("13"), at=next_hour), next_hour)
    rows = list(m.PartnerBalance.objects.filter(source=source).order_by("at").values_list("at", "balance"))
    assert rows == [(NOW.replace(minute=0), Decimal(12)), (next_hour.replace(minute=0), Decimal(13))]


def test_no_ip_address_is_stored(source: Source) -> None:
    store(source, snapshot(rate(), clicks=[click("1", NOW)]))
    stored = m.LinkClick.objects.filter(source=source).values().get()
    assert "203.0.113.9" not in str(stored)
    assert not any(name == "ip" or name.endswith("_ip") for name in stored)
    assert stored["query_string"] == "cur_from=BTC&cur_to=ETH"


# -- whole polls through dashboard.polling, against the simulator --


@pytest.mark.parametrize("fmt", ["xml", "json", "txt"])
def test_a_poll_stores_the_simulators_rates_and_partner_data(
        team: Team, simulator: SimulatorServer, fmt: str) -> None:
    source = exchanger_source(team, api_key=sim.API_KEY, base_url=simulator.base_url("btcchange24"),
                              fmt=fmt)
    run = source_poll(source_id=source.pk)
    assert run is not None and run.ok, run.message if run else "skipped"
    assert run.rows["exchanger_rates"] == len(sim.DIRECTIONS)
    stored = set(directions(source))
    assert {(d.source, d.target, d.city if fmt != "txt" else "") for d in sim.DIRECTIONS} == stored
    balance = m.PartnerBalance.objects.get(source=source)
    assert balance.link == f"https://www.btcchange24.com/ref/{sim.REF_CODE}/"
    assert balance.min_payout == sim.MIN_PAYOUT
    assert m.PartnerExchange.objects.filter(source=source).exists()
    assert m.LinkClick.objects.filter(source=source).exists()
    if fmt == "xml":
        manual = m.ExchangerRate.objects.get(source=source, from_currency="SBERRUB")
        assert manual.flags == ["manual"] and manual.from_fee == "0.5%"


def test_a_second_poll_adds_no_duplicate_partner_rows(team: Team, simulator: SimulatorServer) -> None:
    source = exchanger_source(team, api_key=sim.API_KEY, base_url=simulator.base_url("btcchange24"))
    assert source_poll(source_id=source.pk).ok  # type: ignore[union-attr]
    counts = (m.PartnerExchange.objects.count(), m.LinkClick.objects.count())
    Source.objects.filter(pk=source.pk).update(next_poll_at=None)
    assert source_poll(source_id=source.pk).ok  # type: ignore[union-attr]
    assert (m.PartnerExchange.objects.count(), m.LinkClick.objects.count()) == counts
    assert m.PartnerBalance.objects.filter(source=source).count() in (1, 2)  # 2 across an hour


def test_maintenance_is_a_transient_error_that_keeps_the_stored_rates(
        team: Team, simulator: SimulatorServer) -> None:
    source = exchanger_source(team, base_url=simulator.base_url("btcchange24"))
    assert source_poll(source_id=source.pk).ok  # type: ignore[union-attr]
    before = directions(source)
    source.options = {**source.options, "export_code": sim.MAINTENANCE_CODE}
    source.save(update_fields=["options"])
    run = source_poll(source_id=source.pk)
    assert run is not None and run.outcome == PollRun.Outcome.TRANSIENT
    assert run.message == "btcchange24 reports: Maintenance"
    source.refresh_from_db()
    assert source.last_error == "btcchange24 reports: Maintenance"
    assert not source.error_is_permanent and source.next_poll_at is not None
    assert source.health().value == "error"
    assert directions(source) == before and len(before) == len(sim.DIRECTIONS)
