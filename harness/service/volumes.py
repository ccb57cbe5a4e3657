"""Volume use cases: create, attach / detach, and volume snapshots.

The VM-snapshot limitations that concern volumes live here (spec "VM Snapshot
limitations"): no attach or detach while the VM has VM snapshots, because a change of
disk layout breaks VM-based snapshots; and no volume snapshot while a VM-snapshot
operation is in progress on the VM (the converse rule is in ``vmsnapshots.allocate``).
"""

from __future__ import annotations

import uuid

from harness.domain.errors import CloudRuntimeError, InvalidParameterValue
from harness.domain.model import VM, Account, Volume, VolumeSnapshot, VolumeType
from harness.domain.states import VMSnapshotState, VMState, VolumeSnapshotEvent, VolumeSnapshotState
from harness.drivers import (
    AttachVolume,
    CreateVolumeSnapshot,
    DetachVolume,
    DiskSpec,
    HostError,
    VMRef,
)
from harness.jobs.runners import Workflow, ask
from harness.service import hostside
from harness.service.access import require
from harness.store.ports import UnitOfWork, UowFactory, existing

GiB = 1 << 30
MAX_NAME = 255
#: VM snapshot states during which a volume snapshot is refused (cloudstack.md §2.5)
BLOCKING_VM_SNAPSHOT_STATES = (VMSnapshotState.Creating, VMSnapshotState.Reverting, VMSnapshotState.Expunging)


def create_volume(uow_factory: UowFactory, caller: Account, name: str, size_gb: int) -> Volume:
    """A DATADISK volume, Allocated: its file is made when it is first attached and run."""
    if not name or len(name) > MAX_NAME:
        raise InvalidParameterValue(f"A volume name must have 1 to {MAX_NAME} characters")
    if size_gb < 1 or size_gb > 64 * 1024:
        raise InvalidParameterValue("A volume size must be between 1 and 65536 GB")
    with uow_factory() as uow:
        vol = uow.volumes.add(
            Volume(
                id=0,
                uuid=str(uuid.uuid4()),
                name=name,
                type=VolumeType.DATADISK,
                size=size_gb * GiB,
                account_id=caller.id,
                domain_id=caller.domain_id,
                vm_id=None,
                device_id=None,
                path=None,
                state="Allocated",
            )
        )
        uow.commit()
    return vol


def _layout_frozen(uow: UnitOfWork, vm: VM, verb: str) -> None:
    if uow.vm_snapshots.has_snapshots(vm.id):
        raise InvalidParameterValue(f"Unable to {verb} volume, please specify a VM that does not have VM snapshots")


def check_attach(
    uow_factory: UowFactory, caller: Account, volume_uuid: str, vm_uuid: str, attach: bool
) -> tuple[Volume, VM]:
    verb = "attach" if attach else "detach"
    with uow_factory(readonly=True) as uow:
        vol = require(uow.volumes.get_by_uuid(volume_uuid), "volume", volume_uuid, uow, caller)
        vm = require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller)
        if vol.type == VolumeType.ROOT:
            raise InvalidParameterValue(f"Unable to {verb} a ROOT volume")
        if attach and vol.vm_id is not None:
            raise InvalidParameterValue(f"Volume {volume_uuid} is already attached to an Instance")
        if not attach and vol.vm_id != vm.id:
            raise InvalidParameterValue(f"Volume {volume_uuid} is not attached to Instance {vm_uuid}")
        if vm.state not in (VMState.Running, VMState.Stopped):
            raise InvalidParameterValue(f"Unable to {verb} a volume: Instance {vm_uuid} is {vm.state}")
        _layout_frozen(uow, vm, verb)
    return vol, vm


def attach(uow_factory: UowFactory, volume_id: int, vm_id: int, attach: bool) -> Workflow[Volume]:
    """Attach or detach. On a stopped VM only the database changes: the next start
    registers the VM with the disks it then has."""
    verb = "attach" if attach else "detach"
    with uow_factory(readonly=True) as uow:
        vol = existing(uow.volumes.get(volume_id), "volume", volume_id)
        vm = existing(uow.vms.get(vm_id), "Instance", vm_id)
        _layout_frozen(uow, vm, verb)  # again: a snapshot may have been queued before us
        devices = [v.device_id or 0 for v in uow.volumes.of_vm(vm_id)]
    if vm.state == VMState.Running:
        command = AttachVolume if attach else DetachVolume
        try:
            answer = yield from ask(command(hostside.ref(vm), DiskSpec(vol.uuid, vol.size, vol.path)))
        except HostError as err:
            raise CloudRuntimeError(f"Failed to {verb} volume {vol.name}: {err}") from err
        with uow_factory() as uow:
            hostside.record_volumes(uow, answer.volumes)
            uow.commit()
    with uow_factory() as uow:
        fresh = existing(uow.volumes.get(volume_id), "volume", volume_id)
        uow.volumes.attach(fresh, vm_id if attach else None, max(devices) + 1 if attach else None)
        uow.commit()
    return fresh


# --------------------------------------------------------------------------- volume snapshots


def check_snapshot(uow_factory: UowFactory, caller: Account, volume_uuid: str, name: str | None) -> VolumeSnapshot:
    """createSnapshot's synchronous half: an Allocated volume snapshot row."""
    if name is not None and (not name or len(name) > MAX_NAME):
        raise InvalidParameterValue(f"A snapshot name must have 1 to {MAX_NAME} characters")
    with uow_factory() as uow:
        vol = require(uow.volumes.get_by_uuid(volume_uuid), "volume", volume_uuid, uow, caller)
        if vol.path is None:
            raise InvalidParameterValue(f"Volume {volume_uuid} has no data yet (never attached to a running Instance)")
        if vol.vm_id is not None and any(
            s.state in BLOCKING_VM_SNAPSHOT_STATES for s in uow.vm_snapshots.briefs_of_vm(vol.vm_id)
        ):
            raise InvalidParameterValue(
                "There is other active vm snapshot tasks on the instance to which the volume is attached, "
                "please try again later"
            )
        snap = uow.volume_snapshots.add(
            VolumeSnapshot(
                id=0,
                uuid=str(uuid.uuid4()),
                name=name or f"{vol.name}_{uow.now:%Y%m%d%H%M%S}",
                volume_id=vol.id,
                account_id=vol.account_id,
                domain_id=vol.domain_id,
                state=VolumeSnapshotState.Allocated,
            )
        )
        uow.commit()
    return snap


def snapshot(uow_factory: UowFactory, snapshot_id: int) -> Workflow[VolumeSnapshot]:
    """Copy the volume off the host: Creating -> CreatedOnPrimary -> BackingUp -> BackedUp."""
    with uow_factory() as uow:
        snap = existing(uow.volume_snapshots.get(snapshot_id), "Snapshot", snapshot_id)
        vol = existing(uow.volumes.get(snap.volume_id), "volume", snap.volume_id)
        vm = uow.vms.get(vol.vm_id) if vol.vm_id is not None else None
        uow.volume_snapshots.transit(snap, VolumeSnapshotEvent.CreateRequested)
        uow.commit()
    try:
        answer = yield from ask(
            CreateVolumeSnapshot(VMRef(vm.instance_name if vm else "-"), DiskSpec(vol.uuid, vol.size, vol.path))
        )
    except HostError as err:
        with uow_factory() as uow:
            uow.volume_snapshots.transit(snap, VolumeSnapshotEvent.OperationFailed)
            uow.commit()
        raise CloudRuntimeError(f"Failed to snapshot volume {vol.name}: {err}") from err
    with uow_factory() as uow:
        uow.volume_snapshots.set_size(snap, answer.bytes_copied)
        for event in (
            VolumeSnapshotEvent.OperationSucceeded,
            VolumeSnapshotEvent.BackupToSecondary,
            VolumeSnapshotEvent.OperationSucceeded,
        ):
            uow.volume_snapshots.transit(snap, event)
        uow.commit()
    return snap
