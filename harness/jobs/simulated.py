"""The SimPy runner: the manager's workflows as SimPy processes.

:func:`simpy_process` is :func:`harness.jobs.runners.drive` with one difference: the host's
``execute`` returns a SimPy event (a timed host's process) and the runner *yields* it, so a
30-second checkpoint costs no wall time and thousands of workflows overlap in simulated
time. The workflow code is the very generator the thread runner drives.

A management-server crash is modelled here, because only the runner knows where a workflow
stands. :class:`ManagerLife` is the manager's lifetime: when it crashes, every workflow in
flight stops being driven at its next step, exactly where it is, and raises
:class:`ManagerCrashed` to whoever waits for it. The abandoned generators are kept alive
(:attr:`ManagerLife.graveyard`) so that Python never closes them: closing would run their
``finally`` blocks and write to the database, which a crashed process never does. The
database therefore holds what the last completed step committed, and nothing more.

A *step* is identified by ``(workflow, index, command, when)``: the workflow's name (its
generator function, e.g. ``create``, ``revert``, ``delete``, ``stop``), the 0-based index
of the command it is about to send, the command's class name, and ``"before"`` (the command
never reaches the host) or ``"after"`` (the host carried it out; the answer is lost). A
:data:`StepHook` sees every step and says whether the manager crashes there.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import simpy

from harness.drivers import Command, HostError
from harness.jobs.runners import Workflow

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Step:
    """Where a workflow stands: about to send (``before``) or just sent (``after``) its
    ``index``-th command."""

    workflow: str
    index: int
    command: str
    when: str

    def __str__(self) -> str:
        return f"{self.workflow}:{self.index}:{self.command}:{self.when}"


#: Called at every step; returning True crashes the management server there.
StepHook = Callable[[Step], bool]


class TimedExecutor(Protocol):
    """A host in simulated time: ``steps`` carries out a command inside the caller's SimPy
    process (``yield from``) and returns the answer, or raises a
    :class:`~harness.drivers.HostError`."""

    def steps(self, command: Command[Any]) -> Generator[simpy.Event, Any, Any]: ...


class ManagerCrashed(Exception):
    """The management server crashed while this workflow was in flight."""

    def __init__(self, step: Step | None) -> None:
        super().__init__(f"management server crashed at {step}" if step else "management server crashed")
        self.step = step


class ManagerLife:
    """The management server's lifetime in simulated time: up, crashed, restarted."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.epoch = 0
        self.up = True
        self.crashed_at: list[tuple[float, Step | None]] = []
        self.graveyard: list[Generator[Any, Any, Any]] = []
        self.on_restart: list[Callable[[], None]] = []
        self._restarted = env.event()

    def crash(self, step: Step | None = None) -> None:
        """Stop driving every workflow in flight; new ones wait for :meth:`restart`."""
        if not self.up:
            return
        self.up = False
        self.epoch += 1
        self.crashed_at.append((self.env.now, step))

    def restart(self) -> None:
        self.up = True
        ready, self._restarted = self._restarted, self.env.event()
        ready.succeed()
        for callback in self.on_restart:
            callback()

    def wait_up(self) -> simpy.Event:
        """An event that fires when the manager is up (at once if it is)."""
        return self.env.timeout(0) if self.up else self._restarted


def simpy_process(
    env: simpy.Environment,
    workflow: Workflow[T],
    host: TimedExecutor,
    life: ManagerLife | None = None,
    hook: StepHook | None = None,
    name: str | None = None,
) -> Generator[simpy.Event, Any, T]:
    """Drive ``workflow`` against ``host`` inside a SimPy process; return its result.

    Use as ``env.process(simpy_process(env, vmsnapshots.create(f, snap_id), timed_host))``.
    Host errors are thrown into the workflow at the ``yield`` that issued the command, as
    :func:`~harness.jobs.runners.drive` does. With ``life``, a crash (from ``hook`` or any
    other workflow) abandons the workflow and raises :class:`ManagerCrashed`.
    """
    label: str = name or str(getattr(workflow, "__name__", "workflow"))
    epoch = life.epoch if life is not None else 0
    answer: Any = None
    error: HostError | None = None
    index = 0
    while True:
        try:
            command = workflow.throw(error) if error is not None else workflow.send(answer)
        except StopIteration as done:
            return done.value
        if life is not None:
            _stop_if_crashed(life, epoch, workflow, hook, Step(label, index, type(command).__name__, "before"))
        try:
            answer, error = (yield from host.steps(command)), None
        except HostError as err:
            answer, error = None, err
        if life is not None:
            _stop_if_crashed(life, epoch, workflow, hook, Step(label, index, type(command).__name__, "after"))
        index += 1


def _stop_if_crashed(
    life: ManagerLife, epoch: int, workflow: Generator[Any, Any, Any], hook: StepHook | None, step: Step
) -> None:
    if life.up and life.epoch == epoch and hook is not None and hook(step):
        life.crash(step)
    if life.epoch != epoch or not life.up:
        life.graveyard.append(workflow)  # never closed: no finally block runs
        raise ManagerCrashed(step)
