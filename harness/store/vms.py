"""The VMs repository: ``vm_instance`` rows, their lifecycle state and export flag."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, bindparam, or_

from harness.domain.model import VM, Page
from harness.domain.states import VM_FSM, VMState
from harness.store import tables as t
from harness.store.ports import EVERYTHING, Scope
from harness.store.repository import Repo, carrying, scoped, transit


class VMs(Repo[VM]):
    table = t.vm_instance

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
        IMMEDIATE`` (SQLAlchemy renders no ``FOR UPDATE`` there)."""
        stmt = self._cached("lock", lambda: self._live().where(self.table.c.id == bindparam("pk_")).with_for_update())
        return self._one(stmt, {"pk_": vm_id})

    def lock_uuid(self, uuid: str) -> VM | None:
        """:meth:`lock` by uuid (a job's queue key)."""
        stmt = self._cached(
            "lock_uuid", lambda: self._live().where(self.table.c.uuid == bindparam("uuid_")).with_for_update()
        )
        return self._one(stmt, {"uuid_": uuid})

    def set_instance_name(self, vm: VM, name: str) -> None:
        self._set(vm.id, instance_name=name)
        vm.instance_name = name

    def transit(self, vm: VM, event: StrEnum) -> None:
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
