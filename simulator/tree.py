"""The checkpoint trees on a simulated host's storage: registered VMs, their checkpoints, and
the rules that keep files while something needs them (the holders index) and merge or delete
them when nothing does (``reference/hyperv.md`` §4.4: delete an unused file, merge a file
with one dependant, keep one with two until the branches shrink).

:class:`TreeStorage` is :class:`~simulator.disks.PrimaryStorage` plus the registered VMs;
:class:`~simulator.host.HyperVHost` builds the operations (checkpoint, revert, delete,
export, import) on it. Every change to ``vms``, a registered VM's ``disks`` or a
checkpoint's ``disks`` goes through the methods here.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from harness.drivers import PowerState
from simulator.disks import AVHDX_BASE_BYTES, BLOCK_BYTES, STORAGE_ROOT, DiskFile, PrimaryStorage


@dataclass
class Checkpoint:
    """A checkpoint: ``disks`` maps volume uuid to the file it froze."""

    name: str
    parent: str | None
    memory: bool
    disks: dict[str, str]
    memory_mib: int
    cpus: int
    boot_id: int


@dataclass
class VirtualMachine:
    """A registered VM. ``disks`` maps volume uuid to its leaf, in attach order;
    ``checkpoints`` is in creation order."""

    name: str
    power_state: PowerState
    memory_mib: int
    cpus: int
    disks: dict[str, str]
    checkpoints: dict[str, Checkpoint] = field(default_factory=dict)
    current: str | None = None

    @staticmethod
    def from_dict(d: dict[str, Any]) -> VirtualMachine:
        cps = {n: Checkpoint(**c) for n, c in d["checkpoints"].items()}
        return VirtualMachine(**{**d, "power_state": PowerState(d["power_state"]), "checkpoints": cps})


@dataclass
class ExportRecord:
    """An export: the registration as it was, and a copy of every file of its tree."""

    vm: VirtualMachine
    files: dict[str, DiskFile]


class TreeStorage(PrimaryStorage):
    """Primary storage with the registered VMs whose trees live on it."""

    def __init__(self, storage_root: str = STORAGE_ROOT) -> None:
        super().__init__(storage_root)
        self.vms: dict[str, VirtualMachine] = {}
        self.bytes_merged = 0
        # A derived index beside the dependants one (never persisted; ``_reindex`` rebuilds
        # both): path -> registered VM name -> how many entries of that VM's ``disks`` and
        # checkpoints' ``disks`` name the path, kept wherever those change.
        self._holders: dict[str, dict[str, int]] = {}

    # -- the holders index and the merge rules: every change to ``vms``, a registered VM's
    # -- ``disks`` or a checkpoint's ``disks`` goes through these

    def _reindex(self) -> None:
        """Rebuild the indexes from the state (after loading it)."""
        super()._reindex()
        self._holders = {}
        for n, vm in self.vms.items():
            self._hold(n, self._vm_paths(vm))

    @staticmethod
    def _vm_paths(vm: VirtualMachine) -> list[str]:
        return [*vm.disks.values(), *(p for c in vm.checkpoints.values() for p in c.disks.values())]

    def _register(self, vm: VirtualMachine, name: str | None = None) -> None:
        name = vm.name if name is None else name
        self.vms[name] = vm
        self._hold(name, self._vm_paths(vm))

    def _unregister(self, name: str) -> None:
        self._release(name, self._vm_paths(self.vms.pop(name)))

    def _set_disk(self, vm_name: str, mapping: dict[str, str], vol: str, path: str) -> None:
        """``mapping[vol] = path`` for a mapping of the registered VM ``vm_name``."""
        old = mapping.get(vol)
        mapping[vol] = path
        if old is not None:
            self._release(vm_name, (old,))
        self._hold(vm_name, (path,))

    def _hold(self, vm_name: str, paths: Iterable[str]) -> None:
        for p in paths:
            held = self._holders.get(p)
            if held is None:
                self._holders[p] = {vm_name: 1}
            else:
                held[vm_name] = held.get(vm_name, 0) + 1

    def _release(self, vm_name: str, paths: Iterable[str]) -> None:
        for p in paths:
            held = self._holders[p]
            n = held[vm_name] - 1
            if n:
                held[vm_name] = n
            else:
                del held[vm_name]
                if not held:
                    del self._holders[p]

    def _protected(self, path: str) -> bool:
        """A file some VM runs on or some checkpoint froze."""
        return path in self._holders

    def _remove(self, path: str) -> int:
        """Delete an unused file, then let its parent collapse. Returns bytes merged."""
        parent = self._drop_file(path).parent
        return self._collapse(parent) if parent else 0

    def _collapse(self, path: str) -> int:
        """An unprotected file that lost a dependant: delete it if unused, merge it if only
        one file still depends on it, keep it otherwise."""
        f = self.disk_files[path]
        if self._protected(path):
            return 0
        deps = self._dependants(path)
        if not deps:
            return self._remove(path) if f.parent else 0
        if len(deps) == 1:
            return self._merge(deps[0], path)
        return 0

    def _merge(self, child: str, parent: str) -> int:
        """Merge ``child`` into ``parent``; the parent takes the child's place everywhere."""
        g, f = self.disk_files[child], self.disk_files[parent]
        shifted = self.shift_chains(f, g)  # the oldest checkpoint's merge: every chain shifts alike
        overlap = len(g.blocks.keys() & f.blocks.keys())
        self._resize(f, f.bytes + max(0, g.bytes - AVHDX_BASE_BYTES - overlap * BLOCK_BYTES))
        f.blocks.update(g.blocks)
        if not shifted:
            self._rechained(f)  # (the resize above did too, unless the parent is a base)
        for grandchild in self._children.pop(child, ()):
            self.disk_files[grandchild].parent = parent
            self._children.setdefault(parent, {})[grandchild] = None
        held = self._holders.pop(child, {})
        for vm_name, n in held.items():
            vm = self.vms[vm_name]
            left = n  # the entries of this VM naming the child: once all are found, stop looking
            for mapping in itertools.chain((vm.disks,), (c.disks for c in vm.checkpoints.values())):
                if child not in mapping.values():  # the common case, checked in C
                    continue
                for vol, p in mapping.items():
                    if p == child:
                        mapping[vol] = parent
                        left -= 1
                if left <= 0:
                    break
            into = self._holders.setdefault(parent, {})
            into[vm_name] = into.get(vm_name, 0) + n
        self._drop_file(child, rechain=not shifted)
        self.bytes_merged += g.bytes
        return g.bytes

    def _tree_files(self, vm: VirtualMachine) -> list[str]:
        roots = list(vm.disks.values()) + [p for c in vm.checkpoints.values() for p in c.disks.values()]
        seen: dict[str, None] = {}
        for r in roots:
            for p in self.chain(r):
                seen.setdefault(p)
        return list(seen)
