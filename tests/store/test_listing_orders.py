"""listVMSnapshot's pages of a large listing: the ordered ids kept once per process for a
SQLite file (``ListingOrders``) never answer a page that differs from counting and paging in
SQL, whoever wrote in between (this engine's pool, another engine on the same file, another
process), and tags and filters still narrow the kept listing. On the servers the same tests
check the plain SQL paging."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import Engine, event

from harness.domain.model import Page
from harness.domain.states import LISTED_VM_SNAPSHOT_STATES, VMSnapshotEvent, VMSnapshotState
from harness.store import uow as store_uow
from harness.store.listing_orders import LISTING_ORDERS, ListingOrders
from harness.store.repository import Scope
from harness.store.uow import UowFactory
from tests.store.test_contract_vm_snapshots import T0, World, make_snapshot, seed

LISTED = sorted(LISTED_VM_SNAPSHOT_STATES)


@pytest.fixture(autouse=True)
def small_listings_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ListingOrders, "MIN_ROWS", 5)


def fill(uow_factory: UowFactory, world: World, count: int, start: int = 0) -> list[int]:
    with uow_factory() as uow:
        made = [
            uow.vm_snapshots.add(make_snapshot(world.vm_admin, f"s{i}", created=T0 + timedelta(seconds=i)))
            for i in range(start, start + count)
        ]
        uow.commit()
    return [s.id for s in made]


def page(uow_factory: UowFactory, number: int, size: int = 4, **filters: object) -> tuple[int, list[int]]:
    with uow_factory(readonly=True) as uow:
        found: Page = uow.vm_snapshots.search(
            Scope(),
            states=LISTED,
            page=number,
            pagesize=size,
            **filters,  # type: ignore[arg-type]
        )
        return found.count, [s.id for s in found.items]


def newest_first(ids: list[int]) -> list[int]:
    return sorted(ids, reverse=True)  # created grows with the id here


def test_pages_match_sql_paging_and_follow_every_writer(engine: Engine, uow_factory: UowFactory) -> None:
    world = seed(uow_factory)
    ids = fill(uow_factory, world, 10)
    assert page(uow_factory, 1) == (10, newest_first(ids)[:4])
    assert page(uow_factory, 3) == (10, newest_first(ids)[8:])
    assert page(uow_factory, 4) == (10, [])

    ids += fill(uow_factory, world, 1, start=10)  # this engine's pool wrote
    assert page(uow_factory, 1) == (11, newest_first(ids)[:4])

    other = store_uow.make_engine(engine.url.render_as_string(hide_password=False))
    try:
        ids += fill(store_uow.uow_factory(other), world, 1, start=11)  # another engine on the same database
    finally:
        other.dispose()
    assert page(uow_factory, 1) == (12, newest_first(ids)[:4])

    with uow_factory() as uow:  # one leaves the listing (deleted), one changes state
        gone = uow.vm_snapshots.get(ids[0])
        assert gone is not None
        uow.vm_snapshots.soft_delete(gone.id)
        moved = uow.vm_snapshots.get(ids[1])
        assert moved is not None
        uow.vm_snapshots.transit(moved, VMSnapshotEvent.CreateRequested)
        uow.commit()
    assert page(uow_factory, 3) == (11, newest_first(ids[1:])[8:])


def test_another_process_s_commit_voids_a_kept_listing(sqlite_engine: Engine) -> None:
    engine, uow_factory = sqlite_engine, store_uow.uow_factory(sqlite_engine)  # kept listings are SQLite's
    world = seed(uow_factory)
    ids = fill(uow_factory, world, 10)
    assert page(uow_factory, 1) == (10, newest_first(ids)[:4])
    # The newest snapshot leaves the listing through a bare sqlite3 in another process.
    script = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
    script += "c.execute('UPDATE vm_snapshots SET removed = created WHERE id = ?', (int(sys.argv[2]),)); c.commit()"
    subprocess.run([sys.executable, "-c", script, str(engine.url.database), str(max(ids))], check=True)
    assert page(uow_factory, 1) == (9, newest_first(ids)[1:5])


def test_a_kept_listing_pages_without_count_or_offset(sqlite_engine: Engine) -> None:
    engine, uow_factory = sqlite_engine, store_uow.uow_factory(sqlite_engine)  # kept listings are SQLite's
    world = seed(uow_factory)
    ids = fill(uow_factory, world, 10)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert page(uow_factory, 1) == (10, newest_first(ids)[:4])  # counted, then kept
    assert any("count(" in sql for sql in statements)
    statements.clear()
    assert page(uow_factory, 2) == (10, newest_first(ids)[4:8])
    assert page(uow_factory, 3) == (10, newest_first(ids)[8:])
    assert not [sql for sql in statements if "count(" in sql or "OFFSET" in sql]


def test_filters_and_tags_narrow_a_kept_listing(uow_factory: UowFactory) -> None:
    world = seed(uow_factory)
    ids = fill(uow_factory, world, 8)
    assert page(uow_factory, 1, size=20)[0] == 8
    with uow_factory(readonly=True) as uow:
        creating = uow.vm_snapshots.search(Scope(), states=[VMSnapshotState.Creating], page=1, pagesize=20)
        by_uuid = uow.vm_snapshots.search(Scope(), uuids=[], page=1, pagesize=20)
        tagged = uow.vm_snapshots.search(Scope(), tagged=[("env", "prod")], page=1, pagesize=20)
        own = uow.vm_snapshots.search(Scope(account_id=world.alice.id), page=1, pagesize=20)
    assert (creating.count, by_uuid.count, tagged.count, own.count) == (0, 0, 0, 0)
    assert page(uow_factory, 2, size=5) == (8, newest_first(ids)[5:])


def test_no_order_is_kept_for_a_writing_unit_of_work(uow_factory: UowFactory) -> None:
    world = seed(uow_factory)
    fill(uow_factory, world, 6)
    with uow_factory() as uow:
        assert not LISTING_ORDERS.keeps(uow.vm_snapshots.conn)


def test_ancestry_reads_a_page_s_parents_up_to_the_root(uow_factory: UowFactory) -> None:
    world = seed(uow_factory)
    root, middle, leaf, other = fill(uow_factory, world, 4)
    with uow_factory() as uow:
        for child, parent in ((middle, root), (leaf, middle)):
            snap = uow.vm_snapshots.get(child)
            assert snap is not None
            uow.vm_snapshots.set_parent(snap, parent)
        uow.commit()
    with uow_factory(readonly=True) as uow:
        found = uow.vm_snapshots.ancestry([leaf, other])
    assert {i: parent for i, (parent, _, _) in found.items()} == {leaf: middle, middle: root, root: None, other: None}
    assert found[middle][2] == "s1"


def test_a_listing_whose_observer_was_closed_is_paged_in_sql(sqlite_engine: Engine) -> None:
    uow_factory = store_uow.uow_factory(sqlite_engine)
    world = seed(uow_factory)
    ids = fill(uow_factory, world, 10)
    assert page(uow_factory, 1) == (10, newest_first(ids)[:4])  # counted: kept from now on
    for observer in list(LISTING_ORDERS._observers.values()):
        observer.raw.close()  # as when more files are observed than kept open
    assert page(uow_factory, 2) == (10, newest_first(ids)[4:8])
