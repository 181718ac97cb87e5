from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dashboard.models import ApiToken, Membership, Source, Team


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_createteam_with_owner(alice) -> None:
    run("createteam", "night-shift", "--name", "Night Shift", "--owner", "alice")
    team = Team.objects.get(slug="night-shift")
    assert team.name == "Night Shift"
    assert Membership.objects.get(team=team, user=alice).role == "owner"


@pytest.mark.parametrize(("args", "message"), [
    (["Not A Slug"], "not a valid slug"),
    (["ok-slug", "--owner", "nobody"], "no user named 'nobody'"),
])
def test_createteam_rejects_bad_input(db, args, message) -> None:
    with pytest.raises(CommandError, match=message):
        run("createteam", *args)


def test_createteam_rejects_a_duplicate(team) -> None:
    with pytest.raises(CommandError, match="already exists"):
        run("createteam", team.slug)


def test_sources_add_prints_the_id_alone_on_its_last_line(team) -> None:
    out = run("sources", "add", "--team", team.slug, "--kind", "fake", "--label", "Farm",
              "--credential", "api_key=abc=def", "--option", "mode=ok")
    source = Source.objects.get(label="Farm")
    assert out.strip().splitlines()[-1] == str(source.pk)
    assert source.credentials == {"api_key": "abc=def"}
    assert source.options == {"mode": "ok"}


@pytest.mark.parametrize(("args", "message"), [
    (["--kind", "nope", "--label", "x"], "unknown source kind 'nope'"),
    (["--kind", "fake", "--label", "x"], "needs api_key"),
    (["--kind", "fake", "--label", "x", "--credential", "api_key"], "not KEY=VALUE"),
    (["--kind", "fake", "--label", "x", "--credential", "=v"], "not KEY=VALUE"),
    (["--kind", "fake", "--label", "x", "--credential", "api_key=k", "--option", "mode=fast"],
     "must be one of"),
    (["--kind", "fake", "--label", "x", "--credential", "api_key=k", "--option", "zoom=1"],
     "unknown option 'zoom'"),
    (["--kind", "fake", "--label", "x", "--credential", "api_key=k", "--base-url", "ftp://h"],
     "base URL must look like"),
])
def test_sources_add_rejects_bad_input(team, args, message) -> None:
    with pytest.raises(CommandError, match=message):
        run("sources", "add", "--team", team.slug, *args)
    assert not Source.objects.exists()


def test_sources_add_rejects_an_unknown_team(db) -> None:
    with pytest.raises(CommandError, match="no team with slug 'ghost'"):
        run("sources", "add", "--team", "ghost", "--kind", "fake", "--label", "x")


def test_sources_list(source, team) -> None:
    out = run("sources", "list", "--team", team.slug)
    assert "Main farm" in out and "fake" in out and "pending" in out


def test_poll_exits_1_when_a_source_fails(source) -> None:
    assert "ok in" in run("poll", str(source.pk))
    Source.objects.filter(pk=source.pk).update(options={"mode": "transient"})
    with pytest.raises(CommandError) as error:
        run("poll", "--all")
    assert error.value.returncode == 1


@pytest.mark.parametrize(("args", "message"), [
    ([], "name the sources"), (["999"], "no source with id 999"), (["1", "--all"], "not both"),
])
def test_poll_rejects_bad_input(db, args, message) -> None:
    with pytest.raises(CommandError, match=message):
        run("poll", *args)


def test_apitoken_create_prints_the_token_alone_on_its_last_line(team) -> None:
    token = run("apitoken", "create", "--team", team.slug, "--name", "grafana").splitlines()[-1]
    assert token.startswith("hw_")
    assert ApiToken.objects.get(team=team).name == "grafana"
