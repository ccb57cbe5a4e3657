"""Runners: what drives a sans-IO workflow against a host.

A workflow is a generator that yields host :class:`~harness.drivers.Command` objects and
receives :class:`~harness.drivers.Answer` objects (or has a
:class:`~harness.drivers.HostError` thrown in); its return value is the use case's result.
A runner owns the loop. The workflow never knows which runner drives it, so the same code
runs against the instant simulated host, a SimPy-timed one, or a live host.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Protocol, TypeVar

from harness.drivers import Answer, Command, HostError, HyperVDriver

T = TypeVar("T")

#: A workflow: yields commands, is sent answers, returns a result.
Workflow = Generator[Command, Answer, T]


class Runner(Protocol):
    """Drives one workflow to its end and returns its result (or raises its error)."""

    def run(self, workflow: Workflow[T]) -> T: ...


def drive(workflow: Workflow[T], execute: Callable[[Command], Answer]) -> T:
    """Run ``workflow`` to completion, passing each command to ``execute``.

    Host errors raised by ``execute`` are thrown into the workflow at the ``yield`` that
    issued the command, so the workflow can record the failure before re-raising.
    """
    answer: Any = None
    error: HostError | None = None
    while True:
        try:
            command = workflow.throw(error) if error is not None else workflow.send(answer)
        except StopIteration as done:
            return done.value
        try:
            answer, error = execute(command), None
        except HostError as err:
            answer, error = None, err


class ThreadRunner:
    """Runs a workflow in the calling thread against ``driver`` (live hosts, the CLI, the
    HTTP server's worker threads)."""

    def __init__(self, driver: HyperVDriver) -> None:
        self.driver = driver

    def run(self, workflow: Workflow[T]) -> T:
        return drive(workflow, self.driver.execute)
