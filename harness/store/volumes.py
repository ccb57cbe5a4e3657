"""The volume repositories: ``volumes`` rows with the path and chain size a host reports,
and the volume snapshots taken of them (``snapshots`` rows)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Row, bindparam, select, update

from harness.domain.model import Page, Volume, VolumeSnapshot, VolumeType
from harness.domain.states import ACTIVE_VOLUME_SNAPSHOT_STATES, VOLUME_SNAPSHOT_FSM, VolumeSnapshotState
from harness.store import tables as t
from harness.store.ports import EVERYTHING, Scope
from harness.store.repository import Repo, scoped, transit


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
        stmt = scoped(self._live(), self.table, scope)
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
        stmt = scoped(self._live(), self.table, scope)
        if volume_id is not None:
            stmt = stmt.where(c.volume_id == volume_id)
        return self._page(stmt, (c.created.desc(), c.id.desc()), page, pagesize)
