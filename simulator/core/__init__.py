"""A tiny WSGI framework for fake upstream APIs: the frame every simulated upstream shares.

Each simulated upstream is a `SimulatedApi` subclass (`api.py`) mounted under its own path
prefix on one `Simulator` (`app.py`, the WSGI app with faults, request counts and a reset under
`/_sim/`). Requests and responses are in `http.py`, the clocks in `clock.py`, and the helpers
that turn strings into stable pseudo-random numbers in `values.py`.
"""

from __future__ import annotations

from simulator.core.api import DEFAULT_SEED, Handler, SimulatedApi, route
from simulator.core.app import CONTROL_PREFIX, DEFAULT_FAULT_DELAY, FAULTS, Fault, Simulator
from simulator.core.clock import Clock, FrozenClock, as_utc, utc_now
from simulator.core.http import Request, Response, not_found
from simulator.core.values import between, stable_hex, stable_int, unit_random, unit_randoms, wave

__all__ = [
    "CONTROL_PREFIX",
    "DEFAULT_FAULT_DELAY",
    "DEFAULT_SEED",
    "FAULTS",
    "Clock",
    "Fault",
    "FrozenClock",
    "Handler",
    "Request",
    "Response",
    "SimulatedApi",
    "Simulator",
    "as_utc",
    "between",
    "not_found",
    "route",
    "stable_hex",
    "stable_int",
    "unit_random",
    "unit_randoms",
    "utc_now",
    "wave",
]
