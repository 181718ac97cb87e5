"""Fake upstream APIs served over real HTTP, for demo mode and end-to-end tests.

Each upstream is written from its seed document (and NOTES.md), never from the product's
clients: this package imports nothing from `pools` or `exchanges`, and nothing in the product
imports it. Each upstream is a module or a package with one `SimulatedApi` subclass; list it in
`API_CLASSES` to mount it at `/<prefix>`. The frame they share (requests, responses, routing,
faults, clocks) is `core`; `SimulatorServer` (in `server.py`) serves them in a background
thread, and `demo` seeds demo mode's team, user and sources.
"""

from __future__ import annotations

from simulator.btcchange24 import Btcchange24Api
from simulator.btccom import BtccomApi
from simulator.btcpoolkz import BtcPoolKzApi
from simulator.core import (
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
from simulator.flowbtc import FlowBtcApi
from simulator.sbicrypto import SbiCryptoApi, SbiStatsApi

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
