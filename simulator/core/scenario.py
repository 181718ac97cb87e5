"""Scenarios: trouble on a timetable, so a demo (or a test) sees alerts fire and resolve.

A scenario is a list of steps, each active for a window of seconds after the scenario's
start, the whole repeating every `cycle` seconds. A step either drops a few workers of an
upstream (they stop sending shares, as a tripped breaker would) or makes an upstream answer
with one of the simulator's faults ("http_500", ...). Upstreams that can drop workers say so
by overriding `SimulatedApi.scenario_changed`; faults work on every upstream.

Started from `manage.py simulator --scenario NAME` or over HTTP: `POST /_sim/scenario
{"name": "alerts"}` (`{"name": null}` stops it), `GET /_sim/scenario` shows what is active.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

DROP_WORKERS = "drop_workers"


@dataclass(frozen=True)
class Step:
    api: str
    action: str  # DROP_WORKERS or a fault's name
    begin: float  # seconds after the start of each cycle
    end: float
    count: int = 0  # DROP_WORKERS: how many workers

    def describe(self) -> str:
        window = f"from minute {self.begin / 60:g} to {self.end / 60:g}"
        if self.action == DROP_WORKERS:
            return f"{self.count} workers of {self.api} stop {window}"
        return f"{self.api} answers {self.action.replace('http_', 'HTTP ')} {window}"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    steps: tuple[Step, ...]
    cycle: float  # seconds; every step fits in one cycle


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario for scenario in (
        Scenario(
            name="alerts",
            description=("A few BTC.com workers drop for seven minutes and BTCpool.kz answers "
                         "500 for six, then all recovers; again every 20 minutes."),
            steps=(
                Step("btccom", DROP_WORKERS, begin=60, end=8 * 60, count=3),
                Step("btcpoolkz", "http_500", begin=4 * 60, end=10 * 60),
            ),
            cycle=20 * 60,
        ),
    )
}


@dataclass(frozen=True)
class ScenarioRun:
    """A scenario started at a moment: which steps are active when, in absolute time."""

    scenario: Scenario
    started_at: datetime

    def windows(self, step: Step, start: float, end: float) -> list[tuple[float, float]]:
        """The step's active windows (epoch seconds) that overlap [start, end)."""
        origin = self.started_at.timestamp()
        cycle = self.scenario.cycle
        first = max(0, math.floor((start - origin - step.end) / cycle))
        found = []
        n = first
        while origin + n * cycle + step.begin < end:
            begin, finish = origin + n * cycle + step.begin, origin + n * cycle + step.end
            if finish > start:
                found.append((begin, finish))
            n += 1
        return found

    def active(self, step: Step, moment: datetime) -> bool:
        t = moment.timestamp()
        return bool(self.windows(step, t, t + 1e-6))

    def fault_at(self, api: str, moment: datetime) -> str | None:
        for step in self.scenario.steps:
            if step.api == api and step.action != DROP_WORKERS and self.active(step, moment):
                return step.action
        return None

    def drops(self, api: str) -> list[Step]:
        return [s for s in self.scenario.steps if s.api == api and s.action == DROP_WORKERS]

    def as_dict(self, now: datetime) -> dict[str, Any]:
        return {
            "name": self.scenario.name,
            "description": self.scenario.description,
            "started_at": self.started_at.isoformat(),
            "cycle_seconds": self.scenario.cycle,
            "steps": [{"api": s.api, "action": s.action, "begin": s.begin, "end": s.end,
                       "count": s.count, "what": s.describe(), "active": self.active(s, now)}
                      for s in self.scenario.steps],
        }


@dataclass(frozen=True)
class ForcedOutages:
    """What a dropped worker consults: the step's windows, as outages."""

    run: ScenarioRun
    step: Step

    def between(self, start: float, end: float) -> list[tuple[float, float]]:
        return self.run.windows(self.step, start, end)
