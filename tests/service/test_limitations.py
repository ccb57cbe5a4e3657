"""The spec's "VM Snapshot limitations" and the Hyper-V export strategies."""

from __future__ import annotations

import pytest

from harness.drivers import ExportVM
from harness.jobs.runners import drive
from harness.service import vmsnapshots, volumes
from tests.service.conftest import World, refused


def attached_volume(world: World, vm: str) -> str:
    vol, _ = world.m.create_volume(world.admin, "data", 5)
    world._done(world.m.attach_volume(world.admin, vol.uuid, vm))
    return vol.uuid


def test_attach_and_detach_refused_while_the_vm_has_snapshots(world: World) -> None:
    vm = world.deploy()
    data = attached_volume(world, vm)
    spare = world.m.create_volume(world.admin, "spare", 5)[0].uuid
    s = world.snap(vm)
    text = refused(world, 431, lambda: world._done(world.m.attach_volume(world.admin, spare, vm)))
    assert "does not have VM snapshots" in text
    refused(world, 431, lambda: world._done(world.m.attach_volume(world.admin, data, vm, attach=False)))
    world.delete(s["id"])
    world._done(world.m.attach_volume(world.admin, data, vm, attach=False))
    world._done(world.m.attach_volume(world.admin, spare, vm))


def test_snapshot_covers_every_attached_disk(world: World) -> None:
    vm = world.deploy()
    data = attached_volume(world, vm)
    world.m.write_guest_data(world.admin, vm, "root-key", "r1")
    world.cloud.driver.host.write(world.vm(vm)["instancename"], "data-key", "d1", data)  # type: ignore[attr-defined]
    s = world.snap(vm, memory=True)
    world.cloud.driver.host.write(world.vm(vm)["instancename"], "data-key", "d2", data)  # type: ignore[attr-defined]
    world.revert(s["id"])
    assert world.cloud.driver.host.read(world.vm(vm)["instancename"], "data-key", data) == "d1"  # type: ignore[attr-defined]
    paths = {v["id"]: v["path"] for v in world.m.list_volumes(world.admin, vm)[1]}
    assert all(p and p.endswith(".avhdx") for p in paths.values()), "answers carry the new active files"


def test_volume_snapshot_refused_while_a_vm_snapshot_is_in_flight(world: World) -> None:
    vm = world.deploy()
    root = world.m.list_volumes(world.admin, vm)[1][0]["id"]
    snap = vmsnapshots.allocate(world.m.uow_factory, world.admin, vm)
    texts: list[str] = []

    def execute(command):  # type: ignore[no-untyped-def]
        if not texts:
            texts.append(refused(world, 431, lambda: world._done(world.m.create_volume_snapshot(world.admin, root))))
        return world.cloud.driver.execute(command)

    drive(vmsnapshots.create(world.m.uow_factory, snap.id), execute)
    assert "active vm snapshot tasks" in texts[0]
    done = world._done(world.m.create_volume_snapshot(world.admin, root))["snapshot"]
    assert done["state"] == "BackedUp" and done["physicalsize"] > 0, "allowed once the VM snapshot is Ready"


def test_vm_snapshot_refused_while_a_volume_snapshot_is_in_flight(world: World) -> None:
    vm = world.deploy()
    root = world.m.list_volumes(world.admin, vm)[1][0]["id"]
    vsnap = volumes.check_snapshot(world.m.uow_factory, world.admin, root, None)
    texts: list[str] = []

    def execute(command):  # type: ignore[no-untyped-def]
        if not texts:
            texts.append(refused(world, 431, world.snap, vm))
        return world.cloud.driver.execute(command)

    drive(volumes.snapshot(world.m.uow_factory, vsnap.id), execute)
    assert "active volume Snapshot tasks" in texts[0]
    world.snap(vm)


@pytest.mark.parametrize("memory", [True, False])
def test_offering_change_discards_memory_snapshots_only(world: World, memory: bool) -> None:
    vm = world.deploy()
    world.snap(vm, memory=True, name="mem")
    world.snap(vm, name="disk")
    world.stop(vm)
    refused(world, 431, world.change_offering, vm, "small")  # the same offering
    world.change_offering(vm, "large")
    assert set(world.by_name(vm)) == {"disk"}
    assert world.vm(vm)["serviceofferingname"] == "large"
    world.start(vm)
    assert [c.memory for c in world.host_vm(vm).checkpoints] == [False]  # type: ignore[union-attr]


def test_offering_change_needs_a_stopped_vm(world: World) -> None:
    vm = world.deploy()
    refused(world, 431, world.change_offering, vm, "large")


# ----------------------------------------------------------------------------- export strategies


def exports(world: World) -> list[ExportVM]:
    return [c for c in world.cloud.driver.calls if isinstance(c, ExportVM)]  # type: ignore[attr-defined]


@pytest.fixture
def counted(world: World) -> World:
    """Record every command the host receives."""
    driver = world.cloud.driver
    driver.calls = []  # type: ignore[attr-defined]
    inner = driver.execute

    def execute(command):  # type: ignore[no-untyped-def]
        driver.calls.append(command)  # type: ignore[attr-defined]
        return inner(command)

    driver.execute = execute  # type: ignore[method-assign]
    return world


@pytest.mark.parametrize("strategy", ["on-stop", "on-snapshot"])
def test_snapshots_survive_stop_and_start(counted: World, strategy: str) -> None:
    world = counted
    world.config("hyperv.vmsnapshot.export.strategy", strategy)
    vm = world.deploy()
    world.write(vm, "k", "v1")
    a = world.snap(vm, memory=True, name="A")
    after_snapshot = len(exports(world))
    world.write(vm, "k", "v2")
    world.stop(vm)
    after_stop = len(exports(world))
    assert (after_snapshot, after_stop) == ((0, 1) if strategy == "on-stop" else (1, 1))
    assert world.host_vm(vm) is None
    world.start(vm)
    assert world.read(vm, "k") == "v2", "the live disk comes back, not the export's copy"
    assert [c.name for c in world.host_vm(vm).checkpoints] == [a["name"]]  # type: ignore[union-attr]
    world.revert(a["id"])
    assert world.read(vm, "k") == "v1"


def test_stop_without_snapshots_exports_nothing(counted: World) -> None:
    vm = counted.deploy()
    counted.stop(vm)
    counted.start(vm)
    assert exports(counted) == []


def test_strategy_none_records_lost_checkpoints(counted: World) -> None:
    world = counted
    world.config("hyperv.vmsnapshot.export.strategy", "none")
    vm = world.deploy()
    world.snap(vm, memory=True, name="A")
    world.stop(vm)
    lost = world.by_name(vm)["A"]
    assert lost["state"] == "Error" and lost["current"] is False
    with world.m.uow_factory(readonly=True) as uow:
        details = uow.vm_snapshots.details(uow.vm_snapshots.get_by_uuid(lost["id"]).id)  # type: ignore[union-attr]
    assert "without an export" in details["hyperv.last.error"]
    text = refused(world, 431, world.snap, vm)
    assert "export" in text
    world.delete(lost["id"])  # a lost snapshot can still be cleaned up
    world.start(vm)
    assert world.snaps(vm_uuid=vm) == [] and exports(world) == []


def test_bad_strategy_value_is_refused(world: World) -> None:
    refused(world, 431, world.config, "hyperv.vmsnapshot.export.strategy", "sometimes")
    refused(world, 431, world.config, "vmsnapshot.max", "ten")
    refused(world, 431, world.config, "no.such.key", "1")
