"""Steps every workflow shares on the host side: bringing a stopped VM back onto the host,
sending it away again, and exporting under the configured strategy.

CloudStack stops a Hyper-V VM by unregistering it (spec, "Important questions"), so a
Stopped VM has no registration, and a VM-snapshot operation on it must first
:func:`register` it (from its export, checkpoint tree and all, or from its disk files when
it has no export) and afterwards :func:`release` it: export it when the strategy asks, then
unregister it. Checkpoints the host drops without an export behind them are recorded
honestly: those snapshots go to Error with the reason in their details.

These are sub-generators (``yield from``); each database step inside is one unit of work
(one transaction, or one part of a batched one: :mod:`harness.store.batch`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass

from harness.domain import config
from harness.domain.model import VM, ExportStrategy, VMSnapshot
from harness.domain.states import VMSnapshotEvent, VMSnapshotState
from harness.drivers import (
    CheckpointInfo,
    DiskSpec,
    ExportVM,
    GetInventory,
    HostError,
    ImportVM,
    ReclaimStorage,
    RegisterVM,
    UnregisterVM,
    VMInventory,
    VMRef,
    VolumeState,
)
from harness.jobs.runners import Workflow, ask
from harness.service import events, keypairs, nics
from harness.store.ports import UnitOfWork, UowFactory, existing

#: detail set on a snapshot whose checkpoint the host no longer has
LOST = "hyperv.checkpoint.lost"
#: detail holding the host's error text for a failed operation
LAST_ERROR = "hyperv.last.error"
#: detail set on a snapshot whose delete failed (Error): the host may have deleted it anyway
DELETE_FAILED = "hyperv.delete.failed"
#: detail set on a snapshot whose create failed (Error): it claims no checkpoint on the host
CREATE_FAILED = "hyperv.create.failed"

Steps = Workflow[None]
log = logging.getLogger(__name__)


def strategy(uow: UnitOfWork) -> ExportStrategy:
    return ExportStrategy(uow.config.get(config.EXPORT_STRATEGY))


def ref(vm: VM) -> VMRef:
    return VMRef(vm.instance_name)


def disks(uow: UnitOfWork, vm: VM) -> tuple[DiskSpec, ...]:
    return tuple(DiskSpec(v.uuid, v.size, v.path) for v in uow.volumes.of_vm(vm.id))


def record_volumes(uow: UnitOfWork, volumes: Iterable[VolumeState]) -> None:
    """Write the active path and chain size of each volume the host reported."""
    for v in volumes:
        uow.volumes.record_host_state(v.volume_uuid, v.path, v.chain_size)


def register(uow_factory: UowFactory, vm_id: int) -> Steps:
    """Put a stopped VM back on the host, Off: imported from its export when it has one."""
    with uow_factory(readonly=True) as uow:
        vm = existing(uow.vms.get(vm_id), "Instance", vm_id)
        offering = existing(uow.offerings.get(vm.service_offering_id), "service offering", vm.service_offering_id)
        spec = disks(uow, vm)
        address = nics.default_address(uow, vm_id)
        keys = keypairs.authorized_keys(uow, vm_id)
        password = uow.vm_details.of_vm(vm_id).get(keypairs.PENDING_PASSWORD)
    kind = ImportVM if vm.exported else RegisterVM
    # without a reset password pending the guest keeps its own, as a real guest's disk does
    answer = yield from ask(
        kind(
            ref(vm), offering.ram_size, offering.cpu, spec, ip_address=address, authorized_keys=keys, password=password
        )
    )
    with uow_factory() as uow:
        record_volumes(uow, answer.volumes)
        if password is not None:
            uow.vm_details.remove(vm_id, keypairs.PENDING_PASSWORD)  # the guest has it now
        uow.commit()


def export_if(uow_factory: UowFactory, vm_id: int, when: ExportStrategy) -> Steps:
    """Export the VM when the configured strategy is ``when``, it has snapshots, and the
    host holds no export of its current tree yet (``vm.exported`` means a fresh one)."""
    with uow_factory(readonly=True) as uow:
        vm = existing(uow.vms.get(vm_id), "Instance", vm_id)
        wanted = strategy(uow) == when and not vm.exported and uow.vm_snapshots.has_snapshots(vm_id)
    if wanted:
        yield from _export(uow_factory, vm)


def _export(uow_factory: UowFactory, vm: VM) -> Steps:
    yield ExportVM(ref(vm))
    with uow_factory() as uow:
        uow.vms.set_exported(vm, True)
        uow.commit()


@dataclass(frozen=True)
class TreeFollowUp:
    """What a change of a VM's checkpoint tree still asks of the host once it is recorded:
    a fresh export (``on-snapshot``), or its storage reclaimed when no snapshot is left."""

    vm: VM
    export: bool
    empty: bool


def note_tree_change(uow: UnitOfWork, vm_id: int, keeps_one: bool = False) -> TreeFollowUp:
    """The database half of :func:`after_tree_change`, in the caller's unit of work (which
    commits it with the change itself): any export is stale from now on. ``keeps_one``: the
    caller knows the VM has a snapshot (it took one, or reverted to one), so the store is
    not asked."""
    vm = existing(uow.vms.get(vm_id), "Instance", vm_id)
    if vm.exported:
        uow.vms.set_exported(vm, False)
    empty = not keeps_one and not uow.vm_snapshots.has_snapshots(vm_id)
    return TreeFollowUp(vm, not empty and strategy(uow) == ExportStrategy.on_snapshot, empty)


def follow_tree_change(uow_factory: UowFactory, follow: TreeFollowUp) -> Steps:
    """The host half of :func:`after_tree_change`."""
    if follow.export:
        yield from _export(uow_factory, follow.vm)
    if follow.empty:
        yield from reclaim(uow_factory, follow.vm.id)


def after_tree_change(uow_factory: UowFactory, vm_id: int) -> Steps:
    """The checkpoint tree changed, so any export is stale; under ``on-snapshot`` take a
    fresh one now. With no snapshot left, the stale export is deleted."""
    with uow_factory() as uow:
        follow = note_tree_change(uow, vm_id)
        uow.commit()
    yield from follow_tree_change(uow_factory, follow)


def reclaim(uow_factory: UowFactory, vm_id: int) -> Steps:
    """The host keeps no snapshot of the VM: delete its export and, while it is unregistered,
    the disk files off its volumes' active chains. A host that fails to is logged, not
    raised: the snapshots are already gone, and the next reclaim or destroy retries."""
    with uow_factory(readonly=True) as uow:
        vm = existing(uow.vms.get(vm_id), "Instance", vm_id)
        spec = disks(uow, vm)
    try:
        yield ReclaimStorage(ref(vm), spec)
    except HostError as err:
        log.warning("reclaiming the storage of %s failed: %s", vm.instance_name, err.code)


def inventory_of(vm: VM) -> Workflow[VMInventory | None]:
    """The host's view of the VM, asked after a command on it failed: the host may have done
    the work before it failed (a merge that fails after the checkpoint left the tree) or
    before its answer was lost. None when the host cannot say or has no such VM."""
    try:
        inventory = yield from ask(GetInventory(ref(vm)))
    except HostError:
        return None
    return inventory.vm(vm.instance_name)


def checkpoint_on(on_host: VMInventory, name: str) -> CheckpointInfo | None:
    return next((c for c in on_host.checkpoints if c.name == name), None)


def release(uow_factory: UowFactory, vm_id: int) -> Steps:
    """Take an Off VM off the host the CloudStack way: export under ``on-stop``, unregister.

    Under ``on-snapshot`` an export that a snapshot's step could not take (it failed, or its
    answer was lost) is taken now. Without a fresh export the checkpoints are gone: their
    snapshots go to Error (``LOST``), which only strategy ``none`` admits.
    """
    yield from export_if(uow_factory, vm_id, ExportStrategy.on_stop)
    yield from export_if(uow_factory, vm_id, ExportStrategy.on_snapshot)
    with uow_factory(readonly=True) as uow:
        vm = existing(uow.vms.get(vm_id), "Instance", vm_id)
        exported = vm.exported and uow.vm_snapshots.has_snapshots(vm_id)
    answer = yield from ask(UnregisterVM(ref(vm)))
    with uow_factory() as uow:
        record_volumes(uow, answer.volumes)
        if not exported:
            uow.vms.set_exported(vm, False)
            mark_lost(uow, vm_id, "the VM was unregistered on stop without an export (strategy none)")
        uow.commit()
    if not exported:  # no tree to bring back: its export and branch files are garbage
        yield from reclaim(uow_factory, vm_id)


def release_fresh(uow_factory: UowFactory, vm_id: int) -> Steps:
    """Take a stopped VM that is still registered off the host, trusting no earlier export
    (its tree may have changed since): a fresh export under either strategy, then
    :func:`release`."""
    with uow_factory() as uow:
        vm = existing(uow.vms.get(vm_id), "Instance", vm_id)
        uow.vms.set_exported(vm, False)
        uow.commit()
    yield from export_if(uow_factory, vm_id, ExportStrategy.on_snapshot)
    yield from release(uow_factory, vm_id)


def release_after_failure(uow_factory: UowFactory, vm_id: int) -> Steps:
    """A stopped VM registered for an operation that then failed goes back off the host:
    left registered, it could never start again ("already registered"). If the host refuses
    that too, the VM stays registered for sync, and the operation's own error stands. A VM
    the host no longer has (an unregister whose answer was lost) is left as it is: its
    export is the one just taken."""
    with uow_factory(readonly=True) as uow:
        vm = existing(uow.vms.get(vm_id), "Instance", vm_id)
    with suppress(HostError):
        inventory = yield from ask(GetInventory(ref(vm)))
        if inventory.vm(vm.instance_name) is None:
            return
        yield from release_fresh(uow_factory, vm_id)


def mark_lost(uow: UnitOfWork, vm_id: int, reason: str) -> None:
    """Record that the host has none of the VM's checkpoints any more."""
    for snap in uow.vm_snapshots.by_vm(vm_id):
        lose(uow, snap, reason)


def lose(uow: UnitOfWork, snap: VMSnapshot, reason: str) -> None:
    """Record that the host no longer has ``snap``'s checkpoint: a Ready or Expunging
    snapshot goes to Error by the ``Lost`` event (logged as a transition and as a
    ``VMSNAPSHOT.LOST`` event); any snapshot is flagged ``LOST`` and is no longer current."""
    if snap.state in (VMSnapshotState.Ready, VMSnapshotState.Expunging):
        uow.vm_snapshots.transit(snap, VMSnapshotEvent.Lost)
        events.lost(uow, snap, reason)
    uow.vm_snapshots.set_current(snap, False)
    uow.vm_snapshots.set_details(snap.id, {LOST: "true", LAST_ERROR: reason})
