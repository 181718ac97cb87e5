"""contrib/: the Prometheus and Grafana files parse, and every query in them names a metric
that a scrape of a populated team really carries."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.metrics.conftest import Populated, scrape

ROOT = Path(__file__).resolve().parents[2]
CONTRIB = ROOT / "contrib"
# Series Prometheus makes itself for each scrape, which no exporter sends.
PROMETHEUS_OWN = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
# Families without a source label: the team's alerts and the app's own health.
TEAM_WIDE = {"hashwatch_alerts_firing", "hashwatch_redis_up", "hashwatch_celery_queue_length"}
# PromQL words that look like metric names: keywords, and modifiers that take a label list.
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan"}
LABEL_LISTS = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*[a-zA-Z_]\w*\s*\)\s*$")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression (or a Grafana label_values() query) reads."""
    if match := LABEL_VALUES.match(expr):
        expr = match.group(1)
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings, label values among them
    expr = re.sub(r"\{[^}]*\}", " ", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", " ", expr)  # range selectors
    expr = LABEL_LISTS.sub(" ", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
        if expr[match.end():].lstrip().startswith("("):
            continue  # a function or an aggregation
        if match.group().lower() not in KEYWORDS:
            names.add(match.group())
    return names


def test_the_extractor_finds_names_and_nothing_else() -> None:
    assert metric_names('min without (window) (a_b{window!="24h"} / avg_over_time(a_b{x="y"}[24h])) < 0.7') \
        == {"a_b"}
    assert metric_names('sum by (coin) (x{team=~"$team"}) or vector(0)') == {"x"}
    assert metric_names("time() - last_seconds{job=~\"$job\"}") == {"last_seconds"}
    assert metric_names("x == 0 unless on (team, source_id) y{enabled=\"false\"}") == {"x", "y"}
    assert metric_names('label_values(hashwatch_source_info{team=~"$team"}, source)') == {
        "hashwatch_source_info"}


def grafana_dashboard() -> dict[str, Any]:
    return json.loads((CONTRIB / "grafana" / "hashwatch.json").read_text())


def dashboard_queries(dashboard: dict[str, Any]) -> list[str]:
    queries = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            queries.append(query["query"] if isinstance(query, dict) else query)
    return queries


def alert_rules() -> list[dict[str, Any]]:
    rules = yaml.safe_load((CONTRIB / "prometheus" / "alerts.yml").read_text())
    return [rule for group in rules["groups"] for rule in group["rules"]]


@pytest.fixture
def exported(populated: Populated, token: str) -> set[str]:
    return scrape(token).sample_names


def test_the_dashboards_queries_name_only_exported_metrics(exported: set[str]) -> None:
    used: set[str] = set()
    for query in dashboard_queries(grafana_dashboard()):
        names = metric_names(query)
        assert names, f"no metric found in {query!r}"
        used |= names
    assert used - exported == set()
    # What the dashboard is for: hashrate, workers, earnings, health and the market price.
    assert {"hashwatch_hashrate_hashes_per_second", "hashwatch_workers", "hashwatch_earnings_today_coins",
            "hashwatch_source_up", "hashwatch_market_last_price"} <= used


def test_the_example_rules_name_only_exported_metrics(exported: set[str]) -> None:
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} >= {
        "HashwatchSourceDown", "HashwatchHashrateDrop", "HashwatchWorkersOffline"}
    for rule in rules:
        assert rule["expr"] and rule["annotations"]["summary"], rule["alert"]
        assert metric_names(rule["expr"]) - exported - PROMETHEUS_OWN == set(), rule["alert"]


def test_the_hashrate_drop_compares_with_its_own_24h_average() -> None:
    [rule] = [rule for rule in alert_rules() if rule["alert"] == "HashwatchHashrateDrop"]
    assert "avg_over_time(hashwatch_hashrate_hashes_per_second" in rule["expr"] and "[24h]" in rule["expr"]


def test_the_dashboard_has_a_source_variable_and_a_chosen_data_source() -> None:
    dashboard = grafana_dashboard()
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["source"]["multi"] and variables["source"]["includeAll"]
    panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    assert panels and dashboard["uid"] == "hashwatch"
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            names = metric_names(target["expr"])
            # Every series of a source follows the source picker.
            if any(name.startswith("hashwatch_") for name in names) and not names & TEAM_WIDE:
                assert 'source=~"$source"' in target["expr"], (panel["title"], target["expr"])
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_the_scrape_job_sends_the_token_to_metrics() -> None:
    config = yaml.safe_load((CONTRIB / "prometheus" / "prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer" and job["authorization"]["credentials_file"]
    assert config["rule_files"] == ["alerts.yml"]


def test_the_grafana_provisioning_files_parse() -> None:
    datasources = yaml.safe_load((CONTRIB / "grafana/provisioning/datasources/prometheus.yml").read_text())
    [source] = datasources["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    providers = yaml.safe_load((CONTRIB / "grafana/provisioning/dashboards/hashwatch.yml").read_text())
    [provider] = providers["providers"]
    assert provider["type"] == "file" and provider["options"]["path"].startswith("/var/lib/grafana/")


@pytest.mark.skipif(shutil.which("promtool") is None,
                    reason="promtool (Prometheus's own checker) is not installed")
def test_promtool_accepts_the_config_and_the_rules(tmp_path: Path) -> None:
    """Prometheus's own parser, where it is at hand: the PromQL of every rule, and the config
    with its rule file and token file beside it as the Compose profile lays them out."""
    for name in ("prometheus.yml", "alerts.yml"):
        shutil.copy(CONTRIB / "prometheus" / name, tmp_path / name)
    (tmp_path / "hashwatch.token").write_text("a-token")
    checked = subprocess.run(["promtool", "check", "config", str(tmp_path / "prometheus.yml")],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
