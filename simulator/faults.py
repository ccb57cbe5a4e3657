"""Fault plans: declarative, seeded faults for a simulation.

A scenario lists faults (``faults:`` in the YAML); :meth:`FaultPlan.from_specs` checks them
and :meth:`FaultPlan.install` arms them on the timed hosts and the manager's lifetime. Every
random decision draws from the plan's own ``random.Random``, so one seed gives one event log.

Kinds (times in simulated seconds; ``host`` is a host index, default every host):

``host_crash``           ``at``, ``restart_after``: power loss; running VMs go Off.
``storage_outage``       ``at``, ``duration``: primary storage down; VMs pause, copies fail.
``agent_disconnect``     ``at``, ``duration``: commands refused with ``HostUnreachable``.
``command_timeout``      ``command`` (class name), ``probability``: the host does the work
                         but the answer never comes (``Timeout`` after the command wait).
``vss_failure_rate``     ``probability``: a production checkpoint's freeze fails.
``merge_failure``        ``probability``: a live merge fails after its copy.
``manager_crash``        ``workflow``, ``step`` (command class name or index), ``when``
                         (``before``/``after``), ``occurrence`` (n-th match, default 1),
                         ``restart_after``: the management server dies at that step.
``storage_down_mid_export`` ``occurrence``, ``duration``, ``after_s``: primary storage fails
                         ``after_s`` seconds into the n-th export.

A fault that has a restart (host, storage, agent, manager) triggers the callbacks the
campaign registered (VMSnapshotSync on reconnect and on manager start).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import simpy

from harness.drivers import Command
from simulator.operations import Operation
from simulator.timed import TimedHost

KINDS = (
    "host_crash",
    "storage_outage",
    "agent_disconnect",
    "command_timeout",
    "vss_failure_rate",
    "merge_failure",
    "manager_crash",
    "storage_down_mid_export",
)


class StepLike(Protocol):
    workflow: str
    index: int
    command: str
    when: str


class Life(Protocol):
    """The manager's lifetime (``harness.jobs.simulated.ManagerLife``), as faults see it."""

    up: bool

    def crash(self, step: Any = None) -> None: ...

    def restart(self) -> None: ...


@dataclass
class Fault:
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    fired: int = 0
    matched: int = 0

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)


class FaultPlan:
    """The faults of one run and the decisions they make."""

    def __init__(self, faults: Iterable[Fault], rng: random.Random) -> None:
        self.faults = list(faults)
        self.rng = rng
        self.hosts: list[TimedHost] = []
        self.life: Life | None = None
        self.env: simpy.Environment | None = None
        self.fired: list[str] = []

    @classmethod
    def from_specs(cls, specs: Iterable[dict[str, Any]], rng: random.Random) -> FaultPlan:
        faults = []
        for spec in specs:
            spec = dict(spec)
            kind = spec.pop("kind", None)
            if kind not in KINDS:
                raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
            faults.append(Fault(kind, spec))
        return cls(faults, rng)

    def of(self, kind: str) -> list[Fault]:
        return [f for f in self.faults if f.kind == kind]

    # ------------------------------------------------------------------ arming

    def install(self, env: simpy.Environment, hosts: list[TimedHost], life: Life | None = None) -> None:
        self.env, self.hosts, self.life = env, hosts, life
        for host in hosts:
            host.faults = self
        for f in self.faults:
            if f.kind in ("host_crash", "storage_outage", "agent_disconnect"):
                for host in self._targets(f):
                    env.process(self._window(f, host))
        if self.of("storage_down_mid_export"):
            for host in hosts:
                host.on_export = self._export_started

    def _targets(self, f: Fault) -> list[TimedHost]:
        index = f.get("host")
        return self.hosts if index is None else [self.hosts[int(index)]]

    def _armed(self) -> simpy.Environment:
        if self.env is None:
            raise RuntimeError("the fault plan acts only once installed on a simulation")
        return self.env

    def _window(self, f: Fault, host: TimedHost) -> Any:
        env = self._armed()
        yield env.timeout(float(f.get("at", 0.0)))
        down, up = {
            "host_crash": (host.crash, host.restart),
            "storage_outage": (host.storage_down, host.storage_up_again),
            "agent_disconnect": (host.disconnect, host.reconnect),
        }[f.kind]
        down()
        f.fired += 1
        self.fired.append(f"{env.now:.0f} {f.kind} {host.name}")
        length = f.get("restart_after", f.get("duration"))
        if length is not None:
            yield env.timeout(float(length))
            up()

    def _export_started(self, host: TimedHost, command: Command) -> None:
        for f in self.of("storage_down_mid_export"):
            f.matched += 1
            if f.matched == int(f.get("occurrence", 1)):
                f.fired += 1
                self._armed().process(self._mid_export(f, host))

    def _mid_export(self, f: Fault, host: TimedHost) -> Any:
        env = self._armed()
        yield env.timeout(float(f.get("after_s", 1.0)))
        host.storage_down()
        self.fired.append(f"{env.now:.0f} storage_down_mid_export {host.name}")
        yield env.timeout(float(f.get("duration", 600.0)))
        host.storage_up_again()

    # ------------------------------------------------------------------ per-command decisions

    def times_out(self, host: str, command: Operation) -> bool:
        return any(
            f.get("command") in (None, type(command).__name__) and self.rng.random() < float(f.get("probability", 0))
            for f in self.of("command_timeout")
        )

    def merge_fails(self, host: str) -> bool:
        return any(self.rng.random() < float(f.get("probability", 0)) for f in self.of("merge_failure"))

    def vss_fails(self, host: str) -> bool:
        return any(self.rng.random() < float(f.get("probability", 0)) for f in self.of("vss_failure_rate"))

    # ------------------------------------------------------------------ manager crash

    def crash_hook(self) -> Callable[[Any], bool] | None:
        """A step hook for the SimPy runner, or None when no manager crash is planned."""
        crashes = self.of("manager_crash")
        if not crashes:
            return None

        def hook(step: Any) -> bool:
            for f in crashes:
                if f.fired or not _matches(f, step):
                    continue
                f.matched += 1
                if f.matched == int(f.get("occurrence", 1)):
                    f.fired += 1
                    env = self._armed()
                    self.fired.append(f"{env.now:.0f} manager_crash {step}")
                    env.process(self._manager_restart(float(f.get("restart_after", 60.0))))
                    return True
            return False

        return hook

    def _manager_restart(self, after: float) -> Any:
        if self.life is None:
            raise RuntimeError("a manager crash needs the manager's life to restart it")
        yield self._armed().timeout(after)
        self.life.restart()


def _matches(f: Fault, step: StepLike) -> bool:
    want = f.get("step")
    if f.get("workflow") not in (None, step.workflow) or f.get("when", "before") != step.when:
        return False
    if want is None:
        return True
    return step.index == want if isinstance(want, int) else step.command == want
