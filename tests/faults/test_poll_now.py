"""Poll now against a real worker and beat: it never calls an upstream the scheduler would not."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from dashboard.models import PollRun, Source, Team
from tests.conftest import client_for
from tests.e2e.conftest import wait_for
from tests.faults.conftest import Stack, Upstream, counts, faulty, settle

pytestmark = pytest.mark.e2e


def test_poll_now_during_a_long_retry_after_calls_nobody_and_says_when(
    team: Team, alice: object, upstream: Upstream, stack: Stack
) -> None:
    Team.objects.filter(pk=team.pk).update(timezone="Asia/Almaty")
    source = faulty(team, upstream, "farm")
    upstream.set("farm", status=429, headers={"Retry-After": "600"})
    stack.worker("pools", "--pool", "solo")
    stack.beat()

    wait_for(lambda: counts(source)[0] == 1, timeout=30, what="the rate-limited poll")
    run = PollRun.objects.get(source=source)
    assert run.outcome == PollRun.Outcome.TRANSIENT and "HTTP 429" in run.message
    source.refresh_from_db()
    assert source.wait_until >= timezone.now() + timedelta(seconds=590)
    local = source.wait_until.astimezone(ZoneInfo("Asia/Almaty"))
    words = "Fault pool asked us to wait until " + (
        f"{local:%H:%M}" if local.date() == timezone.now().astimezone(local.tzinfo).date()
        else f"{local:%Y-%m-%d %H:%M}")

    client = client_for(alice)
    for _ in range(5):
        response = client.post(f"/sources/{source.pk}/poll/", follow=True)
        assert words in response.content.decode()
    settle(4)

    assert upstream.count("farm") == 1
    assert counts(source) == (1, 0)
    for url in ("/sources/", f"/sources/{source.pk}/"):
        body = client.get(url).content.decode()
        assert words in body and ">Poll now<" not in body


def test_a_disabled_source_is_refused_and_never_called(
    team: Team, alice: object, upstream: Upstream, stack: Stack
) -> None:
    source = faulty(team, upstream, "farm")
    Source.objects.filter(pk=source.pk).update(enabled=False)
    stack.worker("pools", "--pool", "solo")
    stack.beat()
    client = client_for(alice)

    response = client.post(f"/sources/{source.pk}/poll/")
    settle(4)

    assert response.status_code == 409
    assert "Farm is disabled, so it is not polled" in response.content.decode()
    assert upstream.count("farm") == 0
    assert counts(source) == (0, 0)
    for url in ("/sources/", f"/sources/{source.pk}/"):
        assert "Poll now" not in client.get(url).content.decode()
