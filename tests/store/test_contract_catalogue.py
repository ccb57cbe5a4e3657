"""The catalogue's ports on every store: domains, accounts and their keys, offerings, zones,
hosts, configuration, async jobs, management servers, snapshot policies and resource
limits. ``store`` (tests/store/conftest.py) runs each test on the memory store, SQLite,
PostgreSQL and MariaDB."""

from __future__ import annotations

from datetime import timedelta

import pytest

from harness.domain.config import VMSNAPSHOT_MAX
from harness.domain.errors import InvalidParameterValue
from harness.domain.model import AsyncJob, Host, ManagementServer
from harness.domain.policy import IntervalType, VMSnapshotPolicy
from harness.domain.states import VMSnapshotState
from harness.store.ports import Scope, UowFactory
from tests.store.conftest import NOW
from tests.store.test_contract_vm_snapshots import World, make_snapshot, new_uuid, seed


@pytest.fixture
def world(store: UowFactory) -> World:
    return seed(store)


def test_domains_root_subtree_and_children(store: UowFactory, world: World) -> None:
    with store() as uow:
        deep = uow.domains.add(type(world.child)(0, new_uuid(), "east", world.child.id, "/sales/east/"))
        uow.commit()
    with store(readonly=True) as uow:
        root = uow.domains.root()
        assert root is not None and root.id == world.root.id
        assert uow.domains.subtree_ids(world.child) == {world.child.id, deep.id}
        found = uow.domains.child_named(world.child, "east")
        assert found is not None and found.id == deep.id
        assert uow.domains.child_named(world.root, "east") is None
        assert [d.path for d in uow.domains.all()] == ["/", "/sales/", "/sales/east/"]


def test_accounts_keys_passwords_and_domains(store: UowFactory, world: World) -> None:
    with store() as uow:
        alice = uow.accounts.get(world.alice.id)
        assert alice is not None and alice.api_key is None
        uow.accounts.set_keys(alice, "api-1", "secret-1")
        uow.accounts.set_password_hash(alice, "hash-1")
        uow.commit()
    with store(readonly=True) as uow:
        by_key = uow.accounts.by_api_key("api-1")
        assert by_key is not None and (by_key.id, by_key.secret_key, by_key.password_hash) == (
            world.alice.id,
            "secret-1",
            "hash-1",
        )
        assert uow.accounts.by_api_key("api-2") is None
        by_name = uow.accounts.by_name("alice", world.child.id)
        assert by_name is not None and by_name.id == world.alice.id
        assert uow.accounts.by_name("alice", world.root.id) is None
        assert [a.id for a in uow.accounts.in_domains(frozenset({world.child.id}))] == [world.alice.id]
        assert [a.id for a in uow.accounts.in_domains(None)] == [world.admin.id, world.alice.id]
        users = uow.users.of_accounts([world.alice.id])
        assert [u.username for u in users] == ["alice"]


def test_users_names_and_removal(store: UowFactory, world: World) -> None:
    with store() as uow:
        user = uow.users.of_accounts([world.alice.id])[0]
        uow.users.set_names(user.uuid, "Alice", "Liddell", "alice@example.org")
        uow.commit()
    with store() as uow:
        named = uow.users.get_by_uuid(user.uuid)
        assert named is not None and (named.firstname, named.lastname, named.email) == (
            "Alice",
            "Liddell",
            "alice@example.org",
        )
        uow.users.remove_of_account(world.alice.id)
        uow.commit()
    with store(readonly=True) as uow:
        assert uow.users.of_accounts([world.alice.id, world.admin.id])[0].account_id == world.admin.id
        assert uow.users.of_accounts([]) == []
        assert uow.users.get_by_uuid(user.uuid) is None


def test_offerings_zones_and_hosts(store: UowFactory, world: World) -> None:
    with store() as uow:
        host = uow.hosts.add(Host(0, new_uuid(), "hyperv-01", world.zone.id, "Hyperv", "2019"))
        uow.commit()
    with store(readonly=True) as uow:
        found = uow.offerings.by_name("Small")
        assert found is not None and found.id == world.offering.id
        assert uow.offerings.by_name("Huge") is None
        assert [o.name for o in uow.offerings.all()] == ["Small"]
        assert [z.id for z in uow.zones.all()] == [world.zone.id]
        assert [h.id for h in uow.hosts.in_zone(world.zone.id)] == [host.id]
        assert uow.hosts.in_zone(world.zone.id + 1) == []
        assert uow.hosts.get_by_uuid(host.uuid) is not None


def test_configuration_reads_its_default_until_set(store: UowFactory) -> None:
    with store() as uow:
        assert uow.config.get(VMSNAPSHOT_MAX) == VMSNAPSHOT_MAX.default
        uow.config.set(VMSNAPSHOT_MAX, "3")
        uow.commit()
    with store() as uow:
        assert uow.config.get(VMSNAPSHOT_MAX) == "3"
        uow.config.set(VMSNAPSHOT_MAX, "4")
        uow.commit()
    with store(readonly=True) as uow:
        assert uow.config.get(VMSNAPSHOT_MAX) == "4"


def _job(world: World, queue_key: str = "vm-1") -> AsyncJob:
    return AsyncJob(0, new_uuid(), world.alice.id, "createVMSnapshot", "{}", "VMSnapshot", None, queue_key=queue_key)


def test_jobs_run_are_taken_over_once_and_finish(store: UowFactory, world: World) -> None:
    with store() as uow:
        first = uow.jobs.add(_job(world))
        second = uow.jobs.add(_job(world, "vm-2"))
        uow.jobs.set_running(first)
        uow.commit()
    with store() as uow:
        assert [j.id for j in uow.jobs.running("vm-1")] == [first.id]
        assert uow.jobs.running("vm-2") == []
        stale = uow.jobs.get(first.id)
        assert stale is not None
        assert uow.jobs.take_over(first, 7) is True
        assert uow.jobs.take_over(stale, 8) is False  # its executor changed under it
        uow.jobs.finish(second, 1, 0, '{"ok": true}')
        uow.commit()
    with store(readonly=True) as uow:
        taken = uow.jobs.get(first.id)
        assert taken is not None and taken.executing_msid == 7
        done = uow.jobs.get(second.id)
        assert done is not None and (done.job_status, done.job_result, done.completed) == (1, '{"ok": true}', NOW)
        assert [j.id for j in uow.jobs.pending()] == [first.id]
        page = uow.jobs.search(None, page=1, pagesize=1)
        assert (page.count, [j.id for j in page.items]) == (2, [second.id])
        assert uow.jobs.search(frozenset({world.admin.id})).count == 0


def test_management_servers_register_beat_and_leave(store: UowFactory) -> None:
    with store() as uow:
        one = uow.mshosts.register(ManagementServer(0, 11, "box", 100))
        two = uow.mshosts.register(ManagementServer(0, 12, "box", 101))
        uow.commit()
    with store() as uow:
        assert [(s.msid, s.state, s.last_update) for s in uow.mshosts.up()] == [(11, "Up", NOW), (12, "Up", NOW)]
        uow.mshosts.heartbeat(one.msid)
        uow.mshosts.set_state(two.msid, "Down")
        uow.commit()
    with store() as uow:
        assert [s.msid for s in uow.mshosts.up()] == [11]
        uow.mshosts.remove(one.msid)
        uow.commit()
    with store(readonly=True) as uow:
        assert uow.mshosts.up() == []


def _policy(world: World, **kw: object) -> VMSnapshotPolicy:
    values: dict[str, object] = {
        "id": 0,
        "uuid": new_uuid(),
        "vm_id": world.vm_alice.id,
        "account_id": world.alice.id,
        "domain_id": world.child.id,
        "interval": IntervalType.DAILY,
        "schedule": "00:01",
        "timezone": "UTC",
        "max_snaps": 2,
        "next_run": NOW + timedelta(hours=1),
    }
    values.update(kw)
    return VMSnapshotPolicy(**values)  # type: ignore[arg-type]


def test_one_policy_per_vm_saved_and_advanced_once(store: UowFactory, world: World) -> None:
    with store() as uow:
        policy = uow.vm_snapshot_policies.add(_policy(world))
        uow.commit()
    with store() as uow, pytest.raises(InvalidParameterValue):
        uow.vm_snapshot_policies.add(_policy(world))
    with store() as uow:
        policy.max_snaps, policy.quiesce = 5, True
        uow.vm_snapshot_policies.save(policy)
        stale = uow.vm_snapshot_policies.get(policy.id)
        assert stale is not None
        later = NOW + timedelta(days=1)
        assert uow.vm_snapshot_policies.advance(policy, later, last_run=NOW) is True
        assert uow.vm_snapshot_policies.advance(stale, later) is False  # another scheduler ran it
        uow.commit()
    with store(readonly=True) as uow:
        stored = uow.vm_snapshot_policies.of_vm(world.vm_alice.id)
        assert stored is not None
        assert (stored.max_snaps, stored.quiesce, stored.next_run, stored.last_run) == (5, True, later, NOW)
        assert uow.vm_snapshot_policies.of_vm(world.vm_admin.id) is None
        assert uow.vm_snapshot_policies.earliest() == later
        assert uow.vm_snapshot_policies.due(later - timedelta(seconds=1)) == []
        assert [p.id for p in uow.vm_snapshot_policies.due(later)] == [policy.id]
        assert [p.id for p in uow.vm_snapshot_policies.search(Scope(account_id=world.alice.id))] == [policy.id]
        assert uow.vm_snapshot_policies.search(Scope(account_id=world.admin.id)) == []
        assert uow.vm_snapshot_policies.search(Scope(), ids=[policy.id + 1]) == []
        assert [p.id for p in uow.vm_snapshot_policies.search(Scope(), vm_id=world.vm_alice.id)] == [policy.id]
    with store() as uow:
        uow.vm_snapshot_policies.remove(policy.id)
        uow.commit()
    with store(readonly=True) as uow:
        assert uow.vm_snapshot_policies.get(policy.id) is None
        assert uow.vm_snapshot_policies.earliest() is None


def test_policies_know_the_snapshots_they_took(store: UowFactory, world: World) -> None:
    vm = world.vm_alice
    with store() as uow:
        policy = uow.vm_snapshot_policies.add(_policy(world))
        older = uow.vm_snapshots.add(make_snapshot(vm, "p1", created=NOW))
        newer = uow.vm_snapshots.add(make_snapshot(vm, "p2", created=NOW + timedelta(seconds=1)))
        manual = uow.vm_snapshots.add(make_snapshot(vm, "manual", created=NOW))
        for snap in (newer, older):
            uow.vm_snapshot_policies.tag(snap.id, policy.id, vm.id)
        uow.commit()
    with store() as uow:
        assert [s.id for s in uow.vm_snapshot_policies.snapshots(policy.id, vm.id)] == [older.id, newer.id]
        uow.vm_snapshots.soft_delete(older.id)
        uow.commit()
    with store(readonly=True) as uow:
        assert [s.id for s in uow.vm_snapshot_policies.snapshots(policy.id, vm.id)] == [newer.id]
        assert uow.vm_snapshot_policies.scheduled_ids(vm.id) == {older.id, newer.id}  # removed ones too
        assert manual.id not in uow.vm_snapshot_policies.scheduled_ids(vm.id)
        assert uow.vm_snapshot_policies.scheduled_ids(world.vm_admin.id) == set()


def test_resource_limits_and_snapshot_usage(store: UowFactory, world: World) -> None:
    with store() as uow:
        mine = uow.resource_limits.put("vm_snapshot", 3, account_id=world.alice.id)
        theirs = uow.resource_limits.put("vm_snapshot", 9, domain_id=world.child.id)
        again = uow.resource_limits.put("vm_snapshot", 4, account_id=world.alice.id)
        for i, state in enumerate((VMSnapshotState.Ready, VMSnapshotState.Ready, VMSnapshotState.Error)):
            uow.vm_snapshots.add(make_snapshot(world.vm_alice, f"s{i}", state=state))
        gone = uow.vm_snapshots.add(make_snapshot(world.vm_alice, "gone"))
        uow.vm_snapshots.soft_delete(gone.id)
        uow.vm_snapshots.add(make_snapshot(world.vm_admin, "admin's"))
        uow.commit()
    assert again.id == mine.id and again.max == 4
    with store(readonly=True) as uow:
        limit = uow.resource_limits.of_account("vm_snapshot", world.alice.id)
        assert limit is not None and (limit.max, limit.domain_id) == (4, None)
        domain_limit = uow.resource_limits.of_domain("vm_snapshot", world.child.id)
        assert domain_limit is not None and (domain_limit.id, domain_limit.max) == (theirs.id, 9)
        assert uow.resource_limits.of_account("vm_snapshot", world.admin.id) is None
        assert uow.resource_limits.of_domain("volume", world.child.id) is None
        assert uow.resource_limits.vm_snapshots_of_account(world.alice.id) == 3
        assert uow.resource_limits.vm_snapshots_in_domains(frozenset({world.child.id})) == 3
        assert uow.resource_limits.vm_snapshots_in_domains(frozenset({world.root.id, world.child.id})) == 4
