"""What only the SQL store shows: a soft-deleted row stays in its table, two managers on
one server race through row locks, SQLite serialises its writers, the schema's unique
constraints. The behaviour both stores share is in ``test_contract*.py``."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from harness.domain.errors import ConcurrentOperation
from harness.domain.model import HypervisorCapabilities, VMSnapshot
from harness.domain.states import VMSnapshotEvent, VMSnapshotState
from harness.store import tables as t
from harness.store.ports import UowFactory
from tests.store.test_contract_vm_snapshots import World, add_snapshot, new_uuid, seed


def row_of(uow_factory: UowFactory, snap_id: int) -> tuple[str, int]:
    """``(state, update_count)`` of the row, soft-deleted or not."""
    c = t.vm_snapshots.c
    with uow_factory(readonly=True) as uow:
        assert uow._conn is not None
        state, count = uow._conn.execute(sa.select(c.state, c.update_count).where(c.id == snap_id)).one()
    return state, count


@pytest.fixture
def world(uow_factory: UowFactory) -> World:
    return seed(uow_factory)


def test_a_soft_deleted_row_stays_marked_removed(uow_factory: UowFactory, world: World) -> None:
    gone = add_snapshot(uow_factory, world.vm_alice, "gone", state=VMSnapshotState.Ready)
    with uow_factory() as uow:
        uow.vm_snapshots.soft_delete(gone.id)
        uow.commit()
    c = t.vm_snapshots.c
    with uow_factory(readonly=True) as uow:
        assert uow._conn is not None
        removed = uow._conn.execute(sa.select(c.removed).where(c.id == gone.id)).scalar_one()
    assert removed is not None  # the row stays, marked removed


@pytest.mark.parametrize(
    "db_kind",
    [pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("mysql", marks=pytest.mark.mysql)],
    indirect=True,
)
def test_two_managers_race_and_the_second_commit_loses(uow_factory: UowFactory, world: World) -> None:
    """Two transactions read the same row; A updates it, B's update waits on A's row lock
    and, once A commits, matches no row: B gets ConcurrentOperation, A's change stands."""
    snap = add_snapshot(uow_factory, world.vm_alice, "s1", state=VMSnapshotState.Ready)
    outcome: list[BaseException | None] = []

    with uow_factory() as a, uow_factory() as b:
        mine, theirs = a.vm_snapshots.get(snap.id), b.vm_snapshots.get(snap.id)
        assert mine is not None
        assert theirs is not None
        a.vm_snapshots.transit(mine, VMSnapshotEvent.RevertRequested)  # A holds the row lock

        def b_writes() -> None:
            try:
                b.vm_snapshots.transit(theirs, VMSnapshotEvent.ExpungeRequested)
                b.commit()
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)

        racer = threading.Thread(target=b_writes)
        racer.start()
        time.sleep(0.3)
        assert racer.is_alive(), "B should be blocked on A's row lock"
        a.commit()
        racer.join(timeout=30)

    assert len(outcome) == 1
    assert isinstance(outcome[0], ConcurrentOperation)
    assert (theirs.state, theirs.update_count) == (VMSnapshotState.Ready, 0)
    assert row_of(uow_factory, snap.id) == ("Reverting", 1)


def test_sqlite_writers_are_serialised(sqlite_engine: Engine) -> None:
    """On SQLite a writing unit of work takes the write lock at BEGIN (IMMEDIATE): a second
    writer waits, then reads the first one's result, so it never works on a stale row."""
    from harness.store.uow import uow_factory as make_factory

    factory = make_factory(sqlite_engine)
    w = seed(factory)
    snap = add_snapshot(factory, w.vm_alice, "s1", state=VMSnapshotState.Ready)
    seen: list[VMSnapshot | None] = []

    with factory() as a:
        mine = a.vm_snapshots.get(snap.id)
        assert mine is not None
        a.vm_snapshots.transit(mine, VMSnapshotEvent.RevertRequested)

        def b_reads() -> None:
            with factory() as b:
                seen.append(b.vm_snapshots.get(snap.id))

        racer = threading.Thread(target=b_reads)
        racer.start()
        time.sleep(0.3)
        assert racer.is_alive(), "B should wait for A's write lock"
        assert not seen
        a.commit()
    racer.join(timeout=30)

    assert seen[0] is not None
    assert (seen[0].state, seen[0].update_count) == (VMSnapshotState.Reverting, 1)


def test_one_capability_row_per_type_and_version(uow_factory: UowFactory, world: World) -> None:
    with uow_factory() as uow:
        uow.capabilities.add(HypervisorCapabilities(0, new_uuid(), "Hyperv", "default", 1024, 64, True))
        uow.commit()
    with uow_factory() as uow, pytest.raises(sa.exc.IntegrityError):
        uow.capabilities.add(HypervisorCapabilities(0, new_uuid(), "Hyperv", "default", 1, 1, False))
