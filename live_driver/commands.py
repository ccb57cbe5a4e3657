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
  ``FileSize`` over the differencing files from the leaf up to the base disk, walked one
  level per ``Get-VHD -Path <frontier>`` call.
- Every cmdlet carries ``-ErrorAction Stop`` so any error terminates the pipeline.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.drivers import (
    Answer,
    AttachVolume,
    CheckpointInfo,
    Command,
    CreateVMSnapshot,
    CreateVolumeSnapshot,
    DeleteVMSnapshot,
    DeployVM,
    DestroyVM,
    DetachVolume,
    DiskSpec,
    ExportAnswer,
    ExportVM,
    GetInventory,
    ImportVM,
    InvalidState,
    Inventory,
    ObjectNotFound,
    OperationFailed,
    OperationTimeout,
    PowerOffVM,
    PowerState,
    ReclaimAnswer,
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
    VolumeSnapshotAnswer,
    VolumeState,
)
from live_driver.wire import SWITCH, Cmdlet, Int64, Invocation, PSObj, Sleep, cmd

MIB = 2**20
_BUSY_STATUS = {"MergingDisks", "DeletingSnapshot"}
_MEMORY_STATES = {"Saved", "Running", "Paused"}


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the driver keeps things on the host, and how it polls merges."""

    storage_root: str = "C:\\ClusterStorage\\Volume1"
    volume_snapshot_root: str = "C:\\ClusterStorage\\Volume1\\VolumeSnapshots"
    merge_poll_seconds: float = 0.5
    merge_timeout_seconds: float = 600.0
    clustered: bool = False  # a failover cluster node: roles, owner nodes (FailoverClusters)

    def folder(self, vm: str) -> str:
        return f"{self.storage_root}\\{vm}"

    def disk(self, vm: str, volume: str) -> str:
        return f"{self.folder(vm)}\\{volume}.vhdx"

    def export(self, vm: str) -> str:
        return f"{self.folder(vm)}\\Export"


@dataclass
class Known:
    """Checkpoints a driver has seen on its host: (VM, name) -> (Id, holds memory). Names
    seen twice in one listing are left out, so an ambiguous name is always looked up (and
    refused)."""

    checkpoints: dict[tuple[str, str], tuple[uuid.UUID, bool]] = field(default_factory=dict)

    def learn(self, objs: Iterable[PSObj], listing: bool = True) -> None:
        """Record the VMSnapshot objects; a ``listing`` is every checkpoint of its VMs."""
        snaps = of(list(objs), "VMSnapshot")
        seen: dict[tuple[str, str], int] = {}
        for snap in snaps:
            key = (str(snap["VMName"]), str(snap["Name"]))
            seen[key] = seen.get(key, 0) + 1
            self.checkpoints[key] = (snap["Id"], str(snap["State"]) in _MEMORY_STATES)
        for key, count in seen.items():
            if count > 1:
                del self.checkpoints[key]
        if listing:  # what a listing no longer shows is gone
            vms = {vm for vm, _ in seen}
            for key in [k for k in self.checkpoints if k[0] in vms and k not in seen]:
                del self.checkpoints[key]

    def forget(self, vm: str, name: str | None = None) -> None:
        for key in [k for k in self.checkpoints if k[0] == vm and name in (None, k[1])]:
            del self.checkpoints[key]


Step = Invocation | Sleep
Statement = Cmdlet | Sequence[Cmdlet]
Plan = Generator[Step, list[PSObj], Answer]
Sub = Generator[Step, list[PSObj], Any]


def run(*statements: Statement, readonly: bool = False) -> Sub:
    stmts = tuple((s,) if isinstance(s, Cmdlet) else tuple(s) for s in statements)
    return (yield Invocation(stmts, readonly))


def volume_of(path: str) -> str:
    """The volume uuid a disk file belongs to, from its name."""
    leaf = path.rsplit("\\", 1)[-1].rsplit(".", 1)[0]
    return leaf.split("_", 1)[0]


def power(vm: PSObj) -> PowerState:
    state = str(vm["State"])
    try:
        return PowerState(state)
    except ValueError:
        raise InvalidState(f"'{vm['Name']}' is in state {state}: {_busy_text()}") from None


def _busy_text() -> str:
    return "The operation cannot be performed while the object is in its current state."


def of(objs: Sequence[PSObj], short: str) -> list[PSObj]:
    return [o for o in objs if isinstance(o, PSObj) and o.is_a(short)]


def one(objs: Sequence[PSObj], short: str) -> PSObj:
    found = of(objs, short)
    if not found:
        raise OperationFailed(f"the host returned no {short}")
    return found[-1]  # the latest read: New-VM also returns the VM, as it was


# --------------------------------------------------------------------------- shared steps


def chain_files(leaves: Sequence[str], known: Sequence[PSObj] = ()) -> Sub:
    """Path -> (parent path or None, file size) for every file on the leaves' chains;
    ``known`` VHD objects (already read) spare their round trips."""
    files: dict[str, tuple[str | None, int]] = {}

    def learn(vhds: Sequence[PSObj]) -> None:
        for vhd in of(vhds, "VirtualHardDisk"):
            files[str(vhd["Path"])] = (str(vhd.get("ParentPath") or "") or None, int(vhd["FileSize"]))

    learn(known)
    frontier = sorted({leaf for leaf in leaves if leaf not in files})
    while True:
        learn((yield from run(cmd("Get-VHD", Path=tuple(frontier)), readonly=True)) if frontier else [])
        frontier = sorted({p for leaf in leaves for p in chain_parents(files, leaf) if p not in files})
        if not frontier:
            return files


def chain_parents(files: Mapping[str, tuple[str | None, int]], leaf: str) -> list[str]:
    """The first missing link of ``leaf``'s chain, if any."""
    cur: str | None = leaf
    seen: set[str] = set()
    while cur is not None and cur in files and cur not in seen:
        seen.add(cur)
        cur = files[cur][0]
    return [cur] if cur is not None and cur not in seen else []


def chain(files: Mapping[str, tuple[str | None, int]], leaf: str) -> list[str]:
    out, cur = [], leaf
    while cur in files and cur not in out:
        out.append(cur)
        cur = files[cur][0] or ""
    return out


def volumes(drives: Sequence[PSObj], known: Sequence[PSObj] = ()) -> Sub:
    leaves = [str(d["Path"]) for d in drives]
    files = yield from chain_files(leaves, known)
    return tuple(
        VolumeState(volume_of(leaf), leaf, sum(files[p][1] for p in chain(files, leaf) if files[p][0]))
        for leaf in leaves
    )


def vm_reads(name: str, layout: Layout, vm: bool = True) -> list[Statement]:
    """The VM (unless a cmdlet before passes it through), its drives, and every disk file
    in its folder (``Get-ChildItem | Get-VHD``: the chains, in the same round trip)."""
    return [
        *([cmd("Get-VM", Name=name)] if vm else []),
        cmd("Get-VMHardDiskDrive", VMName=name),
        (cmd("Get-ChildItem", LiteralPath=layout.folder(name), File=SWITCH), cmd("Get-VHD")),
    ]


def start_vm(name: str) -> Cmdlet:
    """Start-VM, passing the started VM through (it spares a Get-VM)."""
    return cmd("Start-VM", Name=name, Passthru=SWITCH)


def vm_answer(objs: Sequence[PSObj]) -> Sub:
    vm = one(objs, "VirtualMachine")
    return VMAnswer(power(vm), (yield from volumes(of(objs, "HardDiskDrive"), objs)))


def absent(name: str) -> Sub:
    try:
        yield from run(cmd("Get-VM", Name=name), readonly=True)
    except ObjectNotFound:
        return
    raise InvalidState(f"A virtual machine with name '{name}' is already registered.")


def find_checkpoint(vm: str, name: str, known: Known) -> Sub:
    snaps = list(of((yield from run(cmd("Get-VMSnapshot", VMName=vm), readonly=True)), "VMSnapshot"))
    known.learn(snaps)
    matches = [s for s in snaps if s["Name"] == name]
    if not matches:
        raise ObjectNotFound(f"Unable to find a snapshot matching the given criteria: '{name}' of '{vm}'.")
    if len(matches) > 1:
        raise OperationFailed(f"{len(matches)} checkpoints of '{vm}' are named '{name}'; refusing to guess.")
    return matches[0]


def new_disks(vm: str, disks: Sequence[DiskSpec], layout: Layout) -> tuple[list[Cmdlet], list[str]]:
    """New-VHD calls for the disks that have no file yet, and every disk's path."""
    calls, paths = [], []
    for d in disks:
        path = d.path or layout.disk(vm, d.volume_uuid)
        if d.path is None:
            calls.append(cmd("New-VHD", Path=path, SizeBytes=Int64(d.size), Dynamic=SWITCH))
        paths.append(path)
    return calls, paths


def define(vm: str, memory_mib: int, cpus: int, paths: Sequence[str]) -> list[Cmdlet]:
    return [
        cmd("New-VM", Name=vm, MemoryStartupBytes=Int64(memory_mib * MIB), Generation=2, NoVHD=SWITCH),
        cmd("Set-VM", Name=vm, ProcessorCount=Int64(cpus)),
        *(cmd("Add-VMHardDiskDrive", VMName=vm, Path=p) for p in paths),
    ]


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


def import_vm(c: ImportVM, layout: Layout, known: Known) -> Plan:
    name = c.vm.name
    yield from absent(name)
    export = layout.export(name)
    try:
        listing = yield from run(cmd("Get-ChildItem", LiteralPath=export, Recurse=SWITCH, File=SWITCH), readonly=True)
    except ObjectNotFound:
        raise ObjectNotFound(f"Hyper-V was unable to find an export of virtual machine '{name}'.") from None
    configs = [str(f["FullName"]) for f in of(listing, "FileInfo") if str(f["FullName"]).lower().endswith(".vmcx")]
    if not configs:
        raise ObjectNotFound(f"Hyper-V was unable to find an export of virtual machine '{name}'.")
    objs = yield from run(
        cmd("Import-VM", Path=configs[0], Register=SWITCH),  # in place: the export stays on primary
        cmd("Set-VM", Name=name, ProcessorCount=Int64(c.cpus), MemoryStartupBytes=Int64(c.memory_mib * MIB)),
        *vm_reads(name, layout),
    )
    # the live disks, where the export's configuration names older files (a merge since)
    wanted = {d.volume_uuid: d.path for d in c.disks if d.path}
    moves = [
        cmd(
            "Set-VMHardDiskDrive",
            VMName=name,
            ControllerType=str(drive["ControllerType"]),
            ControllerNumber=int(drive["ControllerNumber"]),
            ControllerLocation=int(drive["ControllerLocation"]),
            Path=wanted[volume],
        )
        for drive in of(objs, "HardDiskDrive")
        if (volume := volume_of(str(drive["Path"]))) in wanted and wanted[volume] != str(drive["Path"])
    ]
    if moves:
        objs = yield from run(*moves, *vm_reads(name, layout))
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


def export(c: ExportVM, layout: Layout, known: Known) -> Plan:
    name, folder = c.vm.name, layout.export(c.vm.name)
    objs = yield from run(cmd("Get-VM", Name=name), cmd("Test-Path", LiteralPath=(folder,)), readonly=True)
    if True in objs:
        yield from run(cmd("Remove-Item", LiteralPath=folder, Recurse=SWITCH, Force=SWITCH))
    objs = yield from run(
        cmd("Export-VM", Name=name, Path=folder),
        cmd("Get-VMSnapshot", VMName=name),
        cmd("Get-ChildItem", LiteralPath=folder, Recurse=SWITCH, File=SWITCH),
    )
    known.learn(objs)
    copied = sum(int(f["Length"]) for f in of(objs, "FileInfo") if not str(f["Name"]).lower().endswith(".vmcx"))
    names = tuple(str(s["Name"]) for s in sorted(of(objs, "VMSnapshot"), key=lambda s: str(s.get("CreationTime"))))
    return ExportAnswer(copied, names)


def reclaim(c: ReclaimStorage, layout: Layout, known: Known) -> Plan:
    name, folder, export = c.vm.name, layout.folder(c.vm.name), layout.export(c.vm.name)
    objs = yield from run(cmd("Get-VM"), cmd("Test-Path", LiteralPath=(folder, export)), readonly=True)
    registered = any(str(v["Name"]) == name for v in of(objs, "VirtualMachine"))
    has_folder, has_export = [o for o in objs if isinstance(o, bool)]
    wanted = {d.volume_uuid: d.path for d in c.disks if d.path}
    reads: list[Statement] = []
    if has_export:
        reads.append(cmd("Get-ChildItem", LiteralPath=export, Recurse=SWITCH, File=SWITCH))
    if has_folder and not registered and wanted:
        reads.append((cmd("Get-ChildItem", LiteralPath=folder, File=SWITCH), cmd("Get-VHD")))
    found = (yield from run(*reads, readonly=True)) if reads else []
    freed = sum(int(f["Length"]) for f in of(found, "FileInfo"))
    vhds = of(found, "VirtualHardDisk")
    files = {str(v["Path"]): (str(v.get("ParentPath") or "") or None, int(v["FileSize"])) for v in vhds}
    keep = {p for leaf in wanted.values() if leaf in files for p in chain(files, leaf)}
    doomed = sorted(  # children before their parents
        (p for p in files if volume_of(p) in wanted and wanted[volume_of(p)] in files and p not in keep),
        key=lambda p: (-len(chain(files, p)), p),
    )
    removes = [cmd("Remove-Item", LiteralPath=export, Recurse=SWITCH, Force=SWITCH)] if has_export else []
    removes += [cmd("Remove-Item", LiteralPath=p, Force=SWITCH) for p in doomed]
    if removes:
        yield from run(*removes)
    return ReclaimAnswer(freed + sum(files[p][1] for p in doomed), tuple(doomed))


def create_snapshot(c: CreateVMSnapshot, layout: Layout, known: Known) -> Plan:
    name, snap = c.vm.name, c.snapshot.name
    objs = yield from run(cmd("Get-VM", Name=name), cmd("Get-VMSnapshot", VMName=name), readonly=True)
    vm = one(objs, "VirtualMachine")
    known.learn(objs)
    if any(s["Name"] == snap for s in of(objs, "VMSnapshot")):
        raise InvalidState(f"A checkpoint named '{snap}' already exists for '{name}'.")
    if c.memory and power(vm) != PowerState.Running:
        raise InvalidState(f"'{name}' ({power(vm)}): {_busy_text()}")
    kind = "Standard" if c.memory else "ProductionOnly" if c.quiesce else "Production"
    retype = [] if str(vm.get("CheckpointType")) == kind else [cmd("Set-VM", Name=name, CheckpointType=kind)]
    objs = yield from run(
        *retype,
        cmd("Checkpoint-VM", Name=name, SnapshotName=snap, Passthru=SWITCH),
        *vm_reads(name, layout),
    )
    taken = one(objs, "VMSnapshot")
    known.learn([taken], listing=False)
    vm = one(objs, "VirtualMachine")
    vols = yield from volumes(of(objs, "HardDiskDrive"), objs)
    return SnapshotAnswer(power(vm), vols, memory=str(taken["State"]) in _MEMORY_STATES)


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
        if not status & _BUSY_STATUS:
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


def volume_snapshot(c: CreateVolumeSnapshot, layout: Layout, known: Known) -> Plan:
    leaf = None
    try:
        drives = of((yield from run(cmd("Get-VMHardDiskDrive", VMName=c.vm.name), readonly=True)), "HardDiskDrive")
        leaf = next((str(d["Path"]) for d in drives if volume_of(str(d["Path"])) == c.disk.volume_uuid), None)
    except ObjectNotFound:
        pass
    leaf = leaf or c.disk.path
    if leaf is None:
        raise ObjectNotFound(f"Hyper-V was unable to find a hard disk for volume '{c.disk.volume_uuid}'.")
    files = yield from chain_files([leaf])
    target = f"{layout.volume_snapshot_root}\\{c.disk.volume_uuid}\\{uuid.uuid4()}.vhdx"
    yield from run(cmd("Convert-VHD", Path=leaf, DestinationPath=target, VHDType="Dynamic"))
    return VolumeSnapshotAnswer(sum(files[p][1] for p in chain(files, leaf)))


def inventory(c: GetInventory, layout: Layout, known: Known) -> Plan:
    objs = yield from run(
        cmd("Get-VM"), cmd("Get-ChildItem", LiteralPath=layout.storage_root, Directory=SWITCH), readonly=True
    )
    vms = sorted(of(objs, "VirtualMachine"), key=lambda v: str(v["Name"]))
    folders = sorted(str(d["Name"]) for d in of(objs, "DirectoryInfo"))
    names = tuple(str(v["Name"]) for v in vms)
    reads: list[Cmdlet | tuple[Cmdlet, ...]] = []
    if names:
        reads += [cmd("Get-VMSnapshot", VMName=names), cmd("Get-VMHardDiskDrive", VMName=names)]
        reads += [(cmd("Get-ChildItem", LiteralPath=layout.folder(n), File=SWITCH), cmd("Get-VHD")) for n in names]
    if folders:
        reads.append(cmd("Test-Path", LiteralPath=tuple(layout.export(f) for f in folders)))
    if layout.clustered:  # which node owns each VM role now (a failover moves it)
        reads.append(cmd("Get-ClusterGroup"))
    details = (yield from run(*reads, readonly=True)) if reads else []
    groups = of(details, "ClusterGroup")
    owners = {str(g["Name"]): str(g["OwnerNode"]) for g in groups}
    moving = {str(g["Name"]) for g in groups if str(g["State"]) in ("Pending", "Failed")}
    known.learn(details)
    flags = [o for o in details if isinstance(o, bool)]
    exported = [f for f, flag in zip(folders, flags, strict=True) if flag]
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
                        str(s["Name"]), s.get("ParentSnapshotName") or None, str(s["State"]) in _MEMORY_STATES
                    )
                    for s in snaps
                ),
                volumes=tuple(v for d, v in zip(drives, vols, strict=True) if d["VMName"] == name),
                owner_node=owners.get(name),
                role_pending=name in moving,
            )
        )
    return Inventory(tuple(out), tuple(exported))


def by_id(
    vm: str,
    name: str,
    known: Known,
    act: Cmdlet,
    then: Callable[[bool], Sequence[Statement]],
    before: Sequence[Statement] = (),
) -> Sub:
    """``before``, ``Get-VMSnapshot -Id | act``, then the statements ``then(memory)`` gives
    for the checkpoint's memory flag: one round trip when the checkpoint is known, else
    after finding it by name. Returns the objects the host returned."""
    hit = known.checkpoints.get((vm, name))
    if hit is not None:
        try:
            return (yield from run(*before, (cmd("Get-VMSnapshot", Id=hit[0]), act), *then(hit[1])))
        except ObjectNotFound as err:
            if "GetVMSnapshot" not in str(err):  # not the Id: something after it
                raise
            known.forget(vm, name)  # gone or replaced behind our back: look it up
    snap = yield from find_checkpoint(vm, name, known)
    memory = str(snap["State"]) in _MEMORY_STATES
    return (yield from run(*before, (cmd("Get-VMSnapshot", Id=snap["Id"]), act), *then(memory)))


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
