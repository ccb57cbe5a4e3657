"""Pure translation between host commands and Hyper-V cmdlets. No I/O, no pypsrp.

Each contract command becomes a *plan*: a generator that yields :class:`Invocation` s
(statements of structured cmdlet calls: a name and named, typed parameters; never script
text), receives the objects the host returned as :class:`PSObj`, and returns the
:class:`~harness.drivers.Answer`. Host errors are thrown into the plan as
``harness.drivers.HostError`` s, so a plan can treat an expected ``ObjectNotFound`` as an
answer (a probe). A plan may also yield :class:`Sleep` while it polls a merge.

Choices a real host shares with the emulated one:

- A VM's files live in its folder ``<storage_root>\\<vm>``: disks ``<volume uuid>.vhdx``,
  their checkpoints' ``.avhdx`` beside them, its export in ``Export``. Destroying a VM
  removes that folder.
- A volume is recognised on a drive by its file name: ``<uuid>.vhdx`` or, for a
  differencing disk, ``<uuid>_<suffix>.avhdx`` (Hyper-V names a checkpoint's AVHDX after
  its parent).
- Checkpoints are found by listing the VM's checkpoints and matching the name exactly in
  Python, then addressed by ``-Id``: ``Get-VMSnapshot -Name`` takes wildcards, so a name
  like ``x*`` must never reach it as a filter. The Ids a driver has seen (:class:`Known`)
  spare that listing: a revert or delete of a known checkpoint is one round trip, and an
  Id the host no longer has sends the plan back to the listing.
- Chain size (the answers' ``VolumeState.chain_size``) is the sum of ``Get-VHD``'s
  ``FileSize`` over the differencing files from the leaf up to the base disk. Every disk
  file in the VM's folder (the storage root's, for an inventory) is read in the same round
  trip as the command (``Get-ChildItem | Get-VHD``); only a chain that leaves the folder is
  walked on, one level per ``Get-VHD -Path <frontier>`` call.
- Every cmdlet carries ``-ErrorAction Stop`` so any error terminates the pipeline.
- A check that must hold before a change runs on the host, in the invocation that makes
  the change (``Where-Object -Property -CEQ|-NE -Value`` feeding ``Write-Error -ErrorId``,
  :func:`live_driver.steps.halt_if`): a create is one round trip. Names travel as
  parameter values, compared exactly (``-CEQ``), never as filters or script text. A JEA
  endpoint must expose every cmdlet of :data:`CMDLETS` (``Where-Object``, ``Select-Object``
  and ``Write-Error`` beside the Hyper-V and file cmdlets, ``Set-VM`` with pipeline
  input), and :data:`CLUSTER_CMDLETS` on a cluster node; ``hvsnap host check`` asks the
  host for each.

The steps plans share are in :mod:`live_driver.steps`; the plans that move a VM's files as a
whole (export, import in place, reclaim, volume snapshots) in :mod:`live_driver.exports`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.drivers import (
    AttachVolume,
    CheckpointInfo,
    Command,
    CreateVMSnapshot,
    CreateVolumeSnapshot,
    DeleteVMSnapshot,
    DeployVM,
    DestroyVM,
    DetachVolume,
    ExportVM,
    GetInventory,
    ImportVM,
    InvalidState,
    Inventory,
    ObjectNotFound,
    OperationTimeout,
    PowerOffVM,
    ReclaimStorage,
    RegisterVM,
    RevertToVMSnapshot,
    SaveVM,
    SnapshotAnswer,
    StartVM,
    UnregisterAnswer,
    UnregisterVM,
    VMAnswer,
    VMInventory,
    VolumeState,
)
from live_driver.exports import export, import_vm, reclaim, volume_snapshot
from live_driver.steps import (
    BUSY_STATUS,
    MEMORY_STATES,
    NAME_TAKEN,
    NOT_RUNNING,
    Known,
    Layout,
    Plan,
    Statement,
    Sub,
    absent,
    busy_text,
    by_id,
    chain,
    chain_files,
    define,
    halt_if,
    halt_unless,
    new_disks,
    of,
    one,
    power,
    run,
    start_vm,
    vm_answer,
    vm_reads,
    volume_of,
    volumes,
    where,
)
from live_driver.wire import SWITCH, PSObj, Sleep, cmd

#: every cmdlet the plans send to a standalone host (a test holds this to the code)
CMDLETS = (
    *("Get-VM", "New-VM", "Set-VM", "Start-VM", "Stop-VM", "Save-VM", "Remove-VM", "Export-VM", "Import-VM"),
    *("Get-VMSnapshot", "Checkpoint-VM", "Restore-VMSnapshot", "Remove-VMSnapshot"),
    *("Get-VMHardDiskDrive", "Add-VMHardDiskDrive", "Set-VMHardDiskDrive", "Remove-VMHardDiskDrive"),
    *("Get-VMNetworkAdapter", "Get-VHD", "New-VHD", "Convert-VHD"),
    *("Get-ChildItem", "Test-Path", "Remove-Item", "Where-Object", "Select-Object", "Write-Error"),
)
#: and on a failover cluster node (``--hyperv-cluster``)
CLUSTER_CMDLETS = ("Get-ClusterGroup", "Stop-ClusterGroup", "Start-ClusterGroup")

# --------------------------------------------------------------------------- plans


def deploy(c: DeployVM, layout: Layout, known: Known) -> Plan:
    name = c.vm.name
    yield from absent(name)
    creates, paths = new_disks(name, c.disks, layout)
    existing = [d.path for d in c.disks if d.path]
    checks = [cmd("Get-VHD", Path=tuple(existing))] if existing else []
    if not c.start:
        yield from run(*checks, *creates)
        files = yield from chain_files(paths)
        return VMAnswer(
            None,
            tuple(
                VolumeState(d.volume_uuid, p, sum(files[f][1] for f in chain(files, p) if files[f][0]))
                for d, p in zip(c.disks, paths, strict=True)
            ),
        )
    objs = yield from run(
        *checks,
        *creates,
        *define(name, c.memory_mib, c.cpus, paths),
        start_vm(name),
        *vm_reads(name, layout, vm=False),
    )
    return (yield from vm_answer(objs))


def register(c: RegisterVM, layout: Layout, known: Known) -> Plan:
    name = c.vm.name
    yield from absent(name)
    creates, paths = new_disks(name, c.disks, layout)
    existing = [d.path for d in c.disks if d.path]
    checks = [cmd("Get-VHD", Path=tuple(existing))] if existing else []
    objs = yield from run(*checks, *creates, *define(name, c.memory_mib, c.cpus, paths), *vm_reads(name, layout))
    return (yield from vm_answer(objs))


def start(c: StartVM, layout: Layout, known: Known) -> Plan:
    objs = yield from run(start_vm(c.vm.name), *vm_reads(c.vm.name, layout, vm=False))
    return (yield from vm_answer(objs))


def power_off(c: PowerOffVM, layout: Layout, known: Known) -> Plan:
    objs = yield from run(
        cmd("Stop-VM", Name=c.vm.name, TurnOff=SWITCH, Force=SWITCH, Passthru=SWITCH),
        *vm_reads(c.vm.name, layout, vm=False),
    )
    return (yield from vm_answer(objs))


def save(c: SaveVM, layout: Layout, known: Known) -> Plan:
    name = c.vm.name
    if c.through_cluster and layout.clustered:  # the role's offline action saves the VM
        objs = yield from run(cmd("Stop-ClusterGroup", Name=name), *vm_reads(name, layout))
    else:
        objs = yield from run(cmd("Save-VM", Name=name, Passthru=SWITCH), *vm_reads(name, layout, vm=False))
    return (yield from vm_answer(objs))


def unregister(c: UnregisterVM, layout: Layout, known: Known) -> Plan:
    name = c.vm.name
    objs = yield from run(*vm_reads(name, layout), cmd("Get-VMSnapshot", VMName=name), readonly=True)
    vols = yield from volumes(of(objs, "HardDiskDrive"), objs)
    lost = tuple(str(s["Name"]) for s in sorted(of(objs, "VMSnapshot"), key=lambda s: str(s.get("CreationTime"))))
    yield from run(cmd("Remove-VM", Name=name, Force=SWITCH))
    known.forget(name)
    return UnregisterAnswer(lost, vols)


def destroy(c: DestroyVM, layout: Layout, known: Known) -> Plan:
    name = c.vm.name
    try:
        yield from run(cmd("Get-VM", Name=name), readonly=True)
        yield from run(
            cmd("Stop-VM", Name=name, TurnOff=SWITCH, Force=SWITCH), cmd("Remove-VM", Name=name, Force=SWITCH)
        )
    except ObjectNotFound:
        pass
    known.forget(name)
    folder = layout.folder(name)
    if True in (yield from run(cmd("Test-Path", LiteralPath=(folder,)), readonly=True)):
        yield from run(cmd("Remove-Item", LiteralPath=folder, Recurse=SWITCH, Force=SWITCH))
    return VMAnswer(None)


def create_snapshot(c: CreateVMSnapshot, layout: Layout, known: Known) -> Plan:
    """One round trip: the checks run on the host in the pipeline that takes the checkpoint
    (a missing VM fails ``Get-VMSnapshot``; a name taken or, for memory, a VM not running
    fail ``Write-Error`` with :data:`NAME_TAKEN` / :data:`NOT_RUNNING`), the VM's
    CheckpointType is set only where it differs, and the VM is read back."""
    name, snap = c.vm.name, c.snapshot.name
    kind = "Standard" if c.memory else "ProductionOnly" if c.quiesce else "Production"
    running = [halt_unless(cmd("Get-VM", Name=name), "State", "Running", NOT_RUNNING)] if c.memory else []
    try:
        objs = yield from run(
            halt_if(cmd("Get-VMSnapshot", VMName=name), "Name", snap, NAME_TAKEN),
            *running,
            (cmd("Get-VM", Name=name), where("CheckpointType", "NE", kind), cmd("Set-VM", CheckpointType=kind)),
            cmd("Checkpoint-VM", Name=name, SnapshotName=snap, Passthru=SWITCH),
            *vm_reads(name, layout),
        )
    except InvalidState as err:
        if NAME_TAKEN in str(err):
            raise InvalidState(f"A checkpoint named '{snap}' already exists for '{name}'.") from err
        if NOT_RUNNING in str(err):
            raise InvalidState(f"'{name}' is not running: {busy_text()}") from err
        raise
    taken = one(objs, "VMSnapshot")
    known.learn([taken], listing=False)
    vm = one(objs, "VirtualMachine")
    vols = yield from volumes(of(objs, "HardDiskDrive"), objs)
    return SnapshotAnswer(power(vm), vols, memory=str(taken["State"]) in MEMORY_STATES)


def revert(c: RevertToVMSnapshot, layout: Layout, known: Known) -> Plan:
    name = c.vm.name
    # Through the cluster: its role offline first (the cluster saves the VM), and online again
    # after a memory checkpoint (Start-ClusterGroup resumes it), never Start-VM behind its back.
    cluster = c.through_cluster and layout.clustered
    before = [cmd("Stop-ClusterGroup", Name=name)] if cluster else []
    resume = (
        [cmd("Start-ClusterGroup", Name=name), *vm_reads(name, layout)]
        if cluster
        else [start_vm(name), *vm_reads(name, layout, vm=False)]
    )

    def then(memory: bool) -> list[Statement]:  # a memory checkpoint leaves the VM Saved: resume it
        return resume if memory else vm_reads(name, layout)

    restore = cmd("Restore-VMSnapshot", Confirm=False)
    objs = yield from by_id(name, c.snapshot.name, known, restore, then, before)
    vm = one(objs, "VirtualMachine")
    return SnapshotAnswer(power(vm), (yield from volumes(of(objs, "HardDiskDrive"), objs)))


def delete_snapshot(c: DeleteVMSnapshot, layout: Layout, known: Known) -> Plan:
    name = c.vm.name
    remove = cmd("Remove-VMSnapshot", Confirm=False)
    objs = yield from by_id(name, c.snapshot.name, known, remove, lambda _memory: vm_reads(name, layout))
    known.forget(name, c.snapshot.name)
    waited = 0.0
    while True:
        vm = one(objs, "VirtualMachine")
        status = vm.get("OperationalStatus") or []
        status = {str(s) for s in (status if isinstance(status, list | tuple) else [status])}
        if not status & BUSY_STATUS:
            break
        if waited >= layout.merge_timeout_seconds:
            raise OperationTimeout(f"'{name}' still merging after {waited:.0f} s")
        yield Sleep(layout.merge_poll_seconds)
        waited += layout.merge_poll_seconds
        objs = yield from run(*vm_reads(name, layout), readonly=True)
    return SnapshotAnswer(power(vm), (yield from volumes(of(objs, "HardDiskDrive"), objs)))


def attach(c: AttachVolume, layout: Layout, known: Known) -> Plan:
    name = c.vm.name
    creates, paths = new_disks(name, [c.disk], layout)
    objs = yield from run(
        cmd("Get-VM", Name=name),
        *creates,
        cmd("Add-VMHardDiskDrive", VMName=name, Path=paths[0]),
        *vm_reads(name, layout),
    )
    return (yield from vm_answer(objs))


def detach(c: DetachVolume, layout: Layout, known: Known) -> Plan:
    name = c.vm.name
    drives = of((yield from run(cmd("Get-VMHardDiskDrive", VMName=name), readonly=True)), "HardDiskDrive")
    drive = next((d for d in drives if volume_of(str(d["Path"])) == c.disk.volume_uuid), None)
    if drive is None:
        raise ObjectNotFound(f"Virtual machine '{name}' has no hard disk for volume '{c.disk.volume_uuid}'.")
    objs = yield from run(
        cmd(
            "Remove-VMHardDiskDrive",
            VMName=name,
            ControllerType=str(drive["ControllerType"]),
            ControllerNumber=int(drive["ControllerNumber"]),
            ControllerLocation=int(drive["ControllerLocation"]),
        ),
        *vm_reads(name, layout),
    )
    return (yield from vm_answer(objs))


def inventory(c: GetInventory, layout: Layout, known: Known) -> Plan:
    details, exported = yield from (cluster_reads(layout) if layout.clustered else host_reads(layout))
    vms = sorted(of(details, "VirtualMachine"), key=lambda v: str(v["Name"]))
    groups = of(details, "ClusterGroup")
    owners = {str(g["Name"]): str(g["OwnerNode"]) for g in groups}
    moving = {str(g["Name"]) for g in groups if str(g["State"]) in ("Pending", "Failed")}
    known.learn(details)
    drives = of(details, "HardDiskDrive")
    vols = yield from volumes(drives, details)
    out = []
    for vm in vms:
        name = str(vm["Name"])
        snaps = sorted(
            (s for s in of(details, "VMSnapshot") if s["VMName"] == name), key=lambda s: str(s.get("CreationTime"))
        )
        out.append(
            VMInventory(
                name=name,
                power_state=power(vm),
                current=vm.get("ParentSnapshotName") or None,
                checkpoints=tuple(
                    CheckpointInfo(
                        str(s["Name"]), s.get("ParentSnapshotName") or None, str(s["State"]) in MEMORY_STATES
                    )
                    for s in snaps
                ),
                volumes=tuple(v for d, v in zip(drives, vols, strict=True) if d["VMName"] == name),
                ip_addresses=addresses(details, name),
                owner_node=owners.get(name),
                role_pending=name in moving,
            )
        )
    return Inventory(tuple(out), tuple(exported))


def host_reads(layout: Layout) -> Sub:
    """Everything an inventory needs in one round trip: the VMs, every VM's checkpoints,
    drives and adapters (``-VMName *``, a wildcard matching no VM being no error), and the
    storage root two levels deep: the VM folders, their Export folders, and every disk file
    read by ``Get-VHD`` (the chains). Returns (objects, the folders holding an export)."""
    root = layout.storage_root
    objs = yield from run(
        cmd("Get-VM"),
        cmd("Get-VMSnapshot", VMName="*"),
        cmd("Get-VMHardDiskDrive", VMName="*"),
        cmd("Get-VMNetworkAdapter", VMName="*"),
        cmd("Get-ChildItem", LiteralPath=root, Recurse=SWITCH, Depth=1, Directory=SWITCH),
        (cmd("Get-ChildItem", LiteralPath=root, Recurse=SWITCH, Depth=1, File=SWITCH, Filter="*vhdx"), cmd("Get-VHD")),
        readonly=True,
    )
    dirs = [(str(d["Name"]), str(d["FullName"]).lower()) for d in of(objs, "DirectoryInfo")]
    folders = sorted(name for name, full in dirs if full == layout.folder(name).lower())
    exports = {full for name, full in dirs if name.lower() == "export"}
    return objs, [f for f in folders if layout.export(f).lower() in exports]


def cluster_reads(layout: Layout) -> Sub:
    """On a cluster node, two round trips: the root holds every node's VM folders, and
    ``Get-VHD`` cannot open a disk another node's VM has open, so only the folders of this
    node's VMs are read, by name. Returns (objects, the folders holding an export)."""
    root = layout.storage_root
    objs = yield from run(cmd("Get-VM"), cmd("Get-ChildItem", LiteralPath=root, Directory=SWITCH), readonly=True)
    names = tuple(str(v["Name"]) for v in of(objs, "VirtualMachine"))
    folders = sorted(str(d["Name"]) for d in of(objs, "DirectoryInfo"))
    reads: list[Statement] = [cmd("Get-ClusterGroup")]
    if names:
        reads += [cmd("Get-VMSnapshot", VMName=names), cmd("Get-VMHardDiskDrive", VMName=names)]
        reads.append(cmd("Get-VMNetworkAdapter", VMName=names))
        reads += [(cmd("Get-ChildItem", LiteralPath=layout.folder(n), File=SWITCH), cmd("Get-VHD")) for n in names]
    if folders:
        reads.append(cmd("Test-Path", LiteralPath=tuple(layout.export(f) for f in folders)))
    details = yield from run(*reads, readonly=True)
    flags = [o for o in details if isinstance(o, bool)]
    return [*objs, *details], [f for f, flag in zip(folders, flags, strict=True) if flag]


def addresses(objs: Sequence[PSObj], vm: str) -> tuple[str, ...]:
    """The IPv4 addresses of the VM's network adapters (``IPAddresses``), in adapter order."""
    out: list[str] = []
    for adapter in of(objs, "VMNetworkAdapter"):
        if adapter["VMName"] == vm:
            out += [str(a) for a in adapter.get("IPAddresses") or () if ":" not in str(a)]
    return tuple(out)


PLANS: dict[type[Command], Any] = {
    DeployVM: deploy,
    RegisterVM: register,
    ImportVM: import_vm,
    StartVM: start,
    PowerOffVM: power_off,
    SaveVM: save,
    UnregisterVM: unregister,
    DestroyVM: destroy,
    ExportVM: export,
    ReclaimStorage: reclaim,
    CreateVMSnapshot: create_snapshot,
    RevertToVMSnapshot: revert,
    DeleteVMSnapshot: delete_snapshot,
    AttachVolume: attach,
    DetachVolume: detach,
    CreateVolumeSnapshot: volume_snapshot,
    GetInventory: inventory,
}


def plan(command: Command, layout: Layout, known: Known | None = None) -> Plan:
    """The plan that carries out ``command``, learning into ``known``; ``KeyError`` for
    commands this driver does not support (the guest-data pair: ``capabilities.guest_data``
    is False)."""
    result: Plan = PLANS[type(command)](command, layout, known if known is not None else Known())
    return result
