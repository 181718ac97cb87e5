"""The scripting interface the acceptance checks use: ids alone on the last line, bad input
exits non-zero with a message that says what to fix."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from alerts.models import Alert, AlertState, Channel, Delivery, Rule
from dashboard.models import Source, Team
from tests.alerts.evaluation_helpers import workers


def run(*args: str) -> str:
    out = StringIO()
    call_command("alerts", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_rule_add_prints_the_id_alone_on_its_last_line(team: Team, source: Source) -> None:
    out = run("rule", "add", "--team", team.slug, "--kind", "worker_offline", "--source",
              str(source.pk), "--for-minutes", "5")
    rule = Rule.objects.get()
    assert out.splitlines()[-1] == str(rule.pk)
    assert "Worker offline for 5 min on Main farm" in out
    out = run("rule", "add", "--team", team.slug, "--kind", "hashrate_drop", "--source", str(source.pk),
              "--threshold", "60", "--param", "hysteresis_pct=10")
    drop = Rule.objects.get(kind="hashrate_drop")
    assert (drop.threshold, drop.params) == (60, {"hysteresis_pct": "10"})
    listing = run("rule", "list", "--team", team.slug)
    assert "Hashrate below 60% of its 24 h average for 15 min on Main farm" in listing


@pytest.mark.parametrize(("args", "message"), [
    (["--kind", "nope"], "kind: unknown kind 'nope'; use one of: worker_offline"),
    (["--kind", "workers_online_below", "--source", "SOURCE"], "threshold: give the fewer than"),
    (["--kind", "worker_offline", "--source", "999999"], "no source 999999 in alice-mining"),
    (["--kind", "hashrate_drop", "--source", "SOURCE", "--threshold", "abc"], "'abc' is not a number"),
    (["--kind", "worker_offline", "--param", "oops"], "--param 'oops' is not KEY=VALUE"),
])
def test_rule_add_rejects_bad_input(team: Team, source: Source, args: list[str], message: str) -> None:
    args = [str(source.pk) if a == "SOURCE" else a for a in args]
    with pytest.raises(CommandError, match=message):
        run("rule", "add", "--team", team.slug, *args)
    assert not Rule.objects.exists()


def test_unknown_team_says_which_exist(team: Team) -> None:
    with pytest.raises(CommandError, match="no team with slug 'ghost'"):
        run("list", "--team", "ghost")


def test_channel_add_and_evaluate_and_list(team: Team, source: Source) -> None:
    out = run("channel", "add", "--team", team.slug, "--url", "json://127.0.0.1:9/hook", "--label", "Hook")
    channel = Channel.objects.get()
    assert out.splitlines()[-1] == str(channel.pk)
    Channel.objects.create(team=team, kind="in_app", label="Inbox")
    run("rule", "add", "--team", team.slug, "--kind", "worker_offline", "--source", str(source.pk),
        "--for-minutes", "0")
    workers(source, ["55x1", "55x2"], down={"55x2"})
    Source.objects.filter(pk=source.pk).update(last_poll_at=timezone.now(), last_success_at=timezone.now())
    out = run("evaluate")
    assert "1 fired" in out and out.splitlines()[-1].startswith("1 teams evaluated")
    # The in-app message is delivered; the unreachable webhook fails and waits for a retry.
    statuses = dict(Delivery.objects.values_list("channel__label", "status"))
    assert statuses["Inbox"] == "sent"
    assert statuses["Hook"] in ("retrying", "failed")
    listing = run("list", "--team", team.slug, "--state", "firing")
    assert "55x2" in listing and "worker_offline" in listing
    assert Alert.objects.get().state == AlertState.FIRING
    assert "has no resolved alerts" in run("list", "--team", team.slug, "--state", "resolved")


def test_a_bad_apprise_url_exits_non_zero_with_the_reason(team: Team) -> None:
    with pytest.raises(CommandError) as error:
        run("channel", "add", "--team", team.slug, "--url", "nonsense://what")
    assert str(error.value)
    assert not Channel.objects.exists()


def test_the_command_exits_non_zero_on_bad_input() -> None:
    done = subprocess.run([sys.executable, "manage.py", "alerts", "rule", "add", "--team", "x"],
                          capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "--kind" in done.stderr
