"""The Hyper-V cmdlets the emulated host understands, mapped onto ``HyperVHost`` operations.

A cmdlet call arrives as a name and named parameters (never a script, never a positional
argument). Each cmdlet declares its parameters with a kind; names match case-insensitively
and exactly (aliases listed, no prefix abbreviation), as PowerShell's binder does for a
remote caller who spells them out. Values are checked for type: a 64-bit size must arrive
as Int64.

Layout on the emulated storage, which the live driver also follows: a VM's folder is
``<root>\\<vm>``; its disks are ``<root>\\<vm>\\<volume uuid>.vhdx`` and their differencing
children beside them; its export is ``<root>\\<vm>\\Export``. Removing the VM's folder is
``HyperVHost.destroy`` (every file of the volumes it owns, and its export).

Guest data is deliberately not exposed: no real host offers it, so the live driver stays
honest; tests reach guest data through the ``HyperVHost`` object directly.
"""

from __future__ import annotations

import datetime
import fnmatch
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from psrpcore.types import ErrorCategory, ErrorRecord, PSInt64, PSObject

from harness.drivers import DiskSpec, HostError, InvalidState, ObjectNotFound, OperationFailed, PowerState
from simulator.host import MIB, VHDX_BASE_BYTES, DiskFile, HyperVHost, VirtualMachine
from simulator.psrp_endpoint import objects as o

COMMON = {"erroraction": "str", "confirm": "switch", "whatif": "switch", "verbose": "switch"}


class CmdletError(Exception):
    """A PowerShell error record; ``terminating`` errors stop the pipeline whatever the
    caller's ErrorAction."""

    def __init__(self, record: ErrorRecord, terminating: bool = False) -> None:
        super().__init__(str(record.FullyQualifiedErrorId))
        self.record = record
        self.terminating = terminating


@dataclass
class Call:
    """One cmdlet of a received pipeline: its name and parameters exactly as received."""

    name: str
    params: list[tuple[str | None, Any]]
    is_script: bool = False


@dataclass
class Cmdlet:
    name: str
    params: dict[str, str]  # canonical lower-case name -> kind
    run: Callable[[Bound], list[Any]]
    aliases: dict[str, str] = field(default_factory=dict)


@dataclass
class Bound:
    """A cmdlet call after binding: canonical parameter names, typed values, piped input."""

    cmdlet: str
    args: dict[str, Any]
    input: list[Any]

    def get(self, name: str, default: Any = None) -> Any:
        return self.args.get(name, default)

    def names(self, name: str) -> list[str]:
        value = self.args.get(name)
        if value is None:
            return []
        return [value] if isinstance(value, str) else list(value)

    def switch(self, name: str) -> bool:
        return name in self.args and self.args[name] is not False


def binding_error(cmdlet: str, fq: str, message: str) -> CmdletError:
    exc = o.ParameterBindingException(Message=message)
    return CmdletError(o.error_record(exc, fq, ErrorCategory.InvalidArgument, fq, cmdlet, cmdlet), True)


def _check(cmdlet: str, name: str, kind: str, value: Any) -> Any:
    ok = {
        "str": lambda v: isinstance(v, str),
        "strs": lambda v: isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "i64": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "guid": lambda v: isinstance(v, uuid.UUID),
        "switch": lambda v: v is None or isinstance(v, bool),
    }[kind](value)
    if not ok:
        raise binding_error(
            cmdlet,
            f"ParameterArgumentTransformationError,{cmdlet}",
            f"Cannot process argument transformation on parameter '{name}'. Cannot convert {value!r}.",
        )
    return str(value) if kind == "str" else value


class Cmdlets:
    """The cmdlet table over one ``HyperVHost``. Side settings a real VM has but the model
    does not (its CheckpointType, checkpoint creation times, a merge in progress) live here."""

    def __init__(self, host: HyperVHost, computer: str = "HV-EMULATED") -> None:
        self.host = host
        self.computer = computer
        self.checkpoint_types: dict[str, str] = {}
        self.created: dict[tuple[str, str], datetime.datetime] = {}
        self.merge_polls = 0  # Get-VM reports MergingDisks this many times after a delete
        self._merging: dict[str, int] = {}
        self.faults: list[tuple[str, HostError]] = []
        s, i64, strs = "str", "i64", "strs"
        table = [
            Cmdlet("Get-VM", {"name": strs, "id": "guid"}, self.get_vm, {"vmname": "name"}),
            Cmdlet(
                "New-VM", {"name": s, "memorystartupbytes": i64, "generation": "int", "novhd": "switch"}, self.new_vm
            ),
            Cmdlet(
                "Set-VM",
                {
                    "name": strs,
                    "checkpointtype": s,
                    "processorcount": i64,
                    "memorystartupbytes": i64,
                    "passthru": "switch",
                },
                self.set_vm,
                {"vmname": "name"},
            ),
            Cmdlet("Start-VM", {"name": strs, "passthru": "switch"}, self.start_vm, {"vmname": "name"}),
            Cmdlet("Stop-VM", {"name": strs, "turnoff": "switch", "force": "switch"}, self.stop_vm, {"vmname": "name"}),
            Cmdlet("Remove-VM", {"name": strs, "force": "switch"}, self.remove_vm, {"vmname": "name"}),
            Cmdlet(
                "Checkpoint-VM",
                {"name": strs, "snapshotname": s, "passthru": "switch"},
                self.checkpoint_vm,
                {"vmname": "name", "checkpointname": "snapshotname"},
            ),
            Cmdlet("Get-VMSnapshot", {"vmname": strs, "name": s, "id": "guid"}, self.get_snapshot),
            Cmdlet(
                "Restore-VMSnapshot",
                {"vmsnapshot": "obj", "vmname": s, "name": s, "passthru": "switch"},
                self.restore_snapshot,
                {"vmcheckpoint": "vmsnapshot"},
            ),
            Cmdlet(
                "Remove-VMSnapshot",
                {"vmsnapshot": "obj", "vmname": strs, "name": strs, "includeallchildsnapshots": "switch"},
                self.remove_snapshot,
                {"vmcheckpoint": "vmsnapshot", "includeallchildcheckpoints": "includeallchildsnapshots"},
            ),
            Cmdlet("Get-VMHardDiskDrive", {"vmname": strs}, self.get_drives),
            Cmdlet(
                "Add-VMHardDiskDrive",
                {"vmname": s, "path": s, "controllertype": s, "controllernumber": "int", "passthru": "switch"},
                self.add_drive,
            ),
            Cmdlet(
                "Remove-VMHardDiskDrive",
                {"vmname": s, "controllertype": s, "controllernumber": "int", "controllerlocation": "int"},
                self.remove_drive,
            ),
            Cmdlet("New-VHD", {"path": s, "sizebytes": i64, "dynamic": "switch"}, self.new_vhd),
            Cmdlet("Get-VHD", {"path": strs}, self.get_vhd),
            Cmdlet("Convert-VHD", {"path": s, "destinationpath": s, "vhdtype": s}, self.convert_vhd),
            Cmdlet("Export-VM", {"name": s, "path": s}, self.export_vm, {"vmname": "name"}),
            Cmdlet(
                "Import-VM",
                {"path": s, "copy": "switch", "register": "switch", "vhddestinationpath": s, "virtualmachinepath": s},
                self.import_vm,
            ),
            Cmdlet(
                "Get-ChildItem",
                {"literalpath": s, "file": "switch", "directory": "switch", "recurse": "switch"},
                self.get_child_item,
            ),
            Cmdlet("Test-Path", {"literalpath": strs}, self.test_path),
            Cmdlet("Remove-Item", {"literalpath": s, "recurse": "switch", "force": "switch"}, self.remove_item),
            Cmdlet("Get-Module", {"name": s, "listavailable": "switch"}, self.get_module),
        ]
        self.table = {c.name.lower(): c for c in table}

    def table_names(self) -> list[str]:
        return [c.name for c in self.table.values()]

    # ------------------------------------------------------------------ binding and running

    def bind(self, call: Call, piped: list[Any]) -> tuple[Cmdlet, Bound]:
        if call.is_script:
            denied = o.SecurityException(
                Message="Scripts are not allowed on this endpoint; send cmdlets with parameters."
            )
            rec = o.error_record(
                denied, "ScriptsNotAllowed", ErrorCategory.SecurityError, "PSSecurityException", "", ""
            )
            raise CmdletError(rec, True)
        cmdlet = self.table.get(call.name.lower())
        if cmdlet is None:
            exc = o.NETException(Message=f"The term '{call.name}' is not recognized as the name of a cmdlet.")
            fq = "CommandNotFoundException"
            raise CmdletError(o.error_record(exc, fq, ErrorCategory.ObjectNotFound, fq, call.name, ""), True)
        args: dict[str, Any] = {}
        for raw, value in call.params:
            if raw is None:
                raise binding_error(
                    cmdlet.name,
                    f"PositionalParameterNotFound,{cmdlet.name}",
                    f"A positional parameter cannot be found that accepts argument '{value}'.",
                )
            key = cmdlet.aliases.get(raw.lower(), raw.lower())
            kind = cmdlet.params.get(key) or COMMON.get(key)
            if kind is None or kind == "obj":
                raise binding_error(
                    cmdlet.name,
                    f"NamedParameterNotFound,{cmdlet.name}",
                    f"A parameter cannot be found that matches parameter name '{raw}'.",
                )
            args[key] = _check(cmdlet.name, raw, kind, value)
        return cmdlet, Bound(cmdlet.name, args, piped)

    def run(self, cmdlet: Cmdlet, bound: Bound) -> list[Any]:
        for i, (name, err) in enumerate(self.faults):
            if name.lower() == cmdlet.name.lower():
                del self.faults[i]
                raise err
        return cmdlet.run(bound)

    def hyperv_error(self, err: HostError, cmdlet: str, target: str | None) -> CmdletError:
        return CmdletError(o.host_error_record(err, cmdlet, target))

    # ------------------------------------------------------------------ paths

    @property
    def root(self) -> str:
        return self.host.storage_root

    def vm_folder(self, vm: str) -> str:
        return f"{self.root}\\{vm}"

    def export_folder(self, vm: str) -> str:
        return f"{self.vm_folder(vm)}\\Export"

    def _vm_of_folder(self, path: str, suffix: str = "") -> str | None:
        prefix = f"{self.root}\\".lower()
        if not path.lower().startswith(prefix) or not path.lower().endswith(suffix.lower()):
            return None
        name = path[len(prefix) : len(path) - len(suffix)]
        return name if name and "\\" not in name else None

    def _folders(self) -> set[str]:
        names = set(self.host.vms) | set(self.host.exports) | set(self.host.owners.values())
        return {n for n in names if n}

    # ------------------------------------------------------------------ objects

    def vm_object(self, vm: VirtualMachine) -> PSObject:
        merging = self._merging.get(vm.name, 0) > 0
        if merging:
            self._merging[vm.name] -= 1
        status = o.VMOperationalStatus.MergingDisks if merging else o.VMOperationalStatus.Ok
        parent = vm.checkpoints.get(vm.current) if vm.current else None
        obj = o.VirtualMachine(
            Name=vm.name,
            Id=o.guid(vm.name),
            VMId=o.guid(vm.name),
            VMName=vm.name,
            State=o.VMState[vm.power_state.value],
            OperationalStatus=[status],
            PrimaryOperationalStatus=status,
            CheckpointType=o.CheckpointType[self.checkpoint_types.get(vm.name, "Production")],
            ParentSnapshotId=o.guid(vm.name, parent.name) if parent else None,
            ParentSnapshotName=parent.name if parent else None,
            MemoryStartup=PSInt64(vm.memory_mib * MIB),
            ProcessorCount=PSInt64(vm.cpus),
            Generation=2,
            Path=self.vm_folder(vm.name),
            ComputerName=self.computer,
            IsDeleted=False,
        )
        return o.with_string(obj, f"VirtualMachine (Name = '{vm.name}') [Id = '{o.guid(vm.name)}']")

    def snapshot_object(self, vm: VirtualMachine, name: str) -> PSObject:
        cp = vm.checkpoints[name]
        order = list(vm.checkpoints).index(name)
        created = self.created.get((vm.name, name), o.EPOCH + datetime.timedelta(seconds=order))
        obj = o.VMSnapshot(
            Name=name,
            Id=o.guid(vm.name, name),
            VMId=o.guid(vm.name),
            VMName=vm.name,
            SnapshotType=o.SnapshotType.Standard,
            State=o.VMState.Saved if cp.memory else o.VMState.Off,
            IsAutomaticCheckpoint=False,
            ParentSnapshotId=o.guid(vm.name, cp.parent) if cp.parent else None,
            ParentSnapshotName=cp.parent,
            CreationTime=created,
            Path=f"{self.vm_folder(vm.name)}\\Snapshots",
            MemoryStartup=PSInt64(cp.memory_mib * MIB),
            ProcessorCount=PSInt64(cp.cpus),
            ComputerName=self.computer,
            IsDeleted=False,
        )
        return o.with_string(obj, f"VMSnapshot (Name = '{name}', VMName = '{vm.name}')")

    def _vhd(self, f: DiskFile) -> PSObject:
        attached = any(f.path in vm.disks.values() for vm in self.host.vms.values())
        return o.VirtualHardDisk(
            Path=f.path,
            ParentPath=f.parent or "",
            VhdType=o.VhdType.Differencing if f.parent else o.VhdType.Dynamic,
            FileSize=PSInt64(f.bytes),
            Size=PSInt64(f.size),
            Attached=attached,
            ComputerName=self.computer,
        )

    # ------------------------------------------------------------------ VMs

    def _vms(self, b: Bound, param: str = "name") -> list[VirtualMachine]:
        out = []
        for name in b.names(param):
            if any(ch in name for ch in "*?["):
                out += [v for n, v in sorted(self.host.vms.items()) if fnmatch.fnmatchcase(n.lower(), name.lower())]
            else:
                out.append(self.host.vm(name))
        return out

    def get_vm(self, b: Bound) -> list[Any]:
        if b.get("id") is not None:
            found = [v for v in self.host.vms.values() if o.guid(v.name) == b.get("id")]
            if not found:
                raise ObjectNotFound(f"Hyper-V was unable to find a virtual machine with identifier '{b.get('id')}'.")
            return [self.vm_object(found[0])]
        vms = self._vms(b) if "name" in b.args else sorted(self.host.vms.values(), key=lambda v: v.name)
        return [self.vm_object(v) for v in vms]

    def new_vm(self, b: Bound) -> list[Any]:
        name = b.get("name")
        self.host.register(name, int(b.get("memorystartupbytes", 512 * MIB)) // MIB, 1, [])
        self.checkpoint_types[name] = "Production"
        return [self.vm_object(self.host.vm(name))]

    def set_vm(self, b: Bound) -> list[Any]:
        vms = self._vms(b)
        kind = b.get("checkpointtype")
        if kind is not None and kind not in o.CheckpointType.__members__:
            raise binding_error("Set-VM", "ParameterArgumentValidationError,Set-VM", f"Invalid CheckpointType {kind}")
        for vm in vms:
            resize = b.get("processorcount") is not None or b.get("memorystartupbytes") is not None
            if resize and vm.power_state != PowerState.Off:
                raise InvalidState(f"'{vm.name}' failed to modify settings: the virtual machine is not off.")
        for vm in vms:
            if kind is not None:
                self.checkpoint_types[vm.name] = kind
            if b.get("processorcount") is not None:
                vm.cpus = int(b.get("processorcount"))
            if b.get("memorystartupbytes") is not None:
                vm.memory_mib = int(b.get("memorystartupbytes")) // MIB
        return [self.vm_object(v) for v in vms] if b.switch("passthru") else []

    def start_vm(self, b: Bound) -> list[Any]:
        for vm in self._vms(b):
            self.host.start(vm.name)
        return [self.vm_object(v) for v in self._vms(b)] if b.switch("passthru") else []

    def stop_vm(self, b: Bound) -> list[Any]:
        for vm in self._vms(b):
            self.host.power_off(vm.name)
        return []

    def remove_vm(self, b: Bound) -> list[Any]:
        for vm in self._vms(b):
            self.host.unregister(vm.name)
            self.checkpoint_types.pop(vm.name, None)
        return []

    # ------------------------------------------------------------------ checkpoints

    def checkpoint_vm(self, b: Bound) -> list[Any]:
        out = []
        for vm in self._vms(b):
            kind = self.checkpoint_types.get(vm.name, "Production")
            if kind == "Disabled":
                raise OperationFailed(f"Checkpoint operation failed. Checkpoints have been disabled for '{vm.name}'.")
            now = o.EPOCH + datetime.timedelta(seconds=len(self.created))
            name = b.get("snapshotname") or f"{vm.name} - ({now:%m/%d/%Y - %I:%M:%S %p})"
            running = vm.power_state == PowerState.Running
            self.host.checkpoint(vm.name, name, kind == "Standard" and running, kind == "ProductionOnly")
            self.created[(vm.name, name)] = now
            out.append(self.snapshot_object(vm, name))
        return out if b.switch("passthru") else []

    def get_snapshot(self, b: Bound) -> list[Any]:
        if b.get("id") is not None:
            for vm in self.host.vms.values():
                for name in vm.checkpoints:
                    if o.guid(vm.name, name) == b.get("id"):
                        return [self.snapshot_object(vm, name)]
            raise ObjectNotFound(f"Unable to find a snapshot matching the given criteria: Id '{b.get('id')}'.")
        out = []
        pattern = b.get("name")
        for vm in self._vms(b, "vmname"):
            names = [n for n in vm.checkpoints if pattern is None or fnmatch.fnmatchcase(n.lower(), pattern.lower())]
            if pattern is not None and not names:
                raise ObjectNotFound(f"Unable to find a snapshot matching the given criteria: '{pattern}'.")
            out += [self.snapshot_object(vm, n) for n in names]
        return out

    def _targets(self, b: Bound) -> list[tuple[str, str]]:
        """(vm, checkpoint) pairs from piped VMSnapshot objects or -VMName/-Name."""
        if b.input:
            pairs = []
            for obj in b.input:
                if not isinstance(obj, o.VMSnapshot):
                    raise binding_error(b.cmdlet, f"InputObjectNotBound,{b.cmdlet}", "The input is not a VMSnapshot.")
                pairs.append((str(obj.VMName), str(obj.Name)))
            return pairs
        return [(vm.name, n) for vm in self._vms(b, "vmname") for n in b.names("name")]

    def _confirmed(self, b: Bound) -> None:
        if b.args.get("confirm", True) is not False:
            exc = o.NETException(Message="A command that prompts the user failed because the host does not support it.")
            fq = f"HostException,{o.HV}.Commands.{b.cmdlet.replace('-', '')}Command"
            raise CmdletError(o.error_record(exc, fq, ErrorCategory.NotSpecified, fq, b.cmdlet, b.cmdlet), True)

    def restore_snapshot(self, b: Bound) -> list[Any]:
        self._confirmed(b)
        for vm, name in self._targets(b):
            self.host.revert(vm, name)
        return []

    def remove_snapshot(self, b: Bound) -> list[Any]:
        self._confirmed(b)
        for vm_name, name in self._targets(b):
            vm = self.host.vm(vm_name)
            doomed = [name]
            if b.switch("includeallchildsnapshots"):
                for cp in vm.checkpoints.values():  # creation order: parents come first
                    if cp.parent in doomed:
                        doomed.append(cp.name)
            for n in reversed(doomed):
                self.host.delete_checkpoint(vm_name, n)
            self._merging[vm_name] = self.merge_polls
        return []

    # ------------------------------------------------------------------ disks

    def get_drives(self, b: Bound) -> list[Any]:
        out = []
        for vm in self._vms(b, "vmname"):
            for i, path in enumerate(vm.disks.values()):
                obj = o.HardDiskDrive(
                    Path=path,
                    ControllerType=o.ControllerType.SCSI,
                    ControllerNumber=0,
                    ControllerLocation=i,
                    VMId=o.guid(vm.name),
                    VMName=vm.name,
                    ComputerName=self.computer,
                )
                out.append(
                    o.with_string(
                        obj, f"HardDiskDrive (Name = 'Hard Drive on SCSI controller number 0 at location {i}')"
                    )
                )
        return out

    def add_drive(self, b: Bound) -> list[Any]:
        f = self.host.file(b.get("path"))
        self.host.attach(b.get("vmname"), DiskSpec(f.volume_uuid, f.size, f.path))
        return []

    def remove_drive(self, b: Bound) -> list[Any]:
        vm = self.host.vm(b.get("vmname"))
        volumes = list(vm.disks)
        at = b.get("controllerlocation", -1)
        if b.get("controllernumber", 0) != 0 or not 0 <= at < len(volumes):
            raise ObjectNotFound(f"No hard disk drive at that controller location of '{vm.name}'.")
        self.host.detach(vm.name, volumes[at])
        return []

    def new_vhd(self, b: Bound) -> list[Any]:
        path: str = b.get("path")
        folder, _, leaf = path.rpartition("\\")
        owner = self._vm_of_folder(folder)
        if owner is None or not leaf.lower().endswith(".vhdx"):
            raise ObjectNotFound(f"The system cannot find the path specified: '{folder}'. (0x80070003)")
        if path in self.host.disk_files:
            raise OperationFailed(f"Failed to create the virtual hard disk '{path}': The file exists. (0x80070050)")
        self.host._need(VHDX_BASE_BYTES)
        volume = leaf[: -len(".vhdx")]
        f = DiskFile(path, volume, None, VHDX_BASE_BYTES, int(b.get("sizebytes")))
        self.host.disk_files[path] = f
        self.host.owners[volume] = owner
        return [self._vhd(f)]

    def get_vhd(self, b: Bound) -> list[Any]:
        piped = [str(getattr(i, "Path", None) or getattr(i, "FullName", "")) for i in b.input]
        return [self._vhd(self.host.file(p)) for p in [*b.names("path"), *piped]]

    def convert_vhd(self, b: Bound) -> list[Any]:
        self.host.chain(b.get("path"))  # the copy leaves primary storage: nothing changes here
        return []

    # ------------------------------------------------------------------ export / import

    def export_vm(self, b: Bound) -> list[Any]:
        name = b.get("name")
        self.host.vm(name)
        if b.get("path", "").lower() != self.export_folder(name).lower():
            raise OperationFailed(f"Export of '{name}' is only supported to '{self.export_folder(name)}'.")
        if name in self.host.exports:
            raise OperationFailed(f"Failed to copy file during export of '{name}': The file exists. (0x80070050)")
        self.host.export(name)
        return []

    def import_vm(self, b: Bound) -> list[Any]:
        path: str = b.get("path")
        name = None
        for candidate in self._folders():
            if path.lower().startswith(f"{self.export_folder(candidate)}\\".lower()):
                name = candidate
        record = self.host.exports.get(name or "")
        if name is None or record is None or not path.lower().endswith(".vmcx"):
            raise ObjectNotFound(f"The system cannot find the file specified: '{path}'. (0x80070002)")
        disks = [
            DiskSpec(
                vol,
                self.host.disk_files[p].size if p in self.host.disk_files else record.files[p].size,
                p if p in self.host.disk_files else None,
            )
            for vol, p in record.vm.disks.items()
        ]
        self.host.import_vm(name, record.vm.memory_mib, record.vm.cpus, disks)
        return [self.vm_object(self.host.vm(name))]

    def _export_files(self, vm: str) -> list[PSObject]:
        record = self.host.exports[vm]
        base = f"{self.export_folder(vm)}\\{vm}"
        out: list[PSObject] = []
        for f in record.files.values():
            leaf = f.path.rpartition("\\")[2]
            out.append(o.FileInfo(Name=leaf, FullName=f"{base}\\Virtual Hard Disks\\{leaf}", Length=PSInt64(f.bytes)))
        config = f"{str(o.guid(vm)).upper()}.vmcx"
        out.append(o.FileInfo(Name=config, FullName=f"{base}\\Virtual Machines\\{config}", Length=PSInt64(40960)))
        for cp in record.vm.checkpoints.values():
            if cp.memory:
                leaf = f"{o.guid(vm, cp.name)}.vmrs".upper()
                full = f"{base}\\Snapshots\\{leaf}"
                out.append(o.FileInfo(Name=leaf, FullName=full, Length=PSInt64(cp.memory_mib * MIB)))
        return out

    # ------------------------------------------------------------------ file system

    def _not_found(self, path: str) -> CmdletError:
        exc = o.ItemNotFoundException(Message=f"Cannot find path '{path}' because it does not exist.")
        fq = "PathNotFound,Microsoft.PowerShell.Commands.GetChildItemCommand"
        return CmdletError(o.error_record(exc, fq, ErrorCategory.ObjectNotFound, "ItemNotFoundException", path, ""))

    def get_child_item(self, b: Bound) -> list[Any]:
        path: str = b.get("literalpath")
        if path.lower() == self.root.lower() and b.switch("directory"):
            return [o.DirectoryInfo(Name=n, FullName=self.vm_folder(n)) for n in sorted(self._folders())]
        vm = self._vm_of_folder(path, "\\Export")
        if vm is not None and vm in self.host.exports:
            return [] if b.switch("directory") else self._export_files(vm)
        folder = self._vm_of_folder(path)
        if folder is not None and folder in self._folders():
            inside = [f for p, f in sorted(self.host.disk_files.items()) if p.rpartition("\\")[0].lower() == path.lower()]
            if b.switch("directory"):
                return []
            return [o.FileInfo(Name=f.path.rpartition("\\")[2], FullName=f.path, Length=PSInt64(f.bytes)) for f in inside]
        raise self._not_found(path)

    def test_path(self, b: Bound) -> list[Any]:
        out = []
        for path in b.names("literalpath"):
            export = self._vm_of_folder(path, "\\Export")
            folder = self._vm_of_folder(path)
            out.append(
                path in self.host.disk_files
                or (export is not None and export in self.host.exports)
                or (folder is not None and folder in self._folders())
            )
        return out

    def remove_item(self, b: Bound) -> list[Any]:
        path: str = b.get("literalpath")
        export = self._vm_of_folder(path, "\\Export")
        folder = self._vm_of_folder(path)
        if export is not None and export in self.host.exports:
            del self.host.exports[export]
        elif folder is not None and folder in self._folders():
            if folder in self.host.vms:
                raise OperationFailed(f"Cannot remove item {path}: The process cannot access the file. (0x80070020)")
            self.host.destroy(folder)
        else:
            raise self._not_found(path)
        return []

    def get_module(self, b: Bound) -> list[Any]:
        if str(b.get("name", "")).lower() != "hyper-v":
            return []
        return [
            o.with_string(
                o.DirectoryInfo(
                    Name="Hyper-V", FullName="C:\\Windows\\system32\\WindowsPowerShell\\v1.0\\Modules\\Hyper-V"
                ),
                "Hyper-V",
            )
        ]


def statements(calls: Sequence[Call], ends: Sequence[bool]) -> list[list[Call]]:
    """Split a received command list into statements at ``end_of_statement`` marks."""
    out: list[list[Call]] = [[]]
    for call, end in zip(calls, ends, strict=True):
        out[-1].append(call)
        if end:
            out.append([])
    return [s for s in out if s]
