"""A simulated host in SimPy time, behind the ordinary blocking driver contract, for the
``@sim-only`` outage scenarios: each command runs the SimPy clock until it is done, so the
manager's thread runner and every step work unchanged, while a fault can be planned at a
simulated moment (storage down 5 s into an export) and the host log gets simulated times.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from typing import Any, cast

import simpy

from harness.drivers import A, Capabilities, Command
from simulator.costs import Costs
from simulator.timed import EventLog, TimedHost


class SimulatedClockDriver:
    """:class:`simulator.timed.TimedHost` as a blocking :class:`harness.drivers.HyperVDriver`."""

    def __init__(self, seed: int = 4242) -> None:
        self.env = simpy.Environment()
        self.timed = TimedHost(self.env, Costs(), random.Random(seed), EventLog())
        self.capabilities: Capabilities = self.timed.capabilities
        self.planned: dict[str, tuple[float, Callable[[], Any]]] = {}

    def now(self) -> float:
        return float(self.env.now)

    def execute(self, command: Command[A]) -> A:
        kind = type(command).__name__
        planned = self.planned.pop(kind, None)
        if planned is not None:
            self.env.process(self._later(*planned))
        process = self.timed.execute(command)
        self.env.run(until=process)
        return cast(A, process.value)  # the timed host's answer to ``command``

    def close(self) -> None:
        self.timed.close()

    def after_start_of(self, kind: str, seconds: float, action: Callable[[], Any]) -> None:
        """Do ``action`` ``seconds`` of simulated time after the next ``kind`` command starts."""
        self.planned[kind] = (seconds, action)

    def _later(self, seconds: float, action: Callable[[], Any]) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(seconds)
        action()
