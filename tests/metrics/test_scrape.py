"""GET /metrics read against what the store holds."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families

from dashboard.models import PollRun, Source, Team
from dashboard.polling import source_poll
from dashboard.services import apitoken_create, source_create
from exchanges import live
from pools.models import Balance, Worker
from tests.conftest import SECRET
from tests.metrics.conftest import TERA, Populated, bearer, scrape

SAMPLE_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$")


def test_every_family_is_typed_and_every_sample_parses(populated: Populated, token: str) -> None:
    result = scrape(token)
    declared = dict(re.findall(r"^# TYPE (\S+) (\S+)$", result.text, flags=re.MULTILINE))
    samples = [line for line in result.text.splitlines() if line and not line.startswith("#")]
    assert len(samples) == len(result.samples) > 50
    for line in samples:
        match = SAMPLE_LINE.match(line)
        assert match, line
        float(match.group(3))
        name = match.group(1)
        # Each sample's family was declared with a type before it, whatever its suffix.
        assert any(name == family or name.startswith(family + "_") for family in declared), name
    assert all(kind in {"gauge", "counter", "info", "summary", "histogram"} for kind in declared.values())
    for family in result.families.values():
        assert family.type != "unknown", family.name
    assert declared["hashwatch_source_poll_failures_total"] == "counter"
    assert declared["hashwatch_source_up"] == "gauge"


def test_prometheus_gets_openmetrics_that_parse(populated: Populated, token: str) -> None:
    response = Client().get("/metrics", HTTP_ACCEPT="application/openmetrics-text; version=1.0.0",
                            **bearer(token))
    assert response["Content-Type"].startswith("application/openmetrics-text")
    families = {f.name: f for f in openmetrics_families(response.content.decode())}
    assert families["hashwatch_source"].type == "info"
    assert families["hashwatch_source_poll_failures"].type == "counter"
    assert response.content.decode().rstrip().endswith("# EOF")


def test_hashrate_is_in_hashes_per_second_for_each_published_window(populated: Populated, token: str) -> None:
    result = scrape(token)
    farm = {"source_id": str(populated.farm.pk), "coin": "BTC"}
    assert result.value("hashwatch_hashrate_hashes_per_second", window="1m", **farm) == 125 * TERA
    assert result.value("hashwatch_hashrate_hashes_per_second", window="15m", **farm) == 120 * TERA
    assert result.value("hashwatch_hashrate_hashes_per_second", window="24h", **farm) == 118 * TERA
    kz = {"source_id": str(populated.kz.pk), "coin": "LTC"}
    assert result.value("hashwatch_hashrate_hashes_per_second", window="10m", **kz) == 2.5e9
    windows = {s.labels["window"] for s in result.find("hashwatch_hashrate_hashes_per_second", **kz)}
    assert windows == {"10m", "24h"}


def test_workers_are_counted_by_status_without_those_no_longer_listed(
        populated: Populated, token: str) -> None:
    result = scrape(token)
    counts = {s.labels["status"]: s.value
              for s in result.find("hashwatch_workers", source_id=str(populated.farm.pk))}
    assert counts == {"online": 3, "offline": 1, "dead": 1}
    assert result.value("hashwatch_workers", source_id=str(populated.kz.pk), status="offline") == 0


def test_every_series_carries_the_source_labels(populated: Populated, token: str, team: Team) -> None:
    result = scrape(token)
    [sample] = result.find("hashwatch_source_up", source_id=str(populated.farm.pk))
    assert sample.labels == {"team": team.slug, "source_id": str(populated.farm.pk),
                             "source": "Alpha farm", "kind": "btccom"}
    for s in result.samples:
        if s.name.startswith("hashwatch_") and "source_id" in s.labels:
            assert s.labels["team"] == team.slug and s.labels["source"] and s.labels["kind"], s


def test_source_info_names_kind_label_and_whether_it_is_polled(populated: Populated, token: str) -> None:
    Source.objects.filter(pk=populated.exchanger.pk).update(enabled=False)
    result = scrape(token)
    info = result.find("hashwatch_source_info", source_id=str(populated.exchanger.pk))
    assert [(s.labels["kind"], s.labels["label"], s.labels["enabled"], s.value) for s in info] == [
        ("btcchange24", "Exchanger", "false", 1.0)]
    # A source nobody polls is not up, whatever it last stored.
    assert result.value("hashwatch_source_up", source_id=str(populated.exchanger.pk)) == 0


def test_a_stale_source_is_down_with_its_last_success_time(populated: Populated, token: str) -> None:
    result = scrape(token)
    kz = {"source_id": str(populated.kz.pk)}
    assert result.value("hashwatch_source_up", **kz) == 0
    assert result.value("hashwatch_source_up", source_id=str(populated.farm.pk)) == 1
    last = result.value("hashwatch_source_last_success_timestamp_seconds", **kz)
    assert last == pytest.approx((populated.now - timedelta(minutes=4)).timestamp())
    # Its figures are still the stored latest; `up` and the time say how old they are.
    assert result.value("hashwatch_hashrate_hashes_per_second", window="10m", **kz) == 2.5e9
    assert result.value("hashwatch_source_poll_duration_seconds", **kz) == 0.8


def polled(source: Source, capture: Any) -> PollRun | None:
    """One poll, with the after-commit work (the poll signal) run as a real commit would."""
    with capture(execute=True):
        return source_poll(source_id=source.pk)


def test_a_failing_source_is_down_and_keeps_its_last_success(
        team: Team, source: Source, token: str, django_capture_on_commit_callbacks: Any) -> None:
    assert polled(source, django_capture_on_commit_callbacks).ok  # type: ignore[union-attr]
    source.refresh_from_db()
    succeeded = source.last_success_at
    labels = {"source_id": str(source.pk)}
    assert scrape(token).value("hashwatch_source_up", **labels) == 1

    Source.objects.filter(pk=source.pk).update(options={"mode": "transient"}, next_poll_at=None,
                                                 wait_until=None)
    assert not polled(source, django_capture_on_commit_callbacks).ok  # type: ignore[union-attr]
    result = scrape(token)
    assert result.value("hashwatch_source_up", **labels) == 0
    assert result.value("hashwatch_source_last_success_timestamp_seconds", **labels) == succeeded.timestamp()  # type: ignore[union-attr]
    assert result.value("hashwatch_source_polls_total", **labels) == 2
    assert result.value("hashwatch_source_poll_failures_total", **labels) == 1


def test_the_failure_counter_never_goes_down_when_old_runs_are_pruned(
        source: Source, token: str, django_capture_on_commit_callbacks: Any) -> None:
    Source.objects.filter(pk=source.pk).update(options={"mode": "transient"})
    for _ in range(3):
        Source.objects.filter(pk=source.pk).update(next_poll_at=None, wait_until=None)
        polled(source, django_capture_on_commit_callbacks)
    labels = {"source_id": str(source.pk)}
    assert scrape(token).value("hashwatch_source_poll_failures_total", **labels) == 3
    PollRun.objects.filter(source=source).delete()  # what prune_poll_runs does to old runs
    assert scrape(token).value("hashwatch_source_poll_failures_total", **labels) == 3


def test_earnings_and_balances_per_source_and_coin(populated: Populated, token: str) -> None:
    result = scrape(token)
    farm = {"source_id": str(populated.farm.pk), "coin": "BTC"}
    assert result.value("hashwatch_earnings_today_coins", **farm) == 0.0042
    assert result.value("hashwatch_unpaid_balance_coins", **farm) == 0.01234567
    assert result.value("hashwatch_paid_total_coins", **farm) == 1.5
    kz = {"source_id": str(populated.kz.pk), "coin": "LTC"}
    assert result.value("hashwatch_unpaid_balance_coins", **kz) == 3.5
    # The pool did not say what today brought: no number rather than a made-up zero.
    assert result.find("hashwatch_earnings_today_coins", **kz) == []


def test_a_total_paid_the_pool_does_not_report_has_no_sample(populated: Populated, token: str) -> None:
    Balance.objects.filter(source=populated.kz).update(paid_total=None)
    kz = {"source_id": str(populated.kz.pk), "coin": "LTC"}
    result = scrape(token)
    assert result.find("hashwatch_paid_total_coins", **kz) == []
    assert result.value("hashwatch_unpaid_balance_coins", **kz) == 3.5


def test_market_figures_and_the_stream_state(populated: Populated, token: str) -> None:
    result = scrape(token)
    product = {"source_id": str(populated.market.pk), "product": "BTCBRL"}
    assert result.value("hashwatch_market_last_price", **product) == 350000
    assert result.value("hashwatch_market_best_bid_price", **product) == 349900
    assert result.value("hashwatch_market_best_ask_price", **product) == 350100
    assert result.value("hashwatch_market_spread_price", **product) == 200
    assert result.value("hashwatch_market_spread_ratio", **product) == pytest.approx(200 / 350000)
    assert result.value("hashwatch_market_volume_24h_coins", **product) == 12.5
    assert result.value("hashwatch_stream_connected", source_id=str(populated.market.pk)) == 1

    live.stream_status_publish(source_id=populated.market.pk, status={"connected": False})
    assert scrape(token).value("hashwatch_stream_connected", source_id=str(populated.market.pk)) == 0
    cache.delete(live.status_key(populated.market.pk))  # no stream service running at all
    assert scrape(token).value("hashwatch_stream_connected", source_id=str(populated.market.pk)) == 0


def test_exchanger_rate_and_reserve_per_direction(populated: Populated, token: str) -> None:
    result = scrape(token)
    direction = {"source_id": str(populated.exchanger.pk), "from": "BTC", "to": "USDT"}
    assert result.value("hashwatch_exchanger_rate", **direction) == 64000
    assert result.value("hashwatch_exchanger_reserve", **direction) == 250000


def test_per_worker_hashrate_only_for_sources_that_ask(populated: Populated, token: str) -> None:
    result = scrape(token)
    rates = {s.labels["worker"]: s.value for s in result.find("hashwatch_worker_hashrate_hashes_per_second")}
    # The farm asked (metrics_per_worker=on); the KZ source did not; a worker no longer listed is left out.
    assert rates == {"online-00": 100 * TERA, "online-01": 100 * TERA, "online-02": 100 * TERA,
                     "offline-00": 0.0, "dead-00": 0.0}
    assert {s.labels["source_id"] for s in result.find("hashwatch_worker_hashrate_hashes_per_second")} == {
        str(populated.farm.pk)}


def test_alerts_firing_by_rule_kind(populated: Populated, token: str) -> None:
    result = scrape(token)
    firing = {s.labels["kind"]: s.value for s in result.find("hashwatch_alerts_firing")}
    assert firing["worker_offline"] == 2  # the resolved one is history
    assert firing["hashrate_drop"] == 0 and firing["reserve_low"] == 0


def test_another_teams_sources_never_appear(populated: Populated, token: str, other_team: Team,
                                            charlie_source: Source) -> None:
    Worker.objects.create(source=charlie_source, name="charlie-rig", status="online", hashrate_hs=1.0,
                          first_seen_at=populated.now, last_seen_at=populated.now)
    result = scrape(token)
    assert str(charlie_source.pk) not in {s.labels.get("source_id") for s in result.samples}
    assert other_team.slug not in result.text and "Charlie" not in result.text

    _, charlies_token = apitoken_create(team=other_team)
    theirs = scrape(charlies_token)
    assert {s.labels.get("source_id") for s in theirs.samples} - {None} == {str(charlie_source.pk)}
    assert "Alpha farm" not in theirs.text
    assert sum(s.value for s in theirs.find("hashwatch_alerts_firing")) == 0


def test_a_team_without_sources_still_answers(team: Team, token: str) -> None:
    result = scrape(token)
    assert result.find("hashwatch_source_up") == []
    assert "hashwatch_alerts_firing" in result.families


def test_the_process_and_the_queues_are_there(team: Team, token: str, settings: object) -> None:
    import redis

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)  # type: ignore[attr-defined]
    broker.lpush("pools", "a", "b", "c")
    broker.lpush("pools\x06\x163", "d")  # a message of a higher priority step
    try:
        result = scrape(token)
    finally:
        broker.delete("pools", "pools\x06\x163")
    assert result.value("hashwatch_redis_up") == 1
    assert result.value("hashwatch_celery_queue_length", queue="pools") == 4
    assert result.value("hashwatch_celery_queue_length", queue="dispatch") == 0
    assert result.value("process_resident_memory_bytes") > 0
    assert result.find("python_info")


def test_with_redis_down_the_scrape_still_answers(populated: Populated, token: str, settings: object) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # type: ignore[attr-defined]
    result = scrape(token)
    assert result.value("hashwatch_redis_up") == 0
    assert result.find("hashwatch_celery_queue_length") == []
    assert result.value("hashwatch_source_up", source_id=str(populated.farm.pk)) == 1


def test_the_pool_source_form_offers_per_worker_metrics(alice: object, team: Team) -> None:
    from tests.conftest import client_for

    page = client_for(alice).get("/settings/sources/new/btccom/")  # type: ignore[arg-type]
    assert page.status_code == 200
    assert b'name="option_metrics_per_worker"' in page.content
    created = source_create(team=team, kind="sbicrypto", label="SBI", credentials={"observer_key": SECRET},
                            options={"metrics_per_worker": "on"})
    assert created.options["metrics_per_worker"] == "on"


def test_an_existing_install_starts_counting_from_the_runs_it_kept(source: Source, token: str) -> None:
    from importlib import import_module

    from django.apps import apps
    from django.utils import timezone

    from metrics.models import SourcePollCount

    now = timezone.now()
    for outcome in ("ok", "transient", "permanent", "ok"):
        PollRun.objects.create(source=source, started_at=now, outcome=outcome)
    SourcePollCount.objects.all().delete()
    import_module("metrics.migrations.0001_initial").count_the_kept_runs(apps, None)
    result = scrape(token)
    assert result.value("hashwatch_source_polls_total", source_id=str(source.pk)) == 4
    assert result.value("hashwatch_source_poll_failures_total", source_id=str(source.pk)) == 2


def test_the_scrape_reads_a_handful_of_queries_whatever_the_number_of_sources(
        populated: Populated, token: str, team: Team, django_assert_max_num_queries: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        scrape(token)
    for i in range(10):
        source_create(team=team, kind="btccom", label=f"More {i}",
                      credentials={"access_key": "k", "puid": str(i)},
                      options={"metrics_per_worker": "on"})
        source_create(team=team, kind="flowbtc", label=f"Market {i}", credentials={})
    with django_assert_max_num_queries(len(few.captured_queries)):
        scrape(token)
    assert len(few.captured_queries) <= 12


def test_an_account_mining_several_coins_has_a_series_per_coin(team: Team, token: str) -> None:
    from django.utils import timezone

    from pools.models import PoolAccount

    source = source_create(team=team, kind="sbicrypto", label="SBI", credentials={"observer_key": SECRET})
    PoolAccount.objects.create(source=source, hashrate_hs=4 * TERA, hashrate_24h_hs=8 * TERA,
                               hashrate_by_coin={"BTC": 3 * TERA, "BCH": 1 * TERA}, updated_at=timezone.now())
    rates = {(s.labels["coin"], s.labels["window"]): s.value
             for s in scrape(token).find("hashwatch_hashrate_hashes_per_second", source_id=str(source.pk))}
    # No account reading stored yet: the shortest window is not known by name.
    assert rates == {("BTC", "current"): 3 * TERA, ("BCH", "current"): 1 * TERA,
                     ("BTC", "24h"): 6 * TERA, ("BCH", "24h"): 2 * TERA}
