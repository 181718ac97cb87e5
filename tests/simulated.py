"""Fixtures for tests of one simulated upstream on a frozen clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from simulator import FrozenClock, build_simulator
from simulator.server import SimulatorServer


def frozen_simulator_fixtures(
    *, clock: FrozenClock, start: datetime, prefix: str
) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """`server` (one per module), `fresh` (autouse: clock back to `start`, faults and counts
    cleared) and `base` (the API's base URL). Assign them to module globals of those names."""

    @pytest.fixture(scope="module")
    def server() -> Iterator[SimulatorServer]:
        with SimulatorServer(build_simulator(clock=clock, fault_delay=0.3)) as running:
            yield running

    @pytest.fixture(autouse=True)
    def fresh(server: SimulatorServer) -> None:
        clock.now = start
        server.simulator.reset()

    @pytest.fixture
    def base(server: SimulatorServer) -> str:
        return server.base_url(prefix)

    return server, fresh, base
