"""The seeded fault soak: many short simulated runs, each with a random fault plan over a
mixed workload, every run's invariants checked.

A soak run is a function of its seed alone (:func:`soak_scenario` draws the fleet, the
export strategy, the workload and a fault plan from ``random.Random(f"soak:{seed}")``), so a
failing run is reproduced by its seed and nothing else::

    .venv/bin/python benchmarks/soak.py --seed 4711

The fault vocabulary is :mod:`simulator.faults`' (host crash and restart, storage outage
windows, command timeouts, agent disconnects, VSS failures, merge failures, a manager crash
at a workflow step, storage down mid-export). Every fault window closes before the run ends,
and the run ends with a sync (as a manager start would). Then each run checks:

- the simulation's invariants: no snapshot left transient after the sync, no VM left in a
  transient state, the database's tree of Ready snapshots equals the host's (or, for a
  stopped VM, its export's);
- every Ready snapshot restores its data: before each snapshot of a running VM the guest
  writes a fresh marker; at the end every Ready snapshot that has one is reverted to, through
  the manager's own workflow (starting the VM where a disk-only revert leaves it stopped),
  and the marker read back must be the one written before it;
- no data lost beyond what the export strategy admits: a snapshot is marked lost only where
  the strategy keeps no copy that could survive (``none``), or where a fault that takes
  registrations or primary storage (a host crash, a storage outage, storage down mid-export)
  fired.

:func:`run_batch` runs a slice of seeds (one task on an executor); :func:`tally` sums
outcomes. ``benchmarks/soak.py`` runs 10,000 seeds sharded on the process pool or Dask.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from typing import Any

import simpy

from harness.domain.errors import CloudError
from harness.domain.model import VM
from harness.domain.states import VMSnapshotState, VMSnapshotType, VMState
from harness.drivers import HostError, ReadGuestData, WriteGuestData
from harness.service import hostside, vms, vmsnapshots
from simulator.campaigns.run import Proc, Progress, Simulation
from simulator.campaigns.scenario import Scenario
from simulator.faults import KINDS
from simulator.operations import ask

#: the guest file every marker is written to
MARKER_KEY = "soak-marker"
#: simulated seconds of one soak run, and the margin before its end by which faults are over
DURATION_S = 4 * 3600.0
QUIET_S = 1800.0
#: faults that can take what only the host held (registrations, primary storage)
LOSING_FAULTS = ("host_crash", "storage_outage", "storage_down_mid_export")
#: how often the end of a run looks whether the last fault is over
FAULT_POLL_S = 60.0


def fault_plan(rng: random.Random) -> list[dict[str, Any]]:
    """One to four faults drawn from the vocabulary, every window closed by ``DURATION_S - QUIET_S``."""
    latest = DURATION_S - QUIET_S

    def window() -> tuple[float, float]:
        at = round(rng.uniform(300, latest - 900), 1)
        return at, round(rng.uniform(60, min(1800, latest - at)), 1)

    plan: list[dict[str, Any]] = []
    for kind in rng.sample(list(KINDS), rng.randint(1, 4)):
        if kind == "host_crash":
            at, length = window()
            plan.append({"kind": kind, "at": at, "restart_after": length})
        elif kind in ("storage_outage", "agent_disconnect"):
            at, length = window()
            plan.append({"kind": kind, "at": at, "duration": length})
        elif kind == "command_timeout":
            command = rng.choice(["CreateVMSnapshot", "DeleteVMSnapshot", "RevertToVMSnapshot", "ExportVM", None])
            plan.append({"kind": kind, "command": command, "probability": round(rng.uniform(0.02, 0.2), 3)})
        elif kind in ("vss_failure_rate", "merge_failure"):
            plan.append({"kind": kind, "probability": round(rng.uniform(0.05, 0.5), 3)})
        elif kind == "manager_crash":
            workflow = rng.choice(["create", "revert", "delete", "stop", "start"])
            plan.append(
                {
                    "kind": kind,
                    "workflow": workflow,
                    "step": rng.randint(0, 2),
                    "when": rng.choice(["before", "after"]),
                    "occurrence": rng.randint(1, 3),
                    "restart_after": round(rng.uniform(30, 600), 1),
                }
            )
        else:
            plan.append(
                {
                    "kind": kind,
                    "occurrence": rng.randint(1, 3),
                    "after_s": round(rng.uniform(1, 20), 1),
                    "duration": 600.0,
                }
            )
    return plan


def soak_scenario(seed: int) -> Scenario:
    """The short run of ``seed``: a small fleet, a mixed workload and a random fault plan."""
    rng = random.Random(f"soak:{seed}")
    hosts = rng.randint(1, 2)
    return Scenario.from_dict(
        {
            "name": "soak",
            "duration": DURATION_S,
            "seed": seed,
            "strategy": rng.choice(["on-stop", "on-stop", "on-snapshot", "none"]),
            "fleet": {"hosts": hosts, "vms": hosts * rng.randint(1, 3), "memory_mib": rng.choice([1024, 4096])},
            "workload": {
                "kind": "mix",
                "interval_s": rng.choice([600, 900, 1200]),
                "mix": {"create": 4, "revert": 1, "delete": 2, "stop_start": 1},
                "memory": rng.random() < 0.6,
                "max_snapshots": rng.randint(3, 6),
                "stopped_s": 300,
            },
            "costs": {"merge_mode": rng.choice(["live", "live", "deferred"])},
            "faults": fault_plan(rng),
        }
    )


class SoakRun(Simulation):
    """A :class:`Simulation` whose guests write a marker before every snapshot, checked at the end."""

    def __init__(self, scenario: Scenario) -> None:
        super().__init__(scenario, scenario.seed)
        self.markers: dict[int, str] = {}  # snapshot id -> the marker its VM held when it was taken
        self.checked = 0
        self._written = 0

    def start(self, progress: Progress | None = None) -> simpy.Event | float:
        """The run ends no earlier than the scenario's duration and no earlier than its last
        fault, so every restarted host has reconnected before the last sync and the checks:
        a fleet must not be checked while a host or its storage, or the manager, is still
        down. The faults
        drawn per command (timeouts, VSS and merge failures) and crash steps end there too,
        so the last sync runs as a manager start after the outage would."""
        end = super().start(progress)
        return self.env.process(self._until_faults_over(end))

    def _until_faults_over(self, end: simpy.Event | float) -> Proc:
        """Wait for the workload and the scenario's duration, then for every host to be up
        with its storage and agent (storage that fails mid-export comes back after its own
        duration, which may run past the end)."""
        if not isinstance(end, float):
            yield end
        yield self.env.timeout(max(0.0, self.sc.duration_s - self.env.now))
        while not self.life.up or not all(h.up and h.agent_up and h.storage_up for h in self.hosts):
            yield self.env.timeout(FAULT_POLL_S)
        for host in self.hosts:  # the per-command draws end with the faults: the last sync settles
            host.faults = None
        self.hook = None

    def _create(self, vm: VM, rng: random.Random) -> Proc:
        marker = None
        if self._vm_state(vm) == VMState.Running:
            self._written += 1
            marker = f"{vm.display_name}#{self._written}"
            try:
                yield self.fleet.execute(WriteGuestData(hostside.ref(vm), MARKER_KEY, marker))
            except HostError:
                marker = None  # the guest could not write (host or storage down): nothing to check
        before = len(self.created)
        yield from super()._create(vm, rng)
        if marker is not None:  # this VM's newest allocation (other VMs allocate meanwhile)
            with self.uow(readonly=True) as uow:
                mine = [i for i in self.created[before:] if getattr(uow.vm_snapshots.get(i), "vm_id", None) == vm.id]
            if mine:
                self.markers[mine[-1]] = marker

    def verify(self) -> Proc:
        """Revert to every Ready snapshot that has a marker and read it back; the mismatches.
        The faults are over by now; their per-command draws and crash steps stop here too."""
        self.plan.faults, self.hook = [], None
        while self.syncing.count or self.syncing.queue:  # a restart's own sync settles first
            yield self.env.timeout(FAULT_POLL_S)
        wrong: list[str] = []
        for vm in self.vms:
            with self.uow(readonly=True) as uow:
                ready = [s for s in uow.vm_snapshots.by_vm(vm.id) if s.state == VMSnapshotState.Ready]
            # memory snapshots first: their reverts end Running; a disk-only revert ends Stopped,
            # and a stop without an export strategy takes every other checkpoint with it
            ready.sort(key=lambda s: s.type != VMSnapshotType.DiskAndMemory)
            for snap in ready:
                want = self.markers.get(snap.id)
                if want is None or self._state_of(snap.id) != VMSnapshotState.Ready:
                    continue  # no marker, or lost to an earlier check's stop (strategy none)
                self.checked += 1
                got = yield from self._restored(vm, snap.uuid, snap.id)
                if got != want:
                    wrong.append(f"{vm.display_name}: snapshot {snap.name} restored {got!r}, not {want!r}")
        return wrong

    def _state_of(self, snap_id: int) -> VMSnapshotState | None:
        with self.uow(readonly=True) as uow:
            snap = uow.vm_snapshots.get(snap_id)
            return None if snap is None else snap.state

    def _restored(self, vm: VM, uuid: str, snap_id: int) -> Proc:
        try:
            vmsnapshots.check_revert(self.uow, self.admin, uuid)
        except CloudError as err:  # the code and the snapshot's state, not the text: it names random uuids
            return f"revert refused ({err.errorcode}, snapshot {self._state_of(snap_id)})"
        done = yield from self.workflow("revert", vmsnapshots.revert(self.uow, snap_id))
        if done is None:
            return "revert failed"
        if self._vm_state(vm) == VMState.Stopped:  # a disk-only revert ends Stopped: start to read
            try:
                vms.check_start(self.uow, self.admin, vm.uuid)
            except CloudError as err:
                return f"start refused ({err.errorcode})"
            yield from self.workflow("start", vms.start(self.uow, vm.id))
        try:
            answer = yield from ask(self.fleet, ReadGuestData(hostside.ref(vm), MARKER_KEY))
        except HostError as err:
            return f"read failed: {err.code}"
        return answer.value


@dataclass
class Outcome:
    """One soak run: ``ok``, or the reasons it failed (with the seed that reproduces it)."""

    seed: int
    ok: bool
    problems: list[str] = field(default_factory=list)
    event_log_sha256: str = ""
    workflows: int = 0
    faults_fired: int = 0
    snapshots_checked: int = 0


def run_one(seed: int) -> Outcome:
    """Run the soak run of ``seed`` and check it."""
    scenario = soak_scenario(seed)
    sim = SoakRun(scenario)
    try:
        result = sim.run()
        check = sim.env.process(sim.verify())
        sim.env.run(until=check)
        wrong: list[str] = check.value or []
    except Exception as err:  # a crash of the simulation itself is a failure of the run, with its seed
        return Outcome(seed, False, [f"the run raised {type(err).__name__}: {err}"])
    problems = [f"invariant: {v}" for v in result["invariants"]["violations"]]
    problems += [f"restore: {w}" for w in wrong]
    fired = {line.split(" ")[1] for line in result["faults_fired"]}
    lost = result["data_at_risk"]["lost_total"]
    if lost and scenario.strategy != "none" and not fired & set(LOSING_FAULTS):
        problems.append(f"data loss: {lost} snapshot(s) lost with {scenario.strategy} and no fault that loses data")
    return Outcome(
        seed,
        not problems,
        problems,
        result["event_log_sha256"],
        result["workflows"],
        len(result["faults_fired"]),
        sim.checked,
    )


def run_batch(seeds: list[int]) -> list[Outcome]:
    """The outcomes of ``seeds`` (one executor task)."""
    return [run_one(s) for s in seeds]


def soak(
    seeds: list[int], executor: Executor, batch: int = 50, done: Callable[[int, int], None] | None = None
) -> list[Outcome]:
    """Every seed's outcome, in seed order, run in batches on ``executor``."""
    batches = [seeds[i : i + batch] for i in range(0, len(seeds), batch)]
    futures = [executor.submit(run_batch, b) for b in batches]
    if done is not None:
        for n, _ in enumerate(as_completed(futures), 1):
            done(n, len(futures))
    return [o for f in futures for o in f.result()]


def tally(outcomes: list[Outcome]) -> Counter[str]:
    """Runs, passes, failures, workflows, faults fired and snapshots whose data was checked."""
    c: Counter[str] = Counter()
    for o in outcomes:
        c["runs"] += 1
        c["ok" if o.ok else "failed"] += 1
        c["workflows"] += o.workflows
        c["faults_fired"] += o.faults_fired
        c["snapshots_checked"] += o.snapshots_checked
    return c
