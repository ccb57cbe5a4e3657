"""A Hyper-V failover cluster in simulated time (the spec's "Failover Clustering and Hyper-V
VSS").

The nodes share Cluster Shared Volumes: every VM's configuration, disks, checkpoints and
export live there, so the cluster is one :class:`~simulator.timed.TimedHost` state (its
``csv``) seen by several nodes. A clustered VM is a *role* owned by one node:

- **A node crash** powers off the VMs it owns (their memory is lost); after the cluster
  declares the node down (``node_failure_detect_s``) each role moves to a surviving node
  (``role_move_s``) and its VM starts cold there from its disks (``start_s``), the
  application serving again after ``guest_boot_s``. Checkpoints and exports are on CSV and
  survive.
- **A role failure**: the Hyper-V VSS writer and the VM cmdlets ignore the cluster, so a
  revert or a save that turns a running clustered VM Saved or Off behind the cluster's back
  is seen as the VM failing (``role_failure_detect_s``); the cluster fails the role over to
  another node and starts it cold, which also throws away the memory a revert restored.
- **Through the cluster** (``through_cluster`` on the contract's revert and save): the role
  is taken offline (``Stop-ClusterGroup``, whose offline action saves the VM), the
  checkpoint restored, the role brought online (``Start-ClusterGroup``): the VM stays on its
  node and no failover happens.

The cluster implements the timed driver interface (``execute`` returns a SimPy process), so
the manager runs on it unchanged; ``capabilities.clustered`` tells the manager to revert
through the cluster. :meth:`result` gives the outage figures a campaign reports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import simpy

from harness.drivers import (
    Command,
    GetInventory,
    HostUnreachable,
    InvalidState,
    Inventory,
    PowerOffVM,
    PowerState,
    RevertToVMSnapshot,
    SaveVM,
    SnapshotAnswer,
    StartVM,
    VMAnswer,
    VMRef,
)
from simulator.costs import MiB
from simulator.operations import ask
from simulator.timed import Proc, TimedHost


class Cluster:
    """``nodes`` nodes named ``node-1`` ... over the shared ``csv`` host."""

    def __init__(self, csv: TimedHost, nodes: int) -> None:
        if nodes < 2:
            raise ValueError("a failover cluster needs at least two nodes")
        self.csv, self.env, self.costs = csv, csv.env, csv.costs
        self.capabilities = replace(csv.capabilities, clustered=True)
        self.hosts = [csv]
        self.up = {f"node-{i + 1}": True for i in range(nodes)}
        self.owner: dict[str, str] = {}
        self.failing: set[str] = set()
        self.stats: Counter[str] = Counter()
        self.downtime: dict[str, float] = {}  # seconds the applications did not serve, by cause
        self.on_failover: list[Callable[[str], None]] = []  # the manager syncs: the VM moved
        self._next = 0

    # ------------------------------------------------------------------ the driver interface

    def execute(self, command: Command) -> simpy.Process:
        return self.env.process(self.steps(command))

    def close(self) -> None:
        """Nothing to release."""

    def host_of(self, vm: str) -> TimedHost:
        return self.csv

    def node_of(self, vm: str) -> str:
        """The node owning the VM's role; a role not running anywhere goes to an up node."""
        node = self.owner.get(vm)
        registered = vm in self.csv.state.vms
        if node is None or (not self.up[node] and not registered):
            node = self.owner[vm] = self._pick(exclude=None)
        return node

    # ------------------------------------------------------------------ faults

    def crash(self, node: str) -> None:
        """The node loses power: its running VMs go down and their roles fail over."""
        self.up[node] = False
        self.csv.log.record(self.env.now, node, "*", "node-crash")
        for vm, owner in list(self.owner.items()):
            state = self.csv.state.vms.get(vm)
            if owner == node and state is not None and state.power_state != PowerState.Off:
                self.csv.driver.execute(PowerOffVM(VMRef(vm)))
                self.env.process(self._failover(vm, "node crash", self.costs.node_failure_detect_s))

    def restart(self, node: str) -> None:
        self.up[node] = True
        self.csv.log.record(self.env.now, node, "*", "node-restart")

    def result(self) -> dict[str, Any]:
        """The outage figures: failovers by cause, application downtime, reverts undone."""
        return {
            "nodes": len(self.up),
            "failovers": self.stats["failovers"],
            "failovers_by_cause": {
                "node crash": self.stats["failovers node crash"],
                "role failure": self.stats["failovers role failure"],
            },
            "role_failures": self.stats["role failures"],
            "reverts_undone": self.stats["reverts undone"],
            "application_downtime_s": {k: round(v, 6) for k, v in sorted(self.downtime.items())}
            | {"total": round(sum(self.downtime.values()), 6)},
            "owners": dict(sorted(self.owner.items())),
        }

    # ------------------------------------------------------------------ internals

    def _pick(self, exclude: str | None) -> str:
        up = [n for n, alive in self.up.items() if alive and n != exclude]
        if not up:
            raise HostUnreachable("No node of the cluster is up.")
        load = Counter(self.owner.values())
        return min(up, key=lambda n: (load[n], n))

    def steps(self, c: Command) -> Proc:
        if isinstance(c, GetInventory):
            inventory = yield from ask(self.csv, c)
            vms = tuple(
                replace(v, owner_node=self.owner.get(v.name), role_pending=v.name in self.failing)
                for v in inventory.vms
            )
            return Inventory(vms, inventory.exported)
        name = c.vm.name
        if not any(self.up.values()):
            raise HostUnreachable("No node of the cluster is up.")
        if name in self.failing:
            raise InvalidState(f"'{name}': its cluster role is failing over (Pending); try again when it is Online.")
        node = self.node_of(name)
        if not self.up[node]:
            raise HostUnreachable(f"The node '{node}' that owns '{name}' is down.")
        state = self.csv.state.vms.get(name)
        running = state is not None and state.power_state == PowerState.Running
        if isinstance(c, (RevertToVMSnapshot, SaveVM)) and c.through_cluster:
            return (yield from self._through_cluster(c, running))
        start = self.env.now
        answer = yield from self.csv.steps(c)
        if running and isinstance(c, (RevertToVMSnapshot, SaveVM)):  # behind the cluster's back
            self.stats["role failures"] += 1
            self._down("revert" if isinstance(c, RevertToVMSnapshot) else "save", start)
            undone = isinstance(c, RevertToVMSnapshot) and self.csv.state.vm(name).power_state == PowerState.Running
            self.env.process(self._failover(name, "role failure", self.costs.role_failure_detect_s, undone))
        return answer

    def _down(self, cause: str, since: float) -> None:
        self.downtime[cause] = self.downtime.get(cause, 0.0) + self.env.now - since

    def _through_cluster(self, c: RevertToVMSnapshot | SaveVM, running: bool) -> Proc:
        """Stop-ClusterGroup (the offline action saves the VM), the restore, Start-ClusterGroup."""
        start, k = self.env.now, self.costs
        if running:
            memory = self.csv.state.vm(c.vm.name).memory_mib * MiB
            yield self.env.timeout(k.group_offline_s + memory / k.state_write_bps)
        answer: VMAnswer | SnapshotAnswer
        if isinstance(c, SaveVM):
            answer = yield from ask(self.csv, SaveVM(c.vm))
        else:
            answer = yield from ask(self.csv, RevertToVMSnapshot(c.vm, c.snapshot))
            if answer.power_state == PowerState.Running:
                yield self.env.timeout(k.group_offline_s)  # Start-ClusterGroup resumes it
        self._down("revert" if isinstance(c, RevertToVMSnapshot) else "save", start)
        return answer

    def _failover(self, vm: str, cause: str, detect_s: float, undone: bool = False) -> Proc:
        """Detect, move the role to a surviving node, start the VM cold there."""
        since, k = self.env.now, self.costs
        self.failing.add(vm)
        self.csv.log.record(since, "cluster", vm, "role-failed", cause)
        try:
            yield self.env.timeout(detect_s)
            while vm in self.csv.busy:  # the command that tripped it finishes first
                yield self.env.timeout(0.5)
            while not any(self.up.values()):
                yield self.env.timeout(60.0)  # no node to go to: the role stays failed
            others = any(alive and n != self.owner.get(vm) for n, alive in self.up.items())
            target = self._pick(exclude=self.owner.get(vm) if others else None)
            yield self.env.timeout(k.role_move_s)
            self.owner[vm] = target
            state = self.csv.state.vms.get(vm)
            if state is not None:
                if state.power_state != PowerState.Off:
                    self.csv.driver.execute(PowerOffVM(VMRef(vm)))  # the failed instance is gone
                yield self.env.timeout(k.start_s)
                self.csv.driver.execute(StartVM(VMRef(vm)))  # a cold boot from the disks on CSV
                yield self.env.timeout(k.guest_boot_s)
            self.stats["failovers"] += 1
            self.stats[f"failovers {cause}"] += 1
            self.stats["reverts undone"] += int(undone)
            self._down("failover", since)
            self.csv.log.record(self.env.now, "cluster", vm, "role-online", target)
            for callback in self.on_failover:
                callback(vm)
        finally:
            self.failing.discard(vm)
