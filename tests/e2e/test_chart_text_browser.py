"""Every chart has a text alternative, in headless Chromium: a caption with the latest, lowest
and highest value over the chart's range, and a "Show as table" toggle with one row per point.

The expected figures are worked out here from the chart's own spec (its data-spec attribute),
so the caption and the table are checked against the data the canvas drew.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from dashboard.models import Source
from tests.e2e.accessibility import market_source, new_context, sign_in
from tests.e2e.test_exchanger_browser import exchanger  # noqa: F401  (a fixture)
from tests.e2e.test_markets_browser import forget_live
from tests.e2e.test_pools_browser import history  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def market(team) -> Iterator[Source]:
    source = market_source(team)
    yield source
    forget_live(source)


@pytest.fixture
def signed_in(browser, alice, live_server) -> Iterator[Any]:
    context = new_context(browser, theme="light", width=1280)
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    sign_in(page, live_server.url)
    yield page
    context.close()


def spec_of(figure: Any) -> dict[str, Any]:
    return json.loads(figure.get_attribute("data-spec"))  # type: ignore[no-any-return]


def figures(spec: dict[str, Any], value: float) -> str:
    """A value as the page formats it: toLocaleString rounds the shortest decimal form of the
    number half away from zero (Python's format rounds its exact binary value)."""
    shown = Decimal(repr(value / (spec.get("divisor") or 1))).quantize(
        Decimal(1).scaleb(-spec.get("decimals", 2)), rounding=ROUND_HALF_UP)
    text = f"{shown:,}"
    return f"{text} {spec['unit']}" if spec["unit"] else text


def expected_summary(spec: dict[str, Any]) -> tuple[str, int]:
    """What the caption says of a charts.js chart, and how many rows its table has."""
    by_time: dict[int, list[float]] = {}
    for dataset in spec["datasets"]:
        for t, v in zip(dataset["times"], dataset["values"], strict=True):
            if v is not None:
                by_time.setdefault(t, []).append(v)
    stacked = spec.get("stacked") and len(spec["datasets"]) > 1
    assert stacked or len(spec["datasets"]) == 1, "a chart of several lines is not in these pages"
    values = [sum(by_time[t]) for t in sorted(by_time)]
    said = (f"latest {figures(spec, values[-1])}, min {figures(spec, min(values))}, "
            f"max {figures(spec, max(values))}")
    return (f"total per day: {said}" if stacked else said), len(by_time)


def open_table(page: Any, figure: Any) -> Any:
    """Opens the chart's table from the keyboard, as a screen reader user would."""
    toggle = figure.locator("details.chart-data summary")
    expect(toggle).to_have_text("Show as table")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_text("Hide table")
    return figure.locator("details.chart-data table")


def check_charts(page: Any, selector: str, *, caption_start: str) -> int:
    page.wait_for_selector(f"{selector}[data-drawn]")
    charts = page.locator(selector)
    for i in range(charts.count()):
        figure = charts.nth(i)
        spec = spec_of(figure)
        said, rows = expected_summary(spec)
        caption = figure.locator("figcaption .chart-caption").inner_text()
        assert caption.startswith(caption_start), caption
        assert said in caption, f"{caption!r} does not say {said!r}"
        table = open_table(page, figure)
        expect(table.locator("tbody tr")).to_have_count(rows)
        assert table.locator("thead th").count() == 1 + len(spec["datasets"]) + (1 if "total" in said else 0)
    return charts.count()


def test_hashrate_and_earnings_charts_say_their_figures(signed_in, history, live_server) -> None:  # noqa: F811
    page = signed_in
    page.goto(f"{live_server.url}/hashrate/")
    assert check_charts(page, "figure.chart", caption_start="") == 1 + len(history)
    # One total per coin (both sources mine BTC here), captioned with its coin.
    total = page.locator("#chart-total-BTC figcaption .chart-caption")
    expect(total).to_contain_text("BTC team hashrate, last 24 h: latest ")
    expect(page.locator("figure.chart").nth(1).locator(".chart-caption")).to_contain_text(
        f"Hashrate, {history[0].label}, last 24 h: latest ")
    # The caption follows a range change.
    page.click(".segmented >> text=7d")
    expect(total).to_contain_text("BTC team hashrate, last 7 days: latest ")

    page.goto(f"{live_server.url}/earnings/")
    count = check_charts(page, "figure.chart", caption_start="Daily earnings, ")
    assert count >= 1
    expect(page.locator("figure.chart .chart-caption").first).to_contain_text("total per day: latest ")

    page.goto(f"{live_server.url}/")
    assert check_charts(page, "figure.chart", caption_start="") >= 1
    assert page.js_errors == []


def test_partner_charts_on_the_exchanger_say_their_figures(signed_in, exchanger, live_server) -> None:  # noqa: F811
    signed_in.goto(f"{live_server.url}/exchanger/?source={exchanger.pk}")
    assert check_charts(signed_in, "#exchanger-partner figure.chart", caption_start="") == 4
    assert signed_in.js_errors == []


def test_market_charts_say_their_figures(signed_in, market, live_server) -> None:
    page = signed_in
    page.goto(f"{live_server.url}/markets/?source={market.pk}&product=BTCBRL")
    page.wait_for_selector("#candle-chart[data-drawn]")
    page.wait_for_selector("#depth-chart[data-drawn]")

    candles = json.loads(page.get_attribute("#candle-chart", "data-spec") or "null")["candles"]
    caption = page.inner_text("#candle-chart .chart-caption")
    assert caption.startswith("BTC/BRL price candles, last 24 h: latest close R$ "), caption
    assert f"R$ {candles[-1][4]:,.2f}" in caption
    assert f"low R$ {min(c[3] for c in candles):,.2f}" in caption
    assert f"high R$ {max(c[2] for c in candles):,.2f}" in caption
    assert f"over {len(candles)} candles" in caption
    expect(open_table(page, page.locator("#candle-chart")).locator("tbody tr")).to_have_count(len(candles))

    depth = json.loads(page.get_attribute("#depth-data", "data-spec") or "null")
    bids, asks = depth["bids"][1:-1], depth["asks"][1:-1]  # the ends only reach the chart's edges
    caption = page.inner_text("#depth-chart .chart-caption")
    assert f"best bid R$ {bids[-1][0]:,.2f}" in caption, caption
    assert f"best ask R$ {asks[0][0]:,.2f}" in caption, caption
    table = open_table(page, page.locator("#depth-chart"))
    expect(table.locator("tbody tr")).to_have_count(len(bids) + len(asks))
    expect(table.locator("tbody tr").first.locator("td").nth(1)).to_have_text(f"R$ {bids[-1][0]:,.2f}")
    assert page.js_errors == []
