"""The pool pages in headless Chromium against data polled from the simulator."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from pools.charts import format_hashrate
from pools.models import HashrateSample, PoolAccount, Worker
from pools.retention import hashrate_rollup
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seed_day_of_samples(sources: list) -> None:
    """A day of account samples before each source's real poll, so its chart has a line."""
    now = timezone.now()
    rows = []
    for source in sources:
        current = PoolAccount.objects.get(source=source).hashrate_hs
        rows += [HashrateSample(source=source, at=now - timedelta(minutes=5 * i),
                                hashrate_hs=current * (1 + 0.03 * ((i % 24) - 12) / 12))
                 for i in range(1, 288)]
    HashrateSample.objects.bulk_create(rows)
    hashrate_rollup(now=now - timedelta(days=1))
    hashrate_rollup(now=now)


@pytest.fixture
def history(polled_sources) -> list:
    seed_day_of_samples(polled_sources)
    return polled_sources


def test_overview_shows_the_simulators_hashrate_with_a_drawn_chart(page_for, alice, history) -> None:
    page = page_for("alice", PASSWORD)
    total = sum(a.hashrate_hs for a in PoolAccount.objects.all())
    hero = page.inner_text(".stat-hero .stat-value")
    assert hero == format_hashrate(total)
    assert hero.endswith("PH/s")
    page.wait_for_selector("figure.chart[data-drawn]")
    assert page.locator(".tile").count() == 2
    online = Worker.objects.filter(status="online").count()
    assert f"{online}" in page.inner_text(".stat:has-text('Workers') .stat-value")
    screenshot(page, "pools-overview")
    assert page.console_errors == []


def test_the_range_picker_swaps_the_chart_without_a_reload(page_for, alice, history, live_server) -> None:
    page = page_for("alice", PASSWORD)
    page.goto(f"{live_server.url}/hashrate/")
    page.wait_for_selector("figure.chart[data-drawn]")
    screenshot(page, "pools-hashrate-24h")
    page.evaluate("window.__stillTheSamePage = true")
    page.click(".segmented >> text=7d")
    page.wait_for_selector(".segmented a[aria-current='true']:has-text('7d')")
    page.wait_for_selector("figure.chart[data-drawn]")
    assert page.evaluate("window.__stillTheSamePage === true")
    assert "range=7d" in page.url
    screenshot(page, "pools-hashrate-7d")
    assert page.console_errors == []


def test_workers_filter_and_search(page_for, alice, polled_sources, live_server) -> None:
    page = page_for("alice", PASSWORD)
    page.goto(f"{live_server.url}/workers/")
    assert "1–50 of 150" in page.inner_text(".pager")
    screenshot(page, "pools-workers")
    page.fill("#worker-search", "rack3")
    expect(page.locator(".pager")).to_contain_text("of 20")
    names = page.locator("#workers-table tbody td:first-child").all_inner_texts()
    assert len(names) == 20 and all("rack3" in n for n in names)
    # A sort chosen from the table survives the next search.
    page.click("#workers-table thead a:has-text('Worker')")  # by name, now descending
    expect(page).to_have_url(re.compile(r"sort=-name"))
    page.fill("#worker-search", "rack2")
    expect(page).to_have_url(re.compile(r"q=rack2"))
    assert "sort=-name" in page.url, page.url
    page.fill("#worker-search", "")
    page.select_option("#status-filter", "dead")
    dead = Worker.objects.filter(status="dead").count()
    expect(page.locator("#workers-table tbody tr")).to_have_count(dead)
    assert set(page.locator("#workers-table tbody .badge").all_inner_texts()) == {"Dead"}
    screenshot(page, "pools-workers-dead")
    page.click("#workers-table tbody a")
    page.wait_for_selector("h1")
    screenshot(page, "pools-worker-detail")


def test_earnings_csv_downloads(page_for, alice, polled_sources, live_server) -> None:
    page = page_for("alice", PASSWORD)
    page.goto(f"{live_server.url}/earnings/")
    page.wait_for_selector("figure.chart[data-drawn]")
    screenshot(page, "pools-earnings")
    with page.expect_download() as download:
        page.click("text=Download CSV >> nth=0")
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0] == "date,source,coin,amount,value_brl,value_usd"
    assert len(lines) > 30
    with page.expect_download() as download:
        page.click("text=Download CSV >> nth=1")
    header = Path(download.value.path()).read_text().splitlines()[0]
    assert header == "paid_at,source,coin,amount,address,tx,fee"


def test_pool_pages_fit_a_phone(page_for, alice, history, live_server) -> None:
    page = page_for("alice", PASSWORD, width=390)
    for path in ("/", "/hashrate/", "/workers/", "/earnings/"):
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways ({width}px)"
        screenshot(page, "pools-phone-" + (path.strip("/") or "overview"))


def test_overview_adds_up_three_pools_per_coin(page_for, alice, all_pools) -> None:
    from pools.models import Balance

    page = page_for("alice", PASSWORD)
    labels = page.locator(".stat-hero .stat-label").all_inner_texts()
    assert [label.split()[0] for label in labels] == ["BTC", "LTC"]
    for coin, kinds in (("BTC", {"btccom", "btcpoolkz", "sbicrypto"}), ("LTC", {"btcpoolkz"})):
        accounts = PoolAccount.objects.filter(
            source__in=[s for s in all_pools if s.options.get("currency", "BTC") == coin])
        assert {a.source.kind for a in accounts} == kinds
        hero = page.locator(f".stat-hero:has-text('{coin} hashrate now') .stat-value").inner_text()
        assert hero == format_hashrate(sum(a.hashrate_hs for a in accounts))
        today = sum(b.today for b in Balance.objects.filter(coin=coin))
        earned = page.locator(f".stat:has-text('Earned today'):has(.unit:text-is('{coin}')) .stat-value")
        assert earned.inner_text().split()[0].replace(",", "") == f"{today:.8f}"
    screenshot(page, "pools-overview-three-pools")
    page.goto(page.url + "workers/?pool=sbicrypto")
    assert "of 240" in page.inner_text(".pager")


def test_pool_page_sets_the_accounts_rate_beside_the_pools(page_for, alice, all_pools, live_server) -> None:
    from pools.models import PoolCoinStat

    kz, sbi = all_pools[1], all_pools[3]
    page = page_for("alice", PASSWORD)
    page.goto(f"{live_server.url}/pools/{kz.pk}/")
    stat = PoolCoinStat.objects.get(source=kz, coin="BTC")
    assert stat.fee_percent is not None and stat.network_difficulty
    text = page.inner_text("main").lower()
    assert "network" in text and "fee" in text and "this account earned" in text
    assert "btc/th/day" in text
    screenshot(page, "pools-pool-btcpoolkz")
    page.goto(f"{live_server.url}/pools/{sbi.pk}/")
    text = page.inner_text("main").lower()
    assert "luck" in text and "the pool publishes" in text and "recent blocks found by the pool" in text
    screenshot(page, "pools-pool-sbicrypto")
    assert page.console_errors == []
