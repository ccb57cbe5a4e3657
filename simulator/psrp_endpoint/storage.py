"""The storage side of the emulated host's cmdlets: the VM folder layout, VHD files
(New-VHD, Get-VHD, Convert-VHD) and the file-system cmdlets a driver needs around them
(Get-ChildItem, Test-Path, Remove-Item), all over the ``HyperVHost`` model's files.

A VM's folder is ``<root>\\<vm>``; its export ``<root>\\<vm>\\Export``. Removing a VM's
folder is ``HyperVHost.destroy``: every file of the volumes the VM owns, and its export.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from psrpcore.types import ErrorCategory, PSInt64, PSObject

from harness.drivers import ObjectNotFound, OperationFailed
from simulator.host import MIB, VHDX_BASE_BYTES, DiskFile, HyperVHost
from simulator.psrp_endpoint import objects as o
from simulator.psrp_endpoint.binding import Bound, CmdletError, binding_error


class Storage:
    """Cmdlets over the host's files; mixed into the cmdlet table."""

    host: HyperVHost
    computer: str
    cluster_up: dict[str, bool]

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

    # ------------------------------------------------------------------ disks

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
        self.host._add_file(f)
        self.host.owners[volume] = owner
        return [self._vhd(f)]

    def get_vhd(self, b: Bound) -> list[Any]:
        piped = [str(getattr(i, "Path", None) or getattr(i, "FullName", "")) for i in b.input]
        return [self._vhd(self.host.file(p)) for p in [*b.names("path"), *piped]]

    def convert_vhd(self, b: Bound) -> list[Any]:
        self.host.chain(b.get("path"))  # the copy leaves primary storage: nothing changes here
        return []

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

    def _entries(self, path: str) -> list[PSObject] | None:
        """The items in one folder of the layout, None if there is no such folder: the
        root's VM folders and disk files; a VM folder's disk files and its Export folder;
        an export's files (listed flat, as the driver reads them)."""
        vm = self._vm_of_folder(path, "\\Export")
        if vm is not None and vm in self.host.exports:
            return self._export_files(vm)
        folder = self._vm_of_folder(path)
        at_root = path.lower() == self.root.lower()
        if not at_root and (folder is None or folder not in self._folders()):
            return None
        inside = [f for p, f in sorted(self.host.disk_files.items()) if p.rpartition("\\")[0].lower() == path.lower()]
        files: list[PSObject] = [
            o.FileInfo(Name=f.path.rpartition("\\")[2], FullName=f.path, Length=PSInt64(f.bytes)) for f in inside
        ]
        if at_root:
            return [o.DirectoryInfo(Name=n, FullName=self.vm_folder(n)) for n in sorted(self._folders())] + files
        if folder in self.host.exports:
            files.append(o.DirectoryInfo(Name="Export", FullName=self.export_folder(folder)))
        return files

    def _walk(self, path: str, depth: int) -> list[PSObject]:
        """The folder's items, then each subfolder's down to ``depth`` more levels (the order
        PowerShell's file system provider lists them in)."""
        items = self._entries(path) or []
        out = list(items)
        if depth > 0:
            for item in items:
                if isinstance(item, o.DirectoryInfo):
                    out += self._walk(str(item.FullName), depth - 1)
        return out

    def get_child_item(self, b: Bound) -> list[Any]:
        """``-Recurse`` descends every level, ``-Depth N`` (which implies it) N levels;
        ``-Filter`` matches item names (case-insensitive) at every level, the recursion
        going on through folders that do not match; ``-File``/``-Directory`` keep one kind."""
        path: str = b.get("literalpath")
        if self._entries(path) is None:
            raise self._not_found(path)
        depth = b.get("depth")
        if depth is not None and depth < 0:
            raise binding_error("Get-ChildItem", "ParameterArgumentTransformationError,Get-ChildItem", f"Depth {depth}")
        levels = depth if depth is not None else 2**32 if b.switch("recurse") else 0
        pattern = str(b.get("filter", "*")).lower()
        kind = o.FileInfo if b.switch("file") else o.DirectoryInfo if b.switch("directory") else PSObject
        return [
            item
            for item in self._walk(path, levels)
            if isinstance(item, kind) and fnmatch.fnmatchcase(str(item.Name).lower(), pattern)
        ]

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
        elif path in self.host.disk_files:  # one disk file: not while a VM uses it or a child needs it
            if self.host._protected(path) or self.host._dependants(path):
                raise OperationFailed(f"Cannot remove item {path}: The process cannot access the file. (0x80070020)")
            self.host._drop_file(path)
        elif folder is not None and folder in self._folders():
            if folder in self.host.vms:
                raise OperationFailed(f"Cannot remove item {path}: The process cannot access the file. (0x80070020)")
            self.host.destroy(folder)
        else:
            raise self._not_found(path)
        return []

    def get_module(self, b: Bound) -> list[Any]:
        """Hyper-V always; FailoverClusters on a cluster node (where its cmdlets are served)."""
        wanted = str(b.get("name", "")).lower()
        modules = {"hyper-v": "Hyper-V"}
        if self.cluster_up:  # the module is installed on a node even where a role hides its cmdlets
            modules["failoverclusters"] = "FailoverClusters"
        name = modules.get(wanted)
        if name is None:
            return []
        return [
            o.with_string(
                o.DirectoryInfo(Name=name, FullName=f"C:\\Windows\\system32\\WindowsPowerShell\\v1.0\\Modules\\{name}"),
                name,
            )
        ]
