"""A simulated cloud in SimPy time for the simulator tests: the campaign's own assembly
(:class:`simulator.campaigns.run.Simulation`) with no workload, driven step by step."""

from __future__ import annotations

from typing import Any

from harness.domain.states import ACTIVE_VM_SNAPSHOT_STATES, VMState
from harness.jobs.runners import Workflow
from harness.jobs.simulated import StepHook, simpy_process
from harness.service import sync, vms, vmsnapshots
from simulator.campaigns.run import Simulation
from simulator.campaigns.scenario import Scenario


class SimWorld:
    """One host, one DB, the simulated clock; each call runs one workflow to its end."""

    def __init__(self, strategy: str = "on-stop", **costs: Any) -> None:
        self.sim = Simulation(Scenario.from_dict({"strategy": strategy, "fleet": {"vms": 0}, "costs": costs}))
        self.env, self.uow, self.admin = self.sim.env, self.sim.uow, self.sim.admin
        self.host = self.sim.hosts[0]
        self.hook: StepHook | None = None

    def run(self, workflow: Workflow[Any]) -> Any:
        proc = self.env.process(simpy_process(self.env, workflow, self.sim.executor, self.sim.life, self.hook))
        self.env.run(until=proc)
        return proc.value

    def timed(self, workflow: Workflow[Any]) -> float:
        start = self.env.now
        self.run(workflow)
        return self.env.now - start

    def deploy(self, name: str = "vm") -> Any:
        vm = vms.check_deploy(self.uow, self.admin, name, self.sim.offering, True)
        self.run(vms.deploy(self.uow, vm.id))
        return self.vm(vm.id)

    def vm(self, vm_id: int) -> Any:
        with self.uow(readonly=True) as uow:
            return uow.vms.get(vm_id)

    def snap(self, vm: Any, memory: bool = True) -> Any:
        snap = vmsnapshots.allocate(self.uow, self.admin, vm.uuid, None, None, memory)
        return self.run(vmsnapshots.create(self.uow, snap.id))

    def stop(self, vm: Any) -> None:
        vms.check_stop(self.uow, self.admin, vm.uuid)
        self.run(vms.stop(self.uow, vm.id))

    def sync(self) -> sync.SyncReport:
        if not self.sim.life.up:
            self.sim.life.restart()
        hook, self.hook = self.hook, None
        try:
            return self.run(sync.sync(self.uow))  # type: ignore[no-any-return]
        finally:
            self.hook = hook

    def problems(self, vm_id: int) -> list[str]:
        """Transient states, and the database tree against the host's (or its export's)."""
        out: list[str] = []
        with self.uow(readonly=True) as uow:
            vm = uow.vms.get(vm_id)
            assert vm is not None
            snaps = uow.vm_snapshots.by_vm(vm_id)
            out += [f"{s.name} {s.state}" for s in snaps if s.state in ACTIVE_VM_SNAPSHOT_STATES]
            if vm.state not in (VMState.Running, VMState.Stopped):
                out.append(f"VM {vm.state}")
            want = sync.db_tree(uow, vm_id)
        registered = self.host.state.vms.get(vm.instance_name)
        if vm.state == VMState.Running:
            have = {c.name: c.parent for c in registered.checkpoints.values()} if registered else None
        elif registered is not None:
            return [*out, "Stopped but registered on the host"]
        elif vm.exported:
            have = {c.name: c.parent for c in self.host.state.exports[vm.instance_name].vm.checkpoints.values()}
        else:
            have = {}
        if have != want:
            out.append(f"db {want} != host {have}")
        return out
