"""Import in place: the live driver registers the export where it lies and reattaches the
live disks; the emulated host's Import-VM has the real import types (Register, Restore,
Copy), so the old ``-Copy -VhdDestinationPath <vm folder>`` call fails here as it would on
a host whose live disks are still in the VM's folder."""

from __future__ import annotations

import random

import pytest
import simpy

from harness.drivers import (
    CreateVMSnapshot,
    DeleteVMSnapshot,
    DeployVM,
    DiskSpec,
    ExportVM,
    ImportVM,
    OperationFailed,
    PowerOffVM,
    SnapshotAnswer,
    SnapshotRef,
    StartVM,
    UnregisterVM,
    VMAnswer,
    VMRef,
)
from live_driver.driver import PowerShellHyperVDriver, classify
from live_driver.wire import SWITCH, Invocation, cmd
from simulator.costs import Costs
from simulator.operations import CopyImportVM
from simulator.psrp_endpoint.endpoint import EmulatedHost
from simulator.timed import EventLog, TimedHost

VM = VMRef("i-2-7-VM")
ROOT = DiskSpec("vol-root", 8 * 2**30)


def stopped_with_export(driver: PowerShellHyperVDriver, endpoint: EmulatedHost) -> tuple[str, str]:
    """A VM with checkpoints A <- B, exported, then written to and unregistered as
    CloudStack's on-stop does; returns (the live leaf, the export's configuration)."""
    driver.execute(DeployVM(VM, 512, 1, (ROOT,)))
    driver.execute(CreateVMSnapshot(VM, SnapshotRef("A")))
    endpoint.host.write(VM.name, "motd", "at A")
    driver.execute(CreateVMSnapshot(VM, SnapshotRef("B")))
    driver.execute(ExportVM(VM))
    endpoint.host.write(VM.name, "motd", "after the export")  # the guest keeps writing
    driver.execute(PowerOffVM(VM))
    gone = driver.execute(UnregisterVM(VM))
    leaf = next(v.path for v in gone.volumes)  # type: ignore[attr-defined]
    config = next(
        str(f["FullName"])
        for f in call(driver, cmd("Get-ChildItem", LiteralPath=driver.layout.export(VM.name), Recurse=SWITCH))
        if str(f["FullName"]).endswith(".vmcx")
    )
    return leaf, config


def call(driver: PowerShellHyperVDriver, *cmdlets: object) -> list[object]:
    result = driver.session.run(Invocation(tuple((c,) for c in cmdlets)))  # type: ignore[arg-type]
    if result.errors:
        raise classify(result.errors[0])
    return list(result.output)


def test_import_registers_in_place_and_keeps_writes_after_the_export(
    driver: PowerShellHyperVDriver, endpoint: EmulatedHost
) -> None:
    leaf, _ = stopped_with_export(driver, endpoint)
    files_before = sorted(endpoint.host.disk_files)
    answer = driver.execute(ImportVM(VM, 1024, 2, (DiskSpec(ROOT.volume_uuid, ROOT.size, leaf),)))
    assert isinstance(answer, VMAnswer) and [v.path for v in answer.volumes] == [leaf]
    assert sorted(endpoint.host.disk_files) == files_before  # nothing copied
    assert endpoint.host.tree(VM.name) == {"A": None, "B": "A"}
    driver.execute(StartVM(VM))
    assert endpoint.host.read(VM.name, "motd") == "after the export"
    import_calls = [c for c in endpoint.received if c.name == "Import-VM"]
    assert [sorted(k for k, _ in c.params if k) for c in import_calls] == [["ErrorAction", "Path", "Register"]]


def test_import_reattaches_the_live_disk_when_a_merge_moved_it_after_the_export(
    driver: PowerShellHyperVDriver, endpoint: EmulatedHost
) -> None:
    driver.execute(DeployVM(VM, 512, 1, (ROOT,)))
    driver.execute(CreateVMSnapshot(VM, SnapshotRef("A")))
    driver.execute(CreateVMSnapshot(VM, SnapshotRef("B")))
    driver.execute(ExportVM(VM))
    endpoint.host.write(VM.name, "motd", "after the export")
    deleted = driver.execute(DeleteVMSnapshot(VM, SnapshotRef("B")))  # B's file merges: the leaf moves
    assert isinstance(deleted, SnapshotAnswer)
    live = deleted.volumes[0].path
    driver.execute(PowerOffVM(VM))
    driver.execute(UnregisterVM(VM))
    answer = driver.execute(ImportVM(VM, 512, 1, (DiskSpec(ROOT.volume_uuid, ROOT.size, live),)))
    assert isinstance(answer, VMAnswer) and answer.volumes[0].path == live
    assert any(c.name == "Set-VMHardDiskDrive" for c in endpoint.received)
    driver.execute(StartVM(VM))
    assert endpoint.host.read(VM.name, "motd") == "after the export"


def test_the_emulated_import_vm_refuses_what_hyperv_refuses(
    driver: PowerShellHyperVDriver, endpoint: EmulatedHost
) -> None:
    leaf, config = stopped_with_export(driver, endpoint)
    folder = driver.layout.folder(VM.name)
    before = sorted(endpoint.host.disk_files)
    # Restore (-Copy, same Id) into the VM folder: the live disks are in the way
    with pytest.raises(OperationFailed, match="The file exists"):
        call(driver, cmd("Import-VM", Path=config, Copy=SWITCH, VhdDestinationPath=folder, VirtualMachinePath=folder))
    # -Register takes no destination; -Copy -GenerateNewId would make a second VM of that name
    with pytest.raises(OperationFailed, match="AmbiguousParameterSet"):
        call(driver, cmd("Import-VM", Path=config, Register=SWITCH, VhdDestinationPath=folder))
    with pytest.raises(OperationFailed, match="one virtual machine per name"):
        call(driver, cmd("Import-VM", Path=config, Copy=SWITCH, GenerateNewId=SWITCH))
    assert VM.name not in endpoint.host.vms and sorted(endpoint.host.disk_files) == before
    # registered once, a second register clashes on the VM's Id
    driver.execute(ImportVM(VM, 512, 1, (DiskSpec(ROOT.volume_uuid, ROOT.size, leaf),)))
    with pytest.raises(OperationFailed, match="already exists"):
        call(driver, cmd("Import-VM", Path=config, Register=SWITCH))


def test_a_restore_import_copies_the_export_back_when_the_files_are_gone(endpoint: EmulatedHost) -> None:
    host = endpoint.host
    host.deploy(VM.name, 512, 1, [ROOT], True)
    host.checkpoint(VM.name, "A", memory=False, quiesce=False)
    host.write(VM.name, "motd", "exported")
    host.export(VM.name)
    host.power_off(VM.name)
    host.unregister(VM.name)
    for path in host.files(ROOT.volume_uuid):
        host._drop_file(path)  # primary storage lost the VM folder's disks, the export survived
    copied = host.copy_import(VM.name)
    assert copied == sum(f.bytes for f in host.exports[VM.name].files.values())
    host.start(VM.name)
    assert host.read(VM.name, "motd") == "exported" and host.tree(VM.name) == {"A": None}


def test_the_timed_import_costs_what_its_mode_copies() -> None:
    """In place: the registration only; -Copy: every byte of the export at the copy rate."""
    env = simpy.Environment()
    timed = TimedHost(env, Costs(), random.Random(1), EventLog())
    state = timed.state
    state.deploy(VM.name, 512, 1, [ROOT], True)
    state.checkpoint(VM.name, "A", memory=False, quiesce=False)
    for i in range(200):
        state.write(VM.name, f"k{i}", "x")
    leaf = state.vm(VM.name).disks[ROOT.volume_uuid]
    state.export(VM.name)
    state.power_off(VM.name)
    state.unregister(VM.name)

    def took(command: ImportVM) -> float:
        start = env.now
        env.run(timed.execute(command))
        return env.now - start

    in_place = took(ImportVM(VM, 512, 1, (DiskSpec(ROOT.volume_uuid, ROOT.size, leaf),)))
    assert in_place == pytest.approx(timed.costs.register_s)
    state.unregister(VM.name)
    for path in state.files(ROOT.volume_uuid):
        state._drop_file(path)
    nbytes = sum(f.bytes for f in state.exports[VM.name].files.values())
    copied = took(CopyImportVM(VM))
    assert copied == pytest.approx(timed.costs.register_s + nbytes / timed.costs.import_copy_bps, rel=0.05)
    assert state.tree(VM.name) == {"A": None}
