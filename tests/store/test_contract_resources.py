"""The ports of what a VM has and what the API tells of it, on every store: VMs and their
locks, the VM snapshot tree, volumes and volume snapshots, NICs, tags, events, SSH key
pairs and VM details. ``store`` (tests/store/conftest.py) runs each test on the memory
store, SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from datetime import timedelta
from ipaddress import IPv4Address

import pytest

from harness.domain.model import (
    Event,
    Nic,
    ResourceTag,
    SnapshotBrief,
    SSHKeyPair,
    Volume,
    VolumeSnapshot,
    VolumeType,
)
from harness.domain.states import (
    VMEvent,
    VMSnapshotState,
    VMSnapshotType,
    VMState,
    VolumeSnapshotEvent,
    VolumeSnapshotState,
)
from harness.store.ports import EVERYTHING, Scope, UowFactory
from tests.store.conftest import NOW
from tests.store.test_contract_vm_snapshots import World, add_vm, make_snapshot, new_uuid, seed


@pytest.fixture
def world(store: UowFactory) -> World:
    return seed(store)


def test_vms_lock_rename_and_search(store: UowFactory, world: World) -> None:
    vm = world.vm_alice
    with store() as uow:
        locked = uow.vms.lock(vm.id)
        assert locked is not None and locked.id == vm.id
        by_uuid = uow.vms.lock_uuid(vm.uuid)
        assert by_uuid is not None and by_uuid.id == vm.id
        uow.vms.set_instance_name(locked, "i-renamed")
        uow.vms.set_offering(locked, world.offering.id)
        uow.vms.set_exported(locked, True)
        uow.vms.transit(locked, VMEvent.StartRequested)
        gone = add_vm(uow, world.alice, world.offering, world.zone, "gone")
        uow.vms.soft_delete(gone.id)
        uow.commit()
    with store(readonly=True) as uow:
        stored = uow.vms.get(vm.id)
        assert stored is not None
        assert (stored.instance_name, stored.exported, stored.state) == ("i-renamed", True, VMState.Starting)
        assert uow.vms.lock(gone.id) is None
        assert [v.id for v in uow.vms.search().items] == [world.vm_admin.id, vm.id]
        assert [v.id for v in uow.vms.search(state=VMState.Starting).items] == [vm.id]
        assert [v.id for v in uow.vms.search(keyword="renamed").items] == [vm.id]
        assert [v.id for v in uow.vms.search(keyword="vm-admin").items] == [world.vm_admin.id]  # display name
        page = uow.vms.search(Scope(account_id=world.admin.id), page=1, pagesize=1)
        assert (page.count, [v.id for v in page.items]) == (1, [world.vm_admin.id])


def test_the_snapshot_tree_of_a_vm(store: UowFactory, world: World) -> None:
    vm = world.vm_alice
    with store() as uow:
        root = uow.vm_snapshots.add(make_snapshot(vm, "root", state=VMSnapshotState.Ready))
        mid = uow.vm_snapshots.add(make_snapshot(vm, "mid", state=VMSnapshotState.Ready))
        leaf = uow.vm_snapshots.add(make_snapshot(vm, "leaf", state=VMSnapshotState.Ready))
        uow.vm_snapshots.set_parent(mid, root.id)
        uow.vm_snapshots.set_parent(leaf, mid.id)
        uow.vm_snapshots.set_current(leaf, True)
        uow.vm_snapshots.set_type(leaf, VMSnapshotType.DiskAndMemory)
        uow.vm_snapshots.set_details(leaf.id, {"a": "1", "b": "2"})
        uow.vm_snapshots.set_details(leaf.id, {"a": "3"})
        uow.commit()
    with store() as uow:
        current = uow.vm_snapshots.current_of(vm.id)
        assert current is not None and (current.id, current.type) == (leaf.id, VMSnapshotType.DiskAndMemory)
        assert uow.vm_snapshots.current_of(world.vm_admin.id) is None
        assert uow.vm_snapshots.details(leaf.id) == {"a": "3", "b": "2"}
        assert uow.vm_snapshots.briefs_of_vm(vm.id) == [
            SnapshotBrief(s.id, s.name, VMSnapshotState.Ready, t)
            for s, t in ((root, VMSnapshotType.Disk), (mid, VMSnapshotType.Disk), (leaf, VMSnapshotType.DiskAndMemory))
        ]
        uow.vm_snapshots.reparent_children(mid)  # mid goes: its child hangs from its parent
        uow.vm_snapshots.soft_delete(mid.id)
        uow.commit()
    with store(readonly=True) as uow:
        assert [(s.id, s.parent) for s in uow.vm_snapshots.by_vm(vm.id)] == [(root.id, None), (leaf.id, root.id)]
        assert uow.vm_snapshots.names_of_vm(vm.id) == {root.name, leaf.name}
        assert uow.vm_snapshots.by_vm(world.vm_admin.id) == []
        assert uow.vm_snapshots.has_snapshots(vm.id)
        assert not uow.vm_snapshots.has_snapshots(world.vm_admin.id)
    with store() as uow:  # removed rows do not count
        for snap in (root, leaf):
            uow.vm_snapshots.soft_delete(snap.id)
        uow.commit()
    with store(readonly=True) as uow:
        assert not uow.vm_snapshots.has_snapshots(vm.id)


def _volume(world: World, device_id: int, name: str) -> Volume:
    vm = world.vm_alice
    return Volume(
        0, new_uuid(), name, VolumeType.DATADISK, 1 << 30, vm.account_id, vm.domain_id, vm.id, device_id, None
    )


def test_volumes_of_a_vm_their_host_state_and_attachment(store: UowFactory, world: World) -> None:
    with store() as uow:
        data = uow.volumes.add(_volume(world, 1, "DATA-1"))
        root = uow.volumes.add(_volume(world, 0, "ROOT-1"))
        gone = uow.volumes.add(_volume(world, 2, "DATA-2"))
        uow.volumes.soft_delete(gone.id)
        uow.volumes.record_host_state(root.uuid, "C:\\vms\\root.avhdx", 123)
        uow.commit()
    with store() as uow:
        assert [v.id for v in uow.volumes.of_vm(world.vm_alice.id)] == [root.id, data.id]  # by device
        stored = uow.volumes.get(root.id)
        assert stored is not None and (stored.path, stored.vm_snapshot_chain_size) == ("C:\\vms\\root.avhdx", 123)
        uow.volumes.attach(data, world.vm_admin.id, 1)
        uow.commit()
    with store(readonly=True) as uow:
        assert [v.id for v in uow.volumes.of_vm(world.vm_admin.id)] == [data.id]
        assert [v.id for v in uow.volumes.search(vm_id=world.vm_alice.id).items] == [root.id]
        page = uow.volumes.search(Scope(account_id=world.alice.id), page=2, pagesize=1)
        assert (page.count, [v.id for v in page.items]) == (2, [root.id])


def test_volume_snapshots_in_progress_block_and_list_newest_first(store: UowFactory, world: World) -> None:
    vm = world.vm_alice
    with store() as uow:
        volume = uow.volumes.add(_volume(world, 0, "ROOT-1"))
        snaps = [
            uow.volume_snapshots.add(
                VolumeSnapshot(0, new_uuid(), f"v{i}", volume.id, vm.account_id, vm.domain_id,
                               VolumeSnapshotState.Allocated, created=NOW + timedelta(seconds=i))
            )
            for i in range(2)
        ]
        uow.volume_snapshots.transit(snaps[0], VolumeSnapshotEvent.CreateRequested)
        uow.volume_snapshots.set_size(snaps[1], 4096)
        uow.commit()
    with store(readonly=True) as uow:
        assert [s.id for s in uow.volume_snapshots.active_for_vm(vm.id)] == [snaps[0].id]
        assert uow.volume_snapshots.active_for_vm(world.vm_admin.id) == []
        listed = uow.volume_snapshots.search(volume_id=volume.id)
        assert [s.id for s in listed.items] == [snaps[1].id, snaps[0].id]
        assert [s.size for s in listed.items] == [4096, 0]
        assert uow.volume_snapshots.search(Scope(account_id=world.admin.id)).count == 0


def _nic(vm_id: int, address: str | None, device_id: int) -> Nic:
    return Nic(0, new_uuid(), vm_id, address, "255.255.255.0", "10.1.1.1", f"02:00:00:00:00:{device_id:02x}", device_id)


def test_nics_hold_addresses_until_released(store: UowFactory, world: World) -> None:
    with store() as uow:
        second = uow.nics.add(_nic(world.vm_alice.id, "10.1.1.11", 1))
        first = uow.nics.add(_nic(world.vm_alice.id, "10.1.1.10", 0))
        other = uow.nics.add(_nic(world.vm_admin.id, "10.1.1.12", 0))
        uow.commit()
    with store() as uow:
        assert uow.nics.addresses_in_use() == {"10.1.1.10", "10.1.1.11", "10.1.1.12"}
        assert [n.id for n in uow.nics.of_vms([world.vm_alice.id])] == [first.id, second.id]
        uow.nics.release(world.vm_alice.id)
        uow.commit()
    with store(readonly=True) as uow:
        assert uow.nics.addresses_in_use() == {"10.1.1.12"}
        assert [n.id for n in uow.nics.of_vms([world.vm_alice.id, world.vm_admin.id])] == [other.id]
        assert uow.nics.of_vms([]) == []


def test_nics_give_the_lowest_free_address_in_a_range(store: UowFactory, world: World) -> None:
    first, last, gateway = IPv4Address("10.1.1.2"), IPv4Address("10.1.1.12"), IPv4Address("10.1.1.3")
    with store() as uow:
        assert uow.nics.lowest_free(first, last) == first
        assert uow.nics.lowest_free(first, last, reserved=(first,)) == IPv4Address("10.1.1.3")
        for address in ("10.1.1.2", "10.1.1.4", "10.1.1.5", "10.1.1.6", "10.1.1.7", "10.1.1.8", "10.1.1.10"):
            uow.nics.add(_nic(world.vm_alice.id, address, 0))
        uow.nics.add(_nic(world.vm_admin.id, "10.1.1.9", 0))
        uow.nics.add(_nic(world.vm_admin.id, "10.1.2.1", 1))  # outside the range: no bearing on it
        uow.commit()
    with store() as uow:
        # numeric order, not text order ("10.1.1.10" < "10.1.1.9" as text); the gateway is skipped
        assert uow.nics.lowest_free(first, last, reserved=(gateway,)) == IPv4Address("10.1.1.11")
        assert uow.nics.lowest_free(first, last) == gateway
        uow.nics.add(_nic(world.vm_admin.id, "10.1.1.11", 2))
        assert uow.nics.lowest_free(first, last, reserved=(gateway,)) == IPv4Address("10.1.1.12")
        # rolled back: the address is free again
    with store() as uow:
        assert uow.nics.lowest_free(first, last, reserved=(gateway,)) == IPv4Address("10.1.1.11")
        uow.nics.add(_nic(world.vm_admin.id, "10.1.1.11", 2))
        uow.nics.add(_nic(world.vm_admin.id, "10.1.1.12", 3))
        assert uow.nics.lowest_free(first, last, reserved=(gateway,)) is None
        uow.nics.soft_delete(uow.nics.of_vms([world.vm_admin.id])[0].id)
        assert uow.nics.lowest_free(first, last, reserved=(gateway,)) is None  # a removed NIC holds its address
        uow.nics.release(world.vm_alice.id)
        assert uow.nics.lowest_free(first, last, reserved=(gateway,)) == first
        uow.commit()
    with store(readonly=True) as uow:
        assert uow.nics.lowest_free(IPv4Address("10.1.1.4"), last, reserved=(gateway,)) == IPv4Address("10.1.1.4")


def _tag(world: World, key: str, value: str, resource_id: int, resource_type: str = "UserVm") -> ResourceTag:
    owner = world.alice if resource_id == world.vm_alice.id else world.admin
    return ResourceTag(0, new_uuid(), key, value, resource_type, resource_id, f"uuid-{resource_id}", owner.id,
                       owner.domain_id)


def test_tags_match_search_and_go(store: UowFactory, world: World) -> None:
    alice_vm, admin_vm = world.vm_alice.id, world.vm_admin.id
    with store() as uow:
        env = uow.tags.add(_tag(world, "env", "prod", alice_vm))
        team = uow.tags.add(_tag(world, "team", "db", alice_vm))
        other = uow.tags.add(_tag(world, "env", "prod", admin_vm))
        uow.tags.add(_tag(world, "env", "prod", alice_vm, "VMSnapshot"))
        uow.commit()
    with store() as uow:
        assert [t.id for t in uow.tags.of_resources("UserVm", [alice_vm])] == [env.id, team.id]
        assert uow.tags.matching("UserVm", [("env", "prod")]) == {alice_vm, admin_vm}
        assert uow.tags.matching("UserVm", [("env", "prod"), ("team", "db")]) == {alice_vm}
        assert uow.tags.matching("UserVm", [("env", "test")]) == set()
        page = uow.tags.search(EVERYTHING, resource_type="UserVm", key="env")
        assert (page.count, [t.id for t in page.items]) == (2, [env.id, other.id])
        assert [t.id for t in uow.tags.search(Scope(account_id=world.admin.id)).items] == [other.id]
        uow.tags.remove([env.id, other.id])
        uow.commit()
    with store(readonly=True) as uow:
        assert [t.id for t in uow.tags.of_resources("UserVm", [alice_vm, admin_vm])] == [team.id]
        assert uow.tags.get(env.id) is None


def test_events_list_newest_first_with_filters(store: UowFactory, world: World) -> None:
    def event(kind: str, level: str, text: str, minutes: int) -> Event:
        return Event(0, new_uuid(), kind, "Completed", level, text, world.alice.id, world.child.id,
                     created=NOW + timedelta(minutes=minutes))

    with store() as uow:
        first = uow.events.add(event("VMSNAPSHOT.CREATE", "INFO", "snapshot taken", 0))
        second = uow.events.add(event("VM.START", "INFO", "started the vm", 1))
        third = uow.events.add(event("VMSNAPSHOT.DELETE", "ERROR", "delete failed", 2))
        uow.commit()
    with store(readonly=True) as uow:
        events = uow.events

        def found(**kw: object) -> list[int]:
            return [e.id for e in events.search(EVERYTHING, **kw).items]  # type: ignore[arg-type]

        assert found() == [third.id, second.id, first.id]
        assert found(type_="VM.START") == [second.id]
        assert found(level="ERROR") == [third.id]
        assert found(start=NOW + timedelta(minutes=1)) == [third.id, second.id]
        assert found(end=NOW + timedelta(minutes=1)) == [second.id, first.id]
        assert found(keyword="VMSNAPSHOT") == [third.id, first.id]  # in the type
        assert found(keyword="taken") == [first.id]  # in the description
        assert events.search(Scope(account_id=world.admin.id)).count == 0
        page = events.search(EVERYTHING, page=2, pagesize=2)
        assert (page.count, [e.id for e in page.items]) == (3, [first.id])


def test_ssh_key_pairs_by_name_and_fingerprint(store: UowFactory, world: World) -> None:
    def pair(name: str, fingerprint: str, owner_id: int) -> SSHKeyPair:
        return SSHKeyPair(0, new_uuid(), name, owner_id, world.child.id, f"ssh-rsa {name}", fingerprint)

    with store() as uow:
        work = uow.keypairs.add(pair("work", "aa:01", world.alice.id))
        home = uow.keypairs.add(pair("home", "aa:02", world.alice.id))
        theirs = uow.keypairs.add(pair("work", "aa:03", world.admin.id))
        uow.commit()
    with store() as uow:
        keys = uow.keypairs
        found = keys.by_name(world.alice.id, "work")
        assert found is not None and found.id == work.id
        by_print = keys.by_fingerprint(world.alice.id, "aa:02")
        assert by_print is not None and by_print.id == home.id
        assert keys.by_fingerprint(world.alice.id, "aa:03") is None
        mine = Scope(account_id=world.alice.id)
        assert [k.id for k in keys.search(mine).items] == [home.id, work.id]  # by name
        assert [k.id for k in keys.search(mine, keyword="or").items] == [work.id]
        assert [k.id for k in keys.search(EVERYTHING, name="work").items] == [work.id, theirs.id]
        assert [k.id for k in keys.search(EVERYTHING, uuid=home.uuid, fingerprint="aa:02").items] == [home.id]
        keys.remove(home.id)
        keys.remove_of_account(world.admin.id)
        uow.commit()
    with store(readonly=True) as uow:
        assert [k.id for k in uow.keypairs.search(EVERYTHING).items] == [work.id]


def test_vm_details_replace_by_name(store: UowFactory, world: World) -> None:
    alice_vm, admin_vm = world.vm_alice.id, world.vm_admin.id
    with store() as uow:
        uow.vm_details.set(alice_vm, {"SSH.PublicKey": "k1", "SSH.KeyPairNames": "work"})
        uow.vm_details.set(admin_vm, {"SSH.KeyPairNames": "home"})
        uow.commit()
    with store() as uow:
        uow.vm_details.set(alice_vm, {"SSH.PublicKey": "k2"})
        assert uow.vm_details.of_vm(alice_vm) == {"SSH.KeyPairNames": "work", "SSH.PublicKey": "k2"}
        assert uow.vm_details.value_of_vms([alice_vm, admin_vm], "SSH.PublicKey") == {alice_vm: "k2"}
        assert uow.vm_details.value_of_vms([], "SSH.PublicKey") == {}
        uow.vm_details.remove(alice_vm, "SSH.KeyPairNames")
        uow.commit()
    with store(readonly=True) as uow:
        assert uow.vm_details.of_vm(alice_vm) == {"SSH.PublicKey": "k2"}
        assert uow.vm_details.of_vm(admin_vm + 100) == {}
