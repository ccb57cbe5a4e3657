"""Plans that move a VM's files as a whole: export, import in place, reclaiming what no
snapshot needs any more, and volume snapshots. Pure, as :mod:`live_driver.commands`."""

from __future__ import annotations

import uuid

from harness.drivers import (
    CreateVolumeSnapshot,
    ExportAnswer,
    ExportVM,
    ImportVM,
    ObjectNotFound,
    ReclaimAnswer,
    ReclaimStorage,
    VolumeSnapshotAnswer,
)
from live_driver.steps import (
    MIB,
    Known,
    Layout,
    Plan,
    Statement,
    absent,
    chain,
    chain_files,
    of,
    run,
    vm_answer,
    vm_reads,
    volume_of,
)
from live_driver.wire import SWITCH, Int64, cmd


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
