"""The Hashrate page of a team mining BTC, BCH and LTC: one total per coin, drawn, at a
desktop and a phone width, light and dark."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.models import Team
from dashboard.services import source_create
from pools.models import ACCOUNT, HashrateSample
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FARMS = [("Almaty hall A — S19 XP racks", "BTC", 420e15), ("Almaty hall B", "BTC", 180e15),
         ("Bitcoin Cash overflow", "BCH", 60e15), ("Litecoin L7 container", "LTC", 38e12)]


@pytest.fixture
def mixed_farm(team: Team) -> None:
    now = timezone.now()
    for index, (label, coin, rate) in enumerate(FARMS):
        source = source_create(team=team, kind="btcpoolkz", label=label,
                               credentials={"api_key": f"kz-{index}"}, options={"currency": coin})
        HashrateSample.objects.bulk_create(
            HashrateSample(source=source, worker_name=ACCOUNT, at=now - timedelta(minutes=5 * i),
                           hashrate_hs=rate * (1 + 0.04 * math.sin(i / 20 + index)))
            for i in range(288))


@pytest.mark.parametrize("width", [1440, 390])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_each_coin_has_its_own_total(page_for, alice, mixed_farm, live_server, width: int,
                                     scheme: str) -> None:
    page = page_for("alice", PASSWORD, width=width)
    page.emulate_media(color_scheme=scheme)
    page.goto(f"{live_server.url}/hashrate/")
    page.wait_for_selector("#chart-total-LTC[data-drawn]")
    heads = page.locator(".chart-head h2").all_inner_texts()
    assert heads[:3] == ["BCH total", "BTC total", "LTC total"]
    assert "Scrypt · sum of 1 source" in page.inner_text("#chart-total-LTC >> xpath=..")
    assert "never added together" in page.inner_text("#charts")
    # Nothing sticks out sideways at a phone's width.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"hashrate-per-coin-{width}-{scheme}")
    assert page.console_errors == []
