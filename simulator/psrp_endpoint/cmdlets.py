"""The Hyper-V cmdlets the emulated host understands, mapped onto ``HyperVHost`` operations.

A cmdlet call arrives as a name and named parameters and is bound by
:mod:`.binding`; each cmdlet here declares its parameters with a kind. VM and checkpoint
cmdlets live in this module, VHD and file cmdlets in :mod:`.storage`. The live driver
follows the same layout: a VM's disks are ``<root>\\<vm>\\<volume uuid>.vhdx``, their
differencing children beside them.

Guest data is deliberately not exposed: no real host offers it, so the live driver stays
honest; tests reach guest data through the ``HyperVHost`` object directly.
"""

from __future__ import annotations

import datetime
import fnmatch
import uuid
from typing import Any

from psrpcore.types import ErrorCategory, PSInt64, PSObject

from harness.drivers import (
    Command,
    CreateVMSnapshot,
    DeleteVMSnapshot,
    DiskSpec,
    ExportVM,
    HostError,
    ImportVM,
    InvalidState,
    ObjectNotFound,
    OperationFailed,
    PowerOffVM,
    PowerState,
    SaveVM,
    SnapshotRef,
    StartVM,
    VMRef,
)
from simulator.driver import SimulatedHyperVDriver
from simulator.host import MIB, HyperVHost, VirtualMachine
from simulator.operations import CopyImportVM, Operation, RestoreCheckpoint
from simulator.psrp_endpoint import objects as o
from simulator.psrp_endpoint.binding import COMMON, Bound, Call, Cmdlet, CmdletError, binding_error, check
from simulator.psrp_endpoint.clock import Clock
from simulator.psrp_endpoint.clustering import Clustering
from simulator.psrp_endpoint.storage import Storage
from simulator.psrp_endpoint.utility import Utility


class Cmdlets(Storage, Clustering, Utility):
    """The cmdlet table over one ``HyperVHost``. Side settings a real VM has but the model
    does not (its CheckpointType, checkpoint creation times, a merge in progress) live here.
    State-changing cmdlets go through :meth:`act`: at once, or in simulated time with a
    ``clock``."""

    def __init__(
        self,
        host: HyperVHost,
        computer: str = "HV-EMULATED",
        clock: Clock | None = None,
        cluster_nodes: tuple[str, ...] = (),
        hidden: tuple[str, ...] = (),
    ) -> None:
        self.host = host
        self.computer = computer
        self.clock = clock
        self.instant = SimulatedHyperVDriver(host=host)
        self.checkpoint_types: dict[str, str] = {}
        self.created: dict[tuple[str, str], datetime.datetime] = {}
        self._ids: dict[tuple[str, str], uuid.UUID] = {}  # checkpoints taken here: an Id each
        self._taken = 0  # checkpoints taken here, ever
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
            Cmdlet(
                "Stop-VM",
                {"name": strs, "turnoff": "switch", "force": "switch", "passthru": "switch"},
                self.stop_vm,
                {"vmname": "name"},
            ),
            Cmdlet("Save-VM", {"name": strs, "passthru": "switch"}, self.save_vm, {"vmname": "name"}),
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
            Cmdlet("Get-VMNetworkAdapter", {"vmname": strs}, self.get_adapters),
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
                {
                    "path": s,
                    "copy": "switch",
                    "register": "switch",
                    "generatenewid": "switch",
                    "vhddestinationpath": s,
                    "virtualmachinepath": s,
                },
                self.import_vm,
            ),
            Cmdlet(
                "Set-VMHardDiskDrive",
                {"vmname": s, "controllertype": s, "controllernumber": "int", "controllerlocation": "int", "path": s},
                self.set_drive,
            ),
            Cmdlet(
                "Get-ChildItem",
                {
                    "literalpath": s,
                    "filter": s,
                    "file": "switch",
                    "directory": "switch",
                    "recurse": "switch",
                    "depth": "int",
                },
                self.get_child_item,
            ),
            Cmdlet("Test-Path", {"literalpath": strs}, self.test_path),
            Cmdlet("Remove-Item", {"literalpath": s, "recurse": "switch", "force": "switch"}, self.remove_item),
            Cmdlet("Get-Module", {"name": s, "listavailable": "switch"}, self.get_module),
        ]
        table += self.utility_table()
        table += self.cluster_table(cluster_nodes)  # FailoverClusters, on a cluster node only
        hide = {name.lower() for name in hidden}  # a restricted (JEA) endpoint's role does not list them
        self.table = {c.name.lower(): c for c in table if c.name.lower() not in hide}

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
            args[key] = check(cmdlet.name, raw, kind, value)
        return cmdlet, Bound(cmdlet.name, args, piped)

    def run(self, cmdlet: Cmdlet, bound: Bound) -> list[Any]:
        for i, (name, err) in enumerate(self.faults):
            if name.lower() == cmdlet.name.lower():
                del self.faults[i]
                raise err
        return cmdlet.run(bound)

    def hyperv_error(self, err: HostError, cmdlet: str, target: str | None) -> CmdletError:
        return CmdletError(o.host_error_record(err, cmdlet, target))

    def act(self, command: Operation) -> None:
        """A state change of the model, as the simulator makes it: the timed host's with a
        clock (the caller waits its simulated time), else the instant driver's."""
        if self.clock is not None:
            self.clock.perform(command)
        elif isinstance(command, RestoreCheckpoint):
            self.host.revert(command.vm.name, command.snapshot.name)
        elif isinstance(command, CopyImportVM):
            self.host.copy_import(command.vm.name)
        elif isinstance(command, Command):
            self.instant.execute(command)
        else:
            raise TypeError(f"the emulated host cannot perform {type(command).__name__}")

    # ------------------------------------------------------------------ objects

    def vm_object(self, vm: VirtualMachine) -> PSObject:
        busy = self.clock.status(vm.name) if self.clock is not None else None
        if self._merging.get(vm.name, 0) > 0:
            self._merging[vm.name] -= 1
            busy = "MergingDisks"
        status = o.VMOperationalStatus[busy] if busy else o.VMOperationalStatus.Ok
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
            ParentSnapshotId=self.checkpoint_id(vm.name, parent.name) if parent else None,
            ParentSnapshotName=parent.name if parent else None,
            MemoryStartup=PSInt64(vm.memory_mib * MIB),
            ProcessorCount=PSInt64(vm.cpus),
            Generation=2,
            Path=self.vm_folder(vm.name),
            ComputerName=self.computer,
            IsDeleted=False,
        )
        return o.with_string(obj, f"VirtualMachine (Name = '{vm.name}') [Id = '{o.guid(vm.name)}']")

    def checkpoint_id(self, vm_name: str, name: str) -> uuid.UUID:
        """The checkpoint's Id. As on Hyper-V, every checkpoint has one of its own: one taken
        again under the name of a deleted one is another object, with another Id (a client
        that kept the old Id must not find the new checkpoint by it)."""
        return self._ids.get((vm_name, name)) or o.guid(vm_name, name)

    def snapshot_object(self, vm: VirtualMachine, name: str) -> PSObject:
        cp = vm.checkpoints[name]
        order = list(vm.checkpoints).index(name)
        created = self.created.get((vm.name, name), o.EPOCH + datetime.timedelta(seconds=order))
        obj = o.VMSnapshot(
            Name=name,
            Id=self.checkpoint_id(vm.name, name),
            VMId=o.guid(vm.name),
            VMName=vm.name,
            SnapshotType=o.SnapshotType.Standard,
            State=o.VMState.Saved if cp.memory else o.VMState.Off,
            IsAutomaticCheckpoint=False,
            ParentSnapshotId=self.checkpoint_id(vm.name, cp.parent) if cp.parent else None,
            ParentSnapshotName=cp.parent,
            CreationTime=created,
            Path=f"{self.vm_folder(vm.name)}\\Snapshots",
            MemoryStartup=PSInt64(cp.memory_mib * MIB),
            ProcessorCount=PSInt64(cp.cpus),
            ComputerName=self.computer,
            IsDeleted=False,
        )
        return o.with_string(obj, f"VMSnapshot (Name = '{name}', VMName = '{vm.name}')")

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
        # piped VirtualMachine objects bind to -VM (ValueFromPipeline), one run per VM
        vms = [self.host.vm(str(v.Name)) for v in b.input] if b.downstream else self._vms(b)
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
            self.act(StartVM(VMRef(vm.name)))
        return [self.vm_object(v) for v in self._vms(b)] if b.switch("passthru") else []

    def stop_vm(self, b: Bound) -> list[Any]:
        for vm in self._vms(b):
            self.act(PowerOffVM(VMRef(vm.name)))
        return [self.vm_object(v) for v in self._vms(b)] if b.switch("passthru") else []

    def save_vm(self, b: Bound) -> list[Any]:
        for vm in self._vms(b):
            running = vm.power_state == PowerState.Running
            self.act(SaveVM(VMRef(vm.name)))
            if running and self.clustered:  # behind the cluster's back: a failed role
                self.role_failed(vm.name)
        return [self.vm_object(v) for v in self._vms(b)] if b.switch("passthru") else []

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
            memory, quiesce = kind == "Standard" and running, kind == "ProductionOnly"
            self.act(CreateVMSnapshot(VMRef(vm.name), SnapshotRef(name), memory=memory, quiesce=quiesce))
            self.created[(vm.name, name)] = now
            self._taken += 1
            self._ids[(vm.name, name)] = o.guid(vm.name, name, str(self._taken))
            out.append(self.snapshot_object(vm, name))
        return out if b.switch("passthru") else []

    def get_snapshot(self, b: Bound) -> list[Any]:
        if b.get("id") is not None:
            for vm in self.host.vms.values():
                for name in vm.checkpoints:
                    if self.checkpoint_id(vm.name, name) == b.get("id"):
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
            running = self.host.vm(vm).power_state == PowerState.Running
            self.act(RestoreCheckpoint(VMRef(vm), SnapshotRef(name)))
            if running and self.clustered:  # behind the cluster's back: a failed role
                self.role_failed(vm)
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
                self.act(DeleteVMSnapshot(VMRef(vm_name), SnapshotRef(n)))
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

    def get_adapters(self, b: Bound) -> list[Any]:
        """One "Network Adapter" per VM; ``IPAddresses`` is what the guest reports (its
        address while it runs, nothing otherwise), as Hyper-V's data exchange shows it."""
        out = []
        for vm in self._vms(b, "vmname"):
            obj = o.VMNetworkAdapter(
                Name="Network Adapter",
                VMName=vm.name,
                VMId=o.guid(vm.name),
                SwitchName="Guests",
                MacAddress=o.guid(vm.name, "nic").hex[:12].upper(),
                IPAddresses=list(self.host.ip_addresses(vm.name)),
                ComputerName=self.computer,
            )
            out.append(o.with_string(obj, f"VMNetworkAdapter (Name = 'Network Adapter', VMName = '{vm.name}')"))
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

    # ------------------------------------------------------------------ export / import

    def export_vm(self, b: Bound) -> list[Any]:
        name = b.get("name")
        self.host.vm(name)
        if b.get("path", "").lower() != self.export_folder(name).lower():
            raise OperationFailed(f"Export of '{name}' is only supported to '{self.export_folder(name)}'.")
        if name in self.host.exports:
            raise OperationFailed(f"Failed to copy file during export of '{name}': The file exists. (0x80070050)")
        self.act(ExportVM(VMRef(name)))
        return []

    def import_vm(self, b: Bound) -> list[Any]:
        """Import-VM's three import types (hyperv.md §1.9): Register (the default, or
        ``-Register``: in place, the files the export names used where they are, same Id),
        Restore (``-Copy``: every file copied back, same Id; the destination must not hold
        them), Copy (``-Copy -GenerateNewId``: a second VM of the same name, which this
        host's model cannot hold, so it is refused). Same Id means no VM of that name may be
        registered."""
        path: str = b.get("path")
        copying = b.switch("copy")
        destinations = [b.get("vhddestinationpath"), b.get("virtualmachinepath")]
        if (b.switch("register") and (copying or b.switch("generatenewid"))) or (
            not copying and any(d is not None for d in destinations)
        ):
            fq = "AmbiguousParameterSet,Microsoft.HyperV.PowerShell.Commands.ImportVM"
            message = "Parameter set cannot be resolved using the specified named parameters."
            raise binding_error("Import-VM", fq, message)
        name = None
        for candidate in self._folders():
            if path.lower().startswith(f"{self.export_folder(candidate)}\\".lower()):
                name = candidate
        record = self.host.exports.get(name or "")
        if name is None or record is None or not path.lower().endswith(".vmcx"):
            raise ObjectNotFound(f"The system cannot find the file specified: '{path}'. (0x80070002)")
        if name in self.host.vms:
            raise OperationFailed(
                f"Failed to import '{name}': a virtual machine with the identifier '{o.guid(name)}' already exists. "
                "(0x800700B7)"
            )
        if copying and b.switch("generatenewid"):
            raise OperationFailed(f"Failed to import '{name}': this host keeps one virtual machine per name.")
        if copying:
            folder = self.vm_folder(name)
            if any(d is not None and d.rstrip("\\").lower() != folder.lower() for d in destinations):
                raise OperationFailed(f"Import of '{name}' is only supported into '{folder}'.")
            self.act(CopyImportVM(VMRef(name)))
        else:
            disks = tuple(self.host.export_disks(name))
            self.act(ImportVM(VMRef(name), record.vm.memory_mib, record.vm.cpus, disks))
        return [self.vm_object(self.host.vm(name))]

    def set_drive(self, b: Bound) -> list[Any]:
        vm = self.host.vm(b.get("vmname"))
        volumes = list(vm.disks)
        at = b.get("controllerlocation", -1)
        if b.get("controllernumber", 0) != 0 or not 0 <= at < len(volumes):
            raise ObjectNotFound(f"No hard disk drive at that controller location of '{vm.name}'.")
        if vm.power_state != PowerState.Off:
            raise InvalidState(f"'{vm.name}' failed to modify the hard disk drive: the virtual machine is not off.")
        self.host.reattach(vm.name, volumes[at], b.get("path"))
        return []
