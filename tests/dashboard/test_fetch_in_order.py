"""dashboard.http.in_order: pages fetched several at a time, handed on in order."""

from __future__ import annotations

import threading
import time

import pytest

from dashboard.http import UpstreamError, in_order


class Pages:
    """A fetch that records which pages were asked for and how many ran at once."""

    def __init__(self, *, failing: int | None = None) -> None:
        self.failing = failing
        self.asked: list[int] = []
        self.running = self.most_running = 0
        self.lock = threading.Lock()

    def __call__(self, number: int) -> str:
        with self.lock:
            self.asked.append(number)
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        # Later pages answer first, so an order kept by accident would show.
        time.sleep(0.02 / number)
        with self.lock:
            self.running -= 1
        if number == self.failing:
            raise UpstreamError(f"page {number} failed")
        return f"page {number}"


def test_results_come_in_the_order_asked_with_at_most_so_many_at_once() -> None:
    pages = Pages()
    assert list(in_order(pages, range(1, 11), at_once=3)) == [f"page {n}" for n in range(1, 11)]
    assert sorted(pages.asked) == list(range(1, 11))
    assert 1 < pages.most_running <= 3


def test_a_failed_fetch_raises_in_its_turn_and_no_later_page_is_started() -> None:
    pages = Pages(failing=3)
    got = []
    with pytest.raises(UpstreamError, match="page 3 failed"):
        for result in in_order(pages, range(1, 101), at_once=2):
            got.append(result)
    assert got == ["page 1", "page 2"]
    assert max(pages.asked) <= 5  # the window around page 3, not the 100 pages


def test_a_consumer_that_stops_stops_the_fetches() -> None:
    pages = Pages()
    results = in_order(pages, range(1, 1001), at_once=4)
    assert [next(results), next(results)] == ["page 1", "page 2"]
    results.close()
    asked = len(pages.asked)
    assert asked <= 7
    time.sleep(0.05)
    assert len(pages.asked) == asked
