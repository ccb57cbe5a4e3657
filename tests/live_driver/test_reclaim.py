"""ReclaimStorage over the wire: the live driver deletes the export and the branch files an
unregister orphaned, exactly as the simulated host does, and never a file on an active
chain or of another volume."""

from __future__ import annotations

from harness.drivers import (
    CreateVMSnapshot,
    DeployVM,
    DiskSpec,
    ExportVM,
    PowerOffVM,
    ReclaimAnswer,
    ReclaimStorage,
    RevertToVMSnapshot,
    SnapshotRef,
    StartVM,
    UnregisterAnswer,
    UnregisterVM,
    VMRef,
)
from live_driver.driver import PowerShellHyperVDriver
from simulator.psrp_endpoint.endpoint import EmulatedHost

VM, OTHER = VMRef("i-2-7-VM"), VMRef("i-2-8-VM")
ROOT, DATA = DiskSpec("vol-root", 8 * 2**30), DiskSpec("vol-other", 8 * 2**30)


def test_reclaim_deletes_the_export_and_the_orphaned_branches(
    driver: PowerShellHyperVDriver, endpoint: EmulatedHost
) -> None:
    host = endpoint.host
    driver.execute(DeployVM(OTHER, 512, 1, (DATA,)))
    driver.execute(CreateVMSnapshot(OTHER, SnapshotRef("keep")))
    driver.execute(DeployVM(VM, 512, 1, (ROOT,)))
    driver.execute(CreateVMSnapshot(VM, SnapshotRef("A")))
    host.write(VM.name, "k", "at A")
    driver.execute(CreateVMSnapshot(VM, SnapshotRef("B")))
    driver.execute(RevertToVMSnapshot(VM, SnapshotRef("A")))  # B's branch is off the active chain
    driver.execute(StartVM(VM))
    host.write(VM.name, "k", "after the revert")
    driver.execute(ExportVM(VM))
    driver.execute(PowerOffVM(VM))
    gone = driver.execute(UnregisterVM(VM))
    assert isinstance(gone, UnregisterAnswer)
    leaf = gone.volumes[0].path
    other_files = host.files(DATA.volume_uuid)
    orphans = sorted(set(host.files(ROOT.volume_uuid)) - set(host.chain(leaf)))
    assert orphans and VM.name in host.exports
    exported = host.export_bytes(VM.name)

    answer = driver.execute(ReclaimStorage(VM, (DiskSpec(ROOT.volume_uuid, ROOT.size, leaf),)))
    assert isinstance(answer, ReclaimAnswer)
    assert sorted(answer.removed) == orphans
    assert answer.bytes_freed >= exported
    assert VM.name not in host.exports
    assert host.files(ROOT.volume_uuid) == sorted(host.chain(leaf))
    assert host.files(DATA.volume_uuid) == other_files and OTHER.name in host.vms
    assert driver.execute(ReclaimStorage(VM, (DiskSpec(ROOT.volume_uuid, ROOT.size, leaf),))) == ReclaimAnswer(0)


def test_reclaim_leaves_a_registered_tree_alone(driver: PowerShellHyperVDriver, endpoint: EmulatedHost) -> None:
    driver.execute(DeployVM(VM, 512, 1, (ROOT,)))
    driver.execute(CreateVMSnapshot(VM, SnapshotRef("A")))
    driver.execute(ExportVM(VM))
    files = endpoint.host.files()
    answer = driver.execute(ReclaimStorage(VM, (DiskSpec(ROOT.volume_uuid, ROOT.size, None),)))
    assert isinstance(answer, ReclaimAnswer) and answer.removed == ()
    assert endpoint.host.files() == files and VM.name not in endpoint.host.exports
    driver.execute(PowerOffVM(VM))
    driver.execute(StartVM(VM))
    assert endpoint.host.tree(VM.name) == {"A": None}
