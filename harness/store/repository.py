"""Repositories for the stateful entities: VM snapshots, VMs, volumes, volume snapshots.

Each maps rows to the plain domain classes with SQLAlchemy Core (the ORM costs about six
times more per transaction here; reference/tooling.md §4). Finders skip soft-deleted rows.
:func:`transit` is the one function that changes a ``state`` column.

The statements of the hot paths are built once (:meth:`Repo._cached`, :func:`cached`) with
``bindparam`` placeholders and executed with parameters: building a ``select()`` and
computing its cache key costs more than SQLite takes to run it (``benchmarks/core.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from operator import itemgetter
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Row, Select, Table, bindparam, func, insert, or_, select, update

from harness.domain.model import VM, Page, SnapshotBrief, VMSnapshot, Volume, VolumeSnapshot, VolumeType
from harness.domain.states import (
    ACTIVE_VOLUME_SNAPSHOT_STATES,
    VM_FSM,
    VM_SNAPSHOT_FSM,
    VOLUME_SNAPSHOT_FSM,
    StateMachine,
    VMSnapshotState,
    VMSnapshotType,
    VMState,
    VolumeSnapshotState,
)
from harness.store import tables as t
from harness.store import transitions

log = logging.getLogger("hvsnap.transitions")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Scope:
    """Which owners a caller may see: ``None`` fields mean no restriction."""

    account_id: int | None = None
    domain_ids: frozenset[int] | None = None

    def apply(self, stmt: Select, table: Table) -> Select:
        if self.account_id is not None:
            stmt = stmt.where(table.c.account_id == self.account_id)
        if self.domain_ids is not None:
            stmt = stmt.where(table.c.domain_id.in_(self.domain_ids))
        return stmt


EVERYTHING = Scope()

_STATEMENTS: dict[tuple[str, ...], Any] = {}


def cached(key: tuple[str, ...], build: Callable[[], Any]) -> Any:
    """The statement stored under ``key``, built by ``build()`` on first use. Statements are
    immutable and dialect-free, so one object serves every engine and thread."""
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = build()
    return stmt


class Repo(Generic[T]):
    """Shared plumbing: a connection, a clock, a table and a row mapper."""

    table: Table

    def __init__(self, conn: Connection, clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock

    def _entity(self, row: Row[Any]) -> T:
        raise NotImplementedError

    def _cached(self, key: str, build: Callable[[], Any]) -> Any:
        """A statement of this repository built once (keyed by class: a subclass may
        override :meth:`_live`)."""
        return cached((type(self).__qualname__, key), build)

    def _one(self, stmt: Select, params: dict[str, Any] | None = None) -> T | None:
        row = self.conn.execute(stmt, params).first()
        return None if row is None else self._entity(row)

    def _all(self, stmt: Select, params: dict[str, Any] | None = None) -> list[T]:
        result = self.conn.execute(stmt, params)
        entity = self._entity_for(tuple(result.keys()))
        return [entity(r) for r in result]

    def _entity_for(self, keys: tuple[str, ...]) -> Callable[[Row[Any]], T]:
        """The row mapper for a result whose columns are ``keys``: :meth:`_entity` unless a
        repository that lists many rows has a faster one."""
        return self._entity

    def _live(self) -> Select:
        return select(self.table).where(self.table.c.removed.is_(None))

    def _insert(self, values: dict[str, Any]) -> int:
        result = self.conn.execute(self._cached("insert", lambda: insert(self.table)), values)
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def _set(self, id_: int, **values: Any) -> None:
        stmt = self._cached("set", lambda: update(self.table).where(self.table.c.id == bindparam("pk_")))
        self.conn.execute(stmt, {**values, "pk_": id_})

    def get(self, id_: int) -> T | None:
        stmt = self._cached("get", lambda: self._live().where(self.table.c.id == bindparam("pk_")))
        return self._one(stmt, {"pk_": id_})

    def get_by_uuid(self, uuid: str) -> T | None:
        stmt = self._cached("get_by_uuid", lambda: self._live().where(self.table.c.uuid == bindparam("uuid_")))
        return self._one(stmt, {"uuid_": uuid})

    def soft_delete(self, id_: int) -> None:
        self._set(id_, removed=self.clock())

    def _page(self, stmt: Select, order: Any, page: int | None, pagesize: int | None) -> Page:
        """One page of ``stmt`` (a ``select(table)``) and the count before paging."""
        count = self.conn.execute(stmt.with_only_columns(func.count(), maintain_column_froms=True)).scalar_one()
        if not pagesize:
            return Page(count=count, items=self._all(stmt.order_by(*order)))
        # A deferred join: the page's ids come off the index alone, then only those rows
        # are read (an OFFSET deep into a large table otherwise reads every row it skips).
        id_ = self.table.c.id
        ids = list(
            self.conn.execute(
                stmt.with_only_columns(id_).order_by(*order).limit(pagesize).offset(((page or 1) - 1) * pagesize)
            ).scalars()
        )
        if not ids:
            return Page(count=count, items=[])
        rows = {r.id: r for r in self._all(select(self.table).where(id_.in_(ids)))}  # type: ignore[attr-defined]
        return Page(count=count, items=[rows[i] for i in ids])


def transit(
    conn: Connection,
    table: Table,
    fsm: StateMachine[Any, Any],
    entity: Any,
    event: StrEnum,
    now: datetime,
    state_column: str = "state",
) -> None:
    """Apply ``event`` to ``entity`` as a compare-and-swap on ``(state, update_count)``.

    Raises ``InvalidTransition`` when the state machine forbids it and
    :class:`ConcurrentOperation` when another writer moved the row first; on success the
    entity's ``state`` and ``update_count`` follow the row.
    """
    old = entity.state
    new = transitions.next_state(fsm, entity, event)
    values: dict[str, Any] = {state_column: new.value, "update_count": entity.update_count + 1}
    if "updated" in table.c:
        values["updated"] = now
    stmt = cached(
        (table.name, "transit", state_column),
        lambda: update(table).where(
            table.c.id == bindparam("pk_"),
            table.c[state_column] == bindparam("old_state_"),
            table.c.update_count == bindparam("old_count_"),
        ),
    )
    result = conn.execute(
        stmt, {**values, "pk_": entity.id, "old_state_": old.value, "old_count_": entity.update_count}
    )
    if result.rowcount != 1:
        raise transitions.conflict(fsm, entity, event)
    transitions.applied(fsm, entity, event, old, new)


_SNAPSHOT_TYPES = {k.value: k for k in VMSnapshotType}
_SNAPSHOT_STATES = {s.value: s for s in VMSnapshotState}
#: the ``vm_snapshots`` columns a ``VMSnapshot`` is built from
_SNAPSHOT_COLUMNS = (
    "id",
    "uuid",
    "name",
    "display_name",
    "description",
    "vm_id",
    "account_id",
    "domain_id",
    "service_offering_id",
    "vm_snapshot_type",
    "state",
    "parent",
    "current",
    "update_count",
    "created",
    "updated",
    "removed",
)
_SNAPSHOT_PICKERS: dict[tuple[str, ...], Callable[[Row[Any]], tuple[Any, ...]]] = {}


_ALL_BUT_REMOVED = {s.value for s in VMSnapshotState} - {VMSnapshotState.Removed.value}


class VMSnapshots(Repo[VMSnapshot]):
    table = t.vm_snapshots

    def _entity(self, row: Row[Any]) -> VMSnapshot:
        m = row._mapping
        kind, state = m["vm_snapshot_type"], m["state"]
        return VMSnapshot(
            id=m["id"],
            uuid=m["uuid"],
            name=m["name"],
            display_name=m["display_name"],
            description=m["description"],
            vm_id=m["vm_id"],
            account_id=m["account_id"],
            domain_id=m["domain_id"],
            service_offering_id=m["service_offering_id"],
            type=_SNAPSHOT_TYPES.get(kind) or VMSnapshotType(kind),  # a dict is 10x faster than Enum()
            state=_SNAPSHOT_STATES.get(state) or VMSnapshotState(state),
            parent=m["parent"],
            current=None if m["current"] is None else bool(m["current"]),
            update_count=m["update_count"],
            created=m["created"],
            updated=m["updated"],
            removed=m["removed"],
        )

    def _entity_for(self, keys: tuple[str, ...]) -> Callable[[Row[Any]], VMSnapshot]:
        """Listing 1,000 snapshots spends most of its time here: pick the columns by position
        (positions found once per column layout) instead of by name, row after row."""
        pick = _SNAPSHOT_PICKERS.get(keys)
        if pick is None:
            if not set(_SNAPSHOT_COLUMNS) <= set(keys):
                return self._entity
            pick = _SNAPSHOT_PICKERS[keys] = itemgetter(*(keys.index(k) for k in _SNAPSHOT_COLUMNS))

        def entity(row: Row[Any]) -> VMSnapshot:
            (
                id_,
                uuid,
                name,
                display_name,
                description,
                vm_id,
                account_id,
                domain_id,
                offering_id,
                kind,
                state,
                parent,
                current,
                update_count,
                created,
                updated,
                removed,
            ) = pick(row)
            return VMSnapshot(
                id=id_,
                uuid=uuid,
                name=name,
                display_name=display_name,
                description=description,
                vm_id=vm_id,
                account_id=account_id,
                domain_id=domain_id,
                service_offering_id=offering_id,
                type=_SNAPSHOT_TYPES.get(kind) or VMSnapshotType(kind),
                state=_SNAPSHOT_STATES.get(state) or VMSnapshotState(state),
                parent=parent,
                current=None if current is None else bool(current),
                update_count=update_count,
                created=created,
                updated=updated,
                removed=removed,
            )

        return entity

    def add(self, snap: VMSnapshot) -> VMSnapshot:
        snap.created = snap.created or self.clock()
        snap.id = self._insert(
            {
                "uuid": snap.uuid,
                "name": snap.name,
                "display_name": snap.display_name,
                "description": snap.description,
                "vm_id": snap.vm_id,
                "account_id": snap.account_id,
                "domain_id": snap.domain_id,
                "service_offering_id": snap.service_offering_id,
                "vm_snapshot_type": snap.type.value,
                "state": snap.state.value,
                "parent": snap.parent,
                "current": None if snap.current is None else int(snap.current),
                "update_count": snap.update_count,
                "created": snap.created,
            }
        )
        if snap.details:
            self.set_details(snap.id, snap.details)
        return snap

    def transit(self, snap: VMSnapshot, event: StrEnum) -> None:
        transit(self.conn, self.table, VM_SNAPSHOT_FSM, snap, event, self.clock())

    def by_vm(self, vm_id: int) -> list[VMSnapshot]:
        c = self.table.c
        stmt = self._cached("by_vm", lambda: self._live().where(c.vm_id == bindparam("vm_id_")).order_by(c.id))
        return self._all(stmt, {"vm_id_": vm_id})

    def briefs_of_vm(self, vm_id: int) -> list[SnapshotBrief]:
        """The VM's live snapshots in id order, as :class:`SnapshotBrief`."""
        c = self.table.c
        stmt = self._cached(
            "briefs_of_vm",
            lambda: (
                select(c.id, c.name, c.state, c.vm_snapshot_type)
                .where(c.vm_id == bindparam("vm_id_"), c.removed.is_(None))
                .order_by(c.id)
            ),
        )
        return [
            SnapshotBrief(i, name, VMSnapshotState(state), VMSnapshotType(kind))
            for i, name, state, kind in self.conn.execute(stmt, {"vm_id_": vm_id})
        ]

    def current_of(self, vm_id: int) -> VMSnapshot | None:
        c = self.table.c
        stmt = self._cached("current_of", lambda: self._live().where(c.vm_id == bindparam("vm_id_"), c.current == 1))
        return self._one(stmt, {"vm_id_": vm_id})

    def set_parent(self, snap: VMSnapshot, parent: int | None) -> None:
        self._set(snap.id, parent=parent)
        snap.parent = parent

    def set_current(self, snap: VMSnapshot, current: bool) -> None:
        self._set(snap.id, current=int(current))
        snap.current = current

    def reparent_children(self, snap: VMSnapshot) -> None:
        """Live children of ``snap`` hang from its parent instead.

        CloudStack re-parents only Ready children and leaves others dangling
        (cloudstack.md §3.2); the spec asks that a delete not affect later snapshots, so
        every live child moves, and parent links always form a forest of live snapshots."""
        c = self.table.c
        stmt = self._cached(
            "reparent", lambda: update(self.table).where(c.parent == bindparam("snap_"), c.removed.is_(None))
        )
        self.conn.execute(stmt, {"parent": snap.parent, "snap_": snap.id})

    def set_type(self, snap: VMSnapshot, type_: VMSnapshotType) -> None:
        self._set(snap.id, vm_snapshot_type=type_.value)
        snap.type = type_

    def details(self, snap_id: int) -> dict[str, str]:
        d = t.vm_snapshot_details.c
        stmt = self._cached("details", lambda: select(d.name, d.value).where(d.vm_snapshot_id == bindparam("snap_")))
        rows = self.conn.execute(stmt, {"snap_": snap_id})
        return {name: value for name, value in rows}  # noqa: C416 (rows are Row objects)

    def set_details(self, snap_id: int, details: dict[str, str]) -> None:
        d = t.vm_snapshot_details
        for name, value in details.items():
            self.conn.execute(d.delete().where(d.c.vm_snapshot_id == snap_id, d.c.name == name))
            self.conn.execute(insert(d).values(vm_snapshot_id=snap_id, name=name, value=value))

    def names_of_vm(self, vm_id: int) -> set[str]:
        c = self.table.c
        stmt = self._cached(
            "names_of_vm", lambda: select(c.name).where(c.vm_id == bindparam("vm_id_"), c.removed.is_(None))
        )
        return set(self.conn.execute(stmt, {"vm_id_": vm_id}).scalars())

    def search(
        self,
        scope: Scope = EVERYTHING,
        *,
        ids: Sequence[int] | None = None,
        vm_id: int | None = None,
        states: Iterable[VMSnapshotState] | None = None,
        name: str | None = None,
        keyword: str | None = None,
        page: int | None = None,
        pagesize: int | None = None,
    ) -> Page:
        """listVMSnapshot's query: ``name`` matches the display name exactly, ``keyword``
        is a substring of name, display name or description; ``states=None`` means any
        state; newest first."""
        c = self.table.c
        stmt = scope.apply(self._live(), self.table)
        if ids is not None:
            stmt = stmt.where(c.id.in_(ids))
        if vm_id is not None:
            stmt = stmt.where(c.vm_id == vm_id)
        if states is not None:
            wanted = {s.value for s in states}
            if wanted == _ALL_BUT_REMOVED:  # the default listing: one range instead of six
                stmt = stmt.where(c.state != VMSnapshotState.Removed.value)
            else:
                stmt = stmt.where(c.state.in_(sorted(wanted)))
        if name is not None:
            stmt = stmt.where(c.display_name == name)
        if keyword:
            pattern = "%" + keyword.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            stmt = stmt.where(
                or_(
                    c.name.like(pattern, escape="\\"),
                    c.display_name.like(pattern, escape="\\"),
                    c.description.like(pattern, escape="\\"),
                )
            )
        return self._page(stmt, (c.created.desc(), c.id.desc()), page, pagesize)


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
                "created": vm.created,
            }
        )
        return vm

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
        page: int | None = None,
        pagesize: int | None = None,
    ) -> Page:
        c = self.table.c
        stmt = scope.apply(self._live().where(c.state != VMState.Expunging.value), self.table)
        if state is not None:
            stmt = stmt.where(c.state == state.value)
        if keyword:
            stmt = stmt.where(or_(c.display_name.contains(keyword), c.instance_name.contains(keyword)))
        return self._page(stmt, (c.id,), page, pagesize)


class Volumes(Repo[Volume]):
    table = t.volumes

    def _entity(self, row: Row[Any]) -> Volume:
        m = row._mapping
        return Volume(
            id=m["id"],
            uuid=m["uuid"],
            name=m["name"],
            type=VolumeType(m["volume_type"]),
            size=m["size"],
            account_id=m["account_id"],
            domain_id=m["domain_id"],
            vm_id=m["instance_id"],
            device_id=m["device_id"],
            path=m["path"],
            vm_snapshot_chain_size=m["vm_snapshot_chain_size"],
            state=m["state"],
            created=m["created"],
            removed=m["removed"],
        )

    def add(self, vol: Volume) -> Volume:
        vol.created = vol.created or self.clock()
        vol.id = self._insert(
            {
                "uuid": vol.uuid,
                "name": vol.name,
                "volume_type": vol.type.value,
                "size": vol.size,
                "account_id": vol.account_id,
                "domain_id": vol.domain_id,
                "instance_id": vol.vm_id,
                "device_id": vol.device_id,
                "path": vol.path,
                "vm_snapshot_chain_size": vol.vm_snapshot_chain_size,
                "state": vol.state,
                "created": vol.created,
            }
        )
        return vol

    def of_vm(self, vm_id: int) -> list[Volume]:
        c = self.table.c
        stmt = self._cached(
            "of_vm", lambda: self._live().where(c.instance_id == bindparam("vm_id_")).order_by(c.device_id, c.id)
        )
        return self._all(stmt, {"vm_id_": vm_id})

    def record_host_state(self, volume_uuid: str, path: str, chain_size: int) -> None:
        """Write what a host answer says of a volume (CloudStack's ``updateVolumePath``)."""
        c = self.table.c
        stmt = self._cached("record_host_state", lambda: update(self.table).where(c.uuid == bindparam("uuid_")))
        self.conn.execute(stmt, {"path": path, "vm_snapshot_chain_size": chain_size, "uuid_": volume_uuid})

    def attach(self, vol: Volume, vm_id: int | None, device_id: int | None) -> None:
        self._set(vol.id, instance_id=vm_id, device_id=device_id)
        vol.vm_id, vol.device_id = vm_id, device_id

    def search(
        self,
        scope: Scope = EVERYTHING,
        *,
        vm_id: int | None = None,
        page: int | None = None,
        pagesize: int | None = None,
    ) -> Page:
        c = self.table.c
        stmt = scope.apply(self._live(), self.table)
        if vm_id is not None:
            stmt = stmt.where(c.instance_id == vm_id)
        return self._page(stmt, (c.id,), page, pagesize)


class VolumeSnapshots(Repo[VolumeSnapshot]):
    table = t.snapshots

    def _entity(self, row: Row[Any]) -> VolumeSnapshot:
        m = row._mapping
        return VolumeSnapshot(
            id=m["id"],
            uuid=m["uuid"],
            name=m["name"],
            volume_id=m["volume_id"],
            account_id=m["account_id"],
            domain_id=m["domain_id"],
            state=VolumeSnapshotState(m["status"]),
            size=m["size"],
            update_count=m["update_count"],
            created=m["created"],
            removed=m["removed"],
        )

    def add(self, snap: VolumeSnapshot) -> VolumeSnapshot:
        snap.created = snap.created or self.clock()
        snap.id = self._insert(
            {
                "uuid": snap.uuid,
                "name": snap.name,
                "volume_id": snap.volume_id,
                "account_id": snap.account_id,
                "domain_id": snap.domain_id,
                "status": snap.state.value,
                "size": snap.size,
                "update_count": 0,
                "created": snap.created,
            }
        )
        return snap

    def transit(self, snap: VolumeSnapshot, event: StrEnum) -> None:
        transit(self.conn, self.table, VOLUME_SNAPSHOT_FSM, snap, event, self.clock(), state_column="status")

    def set_size(self, snap: VolumeSnapshot, size: int) -> None:
        self._set(snap.id, size=size)
        snap.size = size

    def active_for_vm(self, vm_id: int) -> list[VolumeSnapshot]:
        """Volume snapshots in progress on any volume of the VM (blocks VM snapshots)."""
        c, v = self.table.c, t.volumes.c
        stmt = self._cached(
            "active_for_vm",
            lambda: (
                select(self.table)
                .join(t.volumes, v.id == c.volume_id)
                .where(
                    v.instance_id == bindparam("vm_id_"),
                    c.removed.is_(None),
                    c.status.in_(sorted(s.value for s in ACTIVE_VOLUME_SNAPSHOT_STATES)),
                )
            ),
        )
        return self._all(stmt, {"vm_id_": vm_id})

    def search(
        self,
        scope: Scope = EVERYTHING,
        *,
        volume_id: int | None = None,
        page: int | None = None,
        pagesize: int | None = None,
    ) -> Page:
        c = self.table.c
        stmt = scope.apply(self._live(), self.table)
        if volume_id is not None:
            stmt = stmt.where(c.volume_id == volume_id)
        return self._page(stmt, (c.created.desc(), c.id.desc()), page, pagesize)
