"""Create and revert rules (spec "VM Snapshot creation" / "revert", cloudstack.md §2.1, §2.3)."""

from __future__ import annotations

import re

import pytest

from harness.domain.model import AccountType
from harness.domain.states import VMSnapshotState
from harness.drivers import CreateVMSnapshot, PowerState, RevertToVMSnapshot
from harness.jobs.runners import drive
from harness.service import vmsnapshots
from tests.service.conftest import Failing, World, refused


def test_create_names_parents_and_makes_current(world: World) -> None:
    vm = world.deploy("web1")
    a = world.snap(vm, memory=True, name="A", description="first")
    assert re.fullmatch(r"i-\d+-\d+-VM_VS_\d{14}", a["name"])
    assert (a["state"], a["type"], a["current"], a["parent"]) == ("Ready", "DiskAndMemory", True, None)
    b = world.snap(vm, name="B")
    assert b["type"] == "Disk" and b["parent"] == a["id"] and b["parentName"] == "A"
    snaps = world.by_name(vm)
    assert [snaps["A"]["current"], snaps["B"]["current"]] == [False, True]
    assert world.host_vm(vm).current == b["name"]  # type: ignore[union-attr]


def test_names_stay_unique_within_one_second(world: World) -> None:
    vm = world.deploy()
    names = {world.snap(vm)["name"] for _ in range(3)}
    assert len(names) == 3


def test_display_name_defaults_to_internal_name(world: World) -> None:
    vm = world.deploy()
    s = world.snap(vm)
    assert s["displayname"] == s["name"]


def test_disk_only_of_running_vm_is_a_production_checkpoint(world: World) -> None:
    vm = world.deploy()
    s = world.snap(vm, quiesce=True)
    host = world.host_vm(vm)
    assert s["type"] == "Disk" and host is not None
    assert [c.memory for c in host.checkpoints] == [False]


def test_disk_snapshot_of_stopped_vm(world: World) -> None:
    vm = world.deploy(start=False)
    s = world.snap(vm)
    assert s["state"] == "Ready" and s["type"] == "Disk"
    assert world.vm(vm)["state"] == "Stopped"
    assert world.host_vm(vm) is None, "a stopped VM is not registered on Hyper-V"


def test_memory_needs_a_running_vm(world: World) -> None:
    vm = world.deploy(start=False)
    text = refused(world, 431, world.snap, vm, memory=True)
    assert "Running" in text


@pytest.mark.parametrize("field", ["name", "description"])
def test_name_and_description_at_most_255(world: World, field: str) -> None:
    vm = world.deploy()
    world.snap(vm, **{field: "x" * 255})
    refused(world, 431, world.snap, vm, **{field: "x" * 256})


def test_unknown_vm(world: World) -> None:
    refused(world, 431, world.snap, "no-such-vm")


def test_other_accounts_vm_is_forbidden(world: World) -> None:
    alice, bob = world.account("alice"), world.account("bob")
    vm = world.deploy(caller=alice)
    refused(world, 531, world.snap, vm, caller=bob)
    s = world.snap(vm, caller=alice)
    refused(world, 531, world.revert, s["id"], caller=bob)
    refused(world, 531, world.delete, s["id"], caller=bob)
    assert world.snaps(caller=bob) == []
    assert [x["id"] for x in world.snaps(caller=alice)] == [s["id"]]


def test_domain_admin_sees_its_subtree_only(world: World) -> None:
    from harness.service import accounts

    sales = accounts.create_domain(world.m.uow_factory, world.admin, "sales")
    boss = world.account("boss", AccountType.DomainAdmin, sales.uuid)
    clerk = world.account("clerk", AccountType.User, sales.uuid)
    outsider = world.account("outsider")
    inside, outside = world.deploy(caller=clerk), world.deploy(caller=outsider)
    world.snap(inside, caller=boss)
    refused(world, 531, world.snap, outside, caller=boss)
    assert {s["virtualmachineid"] for s in world.snaps(caller=boss)} == {inside}


def test_capability_disabled(world: World) -> None:
    vm = world.deploy()
    world.m.set_vm_snapshot_enabled(world.admin, False)
    text = refused(world, 431, world.snap, vm)
    assert "not enabled for hypervisor type: Hyperv" in text
    world.m.set_vm_snapshot_enabled(world.admin, True)
    world.snap(vm)


def test_per_vm_limit_counts_every_live_snapshot(world: World) -> None:
    world.config("vmsnapshot.max", "3")
    vm, other = world.deploy("a"), world.deploy("b")
    for _ in range(3):
        world.snap(vm)
    text = refused(world, 530, world.snap, vm)
    assert "can just have : 3" in text
    world.snap(other)  # the limit is per VM
    world.delete(world.snaps(vm_uuid=vm)[0]["id"])
    world.snap(vm)


def test_vm_must_be_running_or_stopped(world: World) -> None:
    vm = world.deploy()
    world.destroy(vm)
    refused(world, 431, world.snap, vm)


def while_in_flight(world: World, check):  # type: ignore[no-untyped-def]
    """An execute function that runs ``check`` while the first command is in flight."""
    results: list[object] = []

    def execute(command):  # type: ignore[no-untyped-def]
        if not results:
            results.append(check())
        return world.cloud.driver.execute(command)

    return execute, results


def test_one_vm_snapshot_operation_at_a_time(world: World) -> None:
    vm = world.deploy()
    first = vmsnapshots.allocate(world.m.uow_factory, world.admin, vm)
    execute, texts = while_in_flight(world, lambda: refused(world, 431, world.snap, vm))
    drive(vmsnapshots.create(world.m.uow_factory, first.id), execute)
    assert "other active Instance Snapshot tasks" in str(texts[0])
    world.snap(vm)


def test_revert_to_memory_snapshot_ends_running_with_data(world: World) -> None:
    vm = world.deploy()
    world.write(vm, "k", "v1")
    a = world.snap(vm, memory=True, name="A")
    world.write(vm, "k", "v2")
    world.stop(vm)
    assert world.revert(a["id"])["state"] == "Running"
    assert world.read(vm, "k") == "v1"
    assert world.host_vm(vm).power_state == PowerState.Running  # type: ignore[union-attr]


@pytest.mark.parametrize("stopped_first", [False, True])
def test_revert_to_disk_snapshot_ends_stopped(world: World, stopped_first: bool) -> None:
    vm = world.deploy()
    world.write(vm, "k", "v1")
    a = world.snap(vm, name="A")
    world.write(vm, "k", "v2")
    if stopped_first:
        world.stop(vm)
    assert world.revert(a["id"])["state"] == "Stopped"
    assert world.host_vm(vm) is None
    world.start(vm)
    assert world.read(vm, "k") == "v1"
    assert world.by_name(vm)["A"]["current"] is True


def test_revert_moves_current_and_branches_the_tree(world: World) -> None:
    vm = world.deploy()
    a = world.snap(vm, memory=True, name="A")
    world.snap(vm, memory=True, name="B")
    world.revert(a["id"])
    c = world.snap(vm, memory=True, name="C")
    snaps = world.by_name(vm)
    assert snaps["B"]["parent"] == snaps["C"]["parent"] == a["id"]
    assert [n for n, s in snaps.items() if s["current"]] == ["C"]
    assert world.host_vm(vm).current == c["name"]  # type: ignore[union-attr]


def test_failed_create_goes_to_error_and_cannot_be_reverted_to(world: World) -> None:
    vm = world.deploy()
    snap = vmsnapshots.allocate(world.m.uow_factory, world.admin, vm, "broken")
    with pytest.raises(Exception, match="Failed to create"):
        drive(vmsnapshots.create(world.m.uow_factory, snap.id), Failing(world, CreateVMSnapshot).execute)
    broken = world.by_name(vm)["broken"]
    assert broken["state"] == "Error" and broken["current"] is not True
    text = refused(world, 431, world.revert, broken["id"])
    assert "only a Ready snapshot" in text
    world.delete(broken["id"])  # Error snapshots can be deleted
    assert world.snaps(vm_uuid=vm) == []


def test_revert_restores_the_snapshot_time_offering(world: World) -> None:
    vm = world.deploy()
    a = world.snap(vm, name="A")
    world.stop(vm)
    world.change_offering(vm, "medium")
    assert world.vm(vm)["serviceofferingname"] == "medium"
    world.revert(a["id"])
    assert world.vm(vm)["serviceofferingname"] == "small"


def test_failed_revert_returns_the_snapshot_to_ready(world: World) -> None:
    vm = world.deploy()
    a = world.snap(vm, memory=True, name="A")
    workflow = vmsnapshots.revert(world.m.uow_factory, _id(world, a["id"]))
    with pytest.raises(Exception, match="Failed to revert"):
        drive(workflow, Failing(world, RevertToVMSnapshot).execute)
    assert world.by_name(vm)["A"]["state"] == VMSnapshotState.Ready
    assert world.vm(vm)["state"] == "Running"


def _id(world: World, uuid: str) -> int:
    with world.m.uow_factory(readonly=True) as uow:
        snap = uow.vm_snapshots.get_by_uuid(uuid)
    assert snap is not None
    return snap.id
