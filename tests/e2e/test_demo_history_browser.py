"""Demo mode opens on a lived-in dashboard: after the week's history is filled from the
simulator, the overview's, Hashrate's, a worker's and the exchanger's charts draw many points."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from dashboard.models import Source
from pools.models import Worker
from simulator.demo import demo_setup
from simulator.demo_history import demo_history_fill
from tests.e2e.conftest import free_port, new_page, screenshot, sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VARIANTS = [(1440, "light"), (390, "light"), (1440, "dark"), (390, "dark")]
KEPT = ["BTC.com · alpha-mining", "BTC.com · bravo-hosting", "btcchange24 · partner"]


@pytest.fixture
def demo(live_server) -> dict:
    """The demo team filled with a week (a 12-hour step, three sources: kept short)."""
    port = free_port()
    login = demo_setup(simulator_url=f"http://127.0.0.1:{port}")
    Source.objects.filter(team=login.team).exclude(label__in=KEPT).update(enabled=False)
    demo_history_fill(team=login.team, simulator_port=port, step=timedelta(hours=12))
    return {"login": login}


def signed_in(browser, live_server, login, *, width: int, scheme: str):
    context, page = new_page(browser, width=width, scheme=scheme)
    sign_in_page(page, live_server.url, login.username, login.password)
    page.wait_for_url(f"{live_server.url}/")
    return context, page


def chart_points(page, selector: str = "figure.chart[data-drawn]") -> list[int]:
    """Points per line of the first drawn chart matching `selector`."""
    page.wait_for_selector(selector)
    spec = json.loads(page.locator(selector).first.get_attribute("data-spec"))
    return [len(dataset["times"]) for dataset in spec["datasets"]]


def test_the_demo_opens_on_charts_with_a_week_in_them(browser, live_server, demo) -> None:
    worker = Worker.objects.filter(source__label=KEPT[0], status="online").order_by("name").first()
    pages = {
        "overview": "/",
        "hashrate-24h": "/hashrate/",
        "hashrate-7d": "/hashrate/?range=7d",
        "worker-7d": f"/workers/{worker.pk}/?range=7d",
    }
    for width, scheme in VARIANTS:
        context, page = signed_in(browser, live_server, demo["login"], width=width, scheme=scheme)
        for name, path in pages.items():
            page.goto(f"{live_server.url}{path}")
            points = chart_points(page)
            # The 24-hour views: a poll every 3 hours plus the account's readings; the
            # week: every hourly bucket the 12-hourly polls filled.
            assert min(points) >= (8 if name in ("overview", "hashrate-24h") else 14), (name, points)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
            screenshot(page, f"demo-{name}-{width}-{scheme}")
        page.goto(f"{live_server.url}/exchanger/?range=7d")
        page.wait_for_load_state()
        screenshot(page, f"demo-exchanger-{width}-{scheme}")
        assert page.console_errors == []
        context.close()
