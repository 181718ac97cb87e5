"""Routes: the exchanger's limits and reserve, the book's depth, and the ranking."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.utils import timezone

from exchanges.clients.exchanger_base import ExchangeRate
from exchanges.models import ExchangerRate
from exchanges.selectors_exchanger import RateRow
from tests.treasury.helpers import exchanger_with_rates, flowbtc_with_book, price
from treasury.routes import exchanger_route, team_routes

pytestmark = pytest.mark.django_db


def row(**fields) -> RateRow:
    base = {"from_currency": "BTC", "to_currency": "USDT", "rate_in": D(1), "rate_out": D(60000),
            "reserve": D(100000), "min_amount": D("0.01"), "max_amount": D(2), "amount_currency": "",
            "to_min": None, "to_max": None, "from_fee": "", "to_fee": "", "city": "", "flags": [],
            "updated_at": timezone.now()}
    base.update(fields)
    return RateRow.of(ExchangerRate(**base))


def test_an_amount_within_the_limits_is_possible(source) -> None:
    route = exchanger_route(source=source, rate=row(), amount=D("0.5"), as_of=None)
    assert route.possible and route.reason == ""
    assert route.receive == D(30000) and route.rate == D(60000)


def test_it_says_when_the_amount_is_below_the_minimum(source) -> None:
    route = exchanger_route(source=source, rate=row(), amount=D("0.001"), as_of=None)
    assert not route.possible
    assert route.reason == "below the minimum of 0.01 BTC"


def test_it_says_when_the_amount_is_above_the_maximum(source) -> None:
    route = exchanger_route(source=source, rate=row(reserve=D(10**9)), amount=D(3), as_of=None)
    assert not route.possible and route.reason == "above the maximum of 2 BTC"


def test_it_says_when_the_reserve_is_too_small(source) -> None:
    # 1.5 BTC would get 90,000 USDT; the exchanger holds 50,000.
    route = exchanger_route(source=source, rate=row(reserve=D(50000)), amount=D("1.5"), as_of=None)
    assert not route.possible and route.reason == "more than the reserve of 50,000 USDT"
    assert route.receive == D(90000)  # still shown, so the team sees what it would have been


def test_limits_given_in_the_receiving_currency_apply_to_what_is_received(source) -> None:
    rate = row(min_amount=D(1000), max_amount=D(5000), amount_currency="USDT")
    assert not exchanger_route(source=source, rate=rate, amount=D("0.01"), as_of=None).possible  # 600
    assert exchanger_route(source=source, rate=rate, amount=D("0.05"), as_of=None).possible  # 3000


def test_published_fees_come_off(source) -> None:
    # 1 BTC minus a 0.5% from-fee is 0.995 BTC = 59,700 USDT, minus a flat 1 USDT: 59,699.
    rate = row(from_fee="0.5%", to_fee="1")
    route = exchanger_route(source=source, rate=rate, amount=D(1), as_of=None)
    assert route.receive == D("59699.000")


def test_routes_are_ranked_by_what_they_bring_with_blocked_ones_last(team) -> None:
    # The book pays 300,000 + 0.5 * 290,000 = 445,000 BRL for 1.5 BTC.
    flowbtc_with_book(team, bids=[(D(300000), D(1)), (D(290000), D(5))], asks=[(D(301000), D(1))])
    exchanger_with_rates(team, [
        ExchangeRate("BTC", "BRL", D(1), D(310000), D(10**7)),  # 465,000 BRL: the best
        ExchangeRate("BTC", "USDT", D(1), D(60000), D(10**7)),  # worth unknown: no USDT price
        ExchangeRate("BTC", "ETH", D(1), D(20), D(5)),  # 30 ETH > reserve 5: blocked
        ExchangeRate("BTC", "PMUSD", D(1), D(59000), D(10**7), min_amount=D(2)),  # blocked: min
    ])
    routes = team_routes(team=team, coin="BTC", amount=D("1.5"))
    names = [r.name for r in routes]
    assert names[:3] == ["BTC → BRL", "BTCBRL sell", "BTC → USDT"]
    assert [r.possible for r in routes] == [True, True, True, False, False]
    assert routes[1].receive == D(445000) and routes[1].equivalent.amount == D(445000)
    assert routes[2].equivalent is None
    blocked = {r.name: r.reason for r in routes[3:]}
    assert blocked == {"BTC → ETH": "more than the reserve of 5 ETH",
                       "BTC → PMUSD": "below the minimum of 2 BTC"}


def test_a_receipt_in_another_coin_is_valued_at_the_teams_price_and_says_which(team) -> None:
    exchanger = exchanger_with_rates(team, [ExchangeRate("BTC", "ETH", D(1), D(20), D(1000))])
    price(exchanger, timezone.now().date(), "15000", coin="ETH", quote="BRL")
    route = team_routes(team=team, coin="BTC", amount=D(1))[0]
    assert route.equivalent.amount == D(300000) and route.equivalent.currency == "BRL"
    assert "R$" in route.equivalent.rate_text and "btcchange24" in route.equivalent.rate_text


def test_a_thin_book_is_a_partial_route_with_the_unfilled_amount(team) -> None:
    flowbtc_with_book(team, bids=[(D(300000), D("0.2"))])
    (route,) = team_routes(team=team, coin="BTC", amount=D(1))
    assert not route.possible and route.receive == D(60000)
    assert route.reason == "the book is too thin: 0.8 BTC of 1 would not fill"


def test_a_coin_quoted_in_a_product_buys_its_base(team) -> None:
    flowbtc_with_book(team, product="ETHBTC", bids=[(D("0.05"), D(10))], asks=[(D("0.05"), D(100))])
    (route,) = team_routes(team=team, coin="BTC", amount=D(1))
    assert route.name == "ETHBTC buy" and route.to == "ETH" and route.receive == D(20)


def test_other_teams_sources_are_not_routes(team, other_team) -> None:
    flowbtc_with_book(other_team, bids=[(D(300000), D(1))])
    assert team_routes(team=team, coin="BTC", amount=D(1)) == []
