"""SaveVM over the wire (Save-VM): on a host that defers merges, a save is when the AVHDX
of deleted checkpoints merge."""

from __future__ import annotations

import pytest

from harness.drivers import (
    CreateVMSnapshot,
    DeleteVMSnapshot,
    DeployVM,
    DiskSpec,
    InvalidState,
    ObjectNotFound,
    PowerState,
    SaveVM,
    SnapshotAnswer,
    SnapshotRef,
    StartVM,
    VMAnswer,
    VMRef,
)
from live_driver.driver import PowerShellHyperVDriver
from simulator.psrp_endpoint.endpoint import EmulatedHost

VM = VMRef("i-2-7-VM")
ROOT = DiskSpec("vol-root", 8 * 2**30)


def test_save_vm_over_the_wire_merges_what_waited(driver: PowerShellHyperVDriver, endpoint: EmulatedHost) -> None:
    endpoint.host.merge_mode = "deferred"
    driver.execute(DeployVM(VM, 512, 1, (ROOT,)))
    driver.execute(CreateVMSnapshot(VM, SnapshotRef("A")))
    deleted = driver.execute(DeleteVMSnapshot(VM, SnapshotRef("A")))
    assert isinstance(deleted, SnapshotAnswer) and deleted.volumes[0].chain_size > 0
    saved = driver.execute(SaveVM(VM))
    assert isinstance(saved, VMAnswer) and saved.power_state == PowerState.Saved
    assert saved.volumes[0].chain_size == 0 and not endpoint.host.pending
    assert any(c.name == "Save-VM" for c in endpoint.received)
    driver.execute(StartVM(VM))
    with pytest.raises(ObjectNotFound):
        driver.execute(SaveVM(VMRef("i-9-9-VM")))
    driver.execute(SaveVM(VM))
    with pytest.raises(InvalidState):  # saved already
        driver.execute(SaveVM(VM))
