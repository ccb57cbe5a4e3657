"""The VM snapshot, VM, volume, domain and capability ports on every store: add and get,
rollback, soft delete, compare-and-swap transitions, listVMSnapshot's filters and paging,
scopes, capability lookup. ``store`` (tests/store/conftest.py) runs each test on the memory
store, SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest

from harness.domain.errors import ConcurrentOperation
from harness.domain.model import (
    VM,
    Account,
    AccountType,
    Domain,
    HypervisorCapabilities,
    Page,
    ServiceOffering,
    VMSnapshot,
    Volume,
    VolumeSnapshot,
    VolumeType,
    Zone,
)
from harness.domain.states import (
    LISTED_VM_SNAPSHOT_STATES,
    InvalidTransition,
    VMEvent,
    VMSnapshotEvent,
    VMSnapshotState,
    VMSnapshotType,
    VMState,
    VolumeSnapshotEvent,
    VolumeSnapshotState,
)
from harness.store.ports import Scope, UnitOfWork, UowFactory

T0 = datetime(2024, 5, 1, 12, 0, 0)  # whole seconds: MariaDB's DATETIME keeps no fraction


def new_uuid() -> str:
    return str(uuidlib.uuid4())


# --- parent rows ---------------------------------------------------------------------------


@dataclass
class World:
    """A root domain with one child domain, an account in each, an offering, a zone, VMs."""

    root: Domain
    child: Domain
    admin: Account  # in ROOT
    alice: Account  # in the child domain
    offering: ServiceOffering
    zone: Zone
    vm_admin: VM
    vm_alice: VM


def add_vm(uow: UnitOfWork, owner: Account, offering: ServiceOffering, zone: Zone, name: str) -> VM:
    return uow.vms.add(
        VM(0, new_uuid(), f"i-{owner.id}-{name}-VM", name, VMState.Stopped, owner.id, owner.domain_id,
           offering.id, zone.id, None)
    )


def seed(uow_factory: UowFactory) -> World:
    """Insert the parent rows a VM snapshot needs and commit them."""
    with uow_factory() as uow:
        root = uow.domains.add(Domain(0, new_uuid(), "ROOT", None, "/"))
        child = uow.domains.add(Domain(0, new_uuid(), "sales", root.id, "/sales/"))
        admin = uow.accounts.add(Account(0, new_uuid(), "admin", AccountType.Admin, root.id), new_uuid())
        alice = uow.accounts.add(Account(0, new_uuid(), "alice", AccountType.User, child.id), new_uuid())
        offering = uow.offerings.add(ServiceOffering(0, new_uuid(), "Small", 1, 500, 512))
        zone = uow.zones.add(Zone(0, new_uuid(), "zone1"))
        world = World(
            root, child, admin, alice, offering, zone,
            add_vm(uow, admin, offering, zone, "vm-admin"),
            add_vm(uow, alice, offering, zone, "vm-alice"),
        )
        uow.commit()
    return world


def make_snapshot(
    vm: VM,
    display_name: str,
    *,
    state: VMSnapshotState = VMSnapshotState.Allocated,
    description: str | None = None,
    created: datetime = T0,
) -> VMSnapshot:
    return VMSnapshot(
        id=0,
        uuid=new_uuid(),
        name=f"{vm.instance_name}_VS_{created:%Y%m%d%H%M%S}",
        display_name=display_name,
        description=description,
        vm_id=vm.id,
        account_id=vm.account_id,
        domain_id=vm.domain_id,
        service_offering_id=vm.service_offering_id,
        type=VMSnapshotType.Disk,
        state=state,
        created=created,
    )


def add_snapshot(
    uow_factory: UowFactory,
    vm: VM,
    display_name: str,
    *,
    state: VMSnapshotState = VMSnapshotState.Allocated,
    description: str | None = None,
    created: datetime = T0,
) -> VMSnapshot:
    with uow_factory() as uow:
        snap = make_snapshot(vm, display_name, state=state, description=description, created=created)
        uow.vm_snapshots.add(snap)
        uow.commit()
    return snap


def load(uow_factory: UowFactory, snap_id: int) -> VMSnapshot | None:
    with uow_factory(readonly=True) as uow:
        return uow.vm_snapshots.get(snap_id)


def row_of(uow_factory: UowFactory, snap_id: int) -> tuple[str, int]:
    """``(state, update_count)`` of the stored (live) snapshot."""
    stored = load(uow_factory, snap_id)
    assert stored is not None
    return stored.state.value, stored.update_count


@pytest.fixture
def world(store: UowFactory) -> World:
    return seed(store)


# --- add, get, soft delete -----------------------------------------------------------------


def test_add_then_get_round_trips_every_field(store: UowFactory, world: World) -> None:
    snap = make_snapshot(world.vm_alice, "before upgrade", description="pre-patch", created=T0)
    snap.details = {"kvm.foo": "bar"}
    with store() as uow:
        uow.vm_snapshots.add(snap)
        uow.commit()

    with store(readonly=True) as uow:
        by_id = uow.vm_snapshots.get(snap.id)
        by_uuid = uow.vm_snapshots.get_by_uuid(snap.uuid)
        details = uow.vm_snapshots.details(snap.id)
    expected = replace(snap, details={})
    assert by_id == expected
    assert by_uuid == expected
    assert details == {"kvm.foo": "bar"}


def test_rollback_without_commit_writes_nothing(store: UowFactory, world: World) -> None:
    snap = make_snapshot(world.vm_alice, "never")
    with store() as uow:
        uow.vm_snapshots.add(snap)
    assert load(store, snap.id) is None


def test_soft_deleted_rows_are_invisible(store: UowFactory, world: World) -> None:
    kept = add_snapshot(store, world.vm_alice, "kept", state=VMSnapshotState.Ready)
    gone = add_snapshot(store, world.vm_alice, "gone", state=VMSnapshotState.Ready)

    with store() as uow:
        uow.vm_snapshots.soft_delete(gone.id)
        uow.commit()

    with store(readonly=True) as uow:
        repo = uow.vm_snapshots
        assert repo.get(gone.id) is None
        assert repo.get_by_uuid(gone.uuid) is None
        assert [s.id for s in repo.by_vm(world.vm_alice.id)] == [kept.id]
        page = repo.search(vm_id=world.vm_alice.id)
        assert (page.count, [s.id for s in page.items]) == (1, [kept.id])
        assert repo.names_of_vm(world.vm_alice.id) == {kept.name}


# --- transitions ---------------------------------------------------------------------------


def test_transit_moves_state_and_bumps_update_count(store: UowFactory, world: World) -> None:
    snap = add_snapshot(store, world.vm_alice, "s1")

    with store() as uow:
        uow.vm_snapshots.transit(snap, VMSnapshotEvent.CreateRequested)
        uow.commit()
    with store() as uow:
        uow.vm_snapshots.transit(snap, VMSnapshotEvent.OperationSucceeded)
        uow.commit()

    assert (snap.state, snap.update_count) == (VMSnapshotState.Ready, 2)
    stored = load(store, snap.id)
    assert stored is not None
    assert (stored.state, stored.update_count) == (VMSnapshotState.Ready, 2)
    assert stored.updated is not None


def test_illegal_transition_names_the_rule_and_changes_nothing(store: UowFactory, world: World) -> None:
    snap = add_snapshot(store, world.vm_alice, "s1")

    with store() as uow, pytest.raises(InvalidTransition) as err:
        uow.vm_snapshots.transit(snap, VMSnapshotEvent.RevertRequested)

    assert err.value.action == "RevertRequested"
    assert err.value.current_state == "Allocated"
    assert err.value.allowed_states == ["Ready"]
    assert str(err.value) == "cannot RevertRequested a VM snapshot in state Allocated; allowed from: Ready"
    assert (snap.state, snap.update_count) == (VMSnapshotState.Allocated, 0)
    assert row_of(store, snap.id) == ("Allocated", 0)


def test_stale_entity_loses_the_compare_and_swap(store: UowFactory, world: World) -> None:
    snap = add_snapshot(store, world.vm_alice, "s1", state=VMSnapshotState.Ready)
    first, stale = load(store, snap.id), load(store, snap.id)
    assert first is not None
    assert stale is not None

    with store() as uow:
        uow.vm_snapshots.transit(first, VMSnapshotEvent.RevertRequested)
        uow.commit()
    with store() as uow, pytest.raises(ConcurrentOperation):
        # Ready -> Expunging is legal on paper; the row moved on, so the swap finds nothing.
        uow.vm_snapshots.transit(stale, VMSnapshotEvent.ExpungeRequested)

    assert (stale.state, stale.update_count) == (VMSnapshotState.Ready, 0)
    assert row_of(store, snap.id) == ("Reverting", 1)


def test_same_state_but_older_update_count_also_loses(store: UowFactory, world: World) -> None:
    """An ABA: the row went Ready -> Reverting -> Ready; a copy read before still says Ready."""
    snap = add_snapshot(store, world.vm_alice, "s1", state=VMSnapshotState.Ready)
    stale = load(store, snap.id)
    assert stale is not None
    with store() as uow:
        uow.vm_snapshots.transit(snap, VMSnapshotEvent.RevertRequested)
        uow.vm_snapshots.transit(snap, VMSnapshotEvent.OperationFailed)
        uow.commit()

    with store() as uow, pytest.raises(ConcurrentOperation):
        uow.vm_snapshots.transit(stale, VMSnapshotEvent.ExpungeRequested)

    assert row_of(store, snap.id) == ("Ready", 2)


def test_vm_and_volume_snapshot_transitions(store: UowFactory, world: World) -> None:
    """The same compare-and-swap on vm_instance.state and on snapshots.status."""
    vm = world.vm_alice
    with store() as uow:
        uow.vms.transit(vm, VMEvent.StartRequested)
        vol_snap = uow.volume_snapshots.add(
            VolumeSnapshot(0, new_uuid(), "v1", _volume_id(uow, vm), vm.account_id, vm.domain_id,
                           VolumeSnapshotState.Allocated)
        )
        uow.volume_snapshots.transit(vol_snap, VolumeSnapshotEvent.CreateRequested)
        uow.commit()

    with store(readonly=True) as uow:
        stored_vm = uow.vms.get(vm.id)
        stored_vs = uow.volume_snapshots.get(vol_snap.id)
        active = uow.volume_snapshots.active_for_vm(vm.id)
    assert stored_vm is not None
    assert (stored_vm.state, stored_vm.update_count) == (VMState.Starting, 1)
    assert stored_vs is not None
    assert (stored_vs.state, stored_vs.update_count) == (VolumeSnapshotState.Creating, 1)
    assert [s.id for s in active] == [vol_snap.id]


def _volume_id(uow: UnitOfWork, vm: VM) -> int:
    vol = uow.volumes.add(
        Volume(0, new_uuid(), "ROOT-1", VolumeType.ROOT, 10 << 30, vm.account_id, vm.domain_id, vm.id, 0,
               None)
    )
    return vol.id


# --- listVMSnapshot ------------------------------------------------------------------------


def ids(page: Page) -> list[int]:
    return [s.id for s in page.items]


def test_search_filters_by_vm_state_and_display_name(store: UowFactory, world: World) -> None:
    a1 = add_snapshot(store, world.vm_alice, "daily", state=VMSnapshotState.Ready, created=T0)
    a2 = add_snapshot(store, world.vm_alice, "weekly", state=VMSnapshotState.Error,
                      created=T0 + timedelta(seconds=1))
    a3 = add_snapshot(store, world.vm_alice, "daily", state=VMSnapshotState.Removed,
                      created=T0 + timedelta(seconds=2))
    b1 = add_snapshot(store, world.vm_admin, "daily", state=VMSnapshotState.Ready,
                      created=T0 + timedelta(seconds=3))

    with store(readonly=True) as uow:
        repo = uow.vm_snapshots
        assert ids(repo.search()) == [b1.id, a3.id, a2.id, a1.id]  # no state filter: every state
        assert ids(repo.search(vm_id=world.vm_alice.id)) == [a3.id, a2.id, a1.id]
        assert ids(repo.search(states=LISTED_VM_SNAPSHOT_STATES)) == [b1.id, a2.id, a1.id]
        assert ids(repo.search(states=[VMSnapshotState.Error])) == [a2.id]
        assert ids(repo.search(states=[])) == []
        assert ids(repo.search(name="daily", states=LISTED_VM_SNAPSHOT_STATES)) == [b1.id, a1.id]
        assert ids(repo.search(name="dail")) == []  # name is equality, not a substring
        assert ids(repo.search(name=a1.name)) == []  # ...on the display name only
        assert ids(repo.search(ids=[a1.id, b1.id])) == [b1.id, a1.id]


def test_search_keyword_is_a_literal_substring(store: UowFactory, world: World) -> None:
    vm = world.vm_alice
    pct = add_snapshot(store, vm, "100%_done", created=T0)
    plain = add_snapshot(store, vm, "100x done", created=T0 + timedelta(seconds=1))
    desc = add_snapshot(store, vm, "other", description="before the 50% rollout",
                        created=T0 + timedelta(seconds=2))
    backslash = add_snapshot(store, vm, "C:\\temp", created=T0 + timedelta(seconds=3))

    with store(readonly=True) as uow:
        repo = uow.vm_snapshots
        assert ids(repo.search(keyword="%")) == [desc.id, pct.id]
        assert ids(repo.search(keyword="0%_")) == [pct.id]
        assert ids(repo.search(keyword="%_d")) == [pct.id]
        assert ids(repo.search(keyword="100")) == [plain.id, pct.id]
        assert ids(repo.search(keyword="ROLLOUT".lower())) == [desc.id]  # description
        assert ids(repo.search(keyword="\\")) == [backslash.id]
        assert ids(repo.search(keyword="_VS_")) == [backslash.id, desc.id, plain.id, pct.id]  # name
        assert ids(repo.search(keyword="")) == [backslash.id, desc.id, plain.id, pct.id]


def test_search_pages_newest_first_with_the_total_count(store: UowFactory, world: World) -> None:
    snaps = [
        add_snapshot(store, world.vm_alice, f"s{i}", created=T0 + timedelta(minutes=i))
        for i in range(5)
    ]
    newest_first = [s.id for s in reversed(snaps)]

    with store(readonly=True) as uow:
        repo = uow.vm_snapshots
        pages = [repo.search(page=p, pagesize=2) for p in (1, 2, 3, 4)]
        unpaged = repo.search()
    assert [p.count for p in pages] == [5, 5, 5, 5]
    assert [ids(p) for p in pages] == [newest_first[0:2], newest_first[2:4], newest_first[4:], []]
    assert ids(unpaged) == newest_first


def test_search_ties_on_created_break_by_id(store: UowFactory, world: World) -> None:
    snaps = [add_snapshot(store, world.vm_alice, f"s{i}", created=T0) for i in range(3)]
    with store(readonly=True) as uow:
        assert ids(uow.vm_snapshots.search()) == [s.id for s in reversed(snaps)]


def test_scope_by_account_and_by_domain(store: UowFactory, world: World) -> None:
    mine = add_snapshot(store, world.vm_alice, "alice's", created=T0)
    root_only = add_snapshot(store, world.vm_admin, "admin's", created=T0 + timedelta(seconds=1))

    with store(readonly=True) as uow:
        repo = uow.vm_snapshots
        below_root = uow.domains.subtree_ids(world.root)
        below_child = uow.domains.subtree_ids(world.child)
        assert below_root == {world.root.id, world.child.id}
        assert below_child == {world.child.id}
        assert ids(repo.search(Scope(account_id=world.alice.id))) == [mine.id]
        assert ids(repo.search(Scope(account_id=world.admin.id))) == [root_only.id]
        assert ids(repo.search(Scope(domain_ids=below_child))) == [mine.id]
        assert ids(repo.search(Scope(domain_ids=below_root))) == [root_only.id, mine.id]
        assert ids(repo.search(Scope(account_id=world.admin.id, domain_ids=below_child))) == []
        assert ids(repo.search(Scope(domain_ids=frozenset()))) == []
        vms = uow.vms.search(Scope(domain_ids=below_child))
    assert [v.id for v in vms.items] == [world.vm_alice.id]


# --- hypervisor capabilities ---------------------------------------------------------------


def test_capability_lookup_falls_back_to_default(store: UowFactory, world: World) -> None:
    with store() as uow:
        caps = uow.capabilities
        default = caps.add(HypervisorCapabilities(0, new_uuid(), "Hyperv", "default", 1024, 64, True))
        v62 = caps.add(HypervisorCapabilities(0, new_uuid(), "Hyperv", "6.2", 1024, 64, False))
        uow.commit()

    with store() as uow:
        caps = uow.capabilities
        found_default = caps.lookup("Hyperv")
        assert found_default is not None
        assert found_default.id == default.id
        assert found_default.vm_snapshot_enabled is True
        found_62 = caps.lookup("Hyperv", "6.2")
        assert found_62 is not None
        assert (found_62.id, found_62.vm_snapshot_enabled) == (v62.id, False)
        fallback = caps.lookup("Hyperv", "10.0")
        assert fallback is not None
        assert fallback.id == default.id
        assert caps.lookup("VMware", "7.0") is None
        caps.set_vm_snapshot_enabled(found_default, False)
        uow.commit()

    with store(readonly=True) as uow:
        again = uow.capabilities.lookup("Hyperv")
    assert again is not None
    assert again.vm_snapshot_enabled is False


