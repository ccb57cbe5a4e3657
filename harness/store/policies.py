"""Repositories for recurring VM snapshot policies and resource limits.

Policies are deleted for real (CloudStack deletes ``snapshot_policy`` rows), which lets the
database keep ``vm_id`` unique: one policy per VM even with two managers on one database.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from harness.domain.errors import InvalidParameterValue
from harness.domain.model import VMSnapshot
from harness.domain.policy import IntervalType, ResourceLimit, VMSnapshotPolicy
from harness.store import tables as t
from harness.store.ports import Scope
from harness.store.repository import Repo, scoped

_INTERVALS = {k.value: k for k in IntervalType}


class VMSnapshotPolicies(Repo[VMSnapshotPolicy]):
    table = t.vm_snapshot_policy

    def _live(self) -> Select:
        return select(self.table)  # no soft delete: a deleted policy's row is gone

    def _entity(self, row: Row[Any]) -> VMSnapshotPolicy:
        m = row._mapping
        return VMSnapshotPolicy(
            id=m["id"],
            uuid=m["uuid"],
            vm_id=m["vm_id"],
            account_id=m["account_id"],
            domain_id=m["domain_id"],
            interval=_INTERVALS[m["interval_type"]],
            schedule=m["schedule"],
            timezone=m["timezone"],
            max_snaps=m["max_snaps"],
            memory=bool(m["snapshot_memory"]),
            quiesce=bool(m["quiesce_vm"]),
            next_run=m["next_run"],
            last_run=m["last_run"],
            created=m["created"],
        )

    def add(self, p: VMSnapshotPolicy) -> VMSnapshotPolicy:
        p.created = p.created or self.clock()
        try:
            with self.conn.begin_nested():
                p.id = self._insert(
                    {
                        "uuid": p.uuid,
                        "vm_id": p.vm_id,
                        "account_id": p.account_id,
                        "domain_id": p.domain_id,
                        "interval_type": p.interval.value,
                        "schedule": p.schedule,
                        "timezone": p.timezone,
                        "max_snaps": p.max_snaps,
                        "snapshot_memory": p.memory,
                        "quiesce_vm": p.quiesce,
                        "next_run": p.next_run,
                        "last_run": p.last_run,
                        "created": p.created,
                    }
                )
        except IntegrityError:  # another manager gave the VM a policy first
            raise InvalidParameterValue("The Instance already has a VM snapshot policy") from None
        return p

    def save(self, p: VMSnapshotPolicy) -> None:
        """Write every mutable field of ``p``."""
        self._set(
            p.id,
            interval_type=p.interval.value,
            schedule=p.schedule,
            timezone=p.timezone,
            max_snaps=p.max_snaps,
            snapshot_memory=p.memory,
            quiesce_vm=p.quiesce,
            next_run=p.next_run,
            last_run=p.last_run,
        )

    def advance(self, p: VMSnapshotPolicy, next_run: datetime, last_run: datetime | None = None) -> bool:
        """Move ``next_run`` on, compare-and-swap on the old value: False when another
        scheduler (another manager on the same database) took this run first."""
        c = self.table.c
        stmt = self._cached(
            "advance", lambda: update(self.table).where(c.id == bindparam("pk_"), c.next_run == bindparam("old_"))
        )
        values: dict[str, Any] = {"next_run": next_run, "last_run": last_run if last_run is not None else p.last_run}
        if self.conn.execute(stmt, {**values, "pk_": p.id, "old_": p.next_run}).rowcount != 1:
            return False
        p.next_run = next_run
        if last_run is not None:
            p.last_run = last_run
        return True

    def remove(self, policy_id: int) -> None:
        self.conn.execute(delete(self.table).where(self.table.c.id == policy_id))

    def of_vm(self, vm_id: int) -> VMSnapshotPolicy | None:
        c = self.table.c
        stmt = self._cached("of_vm", lambda: self._live().where(c.vm_id == bindparam("vm_id_")))
        return self._one(stmt, {"vm_id_": vm_id})

    def due(self, now: datetime) -> list[VMSnapshotPolicy]:
        c = self.table.c
        stmt = self._cached(
            "due", lambda: self._live().where(c.next_run <= bindparam("now_")).order_by(c.next_run, c.id)
        )
        return self._all(stmt, {"now_": now})

    def earliest(self) -> datetime | None:
        """When the next policy is due (``None``: no policy)."""
        stmt = self._cached("earliest", lambda: select(func.min(self.table.c.next_run)))
        value: datetime | None = self.conn.execute(stmt).scalar()
        return value

    def search(
        self, scope: Scope, ids: Iterable[int] | None = None, vm_id: int | None = None
    ) -> list[VMSnapshotPolicy]:
        c = self.table.c
        stmt = scoped(self._live(), self.table, scope)
        if ids is not None:
            stmt = stmt.where(c.id.in_(list(ids)))
        if vm_id is not None:
            stmt = stmt.where(c.vm_id == vm_id)
        return self._all(stmt.order_by(c.id))

    # ------------------------------------------------------------------ scheduled snapshots

    def tag(self, snapshot_id: int, policy_id: int, vm_id: int) -> None:
        """Mark a snapshot as taken by ``policy_id``."""
        stmt = self._cached("tag", lambda: insert(t.vm_snapshot_policy_ref))
        self.conn.execute(stmt, {"vm_snapshot_id": snapshot_id, "policy_id": policy_id, "vm_id": vm_id})

    def snapshots(self, policy_id: int, vm_id: int) -> list[VMSnapshot]:
        """The live snapshots ``policy_id`` took of the VM, oldest first."""
        from harness.store.vmsnapshots import VMSnapshots

        r, s = t.vm_snapshot_policy_ref.c, t.vm_snapshots.c
        repo = VMSnapshots(self.conn, self.clock)
        stmt = self._cached(
            "snapshots",
            lambda: (
                select(t.vm_snapshots)
                .join(t.vm_snapshot_policy_ref, r.vm_snapshot_id == s.id)
                .where(r.policy_id == bindparam("policy_"), r.vm_id == bindparam("vm_"), s.removed.is_(None))
                .order_by(s.created, s.id)
            ),
        )
        return repo._all(stmt, {"policy_": policy_id, "vm_": vm_id})

    def scheduled_ids(self, vm_id: int) -> set[int]:
        """Ids of the VM's snapshots (live or not) that any policy took."""
        r = t.vm_snapshot_policy_ref.c
        return set(self.conn.execute(select(r.vm_snapshot_id).where(r.vm_id == vm_id)).scalars())


class ResourceLimits(Repo[ResourceLimit]):
    table = t.resource_limit

    def _live(self) -> Select:
        return select(self.table)

    def _entity(self, row: Row[Any]) -> ResourceLimit:
        m = row._mapping
        return ResourceLimit(m["id"], m["type"], m["max"], m["account_id"], m["domain_id"])

    def of_account(self, type_: str, account_id: int) -> ResourceLimit | None:
        c = self.table.c
        return self._one(self._live().where(c.type == type_, c.account_id == account_id))

    def of_domain(self, type_: str, domain_id: int) -> ResourceLimit | None:
        c = self.table.c
        return self._one(self._live().where(c.type == type_, c.domain_id == domain_id, c.account_id.is_(None)))

    def put(self, type_: str, max_: int, account_id: int | None = None, domain_id: int | None = None) -> ResourceLimit:
        """Set the limit of an account (``account_id``) or a domain (``domain_id`` only)."""
        found = self.of_account(type_, account_id) if account_id is not None else None
        if account_id is None and domain_id is not None:
            found = self.of_domain(type_, domain_id)
        if found is not None:
            self.conn.execute(update(self.table).where(self.table.c.id == found.id).values(max=max_))
            found.max = max_
            return found
        new_id = self._insert(
            {
                "type": type_,
                "max": max_,
                "account_id": account_id,
                "domain_id": None if account_id is not None else domain_id,
            }
        )
        return ResourceLimit(new_id, type_, max_, account_id, None if account_id is not None else domain_id)

    # ------------------------------------------------------------------ usage

    def vm_snapshots_of_account(self, account_id: int) -> int:
        s = t.vm_snapshots.c
        stmt = select(func.count()).where(s.account_id == account_id, s.removed.is_(None))
        return int(self.conn.execute(stmt).scalar_one())

    def vm_snapshots_in_domains(self, domain_ids: frozenset[int]) -> int:
        s = t.vm_snapshots.c
        stmt = select(func.count()).where(s.domain_id.in_(list(domain_ids)), s.removed.is_(None))
        return int(self.conn.execute(stmt).scalar_one())
