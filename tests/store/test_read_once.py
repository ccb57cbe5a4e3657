"""The SQL repositories that keep what their transaction read (VM rows, configuration) on
SQLite, PostgreSQL and MariaDB: a second read of one transaction costs no statement and
hands out its own copy, a write is read back as written, a savepoint rolled back forgets
what it read, and a lock after an unlocked read reads the row afresh (it must see the commit
of the lock's previous holder)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine

from harness.domain import config
from harness.domain.states import VMEvent, VMState
from harness.store.batch import batch, tally
from harness.store.ports import UowFactory
from tests.store.test_contract_vm_snapshots import seed

MAX, WARN = config.VMSNAPSHOT_MAX, config.VMSNAPSHOT_CHAIN_WARN


class Refused(Exception):
    pass


def test_a_vm_locked_twice_in_one_transaction_is_read_once_and_each_read_is_a_copy(
    uow_factory: UowFactory, engine: Engine
) -> None:
    vm_id, vm_uuid = (vm := seed(uow_factory).vm_admin).id, vm.uuid
    with uow_factory() as uow, tally(engine) as counts:
        first = uow.vms.lock(vm_id)
        again = uow.vms.lock_uuid(vm_uuid)
        read = uow.vms.get(vm_id)
        assert counts.statements == 1
        assert first is not None and again is not None and read is not None
        first.display_name = "changed by the caller"
        assert again.display_name == read.display_name == "vm-admin"  # copies, not one object


def test_a_write_is_read_back_as_written(uow_factory: UowFactory, engine: Engine) -> None:
    vm_id = seed(uow_factory).vm_admin.id
    with uow_factory() as uow:
        vm = uow.vms.lock(vm_id)
        assert vm is not None
        uow.vms.transit(vm, VMEvent.StartRequested)
        uow.vms.set_exported(vm, True)
        fresh = uow.vms.lock(vm_id)
        assert fresh is not None
        assert (fresh.state, fresh.update_count, fresh.exported) == (VMState.Starting, 1, True)
        uow.commit()
    with uow_factory(readonly=True) as uow:
        stored = uow.vms.get(vm_id)
        assert stored is not None and (stored.state, stored.exported) == (VMState.Starting, True)


def refused(uow_factory: UowFactory, vm_id: int) -> None:
    """A unit of work that locks and writes the VM and a setting, reads them back, and is refused."""
    with uow_factory() as uow:
        vm = uow.vms.lock(vm_id)
        assert vm is not None
        uow.vms.set_exported(vm, True)
        assert uow.vms.get(vm_id).exported  # type: ignore[union-attr]
        uow.config.set(MAX, "9")
        assert uow.config.get(MAX) == "9"
        raise Refused


def test_a_savepoint_rolled_back_forgets_what_it_wrote_and_read(uow_factory: UowFactory, engine: Engine) -> None:
    vm_id = seed(uow_factory).vm_admin.id
    with batch(uow_factory):
        with uow_factory() as uow:
            uow.config.set(MAX, "7")
            uow.commit()
        with pytest.raises(Refused):  # a savepoint: the unit before it committed
            refused(uow_factory, vm_id)
        with uow_factory() as uow, tally(engine) as counts:
            again = uow.vms.lock(vm_id)
            assert again is not None and not again.exported
            assert uow.config.get(MAX) == "7"
            assert counts.statements == 2  # both read afresh: the lock may be gone with the savepoint


def test_configuration_is_read_once_per_transaction(uow_factory: UowFactory, engine: Engine) -> None:
    with uow_factory() as uow:
        uow.config.set(WARN, "12")
        uow.commit()
    with uow_factory(readonly=True) as uow, tally(engine) as counts:
        assert (uow.config.get(MAX), uow.config.get(WARN), uow.config.get(MAX)) == (MAX.default, "12", MAX.default)
        assert counts.statements == 1


def test_a_lock_after_an_unlocked_read_sees_what_another_transaction_committed(
    db_kind: str, uow_factory: UowFactory
) -> None:
    if db_kind == "sqlite":
        pytest.skip("SQLite has one writer: a writing transaction sees no other commit while it runs")
    vm_id = seed(uow_factory).vm_admin.id

    def start_elsewhere() -> None:
        with uow_factory() as uow:
            vm = uow.vms.lock(vm_id)
            assert vm is not None
            uow.vms.transit(vm, VMEvent.StartRequested)
            uow.commit()

    with uow_factory() as uow:
        before = uow.vms.get(vm_id)
        assert before is not None and before.state == VMState.Stopped
        with ThreadPoolExecutor(1) as pool:  # a thread is in no batch: its own transaction
            pool.submit(start_elsewhere).result(timeout=30)
        locked = uow.vms.lock(vm_id)
        assert locked is not None and (locked.state, locked.update_count) == (VMState.Starting, 1)
