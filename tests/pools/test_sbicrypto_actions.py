"""SBI Crypto UPDATE actions against the documented requests and answers, HTTP faked at the
transport."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import responses
from responses import matchers

from dashboard.http import CredentialsRejected, HttpClient, UpstreamError
from dashboard.sources import PollContext
from pools.clients.sbicrypto_actions import SbiActions

BASE = "https://pool-api.sbicrypto.com"
KEY, SECRET = "5adbf1b4-1ff8-4149-af3c-7cdcd06b8cb3", "aWZXNoK04YUUXy6m6uB5LaCwM3BsL_1S"
HEADERS = {"X-API-Key": KEY, "X-API-Secret": SECRET}
SWITCH = BASE + "/api/external/v1/subaccount"
CLEAR = BASE + "/api/external/v1/clear-inactive-workers"
ADDRESS = BASE + "/api/external/v1/subaccount/address"


def actions(credentials: dict[str, str] | None = None) -> SbiActions:
    ctx = PollContext(base_url=BASE, credentials={"api_key": KEY, "api_secret": SECRET}
                      if credentials is None else credentials, options={},
                      http=HttpClient(retries=0), now=datetime(2024, 5, 1, tzinfo=UTC))
    return SbiActions(ctx)


def refusal(status: int, description: str) -> dict[str, object]:
    return {"status": status, "json": {"error": "refused", "error_description": description}}


@responses.activate
def test_it_switches_the_coin_as_documented() -> None:
    responses.patch(SWITCH, status=202, match=[
        matchers.header_matcher(HEADERS),
        matchers.json_params_matcher({"subaccountName": "batchtest", "coin": "BCH"}),
    ], json={"subaccountName": "usonly", "coin": "BCH",
             "payoutAddress": "mkxSFCsiPyLYej1jxsyXHBj3L91Ze8qdk2"})
    answer = actions().switch_coin("batchtest", "bch")
    assert answer.status == 202
    assert answer.data == {"subaccountName": "usonly", "coin": "BCH",
                           "payoutAddress": "mkxSFCsiPyLYej1jxsyXHBj3L91Ze8qdk2"}


@responses.activate
def test_it_reports_a_coin_already_mined_as_200() -> None:
    responses.patch(SWITCH, status=200, json={"subaccountName": "batchtest", "coin": "BTC",
                                              "payoutAddress": "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"})
    assert actions().switch_coin("batchtest", "BTC").status == 200


@responses.activate
def test_it_clears_inactive_workers_with_the_name_in_the_query() -> None:
    responses.post(CLEAR, status=204, match=[
        matchers.header_matcher(HEADERS),
        matchers.query_param_matcher({"subaccountName": "alpha-bch"}),
    ])
    answer = actions().clear_inactive_workers("alpha-bch")
    assert (answer.status, answer.data) == (204, {})
    assert responses.calls[0].request.body is None


@responses.activate
def test_it_updates_the_payout_address_as_documented() -> None:
    responses.patch(ADDRESS, status=202, match=[
        matchers.header_matcher(HEADERS),
        matchers.json_params_matcher({"coin": "BTC", "name": "1450-test-api-10",
                                      "address": "tb1qpc5fcnrqxzhu8lh53w2t7n4a7ksjueafmvj7px"}),
    ], json={"id": 122, "address": "tb1qpc5fcnrqxzhu8lh53w2t7n4a7ksjueafmvj7px", "coin": "BTC"})
    answer = actions().update_payout_address("1450-test-api-10",
                                             "tb1qpc5fcnrqxzhu8lh53w2t7n4a7ksjueafmvj7px", coin="btc")
    assert answer.data["id"] == 122


@responses.activate
def test_it_leaves_the_coin_out_of_an_address_change_when_none_is_chosen() -> None:
    responses.patch(ADDRESS, status=202, json={"id": 1, "address": "x", "coin": "BTC"})
    actions().update_payout_address("alpha-btc", "bc1qexampleexampleexample")
    assert json.loads(responses.calls[0].request.body or b"") == {
        "name": "alpha-btc", "address": "bc1qexampleexampleexample"}


def test_it_refuses_an_observer_key() -> None:
    with pytest.raises(CredentialsRejected, match="observer key can only read"):
        actions({"observer_key": "348UpQjhPMRPxTK8QVDqY9RavwGrMVebox"})


@pytest.mark.parametrize(("call", "method", "url", "status", "expected", "cls"), [
    ("switch", "PATCH", SWITCH, 401, "rejected the API key and secret", CredentialsRejected),
    ("switch", "PATCH", SWITCH, 403, "lacks the UPDATE permission, or may not act on subaccount alpha-bch",
     CredentialsRejected),
    ("switch", "PATCH", SWITCH, 400, "the pool does not support that coin", UpstreamError),
    ("switch", "PATCH", SWITCH, 404, "no subaccount alpha-bch among those this key may see", UpstreamError),
    ("switch", "PATCH", SWITCH, 422, "has no payout address for that coin", UpstreamError),
    ("clear", "POST", CLEAR, 400, "the subaccount name was missing", UpstreamError),
    ("clear", "POST", CLEAR, 403, "lacks the UPDATE permission", CredentialsRejected),
    ("clear", "POST", CLEAR, 404, "no subaccount alpha-bch", UpstreamError),
    ("address", "PATCH", ADDRESS, 400, "the pool does not support that coin", UpstreamError),
    ("address", "PATCH", ADDRESS, 403, "lacks the UPDATE permission", CredentialsRejected),
    ("address", "PATCH", ADDRESS, 404, "no subaccount alpha-bch", UpstreamError),
], ids=lambda value: str(value) if isinstance(value, int | str) and len(str(value)) < 8 else "")
@responses.activate
def test_it_explains_every_documented_error(call: str, method: str, url: str, status: int,
                                            expected: str, cls: type[UpstreamError]) -> None:
    # An upstream that quotes the key it refuses must not get it into our message.
    responses.add(method, url, **refusal(status, f"refused for key {KEY} and secret {SECRET}"))
    client = actions()
    run = {"switch": lambda: client.switch_coin("alpha-bch", "BTC"),
           "clear": lambda: client.clear_inactive_workers("alpha-bch"),
           "address": lambda: client.update_payout_address("alpha-bch", "bc1qexampleexampleexample")}
    with pytest.raises(cls) as caught:
        run[call]()
    error = caught.value
    assert expected in error.message
    assert f"HTTP {status}" in error.message
    assert error.permanent and error.status == status
    assert KEY not in error.message and SECRET not in error.message


@responses.activate
def test_it_shows_the_upstreams_own_words_for_an_undocumented_422() -> None:
    responses.patch(ADDRESS, **refusal(422, "address checksum mismatch"))
    with pytest.raises(UpstreamError, match="address checksum mismatch"):
        actions().update_payout_address("alpha-btc", "bc1qexampleexampleexample")


@responses.activate
def test_a_server_error_stays_transient() -> None:
    responses.patch(SWITCH, status=503)
    with pytest.raises(UpstreamError) as caught:
        actions().switch_coin("alpha-bch", "BTC")
    assert not caught.value.permanent
