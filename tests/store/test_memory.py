"""The in-memory store (harness.store.memory): what the service tests cannot see directly.

The service suite runs on both stores (tests/service/conftest.py); these tests pin the
contract underneath: every SQL repository method has a memory twin, a unit of work left
without commit changes nothing, entities handed out are copies, ids count per table and are
freed by a rollback, transit is a compare-and-swap, and text matching follows SQLite.
"""

from __future__ import annotations

import inspect
import logging
from datetime import datetime
from typing import Any

import pytest

from harness.domain.errors import ConcurrentOperation
from harness.domain.model import VMSnapshot
from harness.domain.states import InvalidTransition, VMSnapshotEvent, VMSnapshotState, VMSnapshotType
from harness.service import accounts
from harness.store.memory import REPOSITORIES, memory_uow_factory
from harness.store.memory_tables import MemoryRepo, like
from harness.store.repository import Scope
from harness.store.uow import UnitOfWork

NOW = datetime(2024, 1, 1, 12, 0, 0)


@pytest.fixture
def factory() -> Any:
    f = memory_uow_factory(lambda: NOW)
    accounts.bootstrap(f)
    return f


def _snap(vm_id: int = 1, name: str = "s", **kw: Any) -> VMSnapshot:
    values: dict[str, Any] = {
        "id": 0,
        "uuid": f"uuid-{name}",
        "name": name,
        "display_name": name,
        "description": None,
        "vm_id": vm_id,
        "account_id": 1,
        "domain_id": 1,
        "service_offering_id": 1,
        "type": VMSnapshotType.Disk,
        "state": VMSnapshotState.Allocated,
    }
    values.update(kw)
    return VMSnapshot(**values)


@pytest.mark.parametrize("attribute", sorted(REPOSITORIES))
def test_every_sql_method_has_a_memory_twin(attribute: str) -> None:
    memory = REPOSITORIES[attribute]
    sql = inspect.get_annotations(UnitOfWork, eval_str=True)[attribute]
    assert issubclass(memory, sql)  # type: ignore[arg-type]
    public = {n for n, v in inspect.getmembers(sql, inspect.isfunction) if not n.startswith("_")}
    twins = {n for c in inspect.getmro(memory) if c in (memory, MemoryRepo) for n in vars(c)}
    assert public - twins == set(), f"{memory.__name__} inherits SQL methods"


def test_leaving_without_commit_undoes_every_write(factory: Any) -> None:
    before = factory.store.dump()
    with factory() as uow:
        snap = uow.vm_snapshots.add(_snap(details={"a": "1"}))
        uow.vm_snapshots.transit(snap, VMSnapshotEvent.CreateRequested)
        uow.vm_snapshots.set_details(snap.id, {"b": "2"})
        uow.config.set(accounts.config.VMSNAPSHOT_MAX, "3")
        uow.vm_snapshot_policies.tag(snap.id, 7, 1)
    assert factory.store.dump() == before


def test_commit_keeps_writes_and_ids_count_per_table(factory: Any) -> None:
    with factory() as uow:
        first = uow.vm_snapshots.add(_snap(name="a"))
        uow.commit()
    with factory() as uow:
        rolled = uow.vm_snapshots.add(_snap(name="b"))
    with factory() as uow:
        again = uow.vm_snapshots.add(_snap(name="c"))
        uow.commit()
        assert uow.vm_snapshots.get(first.id) is not None
        assert uow.vm_snapshots.get_by_uuid("uuid-b") is None
    assert (first.id, rolled.id, again.id) == (1, 2, 2)  # a rollback frees its id, as SQLite


def test_entities_are_copies(factory: Any) -> None:
    with factory() as uow:
        snap = uow.vm_snapshots.add(_snap())
        snap.name = "changed by the caller"
        fetched = uow.vm_snapshots.get(snap.id)
        assert fetched is not None and fetched.name == "s"
        fetched.state = VMSnapshotState.Ready
        fetched.details["x"] = "y"
        again = uow.vm_snapshots.get(snap.id)
        assert again is not None and again.state == VMSnapshotState.Allocated and again.details == {}


def test_transit_is_a_compare_and_swap(factory: Any, caplog: pytest.LogCaptureFixture) -> None:
    with factory() as uow:
        snap = uow.vm_snapshots.add(_snap())
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


def test_search_hides_removed_rows_orders_newest_first_and_pages(factory: Any) -> None:
    with factory() as uow:
        for i in range(5):
            uow.vm_snapshots.add(_snap(name=f"n{i}", created=datetime(2024, 1, 1, 0, i)))
        uow.vm_snapshots.soft_delete(2)
        page = uow.vm_snapshots.search(Scope(account_id=1), page=2, pagesize=2)
        assert page.count == 4 and [s.name for s in page.items] == ["n2", "n0"]
        assert uow.vm_snapshots.search(Scope(account_id=99)).count == 0


def test_keyword_is_a_literal_case_insensitive_substring(factory: Any) -> None:
    with factory() as uow:
        uow.vm_snapshots.add(_snap(name="A_1", description="50% Done"))
        uow.vm_snapshots.add(_snap(name="AB1"))
        assert [s.name for s in uow.vm_snapshots.search(keyword="a_").items] == ["A_1"]
        assert [s.name for s in uow.vm_snapshots.search(keyword="0%").items] == ["A_1"]


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [("%ab%", "xABy", True), ("a_c", "abc", True), ("a_c", "ac", False), ("%é%", "É", False), ("/a/%", "/a/b/", True)],
)
def test_like_follows_sqlite(pattern: str, value: str, matches: bool) -> None:
    assert like(pattern)(value) is matches
