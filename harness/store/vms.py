"""The VMs repository: ``vm_instance`` rows, their lifecycle state and export flag.

A workflow reads its VM several times in one transaction (the synchronous check locks it,
the job's claim and the workflow's first step lock it again, the job's result shows it):
the repository keeps the rows it read until its transaction ends, so a row is read once.
That holds because a repository lives exactly as long as its transaction
(:mod:`harness.store.uow`), every write to ``vm_instance`` goes through it (a write forgets
the row), and a row read under :meth:`VMs.lock` cannot change under the lock. A row read
without the lock is, on PostgreSQL and MariaDB, as of its first read in the transaction;
:meth:`VMs.lock` always reads it afresh (it must see the previous holder's commit).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, or_

from harness.domain.model import VM, Page
from harness.domain.states import VM_FSM, VMState
from harness.store import tables as t
from harness.store.ports import EVERYTHING, Scope
from harness.store.repository import Repo, carrying, scoped, transit


class VMs(Repo[VM]):
    table = t.vm_instance

    def __init__(self, conn: Connection, clock: Callable[[], datetime]) -> None:
        super().__init__(conn, clock)
        self._rows: dict[int, VM] = {}  # read in this transaction and not written since
        self._locked: set[int] = set()  # locked in this transaction
        self._ids: dict[str, int] = {}  # uuid -> id of the rows read

    def forget(self) -> None:
        """Drop the rows read so far (a savepoint rolled back: what it wrote and locked is gone)."""
        self._rows.clear()
        self._locked.clear()
        self._ids.clear()

    def _read(self, key: int | str, locking: bool, query: Callable[[], tuple[Select, dict[str, Any]]]) -> VM | None:
        id_ = key if isinstance(key, int) else self._ids.get(key)
        seen = self._rows.get(id_) if id_ is not None else None
        if seen is not None and (id_ in self._locked or not locking):
            return copy.copy(seen)
        vm = self._one(*query())
        if vm is not None:
            self._rows[vm.id], self._ids[vm.uuid] = copy.copy(vm), vm.id
            if locking:
                self._locked.add(vm.id)
        return vm

    def _set(self, id_: int, **values: Any) -> None:
        self._rows.pop(id_, None)
        super()._set(id_, **values)

    def get(self, id_: int) -> VM | None:
        return self._read(id_, False, lambda: (self._by("get", "id"), {"key_": id_}))

    def get_by_uuid(self, uuid: str) -> VM | None:
        return self._read(uuid, False, lambda: (self._by("get_by_uuid", "uuid"), {"key_": uuid}))

    def _by(self, name: str, column: str, locking: bool = False) -> Select:
        def build() -> Select:
            stmt = self._live().where(self.table.c[column] == bindparam("key_"))
            return stmt.with_for_update() if locking else stmt

        return self._cached(name, build)

    def _entity(self, row: Row[Any]) -> VM:
        m = row._mapping
        return VM(
            id=m["id"],
            uuid=m["uuid"],
            instance_name=m["instance_name"],
            display_name=m["display_name"],
            state=VMState(m["state"]),
            account_id=m["account_id"],
            domain_id=m["domain_id"],
            service_offering_id=m["service_offering_id"],
            zone_id=m["data_center_id"],
            host_id=m["host_id"],
            update_count=m["update_count"],
            exported=bool(m["exported"]),
            created=m["created"],
            removed=m["removed"],
            template_uuid=m["template_uuid"],
        )

    def add(self, vm: VM) -> VM:
        vm.created = vm.created or self.clock()
        vm.id = self._insert(
            {
                "uuid": vm.uuid,
                "instance_name": vm.instance_name,
                "display_name": vm.display_name,
                "state": vm.state.value,
                "account_id": vm.account_id,
                "domain_id": vm.domain_id,
                "service_offering_id": vm.service_offering_id,
                "data_center_id": vm.zone_id,
                "host_id": vm.host_id,
                "update_count": 0,
                "exported": vm.exported,
                "template_uuid": vm.template_uuid,
                "created": vm.created,
            }
        )
        return vm

    def lock(self, vm_id: int) -> VM | None:
        """The VM, its row locked until the unit of work ends (``SELECT ... FOR UPDATE``).

        Every check-then-act on a VM (allocate a snapshot, begin an operation) takes this
        first, so two managers sharing PostgreSQL or MariaDB (READ COMMITTED) run their
        checks one after the other and the second sees what the first wrote. SQLite needs
        nothing more: a writing unit of work holds its single writer lock from ``BEGIN
        IMMEDIATE`` (SQLAlchemy renders no ``FOR UPDATE`` there). A row this transaction
        locked already is not read again."""
        return self._read(vm_id, True, lambda: (self._by("lock", "id", True), {"key_": vm_id}))

    def lock_uuid(self, uuid: str) -> VM | None:
        """:meth:`lock` by uuid (a job's queue key)."""
        return self._read(uuid, True, lambda: (self._by("lock_uuid", "uuid", True), {"key_": uuid}))

    def set_instance_name(self, vm: VM, name: str) -> None:
        self._set(vm.id, instance_name=name)
        vm.instance_name = name

    def transit(self, vm: VM, event: StrEnum) -> None:
        self._rows.pop(vm.id, None)
        transit(self.conn, self.table, VM_FSM, vm, event, self.clock())

    def set_offering(self, vm: VM, offering_id: int) -> None:
        self._set(vm.id, service_offering_id=offering_id)
        vm.service_offering_id = offering_id

    def set_exported(self, vm: VM, exported: bool) -> None:
        self._set(vm.id, exported=exported)
        vm.exported = exported

    def search(
        self,
        scope: Scope = EVERYTHING,
        *,
        state: VMState | None = None,
        keyword: str | None = None,
        tagged: Sequence[tuple[str, str]] | None = None,
        page: int | None = None,
        pagesize: int | None = None,
    ) -> Page:
        """listVirtualMachines' query (never an Expunging VM): ``keyword`` a substring of
        the display or instance name, ``tagged`` the VMs carrying every (key, value); by id."""
        c = self.table.c
        stmt = scoped(self._live().where(c.state != VMState.Expunging.value), self.table, scope)
        if state is not None:
            stmt = stmt.where(c.state == state.value)
        stmt = carrying(stmt, c.id, "UserVm", tagged)
        if keyword:
            stmt = stmt.where(or_(c.display_name.contains(keyword), c.instance_name.contains(keyword)))
        return self._page(stmt, (c.id,), page, pagesize)
