"""One simulation run: a scenario, a seed, a result.

:class:`Simulation` assembles a SimPy environment, the timed hosts (:mod:`simulator.timed`),
an in-memory store whose clock is the simulated clock (:mod:`harness.store.memory`: the
manager's repositories without SQL, about 20 times faster; ``store="sql"`` runs the same
simulation on an in-memory SQLite database instead), and the manager's own service
functions: each operation runs its synchronous check, then its workflow under the SimPy
runner (:func:`harness.jobs.simulated.simpy_process`): the same code the CLI and the HTTP
API run. Each VM's operations come from one SimPy process, so they run in order, as the
manager's per-VM job queue runs them.

:meth:`Simulation.run` returns the JSON-ready result ``hvsnap simulate --json`` prints.
"""

from __future__ import annotations

import gc
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import simpy

from harness.domain import config
from harness.domain.errors import CloudError
from harness.domain.model import VM
from harness.domain.states import ACTIVE_VM_SNAPSHOT_STATES, VMSnapshotState, VMState
from harness.drivers import Command, ExportVM, HostError, ImportVM
from harness.jobs.runners import Workflow
from harness.jobs.simulated import ManagerCrashed, ManagerLife, simpy_process
from harness.service import accounts, hostside, sync, vms, vmsnapshots
from harness.store import tables
from harness.store.memory import memory_uow_factory
from harness.store.ports import UowFactory, existing
from harness.store.uow import make_engine, uow_factory
from simulator.campaigns.policies import PolicyScheduler, start_of
from simulator.campaigns.scenario import Scenario, Shard
from simulator.campaigns.series import Sampler, quantiles
from simulator.cluster import Cluster
from simulator.costs import Costs, GiB
from simulator.faults import FaultPlan
from simulator.fleet import Fleet
from simulator.host import HyperVHost
from simulator.timed import EventLog, TimedHost

EPOCH = datetime(2024, 1, 1)
Proc = Generator[simpy.Event, Any, Any]
Progress = Callable[[float, float], None]
#: what one sync settled, kept per run for the report (the first lines)
SYNC_LINES = 20
#: a stop "waited" when it took this much longer than a bare power-off and unregister
STOP_WAIT_MARGIN_S = 1.0
#: the garbage collector's thresholds while a run runs (see :func:`fewer_collections`)
RUN_GC_THRESHOLDS = (100_000, 50, 1000)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect garbage rarely while a simulation runs, then as before.

    A large fleet keeps millions of live objects (rows, disk files, SimPy events); with
    Python's default thresholds the cyclic collector walks them over and over (on 10,000
    VMs it took a third of the run). Young cycles are still collected; nothing the run
    computes depends on when."""
    before = gc.get_threshold()
    gc.set_threshold(*RUN_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def percentiles(values: list[float]) -> dict[str, Any]:
    """count, p50, p95, p99 (nearest rank) and mean, in simulated seconds."""
    if not values:
        return {"count": 0, "p50": None, "p95": None, "p99": None, "mean": None}
    s = sorted(values)

    def rank(q: float) -> float:
        return round(s[min(len(s) - 1, max(0, int(q * len(s) + 0.999999) - 1))], 6)

    return {"count": len(s), "p50": rank(0.5), "p95": rank(0.95), "p99": rank(0.99), "mean": round(sum(s) / len(s), 6)}


class _Metered:
    """The fleet, timing every export and import (they run inside stop, start and create workflows)."""

    def __init__(self, fleet: Fleet | Cluster, env: simpy.Environment, latencies: dict[str, list[float]]) -> None:
        self.fleet, self.env, self.latencies = fleet, env, latencies

    def execute(self, command: Command) -> simpy.Event:
        return self.env.process(self.steps(command))

    def steps(self, command: Command) -> Proc:
        if isinstance(command, (ExportVM, ImportVM)):
            return self._timed(command)
        return self.fleet.steps(command)

    def _timed(self, command: ExportVM | ImportVM) -> Proc:
        """In a process of its own, as every command ran once: what the same instant started
        before it (a deferred merge at power-off) keeps beginning first."""
        start = self.env.now
        answer = yield self.fleet.execute(command)
        self.latencies["export" if isinstance(command, ExportVM) else "import"].append(self.env.now - start)
        return answer


class Simulation:
    """One seeded run of a scenario; with ``shard``, of that shard of its fleet only (the
    shard's hosts and the VMs placed on them, with their fleet-wide names and random
    streams; :mod:`simulator.campaigns.shards` merges the shards' results)."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        keep_log: bool = False,
        store: str = "memory",
        series: bool = False,
        shard: Shard | None = None,
    ) -> None:
        self.sc = scenario
        self.shard = shard
        self.seed = scenario.seed if seed is None else seed
        self.epoch = start_of(scenario.start)
        self._clock_at, self._clock_now = 0.0, self.epoch
        self.env = simpy.Environment()
        self.costs = Costs().with_overrides(scenario.costs)
        self.log = EventLog(keep=keep_log)
        fl = scenario.fleet
        hosts = []
        indexes: Iterable[int] = range(fl.hosts) if shard is None else shard.host_indexes()
        for i in range(1) if scenario.cluster.nodes else indexes:  # a cluster's nodes share one CSV
            state = HyperVHost()
            state.capacity = int(fl.capacity_gib * GiB) if fl.capacity_gib else None
            rng = random.Random(f"{self.seed}:host:{i}")
            name = "cluster-csv" if scenario.cluster.nodes else f"hyperv-{i + 1:02d}"
            hosts.append(TimedHost(self.env, self.costs, rng, self.log, name, state))
        self.hosts = hosts
        self.cluster = Cluster(hosts[0], scenario.cluster.nodes) if scenario.cluster.nodes else None
        self.fleet: Fleet | Cluster = self.cluster if self.cluster is not None else Fleet(hosts)
        for crash in scenario.cluster.crashes:
            self.env.process(self._node_crash(crash))
        if self.cluster is not None:  # sync follows a role that failed over to another node
            self.cluster.on_failover.append(lambda _vm: self._sync_soon("failover"))
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.executor = _Metered(self.fleet, self.env, self.latencies)
        self.failures: Counter[str] = Counter()
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.sync_totals: Counter[str] = Counter()
        self.workflows = 0
        self.uow: UowFactory
        if store == "memory":
            self.uow = memory_uow_factory(self._clock)
        else:
            engine = make_engine("sqlite://")
            tables.metadata.create_all(engine)  # a fresh in-memory database: the models' schema
            self.uow = uow_factory(engine, self._clock)
        self.admin = accounts.bootstrap(self.uow)
        offering = accounts.create_offering(self.uow, self.admin, "sim", fl.cpus, 1000, fl.memory_mib)
        self.offering = offering.name
        accounts.set_config(self.uow, self.admin, config.EXPORT_STRATEGY.name, scenario.strategy)
        limit = max(10, scenario.workload.keep + 1, scenario.workload.max_snapshots)
        accounts.set_config(self.uow, self.admin, config.VMSNAPSHOT_MAX.name, str(limit))
        self.life = ManagerLife(self.env)
        self.syncing = simpy.Resource(self.env, capacity=1)
        #: (VM uuid, manager epoch) -> mix operations in flight: the VMs a live manager's own
        #: jobs work on, which sync leaves alone (a dead manager's jobs are not in its epoch)
        self.in_flight: Counter[tuple[str, int]] = Counter()
        self.vm_indexes = list(range(fl.vms)) if shard is None else shard.vm_indexes(fl)
        faults, fault_rng = scenario.faults, f"{self.seed}:faults"
        if shard is not None:
            faults, fault_rng = _shard_faults(scenario.faults, shard), f"{fault_rng}:{shard.index}"
        self.plan = FaultPlan.from_specs(faults, random.Random(fault_rng))
        self.plan.install(self.env, hosts, self.life)
        self.hook = self.plan.crash_hook()
        for host in hosts:
            host.on_reconnect.append(lambda _h: self._sync_soon("host reconnect"))
        self.life.on_restart.append(lambda: self._sync_soon("manager start"))
        self.vms: list[VM] = []
        self.policies = self._policy_scheduler() if scenario.policies else None
        self.sampler = Sampler(self, scenario.duration_s) if series else None
        self.sync_runs: list[dict[str, Any]] = []
        self.created: list[int] = []  # ids of the snapshots the workload allocated

    def _policy_scheduler(self) -> PolicyScheduler:
        wl = self.sc.workload
        manual = wl.max_snapshots if wl.kind != "idle" else 0
        return PolicyScheduler(self, self.uow, self.admin, self.epoch, self.sc.policies, self.sc.fleet.vms, manual)

    def note(self, what: str, detail: str) -> None:
        """Record a manager event in the run's event log."""
        self.log.record(self.env.now, "manager", "*", what, detail)

    def _node_crash(self, crash: dict[str, Any]) -> Proc:
        if self.cluster is None:
            raise ValueError("a node crash needs a cluster (the scenario's cluster.nodes)")
        node = f"node-{crash['node']}"
        yield self.env.timeout(crash["at"])
        self.cluster.crash(node)
        if crash["for"]:
            yield self.env.timeout(crash["for"])
            self.cluster.restart(node)

    def _clock(self) -> datetime:
        now = self.env.now
        if now != self._clock_at:  # the units of work of one instant share its datetime
            self._clock_at, self._clock_now = now, self.epoch + timedelta(seconds=now)
        return self._clock_now

    # ------------------------------------------------------------------ running workflows

    def workflow(self, kind: str, workflow: Workflow[Any]) -> Proc:
        """Run one workflow to its end under the SimPy runner; record latency or failure."""
        start = self.env.now
        self.workflows += 1
        try:
            result = yield from simpy_process(self.env, workflow, self.executor, self.life, self.hook)
        except ManagerCrashed:
            self.failures["manager_crash"] += 1
            return None
        except CloudError as err:
            self.failures[f"{kind}.{_root_cause(err)}"] += 1
            return None
        except Exception as err:  # a manager bug surfaced by the simulation: count it, keep going
            self.failures[f"{kind}.{type(err).__name__}"] += 1
            return None
        self.latencies[kind].append(self.env.now - start)
        return result

    def _sync_soon(self, why: str) -> None:
        self.env.process(self._sync(why))

    def _sync(self, why: str) -> Proc:
        yield self.life.wait_up()
        with self.syncing.request() as turn:  # one sync at a time, as the recovery thread runs them
            yield turn
            busy = frozenset(uuid for (uuid, epoch), n in self.in_flight.items() if n and epoch == self.life.epoch)
            report = yield from self.workflow("sync", sync.sync(self.uow, busy))
        if report is not None:
            self.sync_totals["runs"] += 1
            self.sync_totals["settled"] += len(report.settled)
            self.sync_totals["vms_settled"] += len(report.vms)
            self.sync_totals["out_of_band"] += len(report.out_of_band)
            self.sync_totals["vanished"] += len(report.vanished)
            self.sync_runs.append(
                {
                    "t": round(self.env.now, 3),
                    "why": why,
                    "settled": len(report.settled),
                    "vms": len(report.vms),
                    "out_of_band": len(report.out_of_band),
                    "vanished": len(report.vanished),
                    "failed": len(report.failed),
                    "lines": [str(x) for x in (*report.settled, *report.vms, *report.failed)][:SYNC_LINES],
                }
            )
            self.note("sync", f"{why} settled={len(report.settled)}")

    # ------------------------------------------------------------------ the workload

    def _deploy(self, index: int) -> Proc:
        vm = vms.check_deploy(self.uow, self.admin, f"vm-{index:05d}", self.offering, True)
        yield from self.workflow("deploy", vms.deploy(self.uow, vm.id))
        if self.sc.fleet.write_bps is not None:
            self.fleet.host_of(vm.instance_name).write_bps[vm.instance_name] = self.sc.fleet.write_bps
        self.vms.append(vm)
        if self.policies is not None:
            self.policies.attach(index, vm)
        yield self.env.process(self._vm_loop(index, vm))

    def _vm_loop(self, index: int, vm: VM) -> Proc:
        rng = random.Random(f"{self.seed}:vm:{index}")
        wl = self.sc.workload
        if wl.kind == "idle":
            return
        ops, weights = zip(*sorted(wl.mix.items()), strict=True) if wl.mix else ((), ())
        next_at = self.env.now + (rng.uniform(0, wl.jitter_s) if wl.kind == "schedule" else 0.0)
        while True:
            if wl.kind == "schedule":
                next_at += wl.every_s
                wait = max(0.0, next_at - self.env.now)
            else:
                wait = rng.expovariate(1 / wl.interval_s)
            if self.env.now + wait >= self.sc.duration_s:
                return
            yield self.env.timeout(wait)
            if not self.life.up:
                yield self.life.wait_up()
            if wl.kind == "schedule":
                yield from self._create(vm, rng)
                yield from self._trim(vm, wl.keep)
            else:
                op = rng.choices(ops, weights)[0]
                work = (vm.uuid, self.life.epoch)  # this manager's job on the VM: sync leaves it alone
                self.in_flight[work] += 1
                try:
                    yield from getattr(self, f"_{op}")(vm, rng)
                finally:
                    self.in_flight[work] -= 1
            self._sample(vm)

    def _state(self, vm: VM) -> tuple[VMState, list[Any]]:
        with self.uow(readonly=True) as uow:
            fresh = existing(uow.vms.get(vm.id), "VM", vm.uuid)
            return fresh.state, uow.vm_snapshots.by_vm(vm.id)

    def _vm_state(self, vm: VM) -> VMState:
        with self.uow(readonly=True) as uow:
            fresh = existing(uow.vms.get(vm.id), "VM", vm.uuid)
            return fresh.state

    def _create(self, vm: VM, rng: random.Random) -> Proc:
        if self.sc.workload.kind == "mix":
            state, snaps = self._state(vm)
            if len(snaps) >= self.sc.workload.max_snapshots:
                yield from self._delete(vm, rng)
            memory = self.sc.workload.memory and state == VMState.Running
        else:  # only the mix looks at the snapshots, and only a memory workload at the VM's state
            memory = self.sc.workload.memory and self._vm_state(vm) == VMState.Running
        try:
            snap = vmsnapshots.allocate(self.uow, self.admin, vm.uuid, None, None, memory)
        except CloudError:
            self.failures["create.refused"] += 1
            return
        self.created.append(snap.id)
        yield from self.workflow("create", vmsnapshots.create(self.uow, snap.id, self.sc.workload.quiesce))

    def _revert(self, vm: VM, rng: random.Random) -> Proc:
        _, snaps = self._state(vm)
        ready = [s for s in snaps if s.state == VMSnapshotState.Ready]
        if not ready:
            yield from self._create(vm, rng)
            return
        try:
            snap = vmsnapshots.check_revert(self.uow, self.admin, rng.choice(ready).uuid)
        except CloudError:
            self.failures["revert.refused"] += 1
            return
        aware = self.fleet.capabilities.clustered and self.sc.cluster.aware  # a naive manager does not know
        yield from self.workflow("revert", vmsnapshots.revert(self.uow, snap.id, aware))

    def _delete(self, vm: VM, rng: random.Random) -> Proc:
        _, snaps = self._state(vm)
        if snaps:
            yield from self._delete_one(snaps[0].uuid)

    def _delete_one(self, uuid: str) -> Proc:
        try:
            snap = vmsnapshots.check_delete(self.uow, self.admin, uuid)
        except CloudError:
            self.failures["delete.refused"] += 1
            return
        yield from self.workflow("delete", vmsnapshots.delete(self.uow, snap.id))

    def _trim(self, vm: VM, keep: int) -> Proc:
        with self.uow(readonly=True) as uow:  # the oldest beyond keep, without copying every snapshot
            briefs = uow.vm_snapshots.briefs_of_vm(vm.id)
            uuids = [uow.vm_snapshots.get(b.id).uuid for b in briefs[: max(0, len(briefs) - keep)]]  # type: ignore[union-attr]
        for uuid in uuids:
            yield from self._delete_one(uuid)

    def _stop_start(self, vm: VM, rng: random.Random) -> Proc:
        state, _ = self._state(vm)
        if state == VMState.Running:
            try:
                vms.check_stop(self.uow, self.admin, vm.uuid)
            except CloudError:
                self.failures["stop.refused"] += 1
                return
            yield from self.workflow("stop", vms.stop(self.uow, vm.id, not self.fleet.capabilities.deferred_merges))
            yield self.env.timeout(self.sc.workload.stopped_s)
        try:
            vms.check_start(self.uow, self.admin, vm.uuid)
        except CloudError:
            self.failures["start.refused"] += 1
            return
        yield from self.workflow("start", vms.start(self.uow, vm.id))

    def _sample(self, vm: VM) -> None:
        host = self.fleet.host_of(vm.instance_name)
        depth = host.depth(vm.instance_name)
        self.samples["depth"].append(depth)
        self.samples["read_latency_ms"].append(host.costs.read_latency(depth))  # = host.read_latency_ms
        self.samples["storage_bytes"].append(host.used_bytes())
        self.samples["lingering_bytes"].append(sum(host.deferred.values()))

    # ------------------------------------------------------------------ the run

    def start(self, progress: Progress | None = None) -> simpy.Event | float:
        """Start the fleet's processes; returns what the run ends at (``env.run(until=...)``).

        ``run`` is ``start`` then ``env.run`` to that end; a caller may instead advance
        ``env`` in steps (the benchmark times a window of simulated time that way)."""
        loops: list[simpy.Event] = [self.env.process(self._deploy(i)) for i in self.vm_indexes]
        if progress is not None:
            self.env.process(self._ticker(progress))
        if self.sampler is not None:
            self.env.process(self.sampler.process())
        if self.policies is not None:
            self.env.process(self.policies.process())
            loops.append(self.env.timeout(self.sc.duration_s))
        return simpy.AllOf(self.env, loops) if loops else self.sc.duration_s

    def run(self, progress: Progress | None = None) -> dict[str, Any]:
        wall = time.perf_counter()
        with fewer_collections():
            self.env.run(until=self.start(progress))
            if self.plan.faults:  # settle what the faults left, as a manager start would
                self.env.run(until=self.env.process(self._sync("end of run")))
        if progress is not None:
            progress(self.sc.duration_s, self.sc.duration_s)
        return self.result(time.perf_counter() - wall)

    def _ticker(self, progress: Progress) -> Proc:
        step = self.sc.duration_s / 200
        while self.env.now < self.sc.duration_s:
            progress(self.env.now, self.sc.duration_s)
            yield self.env.timeout(step)

    def result(self, wall_s: float) -> dict[str, Any]:
        ops = ("create", "revert", "delete", "stop", "start", "export", "import", "deploy", "sync", "scheduled")
        latency = {op: percentiles(self.latencies.get(op, [])) for op in ops}
        by_depth: dict[int, float] = {}
        for d, ms in zip(self.samples["depth"], self.samples["read_latency_ms"], strict=True):
            by_depth[int(d)] = round(ms, 6)
        return {
            "scenario": self.sc.name,
            "seed": self.seed,
            "strategy": self.sc.strategy,
            "merge_mode": self.costs.merge_mode,
            "simulated_seconds": round(self.env.now, 6),
            "event_log_sha256": self.log.sha256,
            "events": self.log.count,
            "workflows": self.workflows,
            "operations": latency,
            "bytes": {
                "exported": sum(h.stats["bytes_exported"] for h in self.hosts),
                "merged": sum(h.stats["bytes_merged"] for h in self.hosts),
                "deferred_unmerged": sum(sum(h.deferred.values()) for h in self.hosts),
            },
            "data_at_risk": {**self.data_at_risk(), "lost_total": self.lost_total()},
            "failures": dict(sorted(self.failures.items())),
            "invariants": self.invariants(),
            "chain_depth": percentiles(self.samples["depth"]),
            "storage": {  # primary storage in use, sampled after each operation (2008 R2: files waiting to merge)
                "used_bytes": percentiles(self.samples["storage_bytes"]),
                "peak_used_bytes": max(self.samples["storage_bytes"], default=0),
                "lingering_bytes": percentiles(self.samples["lingering_bytes"]),
                "peak_lingering_bytes": max(self.samples["lingering_bytes"], default=0),
            },
            "read_latency_ms": {
                **percentiles(self.samples["read_latency_ms"]),
                "by_depth": dict(sorted(by_depth.items())),
            },
            "merges_cancelled": sum(h.stats["merges_cancelled"] for h in self.hosts),
            "paused_critical": sum(h.stats["paused_critical"] for h in self.hosts),
            "faults_fired": list(self.plan.fired),
            "sync": dict(self.sync_totals),
            **({"policies": self.policies.result(self.vms)} if self.policies is not None else {}),
            "latency_cdf": {op: quantiles(self.latencies.get(op, [])) for op in ops},
            "stop_waits": self._stop_waits(),
            "sync_runs": self.sync_runs,
            **({"series": self.sampler.result()} if self.sampler is not None else {}),
            "scenario_spec": self.sc.to_dict(),
            **({"cluster": self.cluster_result()} if self.cluster is not None else {}),
            "wall_seconds": round(wall_s, 3),
        }

    def _stop_waits(self) -> dict[str, Any]:
        """How many stops took longer than a bare power-off and unregister (they exported)."""
        bare = self.costs.power_off_s + self.costs.unregister_s
        stops = self.latencies.get("stop", [])
        waited = [s - bare for s in stops if s > bare + STOP_WAIT_MARGIN_S]
        return {
            "bare_s": round(bare, 6),
            "stops": len(stops),
            "waited": len(waited),
            "wait_s": round(sum(waited), 6),
        }

    def lost_total(self) -> int:
        """Snapshots the workload created that were ever lost (deleted ones included)."""
        with self.uow(readonly=True) as uow:
            return sum(1 for i in self.created if uow.vm_snapshots.details(i).get(hostside.LOST))

    def cluster_result(self) -> dict[str, Any]:
        """The cluster's outage figures, and what became of the snapshots: kept (Ready, the
        checkpoint on CSV), lost (the host no longer has it), failed (a create refused while
        a role was failing over or its node was down)."""
        if self.cluster is None:
            raise ValueError("cluster figures need a cluster (the scenario's cluster.nodes)")
        kept = lost = 0
        with self.uow(readonly=True) as uow:
            for vm in self.vms:
                registered = self.cluster.csv.state.vms.get(vm.instance_name)
                export = self.cluster.csv.state.exports.get(vm.instance_name)
                held = set(registered.checkpoints) if registered else set(export.vm.checkpoints) if export else set()
                for snap in uow.vm_snapshots.by_vm(vm.id):
                    if snap.state == VMSnapshotState.Ready and snap.name in held:
                        kept += 1
                    elif snap.state in (VMSnapshotState.Ready, VMSnapshotState.Error):
                        lost += 1
        failed = sum(n for kind, n in self.failures.items() if kind.startswith("create"))
        return {
            "aware": self.sc.cluster.aware,
            **self.cluster.result(),
            "snapshots": {"kept": kept, "lost": lost, "failed": failed},
        }

    def data_at_risk(self) -> dict[str, Any]:
        """Snapshots whose only copy is the live host registration (no fresh export): a stop
        that cannot export, or a host or primary storage loss, takes them. ``lost``: the
        snapshots already lost."""
        at_risk = bytes_ = lost = vms_ = 0
        with self.uow(readonly=True) as uow:
            for vm in self.vms:
                fresh = existing(uow.vms.get(vm.id), "VM", vm.uuid)
                snaps = uow.vm_snapshots.by_vm(vm.id)
                lost += sum(1 for s in snaps if uow.vm_snapshots.details(s.id).get(hostside.LOST))
                ready = sync.db_tree(uow, vm.id)
                host = self.fleet.host_of(vm.instance_name)
                covered = fresh.exported and vm.instance_name in host.state.exports
                if ready and not covered:
                    vms_ += 1
                    at_risk += len(ready)
                    if vm.instance_name in host.state.vms:
                        bytes_ += host.export_bytes(vm.instance_name)
        return {"snapshots": at_risk, "vms": vms_, "bytes": bytes_, "lost_snapshots": lost}

    def invariants(self) -> dict[str, Any]:
        """No transient state; each VM's Ready snapshots are the host's (or its export's) tree."""
        violations: list[str] = []
        with self.uow(readonly=True) as uow:
            for vm in self.vms:
                fresh = existing(uow.vms.get(vm.id), "VM", vm.uuid)
                name = vm.instance_name
                snaps = uow.vm_snapshots.by_vm(vm.id)
                stuck = [f"{s.name}={s.state}" for s in snaps if s.state in ACTIVE_VM_SNAPSHOT_STATES]
                if stuck:
                    violations.append(f"{name}: transient snapshots {stuck}")
                if fresh.state not in (VMState.Running, VMState.Stopped):
                    violations.append(f"{name}: VM left {fresh.state}")
                host = self.fleet.host_of(name)
                want = sync.db_tree(uow, vm.id)
                registered = host.state.vms.get(name)
                if fresh.state == VMState.Running:
                    have = {c.name: c.parent for c in registered.checkpoints.values()} if registered else None
                elif registered is not None:
                    violations.append(f"{name}: Stopped in the database but registered on the host")
                    continue
                elif fresh.exported and name in host.state.exports:
                    have = {c.name: c.parent for c in host.state.exports[name].vm.checkpoints.values()}
                else:
                    have = {}
                if have != want:
                    violations.append(f"{name}: database tree {want} != host tree {have}")
        return {"ok": not violations, "violations": violations[:50], "count": len(violations)}


def _shard_faults(faults: list[dict[str, Any]], shard: Shard) -> list[dict[str, Any]]:
    """The faults of one shard: a fault aimed at a host (``host``: its fleet-wide index)
    goes to the shard that has it, re-aimed at the host's index within the shard; every
    other fault applies to each shard (each shard's hosts and its management server)."""
    out = []
    for f in faults:
        if f.get("host") is None:
            out.append(dict(f))
        elif shard.has_host(int(f["host"])):
            out.append({**f, "host": int(f["host"]) - shard.first_host})
    return out


def _root_cause(err: BaseException) -> str:
    """The host error code behind a failure (SimPy chains a copy per process it crosses)."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, HostError):
            return seen.code
        seen = seen.__cause__
    return type(err).__name__


def simulate(
    scenario: Scenario, seed: int | None = None, progress: Progress | None = None, series: bool = False
) -> dict[str, Any]:
    """Run ``scenario`` once and return its result (picklable: campaigns call this).
    ``series``: also sample the run's time series for reports (``result["series"]``; it
    costs time on large fleets, never changes the event log)."""
    return Simulation(scenario, seed, series=series).run(progress)
