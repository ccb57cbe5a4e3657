"""Random sequences of VM-snapshot operations against one cloud, checked against a model.

A hypothesis ``RuleBasedStateMachine`` drives a cloud (a SQLite file or the memory store,
drawn per run; the instant simulated host) with two VMs through creates (disk or
disk+memory), reverts, deletes, delete-all, stop, start, offering changes and guest writes,
under the ``on-stop`` or ``on-snapshot`` export strategy, and through host failures of a
create, revert or delete (snapshots in Error).
The model predicts every outcome, refusals included (code and unchanged database), and
after every step the invariants compare the database with the model and with the host's
own checkpoint trees. ``check_data`` reverts and reads the guest data back.

The ``none`` strategy loses checkpoints on stop by design, so it has its own test below.

``HVSNAP_STATEFUL_EXAMPLES`` / ``HVSNAP_STATEFUL_STEPS`` raise the effort for a long run.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from harness.domain.errors import CloudError
from harness.drivers import (
    Command,
    CreateVMSnapshot,
    DeleteVMSnapshot,
    GetInventory,
    Inventory,
    PowerState,
    RevertToVMSnapshot,
    VMRef,
)
from harness.jobs.runners import Workflow, drive
from harness.service.cloud import open_cloud
from tests.service.conftest import Failing, World, refused

STRATEGY_KEY = "hyperv.vmsnapshot.export.strategy"
OFFERINGS = ("small", "medium", "large")
KEYS = ("k0", "k1", "k2", "k3")

_template: Path | None = None


def _fresh_home() -> Path:
    """A new cloud home holding a copy of a migrated, bootstrapped database: migrating
    afresh for every example would cost most of the time budget."""
    global _template
    if _template is None:
        template = Path(tempfile.mkdtemp(prefix="hvsnap-stateful-template-"))
        atexit.register(shutil.rmtree, template, True)
        with open_cloud(template, driver="sim", state_file=None):
            pass
        _template = template / "hvsnap.db"
    home = Path(tempfile.mkdtemp(prefix="hvsnap-stateful-"))
    shutil.copyfile(_template, home / "hvsnap.db")
    return home


@dataclass
class _Runner:
    """Drives workflows against a host that fails one kind of command."""

    host: Failing

    def run(self, workflow: Workflow[Any]) -> Any:
        return drive(workflow, self.host.execute)


@dataclass
class SnapModel:
    uuid: str
    name: str
    vm: int
    memory: bool
    data: dict[str, str]
    offering: str
    parent: str | None
    state: str = "Ready"  # or Error: a create or delete the host failed
    on_host: bool = True  # a failed create leaves no checkpoint


@dataclass
class VMModel:
    uuid: str
    instance_name: str
    running: bool
    offering: str = "small"
    data: dict[str, str] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)
    snaps: dict[str, SnapModel] = field(default_factory=dict)  # live, in creation order
    current: str | None = None


class VMSnapshotMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.home = _fresh_home()
        self.stack = ExitStack()
        self.world: World  # opened by setup, on the store it draws
        self.vms: list[VMModel] = []
        self.deleted: list[str] = []
        self.limit = 10
        self.values = itertools.count()

    def teardown(self) -> None:
        self.stack.close()
        shutil.rmtree(self.home, ignore_errors=True)

    # ------------------------------------------------------------------ helpers

    def _live(self) -> list[SnapModel]:
        return [s for vm in self.vms for s in vm.snaps.values()]

    def _ready(self) -> list[SnapModel]:
        return [s for s in self._live() if s.state == "Ready"]

    def _host_fails(self, kind: type[Command], call: Any, *args: Any, **kw: Any) -> str:
        """Run ``call`` with the host failing every ``kind`` command; it must fail with 530."""
        good = self.world.m.runner
        self.world.m.runner = _Runner(Failing(self.world, kind))
        try:
            with pytest.raises(CloudError) as failed:
                call(*args, **kw)
        finally:
            self.world.m.runner = good
        assert failed.value.errorcode == 530, failed.value.errortext
        return failed.value.errortext

    def _forget(self, snap: SnapModel) -> None:
        """What a delete does to the model: children move up, the parent becomes current."""
        vm = self.vms[snap.vm]
        del vm.snaps[snap.uuid]
        for child in vm.snaps.values():
            if child.parent == snap.uuid:
                child.parent = snap.parent
        if vm.current == snap.uuid:
            vm.current = snap.parent
        self.deleted.append(snap.uuid)

    def _write(self, vm: VMModel, key: str) -> None:
        value = f"v{next(self.values)}"
        self.world.write(vm.uuid, key, value)
        vm.data[key] = value
        vm.written.add(key)

    def _revert(self, snap: SnapModel) -> None:
        vm = self.vms[snap.vm]
        kind, power = "memory" if snap.memory else "disk", "running" if vm.running else "stopped"
        event(f"revert: {kind} snapshot of a {power} VM")
        view = self.world.revert(snap.uuid)
        vm.running = snap.memory  # spec: memory -> Running, disk -> Stopped
        vm.data = dict(snap.data)
        vm.current = snap.uuid
        vm.offering = snap.offering  # the snapshot-time offering comes back
        assert view["state"] == ("Running" if vm.running else "Stopped")
        assert view["serviceofferingname"] == vm.offering

    # ------------------------------------------------------------------ setup

    @initialize(
        store=st.sampled_from(["sql", "memory"]),
        strategy=st.sampled_from(["on-snapshot", "on-stop"]),
        limit=st.sampled_from([2, 3, 10]),
        running=st.tuples(st.booleans(), st.booleans()),
    )
    def setup(self, store: str, strategy: str, limit: int, running: tuple[bool, bool]) -> None:
        event(f"store: {store}, strategy: {strategy}")
        cloud = open_cloud(self.home, driver="sim", state_file=None, store=store)
        self.world = World(self.stack.enter_context(cloud))
        self.world.config(STRATEGY_KEY, strategy)
        self.world.config("vmsnapshot.max", str(limit))
        self.limit = limit
        for i, start in enumerate(running):
            uuid = self.world.deploy(f"vm{i}", start=start)
            self.vms.append(VMModel(uuid, self.world.vm(uuid)["instancename"], start))

    # ------------------------------------------------------------------ rules

    @rule(i=st.integers(0, 1), memory=st.booleans(), write_first=st.sampled_from([None, *KEYS]))
    def create(self, i: int, memory: bool, write_first: str | None) -> None:
        vm = self.vms[i]
        if write_first is not None and vm.running:  # so snapshots differ in what they hold
            self._write(vm, write_first)
        if memory and not vm.running:
            assert "Running" in refused(self.world, 431, self.world.snap, vm.uuid, memory=True)
            event("create: memory of a stopped VM refused (431)")
            return
        if len(vm.snaps) >= self.limit:
            text = refused(self.world, 530, self.world.snap, vm.uuid, memory=memory)
            assert f"can just have : {self.limit}" in text
            event("create: per-VM limit refused (530)")
            return
        s = self.world.snap(vm.uuid, memory=memory)
        assert s["state"] == "Ready"
        assert s["type"] == ("DiskAndMemory" if memory else "Disk")
        assert s["parent"] == vm.current and s["current"] is True
        event(f"create: {'memory' if memory else 'disk'} of a {'running' if vm.running else 'stopped'} VM")
        vm.snaps[s["id"]] = SnapModel(s["id"], s["name"], i, memory, dict(vm.data), vm.offering, vm.current)
        vm.current = s["id"]

    @precondition(lambda self: bool(self._ready()))
    @rule(data=st.data())
    def revert(self, data: st.DataObject) -> None:
        self._revert(data.draw(st.sampled_from(self._ready()), label="snapshot"))

    @precondition(lambda self: bool(self._live()))
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        snap = data.draw(st.sampled_from(self._live()), label="snapshot")
        assert self.world.delete(snap.uuid)["success"] is True
        self._forget(snap)

    @rule(i=st.integers(0, 1))
    def delete_all(self, i: int) -> None:
        vm = self.vms[i]
        result = self.world.delete_all(vm.uuid)
        assert result["displaytext"] == f"deleted {len(vm.snaps)} Instance Snapshots"
        self.deleted.extend(vm.snaps)
        vm.snaps.clear()
        vm.current = None

    @precondition(lambda self: bool(self.deleted))
    @rule(data=st.data(), revert=st.booleans())
    def touch_deleted(self, data: st.DataObject, revert: bool) -> None:
        gone = data.draw(st.sampled_from(self.deleted), label="deleted snapshot")
        call = self.world.revert if revert else self.world.delete
        assert "Unable to find" in refused(self.world, 431, call, gone)

    @precondition(lambda self: any(s.state == "Error" for s in self._live()))
    @rule(data=st.data())
    def revert_error(self, data: st.DataObject) -> None:
        broken = data.draw(st.sampled_from([s for s in self._live() if s.state == "Error"]), label="snapshot")
        assert "only a Ready snapshot" in refused(self.world, 431, self.world.revert, broken.uuid)

    @rule(data=st.data())
    def host_fails(self, data: st.DataObject) -> None:
        """The host fails a create, revert or delete: the job fails with 530; a create leaves
        an Error row, a revert changes nothing, a delete leaves the snapshot in Error (its
        checkpoint still there); a stopped VM is never left registered on the host."""
        op = data.draw(st.sampled_from(["create", "revert", "delete"] if self._ready() else ["create"]), label="op")
        if op == "create":
            i = data.draw(st.integers(0, 1), label="vm")
            vm = self.vms[i]
            memory = vm.running and data.draw(st.booleans(), label="memory")
            if len(vm.snaps) >= self.limit:
                refused(self.world, 530, self.world.snap, vm.uuid, memory=memory)
                return
            assert "Failed to create" in self._host_fails(CreateVMSnapshot, self.world.snap, vm.uuid, memory=memory)
            [row] = [r for r in self.world.snaps(vm_uuid=vm.uuid) if r["id"] not in vm.snaps]
            vm.snaps[row["id"]] = SnapModel(
                row["id"], row["name"], i, memory, {}, vm.offering, vm.current, state="Error", on_host=False
            )
            event("host fails: create")
            return
        snap = data.draw(st.sampled_from(self._ready()), label="snapshot")
        event(f"host fails: {op} on a {'running' if self.vms[snap.vm].running else 'stopped'} VM")
        if op == "revert":
            assert "Failed to revert" in self._host_fails(RevertToVMSnapshot, self.world.revert, snap.uuid)
        else:
            assert "Failed to delete" in self._host_fails(DeleteVMSnapshot, self.world.delete, snap.uuid)
            snap.state = "Error"

    @rule(i=st.integers(0, 1))
    def stop(self, i: int) -> None:
        vm = self.vms[i]
        if not vm.running:
            refused(self.world, 431, self.world.stop, vm.uuid)
            return
        assert self.world.stop(vm.uuid)["state"] == "Stopped"
        vm.running = False

    @rule(i=st.integers(0, 1))
    def start(self, i: int) -> None:
        vm = self.vms[i]
        if vm.running:
            refused(self.world, 431, self.world.start, vm.uuid)
            return
        assert self.world.start(vm.uuid)["state"] == "Running"
        vm.running = True

    @rule(i=st.integers(0, 1), offering=st.sampled_from(OFFERINGS))
    def change_offering(self, i: int, offering: str) -> None:
        vm = self.vms[i]
        if vm.running:
            assert "stop it first" in refused(self.world, 431, self.world.change_offering, vm.uuid, offering)
            return
        if offering == vm.offering:
            assert "already has" in refused(self.world, 431, self.world.change_offering, vm.uuid, offering)
            return
        event(f"change offering: {sum(s.memory for s in vm.snaps.values())} memory snapshots discarded")
        view = self.world.change_offering(vm.uuid, offering)
        assert view["serviceofferingname"] == offering
        for snap in [s for s in vm.snaps.values() if s.memory]:  # spec: memory snapshots go
            self._forget(snap)
        vm.offering = offering

    @precondition(lambda self: any(vm.running for vm in self.vms))
    @rule(data=st.data(), key=st.sampled_from(KEYS))
    def write(self, data: st.DataObject, key: str) -> None:
        self._write(data.draw(st.sampled_from([vm for vm in self.vms if vm.running]), label="vm"), key)

    @precondition(lambda self: any(vm.running and vm.written for vm in self.vms))
    @rule(data=st.data())
    def read_current(self, data: st.DataObject) -> None:
        vm = data.draw(st.sampled_from([vm for vm in self.vms if vm.running and vm.written]), label="vm")
        assert {k: self.world.read(vm.uuid, k) for k in vm.written} == {k: vm.data.get(k) for k in vm.written}

    @precondition(lambda self: bool(self._ready()))
    @rule(data=st.data())
    def check_data(self, data: st.DataObject) -> None:
        """Revert to a snapshot and read back exactly the guest data it was taken with."""
        snap = data.draw(st.sampled_from(self._ready()), label="snapshot")
        vm = self.vms[snap.vm]
        self._revert(snap)
        if not vm.running:
            assert self.world.start(vm.uuid)["state"] == "Running"
            vm.running = True
        got = {k: self.world.read(vm.uuid, k) for k in vm.written}
        assert got == {k: snap.data.get(k) for k in vm.written}, f"{snap.name}: guest data differs"
        event(f"check_data: {len(vm.written)} keys compared")

    # ------------------------------------------------------------------ invariants

    @invariant()
    def database_matches_model(self) -> None:
        if not self.vms:
            return
        rows = self.world.snaps()
        by_vm: dict[str, dict[str, dict[str, Any]]] = {vm.uuid: {} for vm in self.vms}
        for row in rows:
            by_vm[row["virtualmachineid"]][row["id"]] = row
        for vm in self.vms:
            mine = by_vm[vm.uuid]
            assert set(mine) == set(vm.snaps), "live snapshots differ from the model"
            current = [u for u, r in mine.items() if r["current"]]
            assert len(current) <= 1, f"{vm.uuid} has {len(current)} current snapshots"
            assert current == ([vm.current] if vm.current else [])
            for uuid, row in mine.items():
                model = vm.snaps[uuid]
                assert row["state"] == model.state
                assert row["name"] == model.name
                assert row["type"] == ("DiskAndMemory" if model.memory else "Disk")
                assert row["parent"] == model.parent
                assert row["parent"] is None or row["parent"] in mine, "parent is not a live snapshot of the VM"
                seen = {uuid}
                parent = row["parent"]
                while parent is not None:
                    assert parent not in seen, "parent links form a cycle"
                    seen.add(parent)
                    parent = mine[parent]["parent"]

    @invariant()
    def vms_match_model(self) -> None:
        if not self.vms:
            return
        views = {v["id"]: v for v in self.world.m.list_vms(self.world.admin)[1]}
        for vm in self.vms:
            assert views[vm.uuid]["state"] == ("Running" if vm.running else "Stopped")
            assert views[vm.uuid]["serviceofferingname"] == vm.offering

    @invariant()
    def host_matches_database(self) -> None:
        if not self.vms:
            return
        inventory = self.world.cloud.driver.execute(GetInventory(VMRef("*")))
        assert isinstance(inventory, Inventory)
        for vm in self.vms:
            on_host = inventory.vm(vm.instance_name)
            if not vm.running:
                assert on_host is None, f"stopped {vm.instance_name} is registered on the host"
                continue
            assert on_host is not None and on_host.power_state == PowerState.Running
            names = {s.uuid: s.name for s in vm.snaps.values()}
            expected = {
                s.name: (names[s.parent] if s.parent else None, s.memory) for s in vm.snaps.values() if s.on_host
            }
            assert {c.name: (c.parent, c.memory) for c in on_host.checkpoints} == expected
            assert on_host.current == (names[vm.current] if vm.current else None)

    @invariant()
    def volumes_match_host(self) -> None:
        """Each volume's active file in the database is the host's (chain sizes may lag: guest
        writes grow them unreported, as on CloudStack), and a stopped VM's is still on storage."""
        if not self.vms:
            return
        inventory = self.world.cloud.driver.execute(GetInventory(VMRef("*")))
        assert isinstance(inventory, Inventory)
        host = self.world.cloud.driver.host  # type: ignore[attr-defined]
        for vm in self.vms:
            paths = {v["id"]: v["path"] for v in self.world.m.list_volumes(self.world.admin, vm.uuid)[1]}
            on_host = inventory.vm(vm.instance_name)
            if on_host is not None:
                assert paths == {v.volume_uuid: v.path for v in on_host.volumes}
            else:
                assert all(path in host.disk_files for path in paths.values())


_EXAMPLES = int(os.environ.get("HVSNAP_STATEFUL_EXAMPLES", "30"))
_STEPS = int(os.environ.get("HVSNAP_STATEFUL_STEPS", "30"))

VMSnapshotMachine.TestCase.settings = settings(
    max_examples=_EXAMPLES,
    stateful_step_count=_STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestVMSnapshots = VMSnapshotMachine.TestCase


def test_export_strategy_none_loses_checkpoints_on_stop(tmp_path: Path) -> None:
    """Under ``none`` a stop unregisters the VM without an export: its checkpoints are gone,
    and the snapshots say so (Error, not current), while the disks keep the guest data."""
    with open_cloud(tmp_path, driver="sim", state_file=None) as cloud:
        _none_loses_checkpoints(World(cloud))


def _none_loses_checkpoints(world: World) -> None:
    world.config(STRATEGY_KEY, "none")
    vm = world.deploy()
    world.write(vm, "k", "v1")
    snap = world.snap(vm)
    world.stop(vm)
    [row] = world.snaps(vm_uuid=vm)
    assert (row["state"], row["current"]) == ("Error", False)
    assert world.host_vm(vm) is None
    assert "on-stop or on-snapshot" in refused(world, 431, world.snap, vm)
    assert "only a Ready snapshot" in refused(world, 431, world.revert, snap["id"])
    world.start(vm)
    host = world.host_vm(vm)
    assert host is not None and host.checkpoints == () and host.current is None
    assert world.read(vm, "k") == "v1"
    world.delete(snap["id"])  # nothing left on the host to merge
    assert world.snaps(vm_uuid=vm) == []


@pytest.mark.parametrize("kind", [CreateVMSnapshot, RevertToVMSnapshot, DeleteVMSnapshot])
def test_a_host_failure_leaves_a_stopped_vm_off_the_host(tmp_path: Path, kind: type[Command]) -> None:
    """Found by the machine: a failed create/revert/delete on a stopped VM left it registered
    on the host, so it could never start again ("already registered")."""
    with open_cloud(tmp_path, driver="sim", state_file=None) as cloud:
        world = World(cloud)
        vm = world.deploy(start=False)
        snap = world.snap(vm)
        good, world.m.runner = world.m.runner, _Runner(Failing(world, kind))
        call = {CreateVMSnapshot: lambda: world.snap(vm), RevertToVMSnapshot: lambda: world.revert(snap["id"]),
                DeleteVMSnapshot: lambda: world.delete(snap["id"])}[kind]
        with pytest.raises(CloudError) as failed:
            call()
        world.m.runner = good
        assert failed.value.errorcode == 530
        assert world.host_vm(vm) is None
        assert world.start(vm)["state"] == "Running"
        host = world.host_vm(vm)
        assert host is not None and [c.name for c in host.checkpoints] == [snap["name"]]


def test_deleting_a_lost_snapshot_of_a_stopped_vm_sends_nothing(tmp_path: Path) -> None:
    """Found by the machine: a snapshot whose checkpoint is lost (here: a failed create under
    on-snapshot, lost at stop) was deleted, then the export refresh was sent for a VM that is
    not on the host: ObjectNotFound, reported as 530 "Unexpected exception"."""
    with open_cloud(tmp_path, driver="sim", state_file=None) as cloud:
        world = World(cloud)
        world.config(STRATEGY_KEY, "on-snapshot")
        vm = world.deploy()
        good, world.m.runner = world.m.runner, _Runner(Failing(world, CreateVMSnapshot))
        for memory in (False, True):
            with pytest.raises(CloudError):
                world.snap(vm, memory=memory)
        world.m.runner = good
        world.stop(vm)
        assert [s["state"] for s in world.snaps(vm_uuid=vm)] == ["Error", "Error"]
        world.change_offering(vm, "medium")  # deletes the memory one
        [left] = world.snaps(vm_uuid=vm)
        assert left["type"] == "Disk"
        world.delete(left["id"])
        assert world.snaps(vm_uuid=vm) == [] and world.host_vm(vm) is None
