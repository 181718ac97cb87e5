from __future__ import annotations

import time
from collections.abc import Callable

import pytest

Wait = Callable[[Callable[[], object], str], None]


def waiter(*, seconds: float, every: float) -> Wait:
    """`wait_until(condition, what)`: poll `condition` every `every` seconds, and fail the test
    when it still does not hold after `seconds`."""
    def wait_until(condition: Callable[[], object], what: str) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}")
            time.sleep(every)
    return wait_until
