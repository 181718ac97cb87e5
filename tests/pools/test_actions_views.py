"""Upstream actions through the pages: who may use them, the confirmation step, and each
outcome end to end against the simulated SBI Crypto API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.test import Client
from django.utils import timezone

from dashboard.models import AuditEvent, PollRun, Source, Team
from dashboard.polling import source_poll
from dashboard.services import source_create
from pools.models import PoolAccount
from simulator.sbicrypto import ALPHA_BCH, ALPHA_BTC, SbiCryptoApi
from simulator.server import SimulatorServer
from tests.conftest import client_for

ALPHA = {"api_key": "sim-sbi-key-alpha", "api_secret": "sim-sbi-secret-alpha"}
READER = {"api_key": "sim-sbi-key-reader", "api_secret": "sim-sbi-secret-reader"}
OBSERVER = {"observer_key": "sim-sbi-observer-bravo"}
NEW_ADDRESS = "bc1qnewpayoutaddressforalphabtc0000000000"


@pytest.fixture
def sim_api(simulator: SimulatorServer) -> Iterator[SbiCryptoApi]:
    """The session simulator's SBI API, back in its starting state after the test."""
    api = simulator.simulator.apis["sbicrypto"]
    assert isinstance(api, SbiCryptoApi)
    yield api
    api.forget_changes()


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []

    class Task:
        @staticmethod
        def delay(*args: Any, **kwargs: Any) -> None:
            calls.append((*args, kwargs))

    monkeypatch.setattr("dashboard.tasks.poll_source", Task)
    return calls


def sbi_source(team: Team, simulator: SimulatorServer, credentials: dict[str, str]) -> Source:
    source = source_create(
        team=team, kind="sbicrypto", label="SBI farm", base_url=simulator.base_url("sbicrypto"),
        credentials=credentials,
        options={"stats_url": simulator.base_url("sbicrypto-stats") + "/poolstats"},
    )
    PoolAccount.objects.create(source=source, updated_at=timezone.now(), info={"subaccounts": [
        {"id": sub.id, "name": sub.name, "coin": sub.coin, "payout_address": sub.address}
        for sub in (ALPHA_BTC, ALPHA_BCH)]})
    return source


@pytest.fixture
def alpha(team: Team, simulator: SimulatorServer, sim_api: SbiCryptoApi) -> Source:
    return sbi_source(team, simulator, ALPHA)


def upstream_events() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(action__startswith="upstream.")


def actions_url(source: Source) -> str:
    return f"/pools/{source.pk}/actions/"


def confirm_url(source: Source) -> str:
    return f"/pools/{source.pk}/actions/confirm/"


def run(client: Client, source: Source, **fields: str) -> str:
    response = client.post(confirm_url(source), {**fields, "confirmed": "yes"})
    assert response.status_code == 200
    return response.content.decode()


def upstream(simulator: SimulatorServer, path: str, **params: str) -> Any:
    response = requests.get(simulator.base_url("sbicrypto") + path, params=params, timeout=10,
                            headers={"X-API-Key": ALPHA["api_key"], "X-API-Secret": ALPHA["api_secret"]})
    response.raise_for_status()
    return response.json()


@pytest.mark.parametrize("who", ["alice", "carol"])
def test_owners_and_admins_see_the_actions_of_each_subaccount(
        request: pytest.FixtureRequest, who: str, alpha: Source) -> None:
    body = client_for(request.getfixturevalue(who)).get(actions_url(alpha)).content.decode()
    assert "alpha-btc" in body and "alpha-bch" in body
    forms = [form for form in body.split("<form")[1:] if confirm_url(alpha) in form.split(">")[0]]
    assert len(forms) == 6 and all("csrfmiddlewaretoken" in form for form in forms)
    assert "style=" not in body and "<script>" not in body.replace('<script src', '')


def test_a_viewer_gets_403(bob: User, alpha: Source, queued: list[tuple[Any, ...]]) -> None:
    client = client_for(bob)
    assert client.get(actions_url(alpha)).status_code == 403
    assert client.post(confirm_url(alpha), {"action": "clear_inactive_workers",
                                            "subaccount": "alpha-bch", "confirmed": "yes"}).status_code == 403
    assert not upstream_events().exists() and not queued


def test_another_team_gets_404(charlie: User, alpha: Source) -> None:
    client = client_for(charlie)
    assert client.get(actions_url(alpha)).status_code == 404
    assert client.post(confirm_url(alpha), {"action": "clear_inactive_workers",
                                            "subaccount": "alpha-bch", "confirmed": "yes"}).status_code == 404


def test_anonymous_is_sent_to_login(alpha: Source) -> None:
    response = Client().get(actions_url(alpha))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_only_restates_the_action_until_confirmed(
        alice: User, alpha: Source, sim_api: SbiCryptoApi, queued: list[tuple[Any, ...]]) -> None:
    response = client_for(alice).post(confirm_url(alpha), {
        "action": "switch_coin", "subaccount": "alpha-bch", "coin": "btc"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Switch subaccount alpha-bch from BCH to BTC. New shares will be paid in BTC" in body
    assert 'name="confirmed" value="yes"' in body and "csrfmiddlewaretoken" in body
    assert sim_api.coin_of(ALPHA_BCH) == "BCH"
    assert not upstream_events().exists() and not queued


@pytest.fixture
def polls_at_once() -> Iterator[None]:
    """Our own poll task runs, in this process, when the page queues it: a Celery worker
    would run the same code later."""
    from dashboard.celery import app

    before = {name: app.conf[name] for name in ("task_always_eager", "task_eager_propagates")}
    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield
    app.conf.update(before)


def test_a_confirmed_switch_is_followed_by_a_real_poll_that_stores_the_new_coin(
        alice: User, alpha: Source, sim_api: SbiCryptoApi, polls_at_once: None) -> None:
    assert not PollRun.objects.filter(source=alpha).exists()
    body = run(client_for(alice), alpha, action="switch_coin", subaccount="alpha-bch", coin="BTC")
    assert "Subaccount alpha-bch now mines BTC" in body
    # The poll the page queued ran against the simulator and stored what it read.
    poll = PollRun.objects.get(source=alpha)
    assert (poll.trigger, poll.outcome) == ("action", PollRun.Outcome.OK), poll.message
    coins = {sub["name"]: sub["coin"] for sub in PoolAccount.objects.get(source=alpha).info["subaccounts"]}
    assert coins == {"alpha-btc": "BTC", "alpha-bch": "BTC"}
    alpha.refresh_from_db()
    assert alpha.last_success_at is not None and alpha.claim_token == ""


def test_a_confirmed_switch_changes_the_coin_audits_and_polls(
        carol: User, alpha: Source, sim_api: SbiCryptoApi, queued: list[tuple[Any, ...]]) -> None:
    body = run(client_for(carol), alpha, action="switch_coin", subaccount="alpha-bch", coin="BTC")
    assert "Subaccount alpha-bch now mines BTC" in body
    assert "bc1qk7v0wz3m9d4h2x8s6f5j1p0r4e7t3y9u2nca6l" in body  # the payout address it answered
    assert ALPHA["api_key"] not in body and ALPHA["api_secret"] not in body
    event = upstream_events().get()
    assert (event.action, event.actor, event.target) == (
        "upstream.switch_coin", carol, "SBI farm / alpha-bch")
    assert event.detail == {"source_id": alpha.pk, "subaccount": "alpha-bch", "coin": "BTC", "ok": True,
                            "status": 202, "message": "Subaccount alpha-bch now mines BTC."}
    assert ALPHA["api_secret"] not in str(event.detail)
    assert queued == [(alpha.pk, {"trigger": "action"})]
    run_ = source_poll(source_id=alpha.pk, trigger="action")
    assert run_ is not None and run_.ok, run_.message if run_ else "skipped"
    coins = {sub["name"]: sub["coin"] for sub in PoolAccount.objects.get(source=alpha).info["subaccounts"]}
    assert coins == {"alpha-btc": "BTC", "alpha-bch": "BTC"}


def test_a_key_without_update_permission_is_explained(
        alice: User, team: Team, simulator: SimulatorServer, sim_api: SbiCryptoApi,
        queued: list[tuple[Any, ...]]) -> None:
    source = sbi_source(team, simulator, READER)
    body = run(client_for(alice), source, action="clear_inactive_workers", subaccount="alpha-bch")
    assert "not done." in body and "this API key lacks the UPDATE permission" in body
    assert READER["api_key"] not in body and READER["api_secret"] not in body
    event = upstream_events().get()
    assert (event.action, event.detail["ok"], event.detail["status"]) == (
        "upstream.clear_inactive_workers", False, 403)
    assert not queued and not sim_api.cleared


def test_a_missing_payout_address_is_explained(
        alice: User, alpha: Source, sim_api: SbiCryptoApi, queued: list[tuple[Any, ...]]) -> None:
    body = run(client_for(alice), alpha, action="switch_coin", subaccount="alpha-btc", coin="BCH")
    assert "the subaccount has no payout address for that coin" in body
    assert "HTTP 422" in body and sim_api.coin_of(ALPHA_BTC) == "BTC" and not queued


def test_clearing_inactive_workers_removes_them_upstream(
        alice: User, alpha: Source, simulator: SimulatorServer, queued: list[tuple[Any, ...]]) -> None:
    def dead() -> int:
        page = upstream(simulator, "/api/external/v1/workers", subaccountNames="alpha-bch",
                        statusFilters="DEAD", pageNumber="0", size="1")
        return int(page["totalElements"])

    assert dead() > 0
    body = run(client_for(alice), alpha, action="clear_inactive_workers", subaccount="alpha-bch")
    assert "The inactive workers of subaccount alpha-bch were cleared" in body
    assert dead() == 0 and queued == [(alpha.pk, {"trigger": "action"})]


def test_a_payout_address_change_is_accepted_and_read_back(
        alice: User, alpha: Source, simulator: SimulatorServer, queued: list[tuple[Any, ...]]) -> None:
    client = client_for(alice)
    confirm = client.post(confirm_url(alpha), {"action": "update_payout_address", "subaccount": "alpha-btc",
                                               "coin": "BTC", "address": NEW_ADDRESS}).content.decode()
    assert f"to {NEW_ADDRESS}" in confirm and "24 hours" in confirm
    body = run(client, alpha, action="update_payout_address", subaccount="alpha-btc", coin="BTC",
               address=NEW_ADDRESS)
    assert "accepted the new payout address" in body
    listed = upstream(simulator, "/api/external/v1/subaccounts")["subaccounts"]
    assert {s["subaccountName"]: s["payoutAddress"] for s in listed}["alpha-btc"] == NEW_ADDRESS
    assert upstream_events().get().detail["address"] == NEW_ADDRESS


def test_an_observer_source_cannot_act(alice: User, team: Team, simulator: SimulatorServer,
                                       queued: list[tuple[Any, ...]]) -> None:
    source = sbi_source(team, simulator, OBSERVER)
    client = client_for(alice)
    assert "observer key, which cannot change anything" in client.get(actions_url(source)).content.decode()
    response = client.post(confirm_url(source), {"action": "clear_inactive_workers",
                                                 "subaccount": "alpha-bch", "confirmed": "yes"}, follow=True)
    assert "observer key" in response.content.decode()
    assert not upstream_events().exists() and not queued


def test_a_bad_address_is_refused_before_anything_is_sent(
        alice: User, alpha: Source, simulator: SimulatorServer, queued: list[tuple[Any, ...]]) -> None:
    before = simulator.simulator.request_counts().get("sbicrypto", {})
    response = client_for(alice).post(confirm_url(alpha), {
        "action": "update_payout_address", "subaccount": "alpha-btc", "address": "<script>",
        "confirmed": "yes"}, follow=True)
    assert "The address must be 20 to 128 letters and digits" in response.content.decode()
    assert simulator.simulator.request_counts().get("sbicrypto", {}) == before
    assert not upstream_events().exists() and not queued
