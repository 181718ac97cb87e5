"""The access matrix: every page and endpoint, for owner, viewer, outsider and anonymous."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from alerts.models import Channel, Rule, Silence
from alerts.rules import rule_create
from alerts.silences import silence_create
from dashboard.models import Source
from dashboard.services import source_create
from exchanges.clients.exchanger_base import ExchangeRate
from exchanges.clients.flowbtc_models import OrderBook, Ticker
from exchanges.ingest import books_store, rates_replace, tickers_store
from pools.models import Worker
from tests.conftest import client_for


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    # "{id}" is the team's source, "{worker}" one of its workers, "{flowbtc}" and
    # "{exchanger}" the team's exchange sources (with a stored book, ticker and rate table),
    # "{rule}", "{channel}" and "{silence}" the team's alert rule, in-app channel and silence
    path: str
    writes: bool = False
    api: bool = False

    def url(self, source: Source) -> str:
        worker = Worker.objects.get_or_create(
            source=source, name="rig-01",
            defaults={"status": "online", "hashrate_hs": 1e14, "first_seen_at": source.created_at,
                      "last_seen_at": source.created_at},
        )[0]
        objects = {"rule": rule_of, "channel": channel_of, "silence": silence_of}
        return self.path.format(id=source.pk, worker=worker.pk, flowbtc=flowbtc_of(source).pk,
                                exchanger=exchanger_of(source).pk,
                                **{name: make(source).pk for name, make in objects.items()
                                   if f"{{{name}}}" in self.path})

    @property
    def object_scoped(self) -> bool:
        return any(f"{{{name}}}" in self.path for name in (
            "id", "worker", "flowbtc", "exchanger", "rule", "channel", "silence"))


def flowbtc_of(source: Source) -> Source:
    """The team's FlowBTC source, with a book and a ticker for BTCBRL."""
    existing = Source.objects.filter(team=source.team, kind="flowbtc").first()
    if existing:
        return existing
    flowbtc = source_create(team=source.team, kind="flowbtc", label="FlowBTC", credentials={})
    now = timezone.now()
    book = OrderBook("BTCBRL", [(Decimal(350000), Decimal(1))], [(Decimal(350100), Decimal(2))], now)
    books_store(source=flowbtc, books=[book], origin="rest", now=now)
    tickers_store(source=flowbtc, origin="rest", now=now, tickers=[Ticker(
        "BTCBRL", *(Decimal(350050) for _ in range(5)), Decimal(3), now)])
    return flowbtc


def exchanger_of(source: Source) -> Source:
    """The team's btcchange24 source, with one rate."""
    existing = Source.objects.filter(team=source.team, kind="btcchange24").first()
    if existing:
        return existing
    exchanger = source_create(team=source.team, kind="btcchange24", label="btcchange24",
                              credentials={}, options={"export_code": "code"})
    rates_replace(source=exchanger, now=timezone.now(), rates=[ExchangeRate(
        "BTC", "USDTTRC20", Decimal(1), Decimal(61000), Decimal(50000))])
    return exchanger


def rule_of(source: Source) -> Rule:
    return Rule.objects.filter(team=source.team).first() or rule_create(
        team=source.team, kind="worker_offline", source=source)


def channel_of(source: Source) -> Channel:
    # In-app: a test message to it sends nothing over the network.
    return Channel.objects.get_or_create(team=source.team, label="Inbox", kind="in_app")[0]


def silence_of(source: Source) -> Silence:
    return Silence.objects.filter(team=source.team).first() or silence_create(
        team=source.team, source=source, reason="maintenance",
        ends_at=timezone.now() + timedelta(hours=1))


ENDPOINTS = [
    Endpoint("overview", "get", "/"),
    Endpoint("sources", "get", "/sources/"),
    Endpoint("source detail", "get", "/sources/{id}/"),
    Endpoint("poll now", "post", "/sources/{id}/poll/", writes=True),
    Endpoint("team settings", "get", "/settings/"),
    Endpoint("team settings save", "post", "/settings/", writes=True),
    Endpoint("sources settings", "get", "/settings/sources/", writes=True),
    Endpoint("add source: choose", "get", "/settings/sources/new/", writes=True),
    Endpoint("add source: form", "get", "/settings/sources/new/fake/", writes=True),
    Endpoint("add source: save", "post", "/settings/sources/new/fake/", writes=True),
    Endpoint("edit source", "get", "/settings/sources/{id}/edit/", writes=True),
    Endpoint("edit source: save", "post", "/settings/sources/{id}/edit/", writes=True),
    Endpoint("toggle source", "post", "/settings/sources/{id}/toggle/", writes=True),
    Endpoint("delete source", "get", "/settings/sources/{id}/delete/", writes=True),
    Endpoint("delete source: confirm", "post", "/settings/sources/{id}/delete/", writes=True),
    Endpoint("hashrate", "get", "/hashrate/?range=7d"),
    Endpoint("workers", "get", "/workers/?status=online&sort=-hashrate"),
    Endpoint("worker detail", "get", "/workers/{worker}/"),
    Endpoint("pool page", "get", "/pools/{id}/"),
    Endpoint("earnings", "get", "/earnings/?range=90d"),
    Endpoint("earnings csv", "get", "/earnings/earnings.csv"),
    Endpoint("payouts csv", "get", "/earnings/payouts.csv"),
    Endpoint("members", "get", "/settings/members/"),
    Endpoint("invite member", "post", "/settings/members/invite/", writes=True),
    Endpoint("audit log", "get", "/settings/audit/?action=member.", writes=True),
    Endpoint("api tokens", "get", "/settings/api-tokens/", writes=True),
    Endpoint("api tokens: create", "post", "/settings/api-tokens/", writes=True),
    Endpoint("api sources", "get", "/api/v1/sources", api=True),
    Endpoint("api hashrate", "get", "/api/v1/hashrate?source={id}", api=True),
    Endpoint("api workers", "get", "/api/v1/workers?source={id}", api=True),
    Endpoint("api earnings", "get", "/api/v1/earnings?source={id}", api=True),
    Endpoint("api payouts", "get", "/api/v1/payouts?source={id}", api=True),
    Endpoint("upstream actions", "get", "/pools/{id}/actions/", writes=True),
    Endpoint("upstream action: confirm", "post", "/pools/{id}/actions/confirm/", writes=True),
    Endpoint("markets", "get", "/markets/?source={flowbtc}&product=BTCBRL"),
    Endpoint("exchanger", "get", "/exchanger/?source={exchanger}"),
    Endpoint("api orderbook", "get", "/api/v1/orderbook?source={flowbtc}&product=BTCBRL", api=True),
    Endpoint("api ticker", "get", "/api/v1/ticker?source={flowbtc}&product=BTCBRL", api=True),
    Endpoint("api rates", "get", "/api/v1/rates?source={exchanger}", api=True),
    Endpoint("alerts", "get", "/alerts/?state=firing"),
    Endpoint("alert rules", "get", "/alerts/rules/"),
    Endpoint("alert rule: choose kind", "get", "/alerts/rules/new/", writes=True),
    Endpoint("alert rule: form", "get", "/alerts/rules/new/worker_offline/", writes=True),
    Endpoint("alert rule: add", "post", "/alerts/rules/new/worker_offline/", writes=True),
    Endpoint("alert rules: recommended", "post", "/alerts/rules/recommended/", writes=True),
    Endpoint("alert rule: edit", "get", "/alerts/rules/{rule}/edit/", writes=True),
    Endpoint("alert rule: save", "post", "/alerts/rules/{rule}/edit/", writes=True),
    Endpoint("alert rule: toggle", "post", "/alerts/rules/{rule}/toggle/", writes=True),
    Endpoint("alert rule: delete", "get", "/alerts/rules/{rule}/delete/", writes=True),
    Endpoint("alert rule: delete confirm", "post", "/alerts/rules/{rule}/delete/", writes=True),
    Endpoint("alert channels", "get", "/alerts/channels/"),
    Endpoint("alert channel: add", "post", "/alerts/channels/", writes=True),
    Endpoint("alert channel: test", "post", "/alerts/channels/{channel}/test/", writes=True),
    Endpoint("alert channel: toggle", "post", "/alerts/channels/{channel}/toggle/", writes=True),
    Endpoint("alert channel: delete", "get", "/alerts/channels/{channel}/delete/", writes=True),
    Endpoint("alert channel: delete confirm", "post", "/alerts/channels/{channel}/delete/", writes=True),
    Endpoint("alert silences", "get", "/alerts/silences/"),
    Endpoint("alert silence: add", "post", "/alerts/silences/", writes=True),
    Endpoint("alert silence: end", "post", "/alerts/silences/{silence}/end/", writes=True),
    Endpoint("treasury", "get", "/treasury/?coin=BTC&amount=0.5"),
    Endpoint("treasury: what if I sell", "get", "/treasury/sell/?coin=BTC&amount=0.5"),
    Endpoint("treasury: held elsewhere", "post", "/treasury/held/", writes=True),
    Endpoint("api treasury quote", "get",
             "/api/v1/treasury/quote?source={flowbtc}&product=BTCBRL&side=sell&amount=0.5", api=True),
    Endpoint("api treasury routes", "get", "/api/v1/treasury/routes?coin=BTC&amount=0.5", api=True),
    Endpoint("api profitability", "get", "/api/v1/profitability?source={id}", api=True),
]
IDS = [e.name for e in ENDPOINTS]


def call(client: Client, endpoint: Endpoint, source: Source) -> int:
    response = getattr(client, endpoint.method)(endpoint.url(source))
    return response.status_code


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_anonymous_is_sent_to_login_or_gets_401(endpoint: Endpoint, source: Source) -> None:
    response = getattr(Client(), endpoint.method)(endpoint.url(source))
    if endpoint.api:
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_owner_may_use_everything(endpoint: Endpoint, alice, source: Source) -> None:
    assert call(client_for(alice), endpoint, source) in {200, 302}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_viewer_reads_but_gets_403_on_writes(endpoint: Endpoint, bob, source: Source) -> None:
    status = call(client_for(bob), endpoint, source)
    assert status == (403 if endpoint.writes else 200)
    assert Source.objects.filter(pk=source.pk, enabled=True).exists()


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.object_scoped],
                         ids=[e.name for e in ENDPOINTS if e.object_scoped])
def test_outsider_gets_404_for_another_teams_objects(
    endpoint: Endpoint, charlie, alice, source: Source
) -> None:
    assert call(client_for(charlie), endpoint, source) == 404
    assert Source.objects.filter(pk=source.pk, enabled=True).exists()


def test_outsider_does_not_see_other_teams_sources_in_lists(charlie, source: Source,
                                                            charlie_source: Source) -> None:
    client = client_for(charlie)
    for path in ("/", "/sources/", "/settings/sources/"):
        body = client.get(path).content.decode()
        assert "Charlie&#x27;s farm" in body or "Charlie's farm" in body
        assert source.label not in body
    api = client.get("/api/v1/sources").json()
    assert [s["id"] for s in api["sources"]] == [charlie_source.pk]


def test_user_without_team_is_told_what_to_do(db, django_user_model) -> None:
    loner = django_user_model.objects.create_user("loner", password="x-very-long-password")
    response = client_for(loner).get("/")
    assert response.status_code == 403
    assert b"not in a team yet" in response.content


def test_team_switcher_only_switches_to_own_teams(alice, other_team, source) -> None:
    client = client_for(alice)
    assert client.post("/team/switch/", {"team": other_team.pk}).status_code == 404


def test_team_switcher_changes_the_current_team(alice, other_team, charlie_source) -> None:
    from dashboard.models import Membership

    Membership.objects.create(team=other_team, user=alice, role="viewer")
    client = client_for(alice)
    client.post("/team/switch/", {"team": other_team.pk})
    assert charlie_source.label in client.get("/sources/").content.decode().replace("&#x27;", "'")
    assert client.get(f"/sources/{charlie_source.pk}/poll/").status_code == 405
    assert client.post(f"/sources/{charlie_source.pk}/poll/").status_code == 403


@pytest.mark.parametrize(("path", "fragment"), [
    ("/", 'id="overview-live"'), ("/sources/", 'id="sources-table"'),
    ("/sources/{id}/", 'id="source-status"'),
])
def test_htmx_refresh_gets_only_the_live_fragment(alice, source, path, fragment) -> None:
    body = client_for(alice).get(path.format(id=source.pk), HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith(f"<div {fragment}")
    assert "<html" not in body


def test_a_history_restore_gets_the_whole_page(alice, source) -> None:
    """The back button after htmx's history cache dropped the page asks with HX-Request too."""
    body = client_for(alice).get("/", HTTP_HX_REQUEST="true",
                                 HTTP_HX_HISTORY_RESTORE_REQUEST="true").content.decode()
    assert "<html" in body and 'id="overview-live"' in body
