"""The unit of work and its ports, on every store: both stores bind a repository with every
method of each port, a unit of work left without commit changes nothing, entities handed
out are copies, ids count per table, ``transit`` is a compare-and-swap that logs, listings
hide removed rows and page, a keyword is a literal substring. Text matching of the memory
store follows SQLite's ``LIKE``."""

from __future__ import annotations

import inspect
import logging
from datetime import datetime
from typing import Any

import pytest

from harness.domain.config import VMSNAPSHOT_MAX
from harness.domain.errors import ConcurrentOperation
from harness.domain.model import VM, VMSnapshot
from harness.domain.states import InvalidTransition, VMSnapshotEvent, VMSnapshotState, VMSnapshotType
from harness.service import accounts
from harness.store.memory_tables import like
from harness.store.ports import Scope, UnitOfWork, UowFactory
from tests.store.conftest import NOW
from tests.store.test_contract_vm_snapshots import add_vm

PORTS = inspect.get_annotations(UnitOfWork, eval_str=True)
REPOSITORY_PORTS = {name: port for name, port in PORTS.items() if name not in ("clock", "readonly")}


@pytest.fixture
def factory(store: UowFactory) -> UowFactory:
    accounts.bootstrap(store)
    return store


def _snap(vm: VM, name: str = "s", **kw: Any) -> VMSnapshot:
    values: dict[str, Any] = {
        "id": 0,
        "uuid": f"uuid-{name}",
        "name": name,
        "display_name": name,
        "description": None,
        "vm_id": vm.id,
        "account_id": vm.account_id,
        "domain_id": vm.domain_id,
        "service_offering_id": vm.service_offering_id,
        "type": VMSnapshotType.Disk,
        "state": VMSnapshotState.Allocated,
    }
    values.update(kw)
    return VMSnapshot(**values)


def _methods(port: type) -> set[str]:
    return {n for c in inspect.getmro(port) for n, v in vars(c).items() if inspect.isfunction(v) and n[0] != "_"}


def test_every_port_is_served_with_all_its_methods(store: UowFactory) -> None:
    with store(readonly=True) as uow:
        for name, port in REPOSITORY_PORTS.items():
            repository = getattr(uow, name)
            missing = {m for m in _methods(port) if not callable(getattr(repository, m, None))}
            assert missing == set(), f"{type(repository).__name__} lacks {sorted(missing)} of {port.__name__}"


def test_leaving_without_commit_undoes_every_write(factory: UowFactory) -> None:
    vm = _vm(factory)
    with factory() as uow:
        snap = uow.vm_snapshots.add(_snap(vm, details={"a": "1"}))
        uow.vm_snapshots.transit(snap, VMSnapshotEvent.CreateRequested)
        uow.vm_snapshots.set_details(snap.id, {"b": "2"})
        uow.config.set(VMSNAPSHOT_MAX, "3")
    with factory(readonly=True) as uow:
        assert uow.vm_snapshots.get_by_uuid("uuid-s") is None
        assert uow.vm_snapshots.search().count == 0
        assert uow.config.get(VMSNAPSHOT_MAX) == VMSNAPSHOT_MAX.default


def test_rollback_inside_the_block_undoes_what_came_before(factory: UowFactory) -> None:
    vm = _vm(factory)
    with factory() as uow:
        uow.vm_snapshots.add(_snap(vm, name="kept"))
        uow.commit()
        uow.vm_snapshots.add(_snap(vm, name="undone"))
        uow.rollback()
    with factory(readonly=True) as uow:
        assert [s.name for s in uow.vm_snapshots.by_vm(vm.id)] == ["kept"]


def test_commit_keeps_writes_and_ids_count_per_table(factory: UowFactory, store_kind: str) -> None:
    vm = _vm(factory)
    with factory() as uow:
        first = uow.vm_snapshots.add(_snap(vm, name="a"))
        uow.commit()
    with factory() as uow:
        rolled = uow.vm_snapshots.add(_snap(vm, name="b"))
    with factory() as uow:
        again = uow.vm_snapshots.add(_snap(vm, name="c"))
        uow.commit()
        assert uow.vm_snapshots.get(first.id) is not None
        assert uow.vm_snapshots.get_by_uuid("uuid-b") is None
    assert first.id < rolled.id <= again.id
    if store_kind in ("memory", "sqlite"):  # a server's sequence does not hand an id back
        assert (first.id, rolled.id, again.id) == (1, 2, 2)  # a rollback frees its id, as SQLite


def test_entities_are_copies(factory: UowFactory) -> None:
    vm = _vm(factory)
    with factory() as uow:
        snap = uow.vm_snapshots.add(_snap(vm))
        snap.name = "changed by the caller"
        fetched = uow.vm_snapshots.get(snap.id)
        assert fetched is not None and fetched.name == "s"
        fetched.state = VMSnapshotState.Ready
        fetched.details["x"] = "y"
        again = uow.vm_snapshots.get(snap.id)
        assert again is not None and again.state == VMSnapshotState.Allocated and again.details == {}


def test_transit_is_a_compare_and_swap(factory: UowFactory, caplog: pytest.LogCaptureFixture) -> None:
    vm = _vm(factory)
    with factory() as uow:
        snap = uow.vm_snapshots.add(_snap(vm))
        stale = uow.vm_snapshots.get(snap.id)
        assert stale is not None
        with caplog.at_level(logging.INFO, logger="hvsnap.transitions"):
            uow.vm_snapshots.transit(snap, VMSnapshotEvent.CreateRequested)
        assert "Allocated -[CreateRequested]-> Creating" in caplog.text
        assert (snap.state, snap.update_count) == (VMSnapshotState.Creating, 1)
        with pytest.raises(ConcurrentOperation):
            uow.vm_snapshots.transit(stale, VMSnapshotEvent.CreateRequested)
        with pytest.raises(InvalidTransition):
            uow.vm_snapshots.transit(snap, VMSnapshotEvent.RevertRequested)
        stored = uow.vm_snapshots.get(snap.id)
        assert stored is not None and stored.updated == NOW and stored.update_count == 1


def test_search_hides_removed_rows_orders_newest_first_and_pages(factory: UowFactory) -> None:
    vm = _vm(factory)
    with factory() as uow:
        made = [uow.vm_snapshots.add(_snap(vm, name=f"n{i}", created=datetime(2024, 1, 1, 0, i))) for i in range(5)]
        uow.vm_snapshots.soft_delete(made[1].id)
        account_id = vm.account_id
        page = uow.vm_snapshots.search(Scope(account_id=account_id), page=2, pagesize=2)
        assert page.count == 4 and [s.name for s in page.items] == ["n2", "n0"]
        assert uow.vm_snapshots.search(Scope(account_id=account_id + 99)).count == 0


def test_keyword_is_a_literal_case_insensitive_substring(factory: UowFactory, store_kind: str) -> None:
    vm = _vm(factory)
    with factory() as uow:
        uow.vm_snapshots.add(_snap(vm, name="a_1", description="50% Done"))
        uow.vm_snapshots.add(_snap(vm, name="ab1"))
        assert [s.name for s in uow.vm_snapshots.search(keyword="a_").items] == ["a_1"]
        assert [s.name for s in uow.vm_snapshots.search(keyword="0%").items] == ["a_1"]
        if store_kind != "postgres":  # PostgreSQL's LIKE is case-sensitive
            assert [s.name for s in uow.vm_snapshots.search(keyword="A_").items] == ["a_1"]


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [("%ab%", "xABy", True), ("a_c", "abc", True), ("a_c", "ac", False), ("%é%", "É", False), ("/a/%", "/a/b/", True)],
)
def test_memory_like_follows_sqlite(pattern: str, value: str, matches: bool) -> None:
    assert like(pattern)(value) is matches


def _vm(factory: UowFactory) -> VM:
    """A VM of the bootstrapped admin (what a snapshot row's foreign keys need)."""
    with factory() as uow:
        admin = uow.accounts.by_name("admin")
        assert admin is not None
        offering = uow.offerings.all()[0]
        zone = uow.zones.all()[0]
        vm = add_vm(uow, admin, offering, zone, "vm")
        uow.commit()
    return vm
