"""Deferred merges as state (the 2008 R2 host the spec describes): a deleted checkpoint's
AVHDX stays in the chain until the VM is shut down, turned off or saved. The state model,
the inventory, the manager's volumes, sync, SaveVM over the wire and a scenario's storage
figures all see the files that really are there."""

from __future__ import annotations

from pathlib import Path

from harness.drivers import (
    CreateVMSnapshot,
    DeleteVMSnapshot,
    DeployVM,
    DiskSpec,
    GetInventory,
    Inventory,
    PowerState,
    SaveVM,
    SnapshotAnswer,
    SnapshotRef,
    StartVM,
    VMAnswer,
    VMRef,
)
from harness.service import sync
from simulator.campaigns.run import simulate
from simulator.campaigns.scenario import Scenario
from simulator.driver import SimulatedHyperVDriver
from simulator.host import HyperVHost
from tests.service.conftest import World

VM = VMRef("i-2-7-VM")
ROOT = DiskSpec("vol-root", 8 * 2**30)
SCENARIOS = Path(__file__).resolve().parents[2] / "simulator" / "scenarios"


def deferred_host() -> HyperVHost:
    host = HyperVHost()
    host.merge_mode = "deferred"
    return host


def test_a_deleted_checkpoint_lingers_until_save_and_its_data_survives() -> None:
    driver = SimulatedHyperVDriver(host=deferred_host())
    host = driver.host
    driver.execute(DeployVM(VM, 512, 1, (ROOT,)))
    host.write(VM.name, "k", "before A")
    driver.execute(CreateVMSnapshot(VM, SnapshotRef("A")))
    host.write(VM.name, "k", "after A")
    files = host.files()
    deleted = driver.execute(DeleteVMSnapshot(VM, SnapshotRef("A")))
    assert isinstance(deleted, SnapshotAnswer)
    assert host.tree(VM.name) == {} and host.files() == files  # gone from the tree, not from storage
    assert deleted.volumes[0].chain_size > 0  # the answer shows the chain as it is
    inventory = driver.execute(GetInventory(VMRef("*")))
    assert isinstance(inventory, Inventory)
    [vm] = inventory.vms
    assert vm.merge_pending and vm.checkpoints == () and vm.volumes == deleted.volumes

    saved = driver.execute(SaveVM(VM))
    assert isinstance(saved, VMAnswer) and saved.power_state == PowerState.Saved
    assert len(host.files()) == len(files) - 1 and saved.volumes[0].chain_size == 0
    assert not host.pending
    driver.execute(StartVM(VM))
    assert host.read(VM.name, "k") == "after A"


def test_an_off_vm_merges_at_once_and_power_off_merges_what_waited() -> None:
    host = deferred_host()
    host.deploy(VM.name, 512, 1, [ROOT], True)
    host.checkpoint(VM.name, "A", memory=False, quiesce=False)
    host.checkpoint(VM.name, "B", memory=False, quiesce=False)
    host.delete_checkpoint(VM.name, "B")
    assert host.pending_bytes(VM.name) > 0
    host.power_off(VM.name)
    assert host.pending_bytes(VM.name) == 0 and not host.pending
    before = len(host.files())
    assert host.delete_checkpoint(VM.name, "A") > 0 and len(host.files()) == before - 1


def test_the_manager_shows_lingering_bytes_and_sync_sees_no_drift(tmp_path: Path) -> None:
    from harness.service.cloud import open_cloud

    with open_cloud(tmp_path, driver="sim", state_file=None, store="memory") as cloud:
        world = World(cloud)
        assert isinstance(cloud.driver, SimulatedHyperVDriver)
        host = cloud.driver.host
        host.merge_mode = "deferred"
        vm = world.deploy()
        world.write(vm, "k", "v1")
        a = world.snap(vm, name="A")
        world.write(vm, "k", "v2")
        world.delete(a["id"])
        [volume] = world.m.list_volumes(world.admin, vm)[1]
        name = world.vm(vm)["instancename"]
        assert volume["vmsnapshotchainsize"] == host.volumes(name)[0].chain_size > 0
        report = world.m.runner.run(sync.sync(world.m.uow_factory))
        assert (report.out_of_band, report.vanished, report.settled, report.failed) == ([], [], [], [])
        world.stop(vm)  # a turn-off: the merge runs
        [volume] = world.m.list_volumes(world.admin, vm)[1]
        assert volume["vmsnapshotchainsize"] == 0 and not host.pending
        world.start(vm)
        assert world.read(vm, "k") == "v2"


def test_the_scenario_measures_the_storage_lingering_files_hold() -> None:
    scenario = Scenario.load(SCENARIOS / "deferred-merges.yaml").with_values({"duration_s": 12 * 3600})
    deferred = simulate(scenario)
    live = simulate(scenario.with_values({"costs.merge_mode": "live"}))
    assert deferred["storage"]["peak_lingering_bytes"] > 0 == live["storage"]["peak_lingering_bytes"]
    assert deferred["storage"]["peak_used_bytes"] > live["storage"]["peak_used_bytes"]
    assert deferred["chain_depth"]["mean"] > live["chain_depth"]["mean"]
    assert deferred["invariants"]["ok"] and live["invariants"]["ok"]


def test_a_run_of_waiting_files_merges_into_one_at_power_off() -> None:
    """Three deleted checkpoints in a row: each file that absorbed its child merges on."""
    host = deferred_host()
    host.deploy(VM.name, 512, 1, [ROOT], True)
    for i, name in enumerate("ABC"):
        host.write(VM.name, f"k{i}", name)
        host.checkpoint(VM.name, name, memory=False, quiesce=False)
    host.write(VM.name, "k3", "leaf")
    for name in "ABC":
        host.delete_checkpoint(VM.name, name)
    leaf = host.vm(VM.name).disks[ROOT.volume_uuid]
    assert len(host.chain(leaf)) == 4  # base, A's, B's and C's files still under the leaf
    host.power_off(VM.name)
    leaf = host.vm(VM.name).disks[ROOT.volume_uuid]
    assert len(host.chain(leaf)) == 1 and host.files() == [leaf]  # all merged into the base
    host.start(VM.name)
    assert [host.read(VM.name, f"k{i}") for i in range(4)] == ["A", "B", "C", "leaf"]
