"""Each rule kind read from the store, with its own way of calling trouble and clear."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from alerts.evaluation import team_evaluate
from alerts.models import Alert, AlertState
from alerts.rules import rule_create, rules_add_recommended
from dashboard.models import Source, Team
from dashboard.services import source_create
from exchanges.models import ExchangerRate, Ticker
from pools.models import Payout, Worker
from tests.alerts.evaluation_helpers import (
    T0,
    account_rate,
    inbox,
    minutes,
    polled,
    sent,
    workers,
)


def state(rule_kind: str) -> tuple[str, str] | None:
    alert = Alert.objects.filter(rule__kind=rule_kind).order_by("-id").first()
    return (alert.state, alert.value) if alert else None


def history(source: Source, terahash: float = 100.0) -> None:
    """A steady day: one account reading an hour for the last 23 hours."""
    for hours in range(1, 24):
        account_rate(source, T0 - timedelta(hours=hours), terahash)


def test_hashrate_drop_fires_below_the_line_and_resolves_past_the_hysteresis(
        team: Team, source: Source) -> None:
    inbox(team)
    rule_create(team=team, kind="hashrate_drop", source=source, for_minutes=0)  # 70 %, 5 points
    history(source)
    # 65 TH/s against a 98.5 TH/s average: 66 %, under the 70 % line.
    account_rate(source, minutes(0), 65)
    polled(source, minutes(0))
    team_evaluate(team=team, now=minutes(0))
    assert state("hashrate_drop") == (AlertState.FIRING, "65.00 TH/s")
    [message] = sent("firing")
    assert message.body == "Main farm: hashrate 65.00 TH/s (66% of its 24 h average 98.54 TH/s)"
    # 72 TH/s: above 70 % but not above 75 %: it stays firing instead of flapping.
    account_rate(source, minutes(1), 72)
    polled(source, minutes(1))
    team_evaluate(team=team, now=minutes(1))
    assert state("hashrate_drop") == (AlertState.FIRING, "65.00 TH/s")
    # 76 TH/s: past the hysteresis, resolved.
    account_rate(source, minutes(2), 76)
    polled(source, minutes(2))
    team_evaluate(team=team, now=minutes(2))
    assert state("hashrate_drop") == (AlertState.RESOLVED, "65.00 TH/s")
    assert len(sent("resolved")) == 1


def test_hashrate_in_the_band_starts_nothing(team: Team, source: Source) -> None:
    rule_create(team=team, kind="hashrate_drop", source=source, for_minutes=0)
    history(source)
    account_rate(source, minutes(0), 72)
    polled(source, minutes(0))
    team_evaluate(team=team, now=minutes(0))
    assert state("hashrate_drop") is None


def test_absolute_hashrate_line(team: Team, source: Source) -> None:
    rule_create(team=team, kind="hashrate_drop", source=source, for_minutes=0, threshold=80,
                threshold_unit="TH/s")
    account_rate(source, minutes(0), 79)
    polled(source, minutes(0))
    team_evaluate(team=team, now=minutes(0))
    assert state("hashrate_drop") == (AlertState.FIRING, "79.00 TH/s")


def test_team_hashrate_per_coin_adds_up_its_sources(team: Team, source: Source) -> None:
    second = source_create(team=team, kind="fake", label="Second farm", credentials={"api_key": "k"})
    rule_create(team=team, kind="hashrate_drop", scope="team", params={"coin": "BTC"}, for_minutes=0)
    for farm in (source, second):
        history(farm, 50)
        polled(farm, minutes(0))
    account_rate(source, minutes(0), 50)
    account_rate(second, minutes(0), 10)  # the team's BTC: 60 of ~98 TH/s
    team_evaluate(team=team, now=minutes(0))
    alert = Alert.objects.get()
    assert (alert.subject, alert.subject_key, alert.state) == ("BTC hashrate", "coin:BTC", AlertState.FIRING)


def test_workers_online_below(team: Team, source: Source) -> None:
    rule_create(team=team, kind="workers_online_below", source=source, threshold=3, for_minutes=0)
    workers(source, ["a", "b", "c"], down={"c"})
    polled(source, minutes(0))
    team_evaluate(team=team, now=minutes(0))
    assert state("workers_online_below") == (AlertState.FIRING, "2 online")


def test_a_payout_is_announced_once_and_the_history_never(team: Team, source: Source) -> None:
    inbox(team)
    Payout.objects.create(source=source, key="old", coin="BTC", amount=Decimal("0.5"),
                          paid_at=T0 - timedelta(days=1))
    rule_create(team=team, kind="payout")
    polled(source, minutes(0))
    team_evaluate(team=team, now=minutes(0))
    assert sent() == []
    Payout.objects.create(source=source, key="tx-new", tx="ab" * 32, coin="BTC", amount=Decimal("0.01250000"),
                          paid_at=minutes(1))
    # A back-filled page of last month's payouts arrives too: history, not news.
    Payout.objects.create(source=source, key="backfill", coin="BTC", amount=Decimal("0.3"),
                          paid_at=T0 - timedelta(days=30))
    team_evaluate(team=team, now=minutes(2))
    [info] = sent("info")
    assert info.body == "Main farm: payout of 0.0125 BTC (tx abababababababab…)"
    team_evaluate(team=team, now=minutes(3))
    assert len(sent()) == 1


def test_no_payout_for_days(team: Team, source: Source) -> None:
    rule_create(team=team, kind="no_payout", source=source, threshold=3)
    Payout.objects.create(source=source, key="p", coin="BTC", amount=Decimal("0.1"),
                          paid_at=T0 - timedelta(days=4))
    polled(source, minutes(0))
    team_evaluate(team=team, now=minutes(0))
    assert state("no_payout") == (AlertState.FIRING, "4.0 days")


def test_a_source_without_any_payout_is_not_judged_by_no_payout(team: Team, source: Source) -> None:
    rule_create(team=team, kind="no_payout", threshold=3)
    polled(source, minutes(0))
    team_evaluate(team=team, now=minutes(0))
    assert state("no_payout") is None


def ticker(source: Source, last: str, bid: str = "1", ask: str = "1") -> None:
    Ticker.objects.update_or_create(source=source, product="BTCBRL", defaults=dict(
        last=Decimal(last), bid=Decimal(bid), ask=Decimal(ask), high=0, low=0, volume=0,
        as_of=T0, updated_at=T0))


def test_price_crossing_a_level(team: Team) -> None:
    inbox(team)
    flow = source_create(team=team, kind="flowbtc", label="FlowBTC", credentials={})
    rule_create(team=team, kind="price", source=flow, threshold=350000,
                params={"product": "BTCBRL", "condition": "above"})
    ticker(flow, "349000")
    polled(flow, minutes(0))
    team_evaluate(team=team, now=minutes(0))
    assert state("price") is None
    ticker(flow, "351000.50")
    polled(flow, minutes(1))
    team_evaluate(team=team, now=minutes(1))
    assert state("price") == (AlertState.FIRING, "last 351000.5")
    assert sent("firing")[0].body == "BTCBRL on FlowBTC: last 351000.5, above 350000"
    ticker(flow, "349999")
    polled(flow, minutes(2))
    team_evaluate(team=team, now=minutes(2))
    assert state("price")[0] == AlertState.RESOLVED  # type: ignore[index]


def test_price_spread_above(team: Team) -> None:
    flow = source_create(team=team, kind="flowbtc", label="FlowBTC", credentials={})
    rule_create(team=team, kind="price", source=flow, threshold=2,
                params={"product": "BTCBRL", "condition": "spread_above"})
    ticker(flow, "100", bid="100", ask="103")
    polled(flow, minutes(0))
    team_evaluate(team=team, now=minutes(0))
    assert state("price") == (AlertState.FIRING, "spread 3.00%")


def test_reserve_low(team: Team) -> None:
    exchanger = source_create(team=team, kind="btcchange24", label="Exchanger", credentials={},
                              options={"export_code": "abc"})
    rule_create(team=team, kind="reserve_low", source=exchanger, threshold=1000,
                params={"from": "BTC", "to": "USDTTRC20"})
    ExchangerRate.objects.create(source=exchanger, from_currency="BTC", to_currency="USDTTRC20",
                                 rate_in=1, rate_out=60000, reserve=Decimal("850.5"), updated_at=T0)
    polled(exchanger, minutes(0))
    team_evaluate(team=team, now=minutes(0))
    alert = Alert.objects.get()
    assert (alert.state, alert.subject) == (AlertState.FIRING, "BTC → USDTTRC20")
    assert alert.value == "850.5 USDTTRC20"
    ExchangerRate.objects.update(reserve=Decimal("5000"))
    polled(exchanger, minutes(1))
    team_evaluate(team=team, now=minutes(1))
    assert Alert.objects.get().state == AlertState.RESOLVED


def test_recommended_rules_on_sources_polled_from_the_simulator(team: Team,
                                                                polled_sources: list[Source]) -> None:
    """End to end through real polls: the simulator's down workers become alerts."""
    inbox(team)
    rules_add_recommended(team=team)
    rule_create(team=team, kind="worker_offline", for_minutes=0, label="Now")
    now = max(s.last_success_at for s in polled_sources)  # type: ignore[type-var]
    result = team_evaluate(team=team, now=now)
    down = Worker.objects.filter(source__in=polled_sources, status__in=["offline", "dead"],
                                 missing_since__isnull=True)
    assert result.failed_rules == []
    fired = Alert.objects.filter(rule__label="Now", state=AlertState.FIRING)
    assert fired.count() == down.count() > 0
    assert Alert.objects.filter(rule__label="", state=AlertState.PENDING).count() == down.count()
    [message] = sent("firing")
    assert all(f"on {s.label}" in message.body for s in polled_sources if down.filter(source=s).exists())
