"""Delete, delete-all and list (spec "VM Snapshot deletion" / "List", cloudstack.md §3.2, §5.4)."""

from __future__ import annotations

import pytest

from harness.drivers import DeleteVMSnapshot
from harness.jobs.runners import drive
from harness.service import vmsnapshots
from tests.service.conftest import Failing, World, refused


def tree_abc(world: World) -> tuple[str, dict[str, dict]]:  # type: ignore[type-arg]
    """The spec's A -> {B, C} with C current, each snapshot holding its own data."""
    vm = world.deploy()
    world.write(vm, "k", "A")
    a = world.snap(vm, memory=True, name="A")
    world.write(vm, "k", "B")
    world.snap(vm, memory=True, name="B")
    world.revert(a["id"])
    world.write(vm, "k", "C")
    world.snap(vm, memory=True, name="C")
    return vm, world.by_name(vm)


def restores(world: World, vm: str, name: str) -> str | None:
    world.revert(world.by_name(vm)[name]["id"])
    return world.read(vm, "k")


def test_delete_root_reparents_children_and_keeps_their_data(world: World) -> None:
    vm, snaps = tree_abc(world)
    world.delete(snaps["A"]["id"])
    after = world.by_name(vm)
    assert set(after) == {"B", "C"}
    assert after["B"]["parent"] is None and after["C"]["parent"] is None
    assert after["C"]["current"] is True
    assert {c.name: c.parent for c in world.host_vm(vm).checkpoints} == {  # type: ignore[union-attr]
        snaps["B"]["name"]: None,
        snaps["C"]["name"]: None,
    }
    assert restores(world, vm, "B") == "B"
    assert restores(world, vm, "C") == "C"


def test_delete_current_makes_its_parent_current(world: World) -> None:
    vm, snaps = tree_abc(world)
    world.delete(snaps["C"]["id"])
    after = world.by_name(vm)
    assert after["A"]["current"] is True and after["B"]["current"] is False
    assert world.host_vm(vm).current == snaps["A"]["name"]  # type: ignore[union-attr]
    assert restores(world, vm, "B") == "B"


def test_delete_middle_of_a_chain(world: World) -> None:
    vm = world.deploy()
    for name in "ABCD":
        world.write(vm, "k", name)
        world.snap(vm, name=name)
    snaps = world.by_name(vm)
    world.delete(snaps["B"]["id"])
    after = world.by_name(vm)
    assert after["C"]["parent"] == snaps["A"]["id"]
    for name in "ACD":
        world.revert(world.by_name(vm)[name]["id"])
        world.start(vm)
        assert world.read(vm, "k") == name


def test_deleted_rows_are_never_listed_and_merge_on_the_host(world: World) -> None:
    vm = world.deploy()
    s = world.snap(vm)
    world.delete(s["id"])
    assert world.snaps(vm_uuid=vm) == [] and world.snaps(snapshot_uuid=s["id"]) == []
    assert world.host_vm(vm).checkpoints == ()  # type: ignore[union-attr]
    refused(world, 431, world.delete, s["id"])


def test_delete_only_from_ready_error_or_expunging(world: World) -> None:
    vm = world.deploy()
    allocated = vmsnapshots.allocate(world.m.uow_factory, world.admin, vm)
    text = refused(world, 431, world.delete, allocated.uuid)
    assert "Ready, Error or Expunging" in text


def test_failed_delete_goes_to_error_and_can_be_retried(world: World) -> None:
    vm = world.deploy()
    s = world.snap(vm, name="S")
    with pytest.raises(Exception, match="Failed to delete"):
        drive(
            vmsnapshots.delete(world.m.uow_factory, world.snapshot_id(s["id"])),
            Failing(world, DeleteVMSnapshot).execute,
        )
    assert world.by_name(vm)["S"]["state"] == "Error"
    world.delete(s["id"])
    assert world.snaps(vm_uuid=vm) == []


def test_delete_all_clears_db_and_host(world: World) -> None:
    vm, _ = tree_abc(world)
    world.delete_all(vm)
    assert world.snaps(vm_uuid=vm) == []
    assert world.host_vm(vm).checkpoints == ()  # type: ignore[union-attr]
    assert world.read(vm, "k") == "C", "the running state is untouched"


def test_delete_all_of_a_stopped_vm(world: World) -> None:
    vm, _ = tree_abc(world)
    world.stop(vm)
    world.delete_all(vm)
    world.start(vm)
    assert world.snaps(vm_uuid=vm) == [] and world.host_vm(vm).checkpoints == ()  # type: ignore[union-attr]


def test_destroy_deletes_every_snapshot(world: World) -> None:
    vm, _ = tree_abc(world)
    assert world.destroy(vm)["state"] == "Destroyed"
    assert world.snaps(vm_uuid=vm) == [] and world.host_vm(vm) is None
    host = world.cloud.driver.host  # type: ignore[attr-defined]
    assert not [f for f in host.files() if world.vm(vm)["instancename"] in f]


def test_list_filters(world: World) -> None:
    vm1, vm2 = world.deploy("one"), world.deploy("two")
    a = world.snap(vm1, name="alpha", description="nightly build")
    world.snap(vm1, name="beta")
    c = world.snap(vm2, name="gamma 100%_done")
    assert [s["displayname"] for s in world.snaps(vm_uuid=vm1)] == ["beta", "alpha"], "newest first"
    assert [s["id"] for s in world.snaps(snapshot_uuid=a["id"])] == [a["id"]]
    assert [s["id"] for s in world.snaps(name="gamma 100%_done")] == [c["id"]]
    assert world.snaps(name="gamma") == [], "name matches the display name exactly"
    assert [s["id"] for s in world.snaps(keyword="nightly")] == [a["id"]]
    assert [s["id"] for s in world.snaps(keyword="100%_")] == [c["id"]]
    assert [s["id"] for s in world.snaps(keyword="%")] == [c["id"]], "% is a literal, not a wildcard"
    assert {s["displayname"] for s in world.snaps(state="Ready")} == {"alpha", "beta", "gamma 100%_done"}
    assert world.snaps(state="Error") == []
    count, page = world.m.list_vm_snapshots(world.admin, page=2, pagesize=2)
    assert count == 3 and len(page) == 1
    refused(world, 431, world.snaps, state="Bogus")
    refused(world, 431, world.snaps, page=0, pagesize=2)


def test_list_by_account_and_domain(world: World) -> None:
    from harness.service import accounts

    dept = accounts.create_domain(world.m.uow_factory, world.admin, "dept")
    alice, bob = world.account("alice", domain=dept.uuid), world.account("bob")
    sa = world.snap(world.deploy(caller=alice), caller=alice)
    sb = world.snap(world.deploy(caller=bob), caller=bob)
    assert [s["id"] for s in world.snaps(account_uuid=alice.uuid)] == [sa["id"]]
    assert [s["id"] for s in world.snaps(domain_uuid=dept.uuid)] == [sa["id"]]
    assert {s["id"] for s in world.snaps()} == {sa["id"], sb["id"]}
    refused(world, 531, world.snaps, caller=bob, account_uuid=alice.uuid)
