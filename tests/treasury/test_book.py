"""Book walks checked by hand on small books: every figure is worked out in the comments."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from treasury.book import book_spend, book_walk

BIDS = [(D("100"), D("1")), (D("99"), D("2")), (D("97"), D("0.5"))]


def test_it_fills_exactly_across_levels() -> None:
    # 1 at 100 + 2 at 99 = 100 + 198 = 298 for 3; average 99.3333...; worst 99.
    fill = book_walk(BIDS, D("3"))
    assert fill.filled == D("3") and fill.unfilled == 0 and fill.complete
    assert fill.total == D("298")
    assert fill.worst_price == D("99") and fill.best_price == D("100")
    assert fill.average_price == D("298") / D("3")
    # (100 - 99.3333...) / 100 * 100 = 0.6666...%
    assert fill.slippage_pct.quantize(D("0.0001")) == D("0.6667")
    assert fill.levels_used == 2


def test_it_fills_partly_and_says_how_much_was_left() -> None:
    # The book holds 3.5 in all: 100 + 198 + 48.5 = 346.5; 0.5 left of 4.
    fill = book_walk(BIDS, D("4"))
    assert fill.filled == D("3.5") and fill.unfilled == D("0.5") and not fill.complete
    assert fill.total == D("346.5")
    assert fill.worst_price == D("97")
    assert fill.average_price == D("99")  # 346.5 / 3.5


def test_an_empty_book_fills_nothing() -> None:
    fill = book_walk([], D("1"))
    assert fill.filled == 0 and fill.unfilled == D("1") and fill.total == 0
    assert fill.average_price is None and fill.worst_price is None and fill.slippage_pct is None


def test_an_amount_smaller_than_the_first_level_takes_its_price() -> None:
    fill = book_walk(BIDS, D("0.25"))
    assert fill.total == D("25.00") and fill.average_price == D("100")
    assert fill.worst_price == D("100") and fill.slippage_pct == 0 and fill.levels_used == 1


def test_buying_walks_the_asks_the_same_way() -> None:
    asks = [(D("101"), D("0.5")), (D("102"), D("1"))]
    # 0.5 at 101 + 0.5 at 102 = 50.5 + 51 = 101.5; slippage (101.5 - 101) / 101 = 0.495%.
    fill = book_walk(asks, D("1"))
    assert fill.total == D("101.5") and fill.worst_price == D("102")
    assert fill.slippage_pct.quantize(D("0.001")) == D("0.495")


def test_decimal_arithmetic_has_no_float_drift() -> None:
    fill = book_walk([(D("0.1"), D("3"))], D("3"))
    assert fill.total == D("0.3")  # 0.1 * 3 in float is 0.30000000000000004


def test_spending_money_on_the_asks_buys_the_base_coin() -> None:
    asks = [(D("10"), D("1")), (D("20"), D("1"))]
    # 10 buys the first coin, the other 10 half of the second: 1.5 coins.
    spend = book_spend(asks, D("20"))
    assert spend.bought == D("1.5") and spend.unspent == 0 and spend.worst_price == D("20")
    thin = book_spend(asks, D("50"))
    assert thin.bought == D("2") and thin.unspent == D("20")


def test_a_negative_amount_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        book_walk(BIDS, D("-1"))
