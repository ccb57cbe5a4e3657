"""In-memory repositories for the stateful entities: VM snapshots, VMs, volumes, volume
snapshots.

Each class implements its port of :mod:`harness.store.ports` over a
:class:`~harness.store.memory_tables.MemoryTable`, side by side with the SQL repository of
the same port (:mod:`harness.store.vmsnapshots`, :mod:`~harness.store.vms`,
:mod:`~harness.store.volumes`) and sharing nothing with it: mypy checks both against the
port, ``tests/store/test_contract*.py`` runs the same behaviour on both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

from harness.domain.model import VM, Page, SnapshotBrief, VMSnapshot, Volume, VolumeSnapshot
from harness.domain.states import (
    ACTIVE_VOLUME_SNAPSHOT_STATES,
    VM_FSM,
    VM_SNAPSHOT_FSM,
    VOLUME_SNAPSHOT_FSM,
    StateMachine,
    VMSnapshotState,
    VMSnapshotType,
    VMState,
)
from harness.store import transitions
from harness.store.memory_tables import MemoryRepo, fold, like, newest_first, page_of, set_details
from harness.store.ports import EVERYTHING, KEEP, Keep, Scope, tree_links


def transit(
    repo: MemoryRepo[Any],
    fsm: StateMachine[Any, Any],
    entity: Any,
    event: StrEnum,
    stamp: bool = False,
    also: dict[str, Any] | None = None,
) -> None:
    """:func:`harness.store.repository.transit` in memory: the same compare-and-swap on
    ``(state, update_count)``, the same errors and log line. ``stamp``: the entity has an
    ``updated`` field, set to now; ``also``: more fields set in the same write."""
    new = transitions.next_state(fsm, entity, event)
    row = repo.rows_table.rows.get(entity.id)
    if row is None or row.state != entity.state or row.update_count != entity.update_count:
        raise transitions.conflict(fsm, entity, event)
    old = entity.state
    fields: dict[str, Any] = {"state": new, "update_count": entity.update_count + 1, **(also or {})}
    if stamp:
        fields["updated"] = repo.clock()
    repo._update(entity.id, **fields)
    transitions.applied(fsm, entity, event, old, new)


def carried(repo: MemoryRepo[Any], resource_type: str, tagged: Sequence[tuple[str, str]] | None) -> set[int] | None:
    """The ids of the resources of ``resource_type`` carrying every (key, value) pair of
    ``tagged`` (:func:`harness.store.repository.carrying` in memory); ``None``: no filter."""
    if not tagged:
        return None
    found: set[int] | None = None
    for key, value in tagged:
        ids = {
            r.resource_id
            for r in repo.store["resource_tags"].live()
            if r.resource_type == resource_type and r.key == key and r.value == value
        }
        found = ids if found is None else found & ids
    return found


class MemoryVMSnapshots(MemoryRepo[VMSnapshot]):
    table_name = "vm_snapshots"
    entity = VMSnapshot

    def add(self, snap: VMSnapshot) -> VMSnapshot:
        snap.created = snap.created or self.clock()
        snap.id = self._add_row(snap, updated=None, removed=None)
        if snap.details:
            self.set_details(snap.id, snap.details)
        return snap

    def transit(
        self, snap: VMSnapshot, event: StrEnum, *, parent: int | Keep | None = KEEP, current: bool | None = None
    ) -> None:
        links = tree_links(parent, current)
        transit(self, VM_SNAPSHOT_FSM, snap, event, stamp=True, also=links)
        for name, value in links.items():
            setattr(snap, name, value)

    def _live_of_vm(self, vm_id: int) -> list[VMSnapshot]:
        rows = self.rows_table.rows
        return [rows[i] for i in sorted(self.rows_table.group("vm", vm_id))]

    def by_vm(self, vm_id: int) -> list[VMSnapshot]:
        return self._copies(self._live_of_vm(vm_id))

    def briefs_of_vm(self, vm_id: int) -> list[SnapshotBrief]:  # the rules ask on every create and delete
        briefs = self.rows_table.derived("brief")  # made when a row is written, not per call
        return [briefs[i] for i in sorted(self.rows_table.group("vm", vm_id))]

    def has_snapshots(self, vm_id: int) -> bool:
        return bool(self.rows_table.group("vm", vm_id))

    def current_of(self, vm_id: int) -> VMSnapshot | None:
        current = self.rows_table.group("current", vm_id)  # the live current rows of the VM: one, or none
        return self.clone(self.rows_table.rows[min(current)]) if current else None

    def set_parent(self, snap: VMSnapshot, parent: int | None) -> None:
        self._update(snap.id, parent=parent)
        snap.parent = parent

    def set_current(self, snap: VMSnapshot, current: bool) -> None:
        self._update(snap.id, current=bool(current))
        snap.current = current

    def reparent_children(self, snap: VMSnapshot) -> None:
        for child in sorted(self.rows_table.group("parent", snap.id)):
            self._update(child, parent=snap.parent)

    def set_type(self, snap: VMSnapshot, type_: VMSnapshotType) -> None:
        self._update(snap.id, type=type_)
        snap.type = type_

    def details(self, snap_id: int) -> dict[str, str]:
        return dict(self.store["vm_snapshot_details"].rows.get(snap_id) or {})

    def set_details(self, snap_id: int, details: dict[str, str]) -> None:
        set_details(self.store, "vm_snapshot_details", snap_id, details)

    def names_of_vm(self, vm_id: int) -> set[str]:
        return {row.name for row in self._live_of_vm(vm_id)}

    def ancestry(self, ids: Iterable[int]) -> dict[int, tuple[int | None, str, str | None]]:
        rows = self.rows_table.rows
        out: dict[int, tuple[int | None, str, str | None]] = {}
        todo = list(set(ids))
        while todo:
            row = rows.get(todo.pop())
            if row is None or row.removed is not None or row.id in out:
                continue
            out[row.id] = (row.parent, row.uuid, row.display_name)
            if row.parent is not None:
                todo.append(row.parent)
        return out

    def search(
        self,
        scope: Scope = EVERYTHING,
        *,
        ids: Sequence[int] | None = None,
        uuids: Sequence[str] | None = None,
        vm_id: int | None = None,
        states: Iterable[VMSnapshotState] | None = None,
        name: str | None = None,
        keyword: str | None = None,
        tagged: Sequence[tuple[str, str]] | None = None,
        page: int | None = None,
        pagesize: int | None = None,
    ) -> Page:
        rows: Iterable[VMSnapshot] = self._live_of_vm(vm_id) if vm_id is not None else self.rows_table.live()
        wanted_ids = None if ids is None else set(ids)
        wanted_uuids = None if uuids is None else set(uuids)
        tagged_ids = carried(self, "VMSnapshot", tagged)
        wanted_states = None if states is None else {s.value for s in states}
        needle = fold(keyword) if keyword else None
        found = []
        for row in rows:
            if not scope.admits(row):
                continue
            if wanted_ids is not None and row.id not in wanted_ids:
                continue
            if wanted_uuids is not None and row.uuid not in wanted_uuids:
                continue
            if tagged_ids is not None and row.id not in tagged_ids:
                continue
            if wanted_states is not None and row.state.value not in wanted_states:
                continue
            if name is not None and row.display_name != name:
                continue
            if needle is not None and not any(
                text is not None and needle in fold(text) for text in (row.name, row.display_name, row.description)
            ):
                continue
            found.append(row)
        found.sort(key=newest_first, reverse=True)
        return page_of(found, self.clone, page, pagesize)


class MemoryVMs(MemoryRepo[VM]):
    table_name = "vm_instance"
    entity = VM

    def lock(self, vm_id: int) -> VM | None:
        return self.get(vm_id)  # one unit of work holds the whole store at a time

    def lock_uuid(self, uuid: str) -> VM | None:
        return self.get_by_uuid(uuid)

    def add(self, vm: VM) -> VM:
        vm.created = vm.created or self.clock()
        vm.id = self._add_row(vm, update_count=0, removed=None)
        return vm

    def set_instance_name(self, vm: VM, name: str) -> None:
        self._update(vm.id, instance_name=name)
        vm.instance_name = name

    def transit(self, vm: VM, event: StrEnum) -> None:
        transit(self, VM_FSM, vm, event)

    def set_offering(self, vm: VM, offering_id: int) -> None:
        self._update(vm.id, service_offering_id=offering_id)
        vm.service_offering_id = offering_id

    def set_exported(self, vm: VM, exported: bool) -> None:
        self._update(vm.id, exported=bool(exported))
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
        matches = like(f"%{keyword}%") if keyword else None  # SQLAlchemy's contains(): no escaping
        tagged_ids = carried(self, "UserVm", tagged)
        found = [
            row
            for row in self.rows_table.live()
            if row.state != VMState.Expunging
            and (tagged_ids is None or row.id in tagged_ids)
            and scope.admits(row)
            and (state is None or row.state == state)
            and (matches is None or matches(row.display_name) or matches(row.instance_name))
        ]
        return page_of(found, self.clone, page, pagesize)


class MemoryVolumes(MemoryRepo[Volume]):
    table_name = "volumes"
    entity = Volume

    def add(self, vol: Volume) -> Volume:
        vol.created = vol.created or self.clock()
        vol.id = self._add_row(vol, removed=None)
        return vol

    def of_vm(self, vm_id: int) -> list[Volume]:
        rows = self.rows_table.rows
        live = [rows[i] for i in self.rows_table.group("vm", vm_id) if rows[i].removed is None]
        live.sort(key=lambda v: (v.device_id is not None, v.device_id or 0, v.id))  # NULLs first, as SQLite
        return self._copies(live)

    def record_host_state(self, volume_uuid: str, path: str, chain_size: int) -> None:
        for id_ in sorted(self.rows_table.group("uuid", volume_uuid)):
            self._update(id_, path=path, vm_snapshot_chain_size=chain_size)

    def attach(self, vol: Volume, vm_id: int | None, device_id: int | None) -> None:
        self._update(vol.id, vm_id=vm_id, device_id=device_id)
        vol.vm_id, vol.device_id = vm_id, device_id

    def search(
        self,
        scope: Scope = EVERYTHING,
        *,
        vm_id: int | None = None,
        page: int | None = None,
        pagesize: int | None = None,
    ) -> Page:
        found = [row for row in self.rows_table.live() if scope.admits(row) and (vm_id is None or row.vm_id == vm_id)]
        return page_of(found, self.clone, page, pagesize)


class MemoryVolumeSnapshots(MemoryRepo[VolumeSnapshot]):
    table_name = "snapshots"
    entity = VolumeSnapshot

    def add(self, snap: VolumeSnapshot) -> VolumeSnapshot:
        snap.created = snap.created or self.clock()
        snap.id = self._add_row(snap, update_count=0, removed=None)
        return snap

    def transit(self, snap: VolumeSnapshot, event: StrEnum) -> None:
        transit(self, VOLUME_SNAPSHOT_FSM, snap, event)

    def set_size(self, snap: VolumeSnapshot, size: int) -> None:
        self._update(snap.id, size=size)
        snap.size = size

    def active_for_vm(self, vm_id: int) -> list[VolumeSnapshot]:
        volumes = self.store["volumes"].group("vm", vm_id)  # removed volumes too: SQL's join
        if not volumes:
            return []
        rows, found = self.rows_table.rows, []
        for volume_id in volumes:
            for id_ in self.rows_table.group("volume", volume_id):
                row = rows[id_]
                if row.removed is None and row.state in ACTIVE_VOLUME_SNAPSHOT_STATES:
                    found.append(row)
        found.sort(key=lambda s: s.id)
        return self._copies(found)

    def search(
        self,
        scope: Scope = EVERYTHING,
        *,
        volume_id: int | None = None,
        page: int | None = None,
        pagesize: int | None = None,
    ) -> Page:
        found = [
            row
            for row in self.rows_table.live()
            if scope.admits(row) and (volume_id is None or row.volume_id == volume_id)
        ]
        found.sort(key=newest_first, reverse=True)
        return page_of(found, self.clone, page, pagesize)
