"""Fake upstream APIs served over real HTTP, for demo mode and end-to-end tests.

Each upstream is a module with one `SimulatedApi` subclass; list it in `API_CLASSES` to mount
it at `/<prefix>`. `SimulatorServer` (in `server.py`) serves them in a background thread.
"""

from __future__ import annotations

from dashboard.simulator.btcchange24 import Btcchange24Api
from dashboard.simulator.btccom import BtccomApi
from dashboard.simulator.btcpoolkz import BtcPoolKzApi
from dashboard.simulator.core import (
    DEFAULT_FAULT_DELAY,
    DEFAULT_SEED,
    FAULTS,
    Clock,
    FrozenClock,
    Request,
    Response,
    SimulatedApi,
    Simulator,
    route,
    utc_now,
)
from dashboard.simulator.flowbtc import FlowBtcApi
from dashboard.simulator.sbicrypto import SbiCryptoApi, SbiStatsApi

API_CLASSES: tuple[type[SimulatedApi], ...] = (
    BtccomApi,
    BtcPoolKzApi,
    SbiCryptoApi,
    SbiStatsApi,
    FlowBtcApi,
    Btcchange24Api,
)


def build_simulator(
    *,
    clock: Clock = utc_now,
    seed: str = DEFAULT_SEED,
    fault_delay: float = DEFAULT_FAULT_DELAY,
) -> Simulator:
    """A simulator with every registered API mounted."""
    return Simulator(
        [api_class(seed=seed) for api_class in API_CLASSES],
        clock=clock,
        fault_delay=fault_delay,
    )


__all__ = [
    "API_CLASSES",
    "DEFAULT_FAULT_DELAY",
    "DEFAULT_SEED",
    "FAULTS",
    "Clock",
    "FrozenClock",
    "Request",
    "Response",
    "SimulatedApi",
    "Simulator",
    "build_simulator",
    "route",
    "utc_now",
]
