"""The steps every plan shares: the host layout, the checkpoint Ids a driver has seen, the
round trip (:func:`run`), and reads of VMs, drives and chains. Pure: no I/O, no pypsrp
(:mod:`live_driver.commands` says what the plans assume of a host)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.drivers import (
    Answer,
    DiskSpec,
    InvalidState,
    ObjectNotFound,
    OperationFailed,
    PowerState,
    VMAnswer,
    VolumeState,
)
from live_driver.wire import SWITCH, Cmdlet, Int64, Invocation, PSObj, Sleep, cmd

MIB = 2**20
BUSY_STATUS = {"MergingDisks", "DeletingSnapshot"}
MEMORY_STATES = {"Saved", "Running", "Paused"}
# ErrorIds of the checks a plan runs on the host (halt_if, halt_unless); InvalidState
NAME_TAKEN = "CheckpointNameTaken"
NOT_RUNNING = "VMNotRunning"


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
            self.checkpoints[key] = (snap["Id"], str(snap["State"]) in MEMORY_STATES)
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
        raise InvalidState(f"'{vm['Name']}' is in state {state}: {busy_text()}") from None


def busy_text() -> str:
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


def where(prop: str, op: str, value: str) -> Cmdlet:
    """``Where-Object -Property <prop> -<op> -Value <value>``: the comparison form, no
    script block; ``op`` is EQ, NE, CEQ or CNE."""
    return cmd("Where-Object", Property=prop, **{op: SWITCH}, Value=value)


def halt(source: Cmdlet, check: Cmdlet, error_id: str) -> list[Cmdlet]:
    """``source | check | Select-Object -ExpandProperty Name | Write-Error -ErrorId``: what
    passes ``check`` ends the invocation with ``error_id`` (its Name as the message)."""
    return [source, check, cmd("Select-Object", ExpandProperty="Name"), cmd("Write-Error", ErrorId=error_id)]


def halt_if(source: Cmdlet, prop: str, value: str, error_id: str) -> list[Cmdlet]:
    """Fail with ``error_id`` if any object of ``source`` has ``prop`` exactly ``value``."""
    return halt(source, where(prop, "CEQ", value), error_id)


def halt_unless(source: Cmdlet, prop: str, value: str, error_id: str) -> list[Cmdlet]:
    """Fail with ``error_id`` if any object of ``source`` has ``prop`` other than ``value``."""
    return halt(source, where(prop, "NE", value), error_id)


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
    memory = str(snap["State"]) in MEMORY_STATES
    return (yield from run(*before, (cmd("Get-VMSnapshot", Id=snap["Id"]), act), *then(memory)))
