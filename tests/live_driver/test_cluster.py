"""A clustered host over the wire: the emulated node serves the FailoverClusters cmdlets with
their documented shapes; the live driver reverts and saves a clustered VM through the
cluster (Stop-/Start-ClusterGroup) and the role stays put, while the bare cmdlets behind the
cluster's back fail the role over, cold, as the spec warns; the inventory names each role's
owner node, and the cluster-aware manager reverts through the cluster end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.drivers import (
    CreateVMSnapshot,
    DeployVM,
    DiskSpec,
    GetInventory,
    InvalidState,
    Inventory,
    ObjectNotFound,
    PowerState,
    RevertToVMSnapshot,
    SaveVM,
    SnapshotAnswer,
    SnapshotRef,
    VMAnswer,
    VMRef,
)
from harness.service import sync
from harness.service.cloud import open_cloud
from live_driver.driver import PowerShellHyperVDriver, classify
from live_driver.wire import Invocation, cmd
from simulator.host import HyperVHost
from simulator.psrp_endpoint.endpoint import EmulatedHost
from tests.service.conftest import World

VM = VMRef("i-2-7-VM")
ROOT = DiskSpec("vol-root", 8 * 2**30)
NODES = ("HV-EMULATED", "HV-EMULATED-2")


@pytest.fixture
def node() -> Iterator[EmulatedHost]:
    with EmulatedHost(HyperVHost(), username="tester", password="S3cret-pass", cluster_nodes=NODES) as em:
        yield em


@pytest.fixture
def clustered(node: EmulatedHost) -> Iterator[PowerShellHyperVDriver]:
    with PowerShellHyperVDriver(**node.driver_config(merge_poll_seconds=0.01, operation_timeout=5)) as d:
        yield d


def call(driver: PowerShellHyperVDriver, *cmdlets: object) -> list[object]:
    result = driver.session.run(Invocation(tuple((c,) for c in cmdlets)))  # type: ignore[arg-type]
    if result.errors:
        raise classify(result.errors[0])
    return list(result.output)


def running_with_a_memory_checkpoint(driver: PowerShellHyperVDriver, node: EmulatedHost) -> int:
    driver.execute(DeployVM(VM, 512, 1, (ROOT,)))
    driver.execute(CreateVMSnapshot(VM, SnapshotRef("A"), memory=True))
    return node.host.boot_id(VM.name)


def test_the_cluster_objects_have_the_documented_shapes(clustered: PowerShellHyperVDriver, node: EmulatedHost) -> None:
    assert clustered.capabilities.clustered
    clustered.execute(DeployVM(VM, 512, 1, (ROOT,)))
    [group] = call(clustered, cmd("Get-ClusterGroup", Name=VM.name))
    assert group.is_a("ClusterGroup")  # type: ignore[attr-defined]
    assert (group["Name"], group["OwnerNode"], group["State"], group["GroupType"]) == (  # type: ignore[index]
        VM.name, NODES[0], "Online", "VirtualMachine"
    )
    nodes = call(clustered, cmd("Get-ClusterNode"))
    assert [(n["Name"], n["State"]) for n in nodes] == [(NODES[0], "Up"), (NODES[1], "Up")]  # type: ignore[index]
    with pytest.raises(ObjectNotFound, match="could not be found"):
        call(clustered, cmd("Get-ClusterGroup", Name="no-such-role"))
    [moved] = call(clustered, cmd("Move-ClusterVirtualMachineRole", Name=VM.name, Node=NODES[1]))
    assert moved["OwnerNode"] == NODES[1]  # type: ignore[index]
    inventory = clustered.execute(GetInventory(VMRef("*")))
    assert isinstance(inventory, Inventory) and inventory.vms[0].owner_node == NODES[1]


def test_a_revert_through_the_cluster_keeps_the_role_on_its_node(
    clustered: PowerShellHyperVDriver, node: EmulatedHost
) -> None:
    boots = running_with_a_memory_checkpoint(clustered, node)
    node.received.clear()
    answer = clustered.execute(RevertToVMSnapshot(VM, SnapshotRef("A"), through_cluster=True))
    assert isinstance(answer, SnapshotAnswer) and answer.power_state == PowerState.Running
    sent = [c.name for c in node.received]
    assert "Stop-ClusterGroup" in sent and "Start-ClusterGroup" in sent and "Start-VM" not in sent
    assert node.cmdlets.role_failovers == 0 and node.cmdlets.owner_of(VM.name) == NODES[0]
    assert node.host.boot_id(VM.name) == boots  # resumed from the checkpoint's memory


def test_the_bare_cmdlets_behind_the_clusters_back_fail_the_role_over(
    clustered: PowerShellHyperVDriver, node: EmulatedHost
) -> None:
    boots = running_with_a_memory_checkpoint(clustered, node)
    with pytest.raises(InvalidState):  # the naive revert: the cluster restarted the VM before Start-VM
        clustered.execute(RevertToVMSnapshot(VM, SnapshotRef("A")))
    assert node.cmdlets.role_failovers == 1 and node.cmdlets.owner_of(VM.name) == NODES[1]
    assert node.host.boot_id(VM.name) == boots + 1  # started cold there: the restored memory is gone
    saved = clustered.execute(SaveVM(VM, through_cluster=True))
    assert isinstance(saved, VMAnswer) and saved.power_state == PowerState.Saved
    assert node.cmdlets.role_failovers == 1


def test_the_cluster_aware_manager_reverts_through_the_cluster(tmp_path: Path, node: EmulatedHost) -> None:
    config = node.driver_config(merge_poll_seconds=0.01, operation_timeout=5)
    with open_cloud(tmp_path, driver="live", store="memory", **config) as cloud:
        world = World(cloud)
        vm = world.deploy()
        snap = world.snap(vm, memory=True, name="A")
        assert world.revert(snap["id"])["state"] == "Running"
        assert node.cmdlets.role_failovers == 0
        assert any(c.name == "Stop-ClusterGroup" for c in node.received)
        report = world.m.runner.run(sync.sync(world.m.uow_factory))
        assert (report.vanished, report.out_of_band, report.failed) == ([], [], [])
