"""VMSnapshotSync: settle what a crash left in flight, and reconcile the database with the host.

The spec (VMSnapshotSync) runs it on manager start and on host (re)connect: "the transient
state found during host connection usually means mgmt server restart/outage, or hypervisor
cluster down ... it will re-send the command in question". :func:`sync` is a workflow like
any other (it yields host commands), so the thread runner and the SimPy runner both drive
it. It decides from the host's inventory, never from guesses:

Snapshots in transient states
    - ``Allocated``: never sent to the host; the row is removed.
    - ``Creating``: the host has the checkpoint -> ``Ready`` (the create finished; the answer
      was lost); it has not -> ``Error`` with the reason in ``hyperv.last.error``. A create
      is not re-sent: a checkpoint taken now would not hold the moment the user asked for.
    - ``Reverting``: -> ``Ready``, current when the host's current checkpoint is it. Not
      re-sent: if the first apply did happen, a second would throw away what the guest has
      written since.
    - ``Expunging``: re-sent (the delete workflow; a checkpoint already gone counts as
      deleted). Deleting twice is harmless, so this one is re-driven.
    - ``Error`` after a failed delete (``hyperv.delete.failed``) whose checkpoint the host no
      longer has: the delete did happen, and it is finished the same way. One the host still
      holds stays ``Error`` for the user to delete again.

VMs left between states (the spec's open questions)
    - ``Starting``/``Stopping`` settle from the host's power state: Running on the host ->
      ``Running``; Off or absent -> ``Stopped``.
    - A VM the database calls stopped that the host still has registered (a stop or a
      stopped-VM snapshot operation cut short) is what the host reports as *registered,
      Off, with its checkpoint tree*. Sync finishes the job the CloudStack way: export it
      (when the strategy asks and it has snapshots), then unregister it. That is the
      spec's "whenever host or primary comes up, first export the VM, then delete it, if
      it has snapshots".
    - A VM the database calls ``Running`` that the host shows Off or not at all (host
      crash) follows the host's power-off report to ``Stopped`` and is released likewise.
    - A VM the database calls ``Stopped`` that the host runs (a deploy or start whose answer
      was lost) follows the host's power-on report to ``Running``, as CloudStack's
      power-state sync does.

Reconciliation (every VM, after the above)
    - Checkpoints on the host that the database does not know are *reported* as out of band
      and never imported (spec: "out-of-band snapshots will not be tracked or sync to CS").
      Those that carry hvsnap's own naming (``<instance>_VS_<yyyyMMddHHmmss>``) are orphans
      of a create whose row went away while its command was in flight: they are deleted.
    - ``Ready`` snapshots whose checkpoint is gone from the host (or whose VM's export is
      gone) are lost: the ``Lost`` event takes them to ``Error`` (a ``VMSNAPSHOT.LOST``
      event in listEvents), ``hyperv.checkpoint.lost`` and the reason in the details.
    - The current-snapshot flag and each volume's active path follow the host.

Reports older than the rows (several managers on one database)
    Another live manager may start, stop or snapshot a VM after the host was asked, and a
    report taken before that change must not undo it (a VM just started followed to
    ``Stopped`` and unregistered, a checkpoint just taken called failed or lost). So sync
    reads each VM's row and its ``Creating``/``Reverting`` snapshots (state and
    ``update_count``) *before* it asks the host, and settles a VM only in a unit of work
    that finds them unchanged (the VM's row locked); a snapshot that went ``Creating`` or
    ``Reverting`` since counts as a change. For a VM that changed, the report is not trusted
    and nothing of it is acted on (no state followed, no release, no delete re-sent): sync
    reads those VMs again and asks the host again, up to :data:`ROUNDS` reports in all. A
    VM a crashed manager left changes no more, so it settles on the next report; one that
    changes after every report is being worked on by a live manager and is left in
    ``skipped`` (its reason in ``why_skipped``) for the next sync. The reconciliation
    follows the same rule on its own report: a VM whose rows changed after it was asked is
    reconciled by the next sync. A sync that meets no such change asks the host twice, as
    before: once to settle, once to reconcile.

On a failover cluster a VM whose role is failing over (``VMInventory.role_pending``) is left
alone until a later sync: it is Off only while it moves to another node, and then comes
back with its checkpoints (Cluster Shared Volumes); a VM that moved is followed by name,
whichever node owns it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime

from harness.domain.errors import CloudError
from harness.domain.model import VM, VMSnapshot
from harness.domain.states import VMEvent, VMSnapshotEvent, VMSnapshotState, VMState
from harness.drivers import (
    DeleteVMSnapshot,
    GetInventory,
    HostError,
    Inventory,
    ObjectNotFound,
    PowerState,
    SnapshotRef,
    VMInventory,
    VMRef,
)
from harness.jobs.runners import Workflow, ask
from harness.service import hostside, vmsnapshots
from harness.store.ports import EVERYTHING, UnitOfWork, UowFactory

LIVE_STATES = (VMState.Running, VMState.Stopped, VMState.Starting, VMState.Stopping, VMState.Error)


@dataclass(frozen=True)
class Settled:
    """One thing a sync settled: a snapshot or a VM (``kind``), from which state to which, and why."""

    kind: str  # "snapshot" or "vm"
    uuid: str
    name: str
    before: str
    after: str
    why: str

    def __str__(self) -> str:
        return f"{self.name}: {self.before} -> {self.after} ({self.why})"

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "id": self.uuid,
            "name": self.name,
            "from": self.before,
            "to": self.after,
            "why": self.why,
        }


@dataclass
class SyncReport:
    """What a sync found and did: ``settled`` snapshots and ``vms``; the rest are lines or
    ``(vm, checkpoint)`` pairs. ``skipped``: VMs left alone for a later sync (a live manager
    is working on them, their cluster role is failing over), and ``why_skipped`` the reason
    for each."""

    settled: list[Settled] = field(default_factory=list)
    vms: list[Settled] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    out_of_band: list[tuple[str, str]] = field(default_factory=list)
    vanished: list[tuple[str, str]] = field(default_factory=list)
    orphans_removed: list[tuple[str, str]] = field(default_factory=list)
    unknown_vms: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    why_skipped: dict[str, str] = field(default_factory=dict)

    def skip(self, vm: str, why: str) -> None:
        """Leave the VM named ``vm`` for a later sync, for the reason ``why``."""
        if vm not in self.why_skipped:
            self.skipped.append(vm)
        self.why_skipped[vm] = why


#: How many times sync asks the host again for the VMs whose report it could not trust.
ROUNDS = 3

#: Snapshot states whose fate the host's report decides (sync settles them from it).
DECIDED_BY_HOST = (VMSnapshotState.Creating, VMSnapshotState.Reverting)


@dataclass(frozen=True)
class Seen:
    """The database's view of one VM, read before the host was asked: the VM and, for each of
    its snapshots the report will settle (:data:`DECIDED_BY_HOST`), its ``(state,
    update_count)``. A report is trusted for the VM only while the rows still say this."""

    vm: VM
    snapshots: dict[int, tuple[VMSnapshotState, int]]

    def still(self, vm: VM | None) -> bool:
        return vm is not None and vm.state == self.vm.state and vm.update_count == self.vm.update_count

    def still_snapshots(self, snaps: list[VMSnapshot]) -> bool:
        return all(self.snapshots.get(s.id) == (s.state, s.update_count) for s in snaps if s.state in DECIDED_BY_HOST)


def sync(
    uow_factory: UowFactory,
    busy: frozenset[str] | Callable[[], frozenset[str]] = frozenset(),
    allocated_before: datetime | None = None,
) -> Workflow[SyncReport]:
    """Settle transient snapshots and VMs, then reconcile with the host (module doc).

    ``busy``: uuids of VMs a live manager is working on (a pending job of its own): they are
    left alone entirely, so a sync never settles what is still in flight. A function is
    asked once sync has read the rows: a job begun before that read is in its answer, and
    one begun after it changes rows the read saw (so the report is not trusted for them);
    a set read before sync starts misses a job begun in between. ``allocated_before``:
    an ``Allocated`` row newer than this may belong to a request whose job row is not written
    yet, and is left alone (``None``: every ``Allocated`` row is settled).

    The database is read before the host is asked, and a VM is settled only while its rows
    still say what was read (:class:`Seen`); the others are asked for again, up to
    :data:`ROUNDS` inventories, then reported in ``skipped`` for the next sync."""
    report = SyncReport()
    seen = _read(uow_factory, None)
    todo: list[int] = []  # the VMs whose report could not be trusted: asked for again
    working = busy() if callable(busy) else busy  # after the rows were read (see above)
    for name in sorted(view.vm.instance_name for view in seen if view.vm.uuid in working):
        report.skip(name, "a live manager has a pending job on it")
    seen = [view for view in seen if view.vm.uuid not in working]
    moving: set[str] = set()
    for round_ in range(ROUNDS):
        if round_:
            seen = _read(uow_factory, todo)
        inventory = yield from ask(GetInventory(VMRef("*")))
        moving |= {v.name for v in inventory.vms if v.role_pending}
        todo = []
        for view in seen:
            vm = view.vm
            if vm.instance_name in moving:
                report.skip(vm.instance_name, "its cluster role is failing over")
                continue
            trusted = yield from _settle_one(
                uow_factory, view, inventory.vm(vm.instance_name), report, allocated_before
            )
            if not trusted:
                todo.append(vm.id)
        if not todo:
            break
    churning: set[str] = set()
    for view in _read(uow_factory, todo):  # still changing after every round: a live manager works on it
        churning.add(view.vm.uuid)
        report.skip(
            view.vm.instance_name,
            f"it changed after each of {ROUNDS} host reports: a live manager is working on it, "
            "the next sync settles it",
        )
    with uow_factory(readonly=True) as uow:  # as they were before the reconciliation's report
        rows = {
            v.id: _fingerprint(v, uow.vm_snapshots.by_vm(v.id))
            for v in uow.vms.search(EVERYTHING).items
            if v.state in LIVE_STATES
        }
    inventory = yield from ask(GetInventory(VMRef("*")))
    known: set[str] = set()
    with uow_factory() as uow:
        for vm in sorted(uow.vms.search(EVERYTHING).items, key=lambda v: v.id):
            known.add(vm.instance_name)
            left_alone = vm.instance_name in moving or vm.uuid in working or vm.uuid in churning
            if vm.state not in LIVE_STATES or left_alone:
                continue
            snaps = uow.vm_snapshots.by_vm(vm.id)
            if rows.get(vm.id) != _fingerprint(vm, snaps):
                report.skip(vm.instance_name, "it changed after the host's last report: the next sync reconciles it")
                continue
            _reconcile(uow, vm, snaps, inventory, report)
        uow.commit()
    report.unknown_vms = [v.name for v in inventory.vms if v.name not in known]
    return report


def _fingerprint(vm: VM, snaps: list[VMSnapshot]) -> tuple[object, ...]:
    """What a change to the VM or to any of its snapshot rows changes: states and update counts."""
    return (vm.state, vm.update_count, sorted((s.id, s.state, s.update_count) for s in snaps))


def _read(uow_factory: UowFactory, vm_ids: list[int] | None) -> list[Seen]:
    """The database's view of the VMs ``vm_ids`` (``None``: every VM) that are still live,
    in id order."""
    if vm_ids is not None and not vm_ids:
        return []
    with uow_factory(readonly=True) as uow:
        found = uow.vms.search(EVERYTHING).items if vm_ids is None else [uow.vms.get(i) for i in vm_ids]
        live = sorted((vm for vm in found if vm is not None and vm.state in LIVE_STATES), key=lambda vm: vm.id)
        return [Seen(vm, _decided_by_host(uow.vm_snapshots.by_vm(vm.id))) for vm in live]


def _decided_by_host(snaps: list[VMSnapshot]) -> dict[int, tuple[VMSnapshotState, int]]:
    return {s.id: (s.state, s.update_count) for s in snaps if s.state in DECIDED_BY_HOST}


def _settle_one(
    uow_factory: UowFactory,
    view: Seen,
    on_host: VMInventory | None,
    report: SyncReport,
    allocated_before: datetime | None,
) -> Workflow[bool]:
    """Settle one VM and its snapshots from ``on_host``; False, having changed nothing of
    what the report decides, when the VM's rows moved since ``view`` was read (the report
    may predate that change)."""
    vm = view.vm
    if not _settle_snapshots(uow_factory, view, on_host, report, allocated_before):
        return False
    deleted = _deleted_anyway(uow_factory, vm, on_host)
    yield from _remove_orphans(uow_factory, vm, on_host, report)
    release = _settle_vm(uow_factory, view, on_host, report)
    if release is None:
        return False
    if release:
        try:
            yield from hostside.release_fresh(uow_factory, vm.id)
            report.vms.append(
                Settled(
                    "vm",
                    vm.uuid,
                    vm.instance_name,
                    "registered",
                    "unregistered",
                    "a stopped VM still on the host: exported as the strategy asks, then unregistered",
                )
            )
        except HostError as err:
            report.failed.append(f"{vm.instance_name}: release failed: {err}")
    with uow_factory(readonly=True) as uow:
        expunging = [s for s in uow.vm_snapshots.by_vm(vm.id) if s.state == VMSnapshotState.Expunging]
    resent = [(s, "delete re-sent") for s in expunging] + [(s, "its failed delete did happen") for s in deleted]
    for snap, why in resent:
        before = str(snap.state)
        try:
            yield from vmsnapshots.delete(uow_factory, snap.id, resuming=True)
            report.settled.append(Settled("snapshot", snap.uuid, snap.name, before, "Removed", why))
        except (CloudError, HostError) as err:
            report.failed.append(f"{snap.name}: delete re-sent and failed: {err}")
    return True


def db_tree(uow: UnitOfWork, vm_id: int) -> dict[str, str | None]:
    """The snapshots of the VM that the host should hold: name -> parent name. They are the
    ``Ready`` ones and those in ``Error`` after a delete that failed (CloudStack keeps them
    for the user to delete again; sync finishes the ones the host deleted all the same)."""
    snaps = uow.vm_snapshots.by_vm(vm_id)
    names = {s.id: s.name for s in snaps}
    return {
        s.name: names.get(s.parent) if s.parent is not None else None
        for s in snaps
        if _held(s, uow.vm_snapshots.details(s.id))
    }


def _held(snap: VMSnapshot, details: dict[str, str]) -> bool:
    if details.get(hostside.LOST):
        return False
    return snap.state == VMSnapshotState.Ready or (
        snap.state == VMSnapshotState.Error and bool(details.get(hostside.DELETE_FAILED))
    )


# --------------------------------------------------------------------------- steps


def _settle_snapshots(
    uow_factory: UowFactory,
    view: Seen,
    on_host: VMInventory | None,
    report: SyncReport,
    allocated_before: datetime | None,
) -> bool:
    """Settle the VM's transient snapshots from ``on_host``; False, changing nothing, when the
    VM or one of the snapshots the report decides moved since ``view`` was read (a snapshot
    that went Creating or Reverting since counts: its checkpoint may postdate the report)."""
    vm = view.vm
    held = {c.name for c in on_host.checkpoints} if on_host else set()

    def settled(snap: VMSnapshot, before: str, after: str, why: str) -> None:
        report.settled.append(Settled("snapshot", snap.uuid, snap.name, before, after, why))

    with uow_factory() as uow:
        locked = uow.vms.lock(vm.id)  # no operation on the VM begins while its rows are settled
        snaps = uow.vm_snapshots.by_vm(vm.id)
        if not (view.still(locked) and view.still_snapshots(snaps)):
            return False
        for snap in snaps:
            if snap.state == VMSnapshotState.Allocated:
                if allocated_before is not None and snap.created is not None and snap.created >= allocated_before:
                    continue  # its request may still be on its way to the job queue
                uow.vm_snapshots.soft_delete(snap.id)
                settled(snap, "Allocated", "Removed", "never sent to the host")
            elif snap.state == VMSnapshotState.Creating and on_host is not None and snap.name in held:
                _make_current(uow, vm.id, snap, on_host)
                uow.vm_snapshots.transit(snap, VMSnapshotEvent.OperationSucceeded)
                hostside.record_volumes(uow, on_host.volumes)
                uow.vms.set_exported(vm, False)  # the tree changed after any export
                settled(snap, "Creating", "Ready", "checkpoint found on the host")
            elif snap.state == VMSnapshotState.Creating:
                uow.vm_snapshots.transit(snap, VMSnapshotEvent.OperationFailed)
                uow.vm_snapshots.set_details(
                    snap.id,
                    {hostside.LAST_ERROR: "sync: the host has no such checkpoint", hostside.CREATE_FAILED: "true"},
                )
                settled(snap, "Creating", "Error", "no checkpoint on the host")
            elif snap.state == VMSnapshotState.Reverting:
                if on_host is not None and on_host.current == snap.name:
                    _make_current(uow, vm.id, snap, on_host)
                    hostside.record_volumes(uow, on_host.volumes)
                    uow.vm_snapshots.transit(snap, VMSnapshotEvent.OperationSucceeded)
                    settled(snap, "Reverting", "Ready", "current on the host: the revert was applied")
                else:
                    uow.vm_snapshots.transit(snap, VMSnapshotEvent.OperationFailed)
                    settled(snap, "Reverting", "Ready", "not current on the host: the revert was not applied")
        uow.commit()
    return True


def _deleted_anyway(uow_factory: UowFactory, vm: VM, on_host: VMInventory | None) -> list[VMSnapshot]:
    """Snapshots in Error after a failed delete whose checkpoint the host no longer has (a
    merge that failed after the checkpoint left the tree; a delete whose answer was lost):
    the delete did happen, so it is finished (children move up, the row goes). One the host
    still holds stays in Error, for the user to delete again."""
    if on_host is None:
        return []
    held = {c.name for c in on_host.checkpoints}
    with uow_factory(readonly=True) as uow:
        return [
            s
            for s in uow.vm_snapshots.by_vm(vm.id)
            if s.state == VMSnapshotState.Error
            and s.name not in held
            and uow.vm_snapshots.details(s.id).get(hostside.DELETE_FAILED)
            and not uow.vm_snapshots.details(s.id).get(hostside.LOST)
        ]


def _remove_orphans(uow_factory: UowFactory, vm: VM, on_host: VMInventory | None, report: SyncReport) -> Workflow[None]:
    """Delete the checkpoints on the host that carry hvsnap's naming and that no snapshot row
    claims (a create whose row went away while its command was in flight, or whose row is
    in Error because the host could not say it had taken it); checkpoints named otherwise
    are the user's and are never touched."""
    if on_host is None:
        return
    with uow_factory(readonly=True) as uow:  # a failed create claims nothing: its row says so
        claimed = {
            s.name
            for s in uow.vm_snapshots.by_vm(vm.id)
            if not uow.vm_snapshots.details(s.id).get(hostside.CREATE_FAILED)
        }
    ours = re.compile(rf"{re.escape(vm.instance_name)}_VS_\d{{14}}")
    orphans = [c.name for c in on_host.checkpoints if c.name not in claimed and ours.fullmatch(c.name)]
    try:
        for name in orphans:
            with suppress(ObjectNotFound):
                yield from ask(DeleteVMSnapshot(hostside.ref(vm), SnapshotRef(name)))
            report.orphans_removed.append((vm.instance_name, name))
        if orphans:
            yield from hostside.after_tree_change(uow_factory, vm.id)
    except HostError as err:
        report.failed.append(f"{vm.instance_name}: removing an orphan checkpoint failed: {err}")


def _make_current(uow: UnitOfWork, vm_id: int, snap: VMSnapshot, on_host: VMInventory) -> None:
    if on_host.current != snap.name:
        return
    previous = uow.vm_snapshots.current_of(vm_id)
    if previous is not None and previous.id != snap.id:
        uow.vm_snapshots.set_current(previous, False)
    uow.vm_snapshots.set_current(snap, True)


def _settle_vm(uow_factory: UowFactory, view: Seen, on_host: VMInventory | None, report: SyncReport) -> bool | None:
    """Settle the VM's state from the host's; True when it must still leave the host. None,
    changing nothing, when the VM moved since ``view`` was read: the report may predate that
    change (another manager started it after the host was asked, say)."""
    vm = view.vm
    running = on_host is not None and on_host.power_state != PowerState.Off
    with uow_factory() as uow:
        fresh = uow.vms.lock(vm.id)
        if fresh is None or not view.still(fresh):
            return None
        before = fresh.state
        if fresh.state in (VMState.Starting, VMState.Stopping):
            succeeded = running == (fresh.state == VMState.Starting)
            uow.vms.transit(fresh, VMEvent.OperationSucceeded if succeeded else VMEvent.OperationFailed)
        elif fresh.state == VMState.Running and not running:
            uow.vms.transit(fresh, VMEvent.FollowAgentPowerOffReport)
        elif fresh.state == VMState.Stopped and running:
            uow.vms.transit(fresh, VMEvent.FollowAgentPowerOnReport)
        if fresh.state != before:
            report.vms.append(
                Settled(
                    "vm", vm.uuid, vm.instance_name, str(before), str(fresh.state), f"host reports {_power(on_host)}"
                )
            )
        uow.commit()
    return fresh.state == VMState.Stopped and on_host is not None and not running


def _power(on_host: VMInventory | None) -> str:
    return "not registered" if on_host is None else str(on_host.power_state)


def _reconcile(uow: UnitOfWork, vm: VM, snaps: list[VMSnapshot], inventory: Inventory, report: SyncReport) -> None:
    on_host = inventory.vm(vm.instance_name)
    if on_host is None:
        if vm.exported and vm.instance_name not in inventory.exported:
            _flag(uow, vm, [s for s in snaps if s.state == VMSnapshotState.Ready], "its export is gone", report)
        return
    known = {s.name for s in snaps}
    report.out_of_band.extend((vm.instance_name, c.name) for c in on_host.checkpoints if c.name not in known)
    held = {c.name for c in on_host.checkpoints}
    gone = [
        s
        for s in snaps
        if s.state == VMSnapshotState.Ready
        and s.name not in held
        and not uow.vm_snapshots.details(s.id).get(hostside.LOST)
    ]
    _flag(uow, vm, gone, "its checkpoint vanished from the host", report)
    for snap in snaps:
        should = snap.name == on_host.current
        if bool(snap.current) != should and snap.state != VMSnapshotState.Error:
            uow.vm_snapshots.set_current(snap, should)
    hostside.record_volumes(uow, on_host.volumes)


def _flag(uow: UnitOfWork, vm: VM, snaps: list[VMSnapshot], why: str, report: SyncReport) -> None:
    for snap in snaps:
        hostside.lose(uow, snap, f"sync: {why}")
        report.vanished.append((vm.instance_name, snap.name))
