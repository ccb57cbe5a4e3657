"""Runners: what drives a sans-IO workflow against a host.

A workflow is a generator that yields host :class:`~harness.drivers.Command` objects and
receives their :class:`~harness.drivers.Answer` objects (or has a
:class:`~harness.drivers.HostError` thrown in); its return value is the use case's result.
A runner owns the loop. The workflow never knows which runner drives it, so the same code
runs against the instant simulated host, a SimPy-timed one, or a live host.

Typed answers: a generator has one send type, so a bare ``answer = yield command`` is an
``object`` to mypy. A workflow asks through :func:`ask` instead
(``answer = yield from ask(CreateVMSnapshot(...))``), which mypy types as the command's
answer (a :class:`~harness.drivers.SnapshotAnswer`): the runner sends each command's own
answer back, as the driver's ``execute(Command[A]) -> A`` returned it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Protocol, TypeVar

from harness.drivers import A, Answer, Command, HostError, HyperVDriver
from harness.store.batch import flush

T = TypeVar("T")

#: A workflow: yields commands, is sent each one's answer, returns a result.
Workflow = Generator[Command[Any], object, T]


def ask(command: Command[A]) -> Generator[Command[A], Any, A]:
    """Yield ``command`` to the runner and return its answer, typed as the command's answer
    class; a host error the runner throws in is raised here, at the workflow's ``yield from``."""
    answer: A = yield command
    return answer


class Runner(Protocol):
    """Drives one workflow to its end and returns its result (or raises its error)."""

    def run(self, workflow: Workflow[T]) -> T: ...


def drive(workflow: Workflow[T], execute: Callable[[Command[Any]], Answer]) -> T:
    """Run ``workflow`` to completion, passing each command to ``execute`` and sending its
    answer back to the ``yield`` that issued it.

    Host errors raised by ``execute`` are thrown into the workflow at the ``yield`` that
    issued the command, so the workflow can record the failure before re-raising. A batched
    transaction (:func:`harness.store.uow.batch`) is committed before each command is sent:
    the host never carries out a command whose preceding state a crash could lose.
    """
    answer: Answer | None = None
    error: HostError | None = None
    while True:
        try:
            command = workflow.throw(error) if error is not None else workflow.send(answer)
        except StopIteration as done:
            result: T = done.value
            return result
        flush()
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
