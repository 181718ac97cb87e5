"""What surrounds the figures: the favicon, the navigation's entries, the source name's limit,
pool figures in our units, and amounts that say when the upstream names no currency."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from dashboard.models import Source
from pools.charts import format_pool_hashrate
from tests.conftest import PASSWORD, client_for
from tests.whole_team import LONG_NAME, whole_team

pytestmark = pytest.mark.django_db


def test_favicon_ico_leads_to_the_svg_icon(client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/img/favicon.svg"


def test_the_admin_links_the_icon(db) -> None:
    User.objects.create_superuser("root", "root@example.com", PASSWORD)
    client = client_for(User.objects.get(username="root"))
    body = client.get("/admin/").content.decode()
    assert '<link rel="icon" href="/static/img/favicon.svg"' in body


def test_pool_figures_have_a_place_in_the_navigation(alice, polled_sources) -> None:
    client = client_for(alice)
    body = client.get("/").content.decode()
    assert re.search(r'<a href="/pools/"\s*>Pool figures</a>', body)
    index = client.get("/pools/").content.decode()
    for source in polled_sources:
        assert f'href="/pools/{source.pk}/"' in index
    # The index and each pool's page mark the entry as the current one.
    page = client.get(f"/pools/{polled_sources[0].pk}/").content.decode()
    assert re.search(r'<a href="/pools/"\s*aria-current="page">Pool figures</a>', page)


def test_the_pool_index_explains_an_empty_team(alice) -> None:
    body = client_for(alice).get("/pools/").content.decode()
    assert "No pool sources" in body


def test_the_source_form_says_the_name_s_limit_and_never_cuts_it(alice) -> None:
    client = client_for(alice)
    form = client.get("/settings/sources/new/btccom/").content.decode()
    assert "up to 100 characters" in form
    field = re.search(r'<input[^>]*name="label"[^>]*>', form)
    assert field and "maxlength" not in field.group(0)
    response = client.post("/settings/sources/new/btccom/", {
        "label": LONG_NAME + "z", "interval": 60, "enabled": "on",
        "credential_access_key": "k", "credential_puid": "1"})
    body = response.content.decode()
    assert "Keep the name to 100 characters or fewer (this one has 101)" in body
    assert LONG_NAME + "z" in body  # what was typed stays in the field
    assert not Source.objects.exists()


@pytest.mark.parametrize(("raw", "unit", "shown"), [
    ("115996389.28840236", "M", "115,996,389.29 MH/s"),
    ("4.4014015804097E+20", "H", "440.14 EH/s"),
    ("13.5", "T", "13.50 TH/s"),
    ("n/a", "G", "n/a G"),
])
def test_a_pool_s_raw_hashrate_reads_like_ours(raw, unit, shown) -> None:
    assert format_pool_hashrate(raw, unit) == shown


def test_the_worker_page_formats_the_pool_s_figure_and_ends_its_breadcrumb_cleanly(
        alice, team, simulator, all_pools) -> None:
    data = whole_team(team, simulator, all_pools)
    body = client_for(alice).get(f"/workers/{data['worker'].pk}/").content.decode()  # type: ignore[attr-defined]
    said = re.search(r"pool says <span title=\"([^\"]+)\">([^<]+)</span>", body)
    assert said and re.fullmatch(r"[\d,]+\.\d\d [kMGTPE]?H/s", said.group(2)), said
    crumbs = re.search(r'<nav class="breadcrumb[^>]*>(.*?)</nav>', body, re.S)
    assert crumbs and "/ " not in re.sub(r"<[^>]+>", "", crumbs.group(1))


def test_partner_amounts_say_the_api_names_no_currency(alice, team, simulator, all_pools) -> None:
    whole_team(team, simulator, all_pools)
    body = client_for(alice).get("/exchanger/").content.decode()
    partner = body[body.index('id="exchanger-partner"'):]
    for label in ("Balance", "Minimum payout", "Total received"):
        tile = re.search(rf'stat-label">{label}</div>\s*<div class="stat-value">(.*?)</div>', partner, re.S)
        assert tile and "currency not given" in tile.group(1), label
    head = re.search(r"<thead>(.*?)</thead>", partner[partner.index("partner-exchanges"):], re.S)
    assert head is not None
    for column in ("Give", "Get", "Reward"):
        assert re.search(rf'>{column} <span class="th-note">currency not given</span>', head.group(1)), column
    assert "give → get, pair not given" in head.group(1)
