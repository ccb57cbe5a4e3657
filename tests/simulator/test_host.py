"""Behaviour of the simulated Hyper-V host, through the driver contract."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from harness.drivers import (
    AttachVolume,
    CreateVMSnapshot,
    CreateVolumeSnapshot,
    DeleteVMSnapshot,
    DeployVM,
    DestroyVM,
    DetachVolume,
    DiskSpec,
    ExportAnswer,
    ExportVM,
    GetInventory,
    GuestDataAnswer,
    HyperVDriver,
    ImportVM,
    InsufficientSpace,
    InvalidState,
    Inventory,
    ObjectNotFound,
    OperationFailed,
    PowerOffVM,
    PowerState,
    ReadGuestData,
    RegisterVM,
    RevertToVMSnapshot,
    SnapshotAnswer,
    SnapshotRef,
    StartVM,
    UnregisterAnswer,
    UnregisterVM,
    VMAnswer,
    VMRef,
    VolumeSnapshotAnswer,
    WriteGuestData,
    load_driver,
)
from simulator.driver import SimulatedHyperVDriver
from simulator.host import HyperVHost

VM = VMRef("i-2-3-VM")
ROOT, DATA = "root-0001", "data-0002"
GIB = 2**30


class Host:
    """A driver plus one-word helpers for the commands tests repeat."""

    def __init__(self, driver: SimulatedHyperVDriver) -> None:
        self.driver = driver
        self.host = driver.host

    def __call__(self, command: object) -> object:
        return self.driver.execute(command)  # type: ignore[arg-type]

    def deploy(self, start: bool = True) -> VMAnswer:
        disks = (DiskSpec(ROOT, 20 * GIB), DiskSpec(DATA, 50 * GIB))
        answer = self(DeployVM(VM, memory_mib=2048, cpus=2, disks=disks, start=start))
        assert isinstance(answer, VMAnswer)
        return answer

    def snap(self, name: str, memory: bool = False, quiesce: bool = False) -> SnapshotAnswer:
        answer = self(CreateVMSnapshot(VM, SnapshotRef(name), memory=memory, quiesce=quiesce))
        assert isinstance(answer, SnapshotAnswer)
        return answer

    def revert(self, name: str) -> SnapshotAnswer:
        answer = self(RevertToVMSnapshot(VM, SnapshotRef(name)))
        assert isinstance(answer, SnapshotAnswer)
        return answer

    def delete(self, name: str) -> SnapshotAnswer:
        answer = self(DeleteVMSnapshot(VM, SnapshotRef(name)))
        assert isinstance(answer, SnapshotAnswer)
        return answer

    def write(self, key: str, value: str, volume: str | None = None) -> None:
        self(WriteGuestData(VM, key, value, volume))

    def read(self, key: str, volume: str | None = None) -> str | None:
        answer = self(ReadGuestData(VM, key, volume))
        assert isinstance(answer, GuestDataAnswer)
        return answer.value

    def start(self) -> None:
        self(StartVM(VM))

    def inventory(self) -> Inventory:
        answer = self(GetInventory(VMRef("*")))
        assert isinstance(answer, Inventory)
        return answer

    def leaves(self) -> dict[str, str]:
        return dict(self.host.vm(VM.name).disks)


@pytest.fixture
def hv() -> Host:
    return Host(SimulatedHyperVDriver())


@pytest.fixture
def running(hv: Host) -> Host:
    hv.deploy()
    return hv


def test_driver_satisfies_the_contract() -> None:
    driver = load_driver("sim")
    assert isinstance(driver, HyperVDriver)
    assert driver.capabilities.guest_data
    driver.close()


def test_deploy_creates_base_files_and_boots(hv: Host) -> None:
    answer = hv.deploy()
    assert answer.power_state == PowerState.Running
    assert [v.path for v in answer.volumes] == [
        f"C:\\ClusterStorage\\Volume1\\{ROOT}.vhdx",
        f"C:\\ClusterStorage\\Volume1\\{DATA}.vhdx",
    ]
    assert all(v.chain_size == 0 for v in answer.volumes)
    assert hv.host.boot_id(VM.name) == 1


def test_deploy_without_start_creates_files_only(hv: Host) -> None:
    answer = hv.deploy(start=False)
    assert answer.power_state is None
    assert len(hv.host.files()) == 2
    assert hv.inventory().vms == ()
    with pytest.raises(InvalidState):  # the VM exists as files but is not running
        hv.write("k", "v")


def test_checkpoint_and_revert_restore_root_and_datadisk(running: Host) -> None:
    running.write("os", "v1")
    running.write("db", "v1", DATA)
    answer = running.snap("s1")
    assert all(v.path.endswith(".avhdx") for v in answer.volumes)
    running.write("os", "v2")
    running.write("db", "v2", DATA)
    running.write("new", "x", DATA)
    answer = running.revert("s1")
    assert answer.power_state == PowerState.Off
    running.start()
    assert running.read("os") == "v1"
    assert running.read("db", DATA) == "v1"
    assert running.read("new", DATA) is None


def test_chain_grows_and_delete_merges_keeping_later_data(running: Host) -> None:
    sizes = []
    for i in range(1, 4):
        running.write("k", f"v{i}", DATA)
        running.write(f"only{i}", "x", DATA)
        sizes.append({v.volume_uuid: v.chain_size for v in running.snap(f"s{i}").volumes}[DATA])
    running.write("k", "now", DATA)
    assert sizes[0] < sizes[1] < sizes[2]
    files_before = len(running.host.files())
    assert files_before == 2 * 4  # base + 3 avhdx per disk

    answer = running.delete("s2")
    assert running.host.bytes_merged > 0
    assert len(running.host.files()) == files_before - 2
    assert running.host.tree(VM.name) == {"s1": None, "s3": "s1"}
    assert answer.power_state == PowerState.Running

    for name, expected in [("s3", "v3"), ("s1", "v1")]:
        running.revert(name)
        running.start()
        assert running.read("k", DATA) == expected
    assert running.read("only2", DATA) is None  # s1 predates it

    running.revert("s3")
    running.start()
    assert [running.read(f"only{i}", DATA) for i in (1, 2, 3)] == ["x", "x", "x"]


def test_deleting_the_only_checkpoint_merges_into_the_base(running: Host) -> None:
    running.snap("s1")
    running.write("k", "after")
    answer = running.delete("s1")
    root = {v.volume_uuid: v for v in answer.volumes}[ROOT]
    assert root.path.endswith(f"{ROOT}.vhdx")  # the active path changed
    assert root.chain_size == 0
    assert len(running.host.files()) == 2
    assert running.read("k") == "after"
    assert running.inventory().vms[0].current is None


def test_checkpoint_with_two_dependants_is_kept_until_a_branch_goes(running: Host) -> None:
    running.write("k", "base")
    running.snap("s1")
    running.write("k", "branch-a")
    running.snap("s2")
    running.revert("s1")
    running.start()
    running.write("k", "branch-b")
    files = running.host.files()

    running.delete("s1")  # its file feeds s2's branch and the VM's: kept
    assert running.host.files() == files
    merged = running.host.bytes_merged
    assert merged == 0

    running.delete("s2")  # branch a goes away: s1's file collapses into the VM's branch
    assert running.host.bytes_merged > merged
    assert len(running.host.files()) == 2
    assert all(p.endswith(".vhdx") for p in running.leaves().values())
    assert running.read("k") == "branch-b"
    assert running.inventory().vms[0].checkpoints == ()


def test_revert_discards_the_abandoned_leaf(running: Host) -> None:
    running.snap("s1")
    running.write("k", "lost")
    leaf = running.leaves()[ROOT]
    running.revert("s1")
    assert leaf not in running.host.files()
    assert len(running.host.files()) == 2 * 2


def test_memory_checkpoint_reverts_running_with_the_same_boot(running: Host) -> None:
    assert running.snap("mem", memory=True).memory is True
    running(PowerOffVM(VM))
    running.start()
    assert running.host.boot_id(VM.name) == 2
    answer = running.revert("mem")
    assert answer.power_state == PowerState.Running
    assert running.host.boot_id(VM.name) == 1


def test_production_checkpoint_reverts_off(running: Host) -> None:
    assert running.snap("prod").memory is False
    assert running.revert("prod").power_state == PowerState.Off
    running.start()
    assert running.host.boot_id(VM.name) == 2


def test_production_falls_back_to_standard_when_vss_fails(running: Host) -> None:
    running.host.vss_fails = True
    assert running.snap("fallback").memory is True
    assert running.revert("fallback").power_state == PowerState.Running


def test_production_only_fails_and_changes_nothing_when_vss_fails(running: Host) -> None:
    running.host.vss_fails = True
    before = running.host.to_dict()
    with pytest.raises(OperationFailed):
        running.snap("strict", quiesce=True)
    assert running.host.to_dict() == before


def test_checkpoint_of_an_off_vm_never_holds_memory(running: Host) -> None:
    running(PowerOffVM(VM))
    before = running.host.to_dict()
    with pytest.raises(InvalidState):
        running.snap("mem", memory=True)
    assert running.host.to_dict() == before
    assert running.snap("off").memory is False
    assert running.revert("off").power_state == PowerState.Off


def test_checkpoint_restores_the_configuration(running: Host) -> None:
    running.snap("s1")
    running.host.vm(VM.name).memory_mib = 4096
    running.revert("s1")
    assert running.host.vm(VM.name).memory_mib == 2048


def test_delete_reparents_children_and_moves_current(running: Host) -> None:
    for name in ("a", "b", "c"):
        running.snap(name)
    running.delete("c")
    assert running.inventory().vms[0].current == "b"
    running.delete("a")
    assert running.host.tree(VM.name) == {"b": None}


def test_unregister_loses_the_tree_and_import_brings_it_back(running: Host) -> None:
    running.write("k", "s1")
    running.snap("s1")
    running.write("k", "s2")
    running.snap("s2", memory=True)
    running.write("k", "now")
    running(PowerOffVM(VM))
    exported = running(ExportVM(VM))
    assert isinstance(exported, ExportAnswer)
    assert exported.checkpoints == ("s1", "s2")
    assert exported.bytes_copied >= 2048 * 2**20
    assert running.host.bytes_exported == exported.bytes_copied
    leaves = running.leaves()

    gone = running(UnregisterVM(VM))
    assert isinstance(gone, UnregisterAnswer)
    assert gone.lost_checkpoints == ("s1", "s2")
    assert running.inventory().vms == ()
    assert running.inventory().exported == (VM.name,)
    files = running.host.files()

    disks = tuple(DiskSpec(v, 0, p) for v, p in leaves.items())
    answer = running(ImportVM(VM, memory_mib=2048, cpus=2, disks=disks))
    assert isinstance(answer, VMAnswer)
    assert answer.power_state == PowerState.Off
    assert running.host.files() == files  # nothing changed since the export: used in place
    assert running.host.tree(VM.name) == {"s1": None, "s2": "s1"}
    running.start()
    assert running.read("k") == "now"
    running.revert("s1")
    running.start()
    assert running.read("k") == "s1"
    running.revert("s2")
    assert running.read("k") == "s2"


def test_import_of_a_stale_export_restores_merged_files(running: Host) -> None:
    running.write("k", "s1")
    running.snap("s1")
    running.write("k", "s2")
    running.snap("s2")
    running(ExportVM(VM))
    running.delete("s1")  # merges files the export refers to
    running(PowerOffVM(VM))
    leaves = running.leaves()
    running(UnregisterVM(VM))
    disks = tuple(DiskSpec(v, 0, p) for v, p in leaves.items())
    running(ImportVM(VM, memory_mib=2048, cpus=2, disks=disks))
    assert running.host.bytes_imported > 0
    for name in ("s1", "s2"):
        running.revert(name)
        running.start()
        assert running.read("k") == name


def test_import_without_an_export_is_not_found(running: Host) -> None:
    running(PowerOffVM(VM))
    running(UnregisterVM(VM))
    before = running.host.to_dict()
    with pytest.raises(ObjectNotFound):
        running(ImportVM(VM, memory_mib=2048, cpus=2, disks=()))
    assert running.host.to_dict() == before


def test_unregister_needs_an_off_vm(running: Host) -> None:
    with pytest.raises(InvalidState):
        running(UnregisterVM(VM))
    assert running.inventory().vm(VM.name) is not None


def test_register_defines_an_off_vm_from_files(running: Host) -> None:
    running.write("k", "v")
    running.snap("s1")
    running(PowerOffVM(VM))
    leaves = running.leaves()
    running(UnregisterVM(VM))
    disks = tuple(DiskSpec(v, 0, p) for v, p in leaves.items())
    answer = running(RegisterVM(VM, memory_mib=1024, cpus=1, disks=disks))
    assert isinstance(answer, VMAnswer)
    assert answer.power_state == PowerState.Off
    assert running.inventory().vms[0].checkpoints == ()
    running.start()
    assert running.read("k") == "v"
    with pytest.raises(InvalidState):
        running(RegisterVM(VM, memory_mib=1024, cpus=1, disks=disks))


def test_destroy_leaves_no_file_of_the_vm(running: Host) -> None:
    other = VMRef("i-2-4-VM")
    running(DeployVM(other, memory_mib=512, cpus=1, disks=(DiskSpec("other-root", GIB),)))
    running.snap("s1")
    running.revert("s1")
    running.snap("s2")
    running(ExportVM(VM))
    running(UnregisterVM(VM))  # the VM is Off after the revert
    running(DestroyVM(VM))
    assert running.host.files() == running.host.files("other-root")
    assert running.inventory().exported == ()
    running(DestroyVM(VM))  # nothing left: still fine


def test_attach_detach_and_volume_snapshot(running: Host) -> None:
    extra = DiskSpec("data-0003", GIB)
    answer = running(AttachVolume(VM, extra))
    assert isinstance(answer, VMAnswer)
    assert [v.volume_uuid for v in answer.volumes] == [ROOT, DATA, "data-0003"]
    running.write("k", "v", "data-0003")
    running.snap("s1")
    copied = running(CreateVolumeSnapshot(VM, extra))
    assert isinstance(copied, VolumeSnapshotAnswer)
    assert copied.bytes_copied > 4 * 2**20
    running(DetachVolume(VM, extra))
    assert "data-0003" not in running.leaves()
    assert running.host.files("data-0003")  # the files stay
    with pytest.raises(ObjectNotFound):
        running(DetachVolume(VM, extra))
    running(DestroyVM(VM))
    assert running.host.files() == running.host.files("data-0003")  # no longer the VM's


def test_inventory_reports_tree_and_volumes(running: Host) -> None:
    running.snap("a", memory=True)
    running.snap("b")
    vm = running.inventory().vm(VM.name)
    assert vm is not None
    assert vm.power_state == PowerState.Running
    assert vm.current == "b"
    assert [(c.name, c.parent, c.memory) for c in vm.checkpoints] == [("a", None, True), ("b", "a", False)]
    assert [v.path for v in vm.volumes] == list(running.leaves().values())


def test_full_storage_refuses_a_checkpoint(running: Host) -> None:
    running.host.capacity = running.host.used_bytes() + 1024
    before = running.host.to_dict()
    with pytest.raises(InsufficientSpace):
        running.snap("s1")
    assert running.host.to_dict() == before


@pytest.mark.parametrize(
    "command",
    [
        StartVM(VMRef("nope")),
        PowerOffVM(VMRef("nope")),
        UnregisterVM(VMRef("nope")),
        ExportVM(VMRef("nope")),
        CreateVMSnapshot(VMRef("nope"), SnapshotRef("s")),
        RevertToVMSnapshot(VM, SnapshotRef("missing")),
        DeleteVMSnapshot(VM, SnapshotRef("missing")),
        AttachVolume(VMRef("nope"), DiskSpec("v", GIB)),
        AttachVolume(VM, DiskSpec("v", GIB, "C:\\ClusterStorage\\Volume1\\gone.vhdx")),
        RegisterVM(VMRef("new"), 512, 1, (DiskSpec("v", GIB, "C:\\ClusterStorage\\Volume1\\gone.vhdx"),)),
        WriteGuestData(VMRef("nope"), "k", "v"),
        ReadGuestData(VM, "k", "no-such-volume"),
    ],
)
def test_not_found_changes_nothing(running: Host, command: object) -> None:
    before = running.host.to_dict()
    with pytest.raises(ObjectNotFound):
        running(command)
    assert running.host.to_dict() == before


@pytest.mark.parametrize(
    "command",
    [
        StartVM(VM),
        DeployVM(VM, 512, 1, ()),
        CreateVMSnapshot(VM, SnapshotRef("s1")),  # duplicate name
        AttachVolume(VM, DiskSpec(DATA, GIB, f"C:\\ClusterStorage\\Volume1\\{DATA}.vhdx")),
    ],
)
def test_invalid_state_changes_nothing(running: Host, command: object) -> None:
    running.snap("s1")
    before = running.host.to_dict()
    with pytest.raises(InvalidState):
        running(command)
    assert running.host.to_dict() == before


def test_guest_io_needs_a_running_vm(running: Host) -> None:
    running(PowerOffVM(VM))
    with pytest.raises(InvalidState):
        running.write("k", "v")
    with pytest.raises(InvalidState):
        running.read("k")


def test_state_persists_between_driver_instances(tmp_path: Path) -> None:
    state = tmp_path / "sim" / "host.json"
    with SimulatedHyperVDriver(state_file=state) as driver:
        first = Host(driver)
        first.deploy()
        first.write("k", "v1")
        first.snap("s1", memory=True)
        first.write("k", "v2")
        saved = driver.host.to_dict()
    assert json.loads(state.read_text()) == json.loads(json.dumps(saved))

    with SimulatedHyperVDriver(state_file=state) as driver:
        second = Host(driver)
        assert json.loads(json.dumps(driver.host.to_dict())) == json.loads(json.dumps(saved))
        assert second.read("k") == "v2"
        second.revert("s1")
        assert second.read("k") == "v1"
        assert driver.host.boot_id(VM.name) == 1
    assert HyperVHost.from_dict(json.loads(state.read_text())).tree(VM.name) == {"s1": None}


def test_state_file_lock_serialises_drivers(tmp_path: Path) -> None:
    state = tmp_path / "host.json"
    first = SimulatedHyperVDriver(state_file=state)
    Host(first).deploy()
    opened = threading.Event()
    seen: list[int] = []

    def second() -> None:
        with SimulatedHyperVDriver(state_file=state) as driver:
            seen.append(len(driver.host.files()))
            opened.set()

    thread = threading.Thread(target=second)
    thread.start()
    assert not opened.wait(0.2)  # blocked on the lock
    first.close()
    thread.join(5)
    assert seen == [2]
