"""VM snapshot use cases: create, revert, delete, delete all (the list is in
:mod:`harness.service.listings`).

Each mutating use case has two halves, as CloudStack's manager does:

- a synchronous *check* (``allocate``, ``check_revert``, ``check_delete``,
  ``check_delete_all``) run before any job is queued: it raises a
  :class:`~harness.domain.errors.CloudError` and writes nothing when the request is refused;
- a *workflow* (``create``, ``revert``, ``delete``, ``delete_all``): a generator that yields
  host commands; it re-checks what may have changed while it waited in the VM's queue.

Rules live here and only here (spec "VM Snapshot limitations", cloudstack.md §2, §3, §9).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from harness.domain import config
from harness.domain.errors import CloudError, CloudRuntimeError, InvalidParameterValue
from harness.domain.model import VM, Account, ExportStrategy, SnapshotBrief, VMSnapshot
from harness.domain.states import (
    ACTIVE_VM_SNAPSHOT_STATES,
    DELETABLE_VM_SNAPSHOT_STATES,
    VMEvent,
    VMSnapshotEvent,
    VMSnapshotState,
    VMSnapshotType,
    VMState,
)
from harness.drivers import (
    CreateVMSnapshot,
    DeleteVMSnapshot,
    HostError,
    ObjectNotFound,
    PowerState,
    RevertToVMSnapshot,
    SnapshotAnswer,
    SnapshotRef,
)
from harness.jobs.runners import Workflow, ask
from harness.service import hostside, limits
from harness.service.access import require
from harness.store.ports import UnitOfWork, UowFactory, existing

HYPERVISOR = "Hyperv"
MAX_TEXT = 255
STABLE_VM_STATES = (VMState.Running, VMState.Stopped)


def internal_name(uow: UnitOfWork, vm: VM, taken: set[str] | None = None) -> str:
    """``<instance>_VS_<yyyyMMddHHmmss>`` in GMT. Names stay unique per VM: a second
    snapshot within the same second takes the next free second. ``taken``: the names of the
    VM's live snapshots, when the caller has loaded them already."""
    if taken is None:
        taken = uow.vm_snapshots.names_of_vm(vm.id)
    moment = uow.now
    while True:
        name = f"{vm.instance_name}_VS_{moment:%Y%m%d%H%M%S}"
        if name not in taken:
            return name
        moment += timedelta(seconds=1)


def _vm_of(uow: UnitOfWork, snap: VMSnapshot, lock: bool = False) -> VM:
    """The snapshot's VM; ``lock``: with its row locked for the rest of the unit of work
    (every workflow's first step takes it, so its re-checks hold across managers)."""
    vm = uow.vms.lock(snap.vm_id) if lock else uow.vms.get(snap.vm_id)
    if vm is None:
        raise InvalidParameterValue(f"Unable to find the Instance of Instance Snapshot {snap.uuid}")
    return vm


def _snapshot(uow: UnitOfWork, snapshot_id: int) -> VMSnapshot:
    return existing(uow.vm_snapshots.get(snapshot_id), "Instance Snapshot", snapshot_id)


#: States in which a snapshot's command is on its way to, or on, the host.
IN_FLIGHT = frozenset({VMSnapshotState.Creating, VMSnapshotState.Reverting, VMSnapshotState.Expunging})


def _others_active(uow: UnitOfWork, vm: VM, snap: VMSnapshot) -> None:
    """Refuse when a snapshot of ``vm`` other than ``snap`` has a command in flight (the
    re-check a workflow makes under the VM's row lock before it sends anything: another
    manager may have started one since the synchronous check). ``Allocated`` rows wait in
    a queue and do not count here; they count at the synchronous checks."""
    if any(s.state in IN_FLIGHT and s.id != snap.id for s in uow.vm_snapshots.briefs_of_vm(vm.id)):
        raise InvalidParameterValue(
            "There is other active Instance Snapshot tasks on the instance, please try again later"
        )


def _no_active_tasks(
    uow: UnitOfWork, vm: VM, retrying: VMSnapshot | None = None, snaps: list[SnapshotBrief] | None = None
) -> None:
    """``snaps``: the VM's live snapshots, when the caller has loaded them already."""
    if uow.volume_snapshots.active_for_vm(vm.id):  # spec: no VM and volume snapshot operations at once
        raise InvalidParameterValue("There is other active volume Snapshot tasks on the instance")
    if snaps is None:
        snaps = uow.vm_snapshots.briefs_of_vm(vm.id)
    active = [s for s in snaps if s.state in ACTIVE_VM_SNAPSHOT_STATES]
    if retrying is not None and active and active[0].id == retrying.id and retrying.state == VMSnapshotState.Expunging:
        return  # a retried delete of a stuck Expunging snapshot (cloudstack.md §2.2)
    if active:
        raise InvalidParameterValue(
            "There is other active Instance Snapshot tasks on the instance, please try again later"
        )


def _stable(vm: VM, action: str) -> None:
    if vm.state not in STABLE_VM_STATES:
        raise InvalidParameterValue(
            f"{action} failed due to Instance {vm.uuid} is not in the Running or Stopped state: {vm.state}"
        )


# --------------------------------------------------------------------------- create


def allocate(
    uow_factory: UowFactory,
    caller: Account,
    vm_uuid: str,
    display_name: str | None = None,
    description: str | None = None,
    memory: bool = False,
    policy_id: int | None = None,
) -> VMSnapshot:
    """``allocVMSnapshot``: every synchronous rule, then an ``Allocated`` row. ``policy_id``:
    the recurring policy taking it (the row is tagged as scheduled in the same transaction)."""
    with uow_factory() as uow:
        # locked first, then the caller's right to it: the checks below hold until commit
        vm = require(uow.vms.lock_uuid(vm_uuid), "Instance", vm_uuid, uow, caller)
        caps = uow.capabilities.lookup(HYPERVISOR)
        if caps is None or not caps.vm_snapshot_enabled:
            raise InvalidParameterValue(f"Instance Snapshot is not enabled for hypervisor type: {HYPERVISOR}")
        for label, text in (("name", display_name), ("description", description)):
            if text is not None and len(text) > MAX_TEXT:
                raise InvalidParameterValue(
                    f"Creating Instance Snapshot failed due to length of Instance Snapshot {label} "
                    f"exceeds {MAX_TEXT} characters"
                )
        _stable(vm, "Creating Instance Snapshot")
        if memory and vm.state != VMState.Running:
            raise InvalidParameterValue("Can not snapshot memory when the Instance is not in Running state")
        if vm.state == VMState.Stopped and hostside.strategy(uow) == ExportStrategy.none:
            raise InvalidParameterValue(
                "A stopped Instance has no checkpoints on Hyper-V without an export: set "
                f"{config.EXPORT_STRATEGY.name} to on-stop or on-snapshot to snapshot stopped Instances"
            )
        limit = int(config.parse(config.VMSNAPSHOT_MAX, uow.config.get(config.VMSNAPSHOT_MAX)))
        snaps = uow.vm_snapshots.briefs_of_vm(vm.id)  # one load for the limit, the busy check and the name
        if len(snaps) >= limit:
            raise CloudRuntimeError(
                f"Creating Instance Snapshot failed due to a Instance can just have : {limit} Instance "
                "Snapshots. Please delete old ones"
            )
        owner = existing(uow.accounts.get(vm.account_id), "account", vm.account_id)
        limits.check_vm_snapshot(uow, owner)  # account and domain limits: 535
        _no_active_tasks(uow, vm, snaps=snaps)  # active volume snapshots first, then VM snapshot tasks
        name = internal_name(uow, vm, {s.name for s in snaps})
        snap = uow.vm_snapshots.add(
            VMSnapshot(
                id=0,
                uuid=str(uuid.uuid4()),
                name=name,
                display_name=display_name or name,
                description=description,
                vm_id=vm.id,
                account_id=vm.account_id,
                domain_id=vm.domain_id,
                service_offering_id=vm.service_offering_id,
                type=VMSnapshotType.DiskAndMemory if memory else VMSnapshotType.Disk,
                state=VMSnapshotState.Allocated,
            )
        )
        if policy_id is not None:
            uow.vm_snapshot_policies.tag(snap.id, policy_id, vm.id)
        uow.commit()
    return snap


def create(uow_factory: UowFactory, snapshot_id: int, quiesce: bool = False) -> Workflow[VMSnapshot]:
    """Take the checkpoint for an ``Allocated`` snapshot; it ends Ready and current. Refused
    before anything is sent (the VM left Running/Stopped, another operation is in flight),
    the ``Allocated`` row goes: it must not hold the VM's "one operation at a time"."""
    try:
        with uow_factory() as uow:
            snap = _snapshot(uow, snapshot_id)  # gone: sync removed a never-sent row
            vm = _vm_of(uow, snap, lock=True)
            _stable(vm, "Creating Instance Snapshot")
            if snap.type == VMSnapshotType.DiskAndMemory and vm.state != VMState.Running:
                # it stopped after the request (another manager's revert, say): re-checked here
                raise InvalidParameterValue("Can not snapshot memory when the Instance is not in Running state")
            _others_active(uow, vm, snap)
            current = uow.vm_snapshots.current_of(vm.id)
            uow.vm_snapshots.transit(snap, VMSnapshotEvent.CreateRequested, parent=current.id if current else None)
            uow.commit()
    except CloudError:
        drop_allocated(uow_factory, snapshot_id)
        raise
    stopped = vm.state == VMState.Stopped
    registered = False  # a stopped VM put on the host for this create
    try:
        if stopped:
            yield from hostside.register(uow_factory, vm.id)
            registered = True
        try:
            answer = yield from ask(
                CreateVMSnapshot(
                    hostside.ref(vm), SnapshotRef(snap.name), snap.type == VMSnapshotType.DiskAndMemory, quiesce
                )
            )
            volumes, memory = answer.volumes, answer.memory
        except HostError:  # taken all the same when the host holds it (its answer was lost)
            on_host = yield from hostside.inventory_of(vm)
            taken = hostside.checkpoint_on(on_host, snap.name) if on_host is not None else None
            if on_host is None or taken is None:
                raise
            volumes, memory = on_host.volumes, taken.memory
        with uow_factory() as uow:
            hostside.record_volumes(uow, volumes)
            if memory and snap.type == VMSnapshotType.Disk:
                # Production checkpoint fell back to Standard: say what the host really holds.
                uow.vm_snapshots.set_type(snap, VMSnapshotType.DiskAndMemory)
                uow.vm_snapshots.set_details(snap.id, {"hyperv.production.fallback": "true"})
            if current is not None:
                uow.vm_snapshots.set_current(current, False)
            uow.vm_snapshots.transit(snap, VMSnapshotEvent.OperationSucceeded, current=True)
            follow = hostside.note_tree_change(uow, vm.id, keeps_one=True)
            uow.commit()
        yield from hostside.follow_tree_change(uow_factory, follow)
        if stopped:
            yield from hostside.release(uow_factory, vm.id)
    except HostError as err:
        _failed(uow_factory, snap, err)
        if registered:
            yield from hostside.release_after_failure(uow_factory, vm.id)
        raise CloudRuntimeError(f"Failed to create Instance Snapshot {snap.display_name}: {err}") from err
    with uow_factory(readonly=True) as uow:
        return _snapshot(uow, snap.id)


def drop_allocated(uow_factory: UowFactory, snapshot_id: int) -> None:
    """Remove a snapshot row that is still ``Allocated`` (never sent to the host)."""
    with uow_factory() as uow:
        snap = uow.vm_snapshots.get(snapshot_id)
        if snap is not None and snap.state == VMSnapshotState.Allocated:
            uow.vm_snapshots.soft_delete(snap.id)
            uow.commit()


def _failed(uow_factory: UowFactory, snap: VMSnapshot, err: HostError) -> None:
    """Record a host failure: Creating/Expunging -> Error, Reverting -> Ready."""
    with uow_factory() as uow:
        fresh = uow.vm_snapshots.get(snap.id)
        if fresh is not None and fresh.state in ACTIVE_VM_SNAPSHOT_STATES:
            details = {hostside.LAST_ERROR: str(err)}
            if fresh.state == VMSnapshotState.Expunging:  # sync finishes it if the host did delete
                details[hostside.DELETE_FAILED] = "true"
            elif fresh.state == VMSnapshotState.Creating:  # a checkpoint found later is an orphan
                details[hostside.CREATE_FAILED] = "true"
            uow.vm_snapshots.transit(fresh, VMSnapshotEvent.OperationFailed)
            uow.vm_snapshots.set_details(fresh.id, details)
            uow.commit()


# --------------------------------------------------------------------------- revert


def check_revert(uow_factory: UowFactory, caller: Account, snapshot_uuid: str) -> VMSnapshot:
    with uow_factory(readonly=True) as uow:
        snap = require(uow.vm_snapshots.get_by_uuid(snapshot_uuid), "Instance Snapshot", snapshot_uuid, uow, caller)
        vm = _vm_of(uow, snap)
        require(vm, "Instance", vm.uuid, uow, caller)
        _no_active_tasks(uow, vm)
        _stable(vm, "Reverting to Instance Snapshot")
        if snap.state != VMSnapshotState.Ready:
            raise InvalidParameterValue(
                f"Instance Snapshot {snapshot_uuid} is in state {snap.state}; only a Ready snapshot can be reverted to"
            )
    return snap


def revert(uow_factory: UowFactory, snapshot_id: int, through_cluster: bool = False) -> Workflow[VM]:
    """Revert to a Ready snapshot. A DiskAndMemory snapshot leaves the VM Running, a Disk
    snapshot leaves it Stopped (spec, "VM Snapshot revert"); the VM is started or stopped
    first where needed, and the snapshot-time offering comes back. ``through_cluster``: the
    host is a failover cluster, so the revert goes through the cluster service (the
    contract's ``RevertToVMSnapshot.through_cluster``)."""
    with uow_factory() as uow:
        snap = _snapshot(uow, snapshot_id)  # gone: deleted while this revert waited
        vm = _vm_of(uow, snap, lock=True)
        _stable(vm, "Reverting to Instance Snapshot")
        if snap.state != VMSnapshotState.Ready:
            raise InvalidParameterValue(
                f"Instance Snapshot {snap.uuid} is in state {snap.state}; only a Ready snapshot can be reverted to"
            )
        _others_active(uow, vm, snap)
        was_stopped = vm.state == VMState.Stopped
        with_memory = snap.type == VMSnapshotType.DiskAndMemory
        uow.vm_snapshots.transit(snap, VMSnapshotEvent.RevertRequested)
        if with_memory and was_stopped:
            uow.vms.transit(vm, VMEvent.StartRequested)
        elif not with_memory and not was_stopped:
            uow.vms.transit(vm, VMEvent.StopRequested)
        uow.commit()
    registered = False  # a stopped VM put on the host for this revert
    try:
        if was_stopped:
            yield from hostside.register(uow_factory, vm.id)
            registered = True
        try:
            answer = yield from ask(RevertToVMSnapshot(hostside.ref(vm), SnapshotRef(snap.name), through_cluster))
            volumes, power = answer.volumes, answer.power_state
        except HostError:  # applied all the same when the host moved to it (its answer was lost)
            on_host = yield from hostside.inventory_of(vm)
            settled = (PowerState.Running, PowerState.Off)
            if snap.current or on_host is None or on_host.current != snap.name or on_host.power_state not in settled:
                raise
            volumes, power = on_host.volumes, on_host.power_state
        with uow_factory() as uow:
            hostside.record_volumes(uow, volumes)
            previous = uow.vm_snapshots.current_of(vm.id)
            if previous is not None:
                uow.vm_snapshots.set_current(previous, False)
            uow.vm_snapshots.transit(snap, VMSnapshotEvent.OperationSucceeded, current=True)
            if snap.service_offering_id != vm.service_offering_id:
                uow.vms.set_offering(vm, snap.service_offering_id)
            follow = hostside.note_tree_change(uow, vm.id, keeps_one=True)
            uow.commit()
        yield from hostside.follow_tree_change(uow_factory, follow)
        if power != PowerState.Running:
            yield from hostside.release(uow_factory, vm.id)
    except HostError as err:
        _failed(uow_factory, snap, err)
        with uow_factory() as uow:
            fresh = uow.vms.get(vm.id)
            if fresh is not None and fresh.state in (VMState.Starting, VMState.Stopping):
                uow.vms.transit(fresh, VMEvent.OperationFailed)
            uow.commit()
        if registered:
            yield from hostside.release_after_failure(uow_factory, vm.id)
        raise CloudRuntimeError(f"Failed to revert to Instance Snapshot {snap.display_name}: {err}") from err
    with uow_factory() as uow:
        fresh = existing(uow.vms.get(vm.id), "Instance", vm.uuid)
        if fresh.state in (VMState.Starting, VMState.Stopping):
            uow.vms.transit(fresh, VMEvent.OperationSucceeded)
        uow.commit()
    return fresh


# --------------------------------------------------------------------------- delete


def check_delete(uow_factory: UowFactory, caller: Account, snapshot_uuid: str, subtree: bool = False) -> VMSnapshot:
    """``subtree``: every snapshot below it must be deletable too."""
    with uow_factory(readonly=True) as uow:
        snap = require(uow.vm_snapshots.get_by_uuid(snapshot_uuid), "Instance Snapshot", snapshot_uuid, uow, caller)
        below = _subtree(uow.vm_snapshots.by_vm(snap.vm_id), snap)[1:] if subtree else []
        for s in (snap, *below):
            if s.state not in DELETABLE_VM_SNAPSHOT_STATES:
                raise InvalidParameterValue(
                    f"Instance Snapshot {s.uuid} is in state {s.state}; it can be deleted only when "
                    "Ready, Error or Expunging"
                )
        if snap.state == VMSnapshotState.Expunging and any(
            j.instance_type == "VmSnapshot" and j.instance_id == snap.id for j in uow.jobs.pending()
        ):  # a retry is for a delete that is stuck, not one that is running
            raise InvalidParameterValue(f"Instance Snapshot {snapshot_uuid} is already being deleted; try again later")
        _no_active_tasks(uow, _vm_of(uow, snap), retrying=snap)
    return snap


def _subtree(snaps: list[VMSnapshot], top: VMSnapshot) -> list[VMSnapshot]:
    """``top`` and every snapshot below it, ``top`` first."""
    out = [top]
    for node in out:  # grows while it is walked: breadth first
        out.extend(s for s in snaps if s.parent == node.id)
    return out


def check_delete_all(uow_factory: UowFactory, caller: Account, vm_uuid: str) -> VM:
    with uow_factory(readonly=True) as uow:
        vm = require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller)
        _no_active_tasks(uow, vm)
        _stable(vm, "Deleting Instance Snapshots")
    return vm


def delete(
    uow_factory: UowFactory, snapshot_id: int, expected: VMSnapshotState | None = None, resuming: bool = False
) -> Workflow[bool]:
    """Delete one snapshot: the host merges its checkpoint; children move to its parent;
    its parent becomes current if it was; the row is soft-deleted. ``expected``: the state
    the request's check saw; a snapshot that has since gone to ``Expunging`` is being
    deleted by another request, and this one is refused (431). ``resuming``: sync re-sends
    the deletes a crash left ``Expunging``, one after the other, so the VM's other
    ``Expunging`` snapshots do not block it."""
    with uow_factory(readonly=True) as uow:
        snap = _snapshot(uow, snapshot_id)  # gone: a concurrent delete won
        vm = _vm_of(uow, snap)
    if expected is not None:
        snap.state = expected
    stopped = vm.state == VMState.Stopped
    registered = stopped and not _all_lost(uow_factory, [snap])
    if registered:
        try:
            yield from hostside.register(uow_factory, vm.id)
        except HostError as err:
            raise CloudRuntimeError(f"Failed to delete Instance Snapshot {snap.display_name}: {err}") from err
    try:
        # unless nothing of it was on the host (stopped, its checkpoints lost): no tree changed there
        follow = yield from _delete_one(uow_factory, snap, resuming, tree_changed=registered or not stopped)
        if follow is not None:
            yield from hostside.follow_tree_change(uow_factory, follow)
    except (HostError, CloudError):
        if registered:
            yield from hostside.release_after_failure(uow_factory, vm.id)
        raise
    if stopped and not _all_lost(uow_factory, [snap]):
        yield from hostside.release(uow_factory, vm.id)
    return True


def delete_all(uow_factory: UowFactory, vm_id: int) -> Workflow[int]:
    """Delete every snapshot of the VM, leaves first; returns how many went."""
    with uow_factory(readonly=True) as uow:
        vm = existing(uow.vms.get(vm_id), "Instance", vm_id)
        snaps = uow.vm_snapshots.by_vm(vm_id)
    return (yield from _delete_leaves_first(uow_factory, vm, snaps))


def delete_subtree(uow_factory: UowFactory, snapshot_id: int) -> Workflow[int]:
    """Delete a snapshot and every snapshot below it, leaves first (Hyper-V's
    ``Remove-VMSnapshot -IncludeAllChildSnapshots``); returns how many went."""
    with uow_factory(readonly=True) as uow:
        snap = uow.vm_snapshots.get(snapshot_id)
        if snap is None:
            raise InvalidParameterValue(f"Unable to find Instance Snapshot {snapshot_id}")
        vm = _vm_of(uow, snap)
        snaps = _subtree(uow.vm_snapshots.by_vm(vm.id), snap)
    return (yield from _delete_leaves_first(uow_factory, vm, snaps))


def _delete_leaves_first(uow_factory: UowFactory, vm: VM, snaps: list[VMSnapshot]) -> Workflow[int]:
    """Delete ``snaps`` (one VM's), children before parents; then the export strategy's
    after-change step (a fresh export, or the storage reclaimed when none is left)."""
    if not snaps:
        return 0
    on_host = vm.state == VMState.Stopped and not _all_lost(uow_factory, snaps)
    if on_host:
        try:
            yield from hostside.register(uow_factory, vm.id)
        except HostError as err:
            raise CloudRuntimeError(f"Failed to delete the Instance Snapshots of {vm.display_name}: {err}") from err
    children = {s.parent for s in snaps}
    try:
        for snap in sorted(snaps, key=lambda s: (s.id in children, -s.id)):
            yield from _delete_one(uow_factory, snap)
    except (HostError, CloudError):
        if on_host:
            yield from hostside.release_after_failure(uow_factory, vm.id)
        raise
    if on_host or vm.state != VMState.Stopped:  # the tree on the host changed
        yield from hostside.after_tree_change(uow_factory, vm.id)
    if on_host:
        yield from hostside.release(uow_factory, vm.id)
    return len(snaps)


def _all_lost(uow_factory: UowFactory, snaps: list[VMSnapshot]) -> bool:
    with uow_factory(readonly=True) as uow:
        return all(uow.vm_snapshots.details(s.id).get(hostside.LOST) for s in snaps)


def _delete_one(
    uow_factory: UowFactory, snap: VMSnapshot, resuming: bool = False, tree_changed: bool = False
) -> Workflow[hostside.TreeFollowUp | None]:
    """``tree_changed``: record the tree's change with the delete (:func:`hostside.note_tree_change`)
    and return what it still asks of the host."""
    with uow_factory() as uow:
        fresh = _snapshot(uow, snap.id)  # gone: a concurrent delete won
        vm = _vm_of(uow, fresh, lock=True)
        if fresh.state not in DELETABLE_VM_SNAPSHOT_STATES and fresh.state != VMSnapshotState.Allocated:
            raise InvalidParameterValue(
                f"Instance Snapshot {fresh.uuid} is in state {fresh.state}; it can be deleted only when "
                "Ready, Error or Expunging"
            )
        if fresh.state == VMSnapshotState.Expunging and snap.state != VMSnapshotState.Expunging:
            raise InvalidParameterValue(f"Instance Snapshot {fresh.uuid} is already being deleted by another request")
        if not resuming:
            _others_active(uow, vm, fresh)
        snap = fresh
        on_host = snap.state != VMSnapshotState.Allocated and not uow.vm_snapshots.details(snap.id).get(hostside.LOST)
        if snap.state != VMSnapshotState.Allocated:
            uow.vm_snapshots.transit(snap, VMSnapshotEvent.ExpungeRequested)
        uow.commit()
    answer: SnapshotAnswer | None = None
    if on_host:
        try:
            answer = yield from ask(DeleteVMSnapshot(hostside.ref(vm), SnapshotRef(snap.name)))
        except ObjectNotFound:
            pass  # already gone from the host: the delete's goal is reached
        except HostError as err:
            seen = yield from hostside.inventory_of(vm)
            if seen is None or hostside.checkpoint_on(seen, snap.name) is not None:
                _failed(uow_factory, snap, err)
                raise CloudRuntimeError(f"Failed to delete Instance Snapshot {snap.display_name}: {err}") from err
            # gone all the same (a merge that failed after it left the tree, a lost answer)
    with uow_factory() as uow:
        if answer is not None:
            hostside.record_volumes(uow, answer.volumes)
        uow.vm_snapshots.reparent_children(snap)
        if snap.current:  # its parent takes over as current
            parent = uow.vm_snapshots.get(snap.parent) if snap.parent is not None else None
            if parent is not None:
                uow.vm_snapshots.set_current(parent, True)
            uow.vm_snapshots.set_current(snap, False)
        uow.vm_snapshots.soft_delete(snap.id)
        follow = hostside.note_tree_change(uow, vm.id) if tree_changed else None
        uow.commit()
    return follow
