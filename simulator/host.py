"""The state model of a simulated Hyper-V host.

It covers what a VM-snapshot manager can observe on a real host (``reference/hyperv.md``
§3-§4): disk files on primary storage (the ``.vhdx`` and ``.avhdx`` trees of
:mod:`simulator.disks`), registered VMs with power state, configuration and checkpoint
tree, checkpoint creation (Standard with memory, Production, ProductionOnly, the VSS
fallback), apply with the resulting power state, delete with the merge rules (delete an
unused file, merge a file with one dependant, keep one with two until the branches
shrink), export/import of the whole tree, and guest data read through a chain.

Each operation is a plain method that checks every precondition first (a refused operation
changes nothing), then mutates state and returns what an answer or a cost model needs (byte
counts copied or merged). Names are deterministic: no randomness, no wall clock.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any, Protocol

from harness.drivers import (
    CheckpointInfo,
    DiskSpec,
    InvalidState,
    Inventory,
    ObjectNotFound,
    OperationFailed,
    PowerState,
    VMInventory,
    VolumeState,
)

# Re-exported: simulator.psrp_endpoint imports the storage names from here.
from simulator.disks import (
    AVHDX_BASE_BYTES,
    BLOCK_BYTES,
    MIB,
    STORAGE_ROOT,
    VHDX_BASE_BYTES,
    DiskFile,
)
from simulator.guests.addresses import DEFAULT_GUEST_RANGE, checked, next_free
from simulator.tree import Checkpoint, ExportRecord, TreeStorage, VirtualMachine

STATE_VERSION = 1
_GUEST_HASH_ROUNDS = 10_000  # PBKDF2 rounds of a guest's password hash

_BUSY = "The operation cannot be performed while the object is in its current state."


class HostListener(Protocol):
    """Told of what a guest notices (``simulator.guests``): a power state change (the VM may
    also have gone: unregistered or destroyed), a checkpoint with memory, a revert."""

    def power_changed(self, vm: str) -> None: ...

    def checkpoint_taken(self, vm: str, snapshot: str, memory: bool) -> None: ...

    def reverted(self, vm: str, snapshot: str, memory: bool) -> None: ...


def _not_found_vm(name: str) -> ObjectNotFound:
    return ObjectNotFound(f"Hyper-V was unable to find a virtual machine with name '{name}'.")


def _busy(name: str, state: PowerState | str) -> InvalidState:
    return InvalidState(f"'{name}' ({state}): {_BUSY}")


class HyperVHost(TreeStorage):
    """One Hyper-V host and its primary storage."""

    def __init__(self, storage_root: str = STORAGE_ROOT) -> None:
        super().__init__(storage_root)
        self.exports: dict[str, ExportRecord] = {}
        self.owners: dict[str, str] = {}  # volume uuid -> VM name that owns its files
        self.boot_ids: dict[str, int] = {}  # survives unregister: the guest's boot count
        self.addresses: dict[str, str] = {}  # survives unregister: the VM's default NIC address
        # survive unregister, as the guest's own files would: its root keys and password hash
        self.guest_keys: dict[str, list[str]] = {}
        self.guest_passwords: dict[str, str] = {}
        self.guest_range = DEFAULT_GUEST_RANGE  # where addresses the manager does not name come from
        self.listeners: list[HostListener] = []  # never persisted
        self.vss_fails = False  # guests cannot quiesce: production checkpoints fail
        # "live" (2012+): a deleted checkpoint's AVHDX merges at once. "deferred" (the 2008 R2
        # host the spec describes): it stays in the chain until the VM is shut down, turned
        # off or saved; ``pending`` names them per VM. ``merge_on_power_off`` False leaves
        # the merge to a caller that times it (the timed host), via ``merge_pending``.
        self.merge_mode = "live"
        self.merge_on_power_off = True
        self.pending: dict[str, list[str]] = {}
        self.bytes_exported = 0
        self.bytes_imported = 0

    # ------------------------------------------------------------------ queries

    def vm(self, name: str) -> VirtualMachine:
        vm = self.vms.get(name)
        if vm is None:
            raise _not_found_vm(name)
        return vm

    def boot_id(self, vm_name: str) -> int:
        """How many times the guest has booted cold (tests only)."""
        return self.boot_ids.get(vm_name, 0)

    def tree(self, vm_name: str) -> dict[str, str | None]:
        """Checkpoint name -> parent checkpoint name, in creation order."""
        return {c.name: c.parent for c in self.vm(vm_name).checkpoints.values()}

    def volumes(self, vm_name: str) -> list[VolumeState]:
        return [VolumeState(v, p, self.chain_size(p)) for v, p in self.vm(vm_name).disks.items()]

    def ip_addresses(self, vm_name: str) -> tuple[str, ...]:
        """The addresses Hyper-V reports for the VM's adapters: its guest's, while it runs."""
        vm = self.vms.get(vm_name)
        running = vm is not None and vm.power_state == PowerState.Running
        return (self.addresses[vm_name],) if running and vm_name in self.addresses else ()

    def inventory(self) -> Inventory:
        vms = tuple(
            VMInventory(
                name=vm.name,
                power_state=vm.power_state,
                current=vm.current,
                checkpoints=tuple(CheckpointInfo(c.name, c.parent, c.memory) for c in vm.checkpoints.values()),
                volumes=tuple(self.volumes(vm.name)),
                ip_addresses=self.ip_addresses(vm.name),
                merge_pending=self.pending_bytes(vm.name) > 0,
            )
            for vm in sorted(self.vms.values(), key=lambda v: v.name)
        )
        return Inventory(vms=vms, exported=tuple(sorted(self.exports)))

    # ------------------------------------------------------------------ VM lifecycle

    def deploy(
        self,
        name: str,
        memory_mib: int,
        cpus: int,
        disks: Sequence[DiskSpec],
        start: bool,
        ip_address: str | None = None,
    ) -> dict[str, str]:
        """Create missing disk files and give the VM its address (``ip_address``, or a free
        one of ``guest_range``); register and start the VM if ``start``.
        Returns volume uuid -> file path."""
        self._unregistered(name)
        address = self._address_for(name, ip_address)
        paths = self._attach_disks(name, disks)
        self.addresses[name] = address
        if start:
            self._register(VirtualMachine(name, PowerState.Off, memory_mib, cpus, dict(paths)))
            self.start(name)
        return paths

    def register(
        self, name: str, memory_mib: int, cpus: int, disks: Sequence[DiskSpec], ip_address: str | None = None
    ) -> None:
        self._unregistered(name)
        address = self._address_for(name, ip_address)
        paths = self._attach_disks(name, disks)
        self.addresses[name] = address
        self._register(VirtualMachine(name, PowerState.Off, memory_mib, cpus, paths))

    def start(self, name: str) -> None:
        vm = self.vm(name)
        if vm.power_state == PowerState.Running:
            raise _busy(name, vm.power_state)
        if vm.power_state == PowerState.Off:
            self.boot_ids[name] = self.boot_ids.get(name, 0) + 1
        vm.power_state = PowerState.Running
        self.power_changed(name)

    def power_off(self, name: str) -> None:
        self.vm(name).power_state = PowerState.Off
        if self.merge_on_power_off:
            self.merge_pending(name)
        self.power_changed(name)

    def power_changed(self, name: str) -> None:
        """Tell the listeners the VM's power state changed (or it is gone). Every change
        outside this module (a host crash in simulated time) calls it too."""
        for listener in self.listeners:
            listener.power_changed(name)

    def save(self, name: str) -> None:
        """Save the running VM's memory (``Save-VM``): it ends Saved; deferred merges run."""
        vm = self.vm(name)
        if vm.power_state != PowerState.Running:
            raise _busy(name, vm.power_state)
        vm.power_state = PowerState.Saved
        if self.merge_on_power_off:
            self.merge_pending(name)
        self.power_changed(name)

    def merge_pending(self, name: str) -> int:
        """Merge the AVHDX of the VM's deleted checkpoints that waited (deferred mode);
        returns the bytes merged."""
        waiting, merged, progress = self.pending.pop(name, []), 0, True
        while progress:  # a file that absorbed its child may now merge with the next one
            progress = False
            for path in waiting:
                if path in self.disk_files and not self._protected(path) and len(self._dependants(path)) <= 1:
                    files = len(self.disk_files)
                    merged += self._collapse(path)
                    progress = progress or len(self.disk_files) < files
        return merged

    def pending_bytes(self, name: str) -> int:
        """Bytes of the deleted checkpoints' files still waiting for their merge."""
        return sum(self.disk_files[p].bytes for p in self.pending.get(name, ()) if p in self.disk_files)

    def unregister(self, name: str) -> list[str]:
        """Drop the registration; the checkpoint files stay as orphans. Returns the lost names."""
        vm = self.vm(name)
        if vm.power_state != PowerState.Off:
            raise _busy(name, vm.power_state)
        self.merge_pending(name)  # an Off VM's deferred merges finish before it goes
        self._unregister(name)
        return list(vm.checkpoints)

    def destroy(self, name: str) -> list[str]:
        """Forget the VM entirely; delete every file of the volumes it owns and its export.
        A volume detached from it is no longer its own and keeps its files."""
        if name in self.vms:
            self._unregister(name)
        self.exports.pop(name, None)
        self.pending.pop(name, None)
        volumes = {v for v, owner in self.owners.items() if owner == name}
        gone = [p for p, f in self.disk_files.items() if f.volume_uuid in volumes]
        for p in gone:
            self._drop_file(p)
        for v in volumes:
            self.owners.pop(v, None)
        self.boot_ids.pop(name, None)
        self.addresses.pop(name, None)
        self.guest_keys.pop(name, None)
        self.guest_passwords.pop(name, None)
        return sorted(gone)

    def reclaim(self, name: str, disks: Sequence[DiskSpec]) -> tuple[int, list[str]]:
        """Delete the VM's export and, unless it is registered, every file of its volumes in
        ``disks`` off the chain of that volume's active file. Returns (bytes freed, paths)."""
        freed, removed = self.export_bytes(name), list[str]()
        self.exports.pop(name, None)
        if name in self.vms:
            return freed, removed
        for d in disks:
            if d.path is None or d.path not in self.disk_files or self.owners.get(d.volume_uuid) != name:
                continue
            keep = set(self.chain(d.path))
            for p in sorted(self.files(d.volume_uuid), key=lambda p: -len(self.chain(p))):  # leaves first
                if p not in keep and not self._protected(p):
                    freed += self._drop_file(p).bytes
                    removed.append(p)
        return freed, removed

    def export_bytes(self, name: str) -> int:
        """Bytes the VM's export holds on primary storage (0 without one)."""
        record = self.exports.get(name)
        if record is None:
            return 0
        memory = sum(c.memory_mib * MIB for c in record.vm.checkpoints.values() if c.memory)
        return sum(f.bytes for f in record.files.values()) + memory

    def attach(self, name: str, disk: DiskSpec) -> None:
        vm = self.vm(name)
        for vol, path in self._attach_disks(name, [disk]).items():
            self._set_disk(name, vm.disks, vol, path)

    def detach(self, name: str, volume_uuid: str) -> None:
        vm = self.vm(name)
        if volume_uuid not in vm.disks:
            raise ObjectNotFound(f"Virtual machine '{name}' has no hard disk for volume '{volume_uuid}'.")
        self._release(name, (vm.disks.pop(volume_uuid),))
        self.owners.pop(volume_uuid, None)

    # ------------------------------------------------------------------ checkpoints

    def checkpoint(self, name: str, snapshot: str, memory: bool, quiesce: bool, vss_fails: bool | None = None) -> bool:
        """Take a checkpoint; returns whether it holds memory. ``vss_fails``: whether the
        guest's VSS freeze fails this time (None: as :attr:`vss_fails` says)."""
        vm = self.vm(name)
        if snapshot in vm.checkpoints:
            raise InvalidState(f"A checkpoint named '{snapshot}' already exists for '{name}'.")
        running = vm.power_state == PowerState.Running
        if memory and not running:
            raise _busy(name, vm.power_state)
        if running and not memory and (self.vss_fails if vss_fails is None else vss_fails):
            if quiesce:
                raise OperationFailed(
                    f"Production checkpoints cannot be created for '{name}'. Checkpoint operation failed."
                )
            memory = True  # Production falls back to Standard
        self._need(AVHDX_BASE_BYTES * len(vm.disks))
        frozen = dict(vm.disks)
        for vol, leaf in frozen.items():
            self._set_disk(name, vm.disks, vol, self._new_avhdx(leaf))
        vm.checkpoints[snapshot] = Checkpoint(
            snapshot, vm.current, memory, frozen, vm.memory_mib, vm.cpus, self.boot_id(name)
        )
        self._hold(name, frozen.values())
        vm.current = snapshot
        for listener in self.listeners:
            listener.checkpoint_taken(name, snapshot, memory)
        return memory

    def revert(self, name: str, snapshot: str) -> bool:
        """Apply a checkpoint: the VM ends Saved (memory) or Off. Returns the memory flag.

        Each attached disk the checkpoint has gets a new leaf on its frozen file, the old leaf
        being discarded if unused. Disks attached or detached since are left as they are
        (CloudStack forbids both while VM snapshots exist)."""
        vm = self.vm(name)
        cp = self._checkpoint(vm, snapshot)
        reverted = {vol: frozen for vol, frozen in cp.disks.items() if vol in vm.disks}
        self._need(AVHDX_BASE_BYTES * len(reverted))
        vm.power_state = PowerState.Off
        for vol, frozen in reverted.items():
            old = vm.disks[vol]
            self._set_disk(name, vm.disks, vol, self._new_avhdx(frozen))
            if self.disk_files[old].parent and not self._protected(old) and not self._dependants(old):
                self._remove(old)
        vm.memory_mib, vm.cpus = cp.memory_mib, cp.cpus
        vm.current = cp.name
        if self.merge_on_power_off:
            self.merge_pending(name)  # the apply turned the VM off: what waited merges now
        if cp.memory:
            vm.power_state = PowerState.Saved
            self.boot_ids[name] = cp.boot_id
        for listener in self.listeners:
            listener.reverted(name, cp.name, cp.memory)
        return cp.memory

    def delete_checkpoint(self, name: str, snapshot: str) -> int:
        """Delete a checkpoint and merge its files; returns the bytes merged."""
        vm = self.vm(name)
        cp = self._checkpoint(vm, snapshot)
        del vm.checkpoints[snapshot]
        self._release(name, cp.disks.values())
        for child in vm.checkpoints.values():
            if child.parent == snapshot:
                child.parent = cp.parent
        if vm.current == snapshot:
            vm.current = cp.parent
        merged = 0
        if self.merge_mode == "deferred" and vm.power_state != PowerState.Off:  # until shut down or saved
            self.pending.setdefault(name, []).extend(p for v, p in cp.disks.items() if v in vm.disks)
            return 0
        for vol, frozen in cp.disks.items():
            if vol not in vm.disks or self._protected(frozen):
                continue  # a detached volume's files are left alone
            deps = self._dependants(frozen)
            if not deps:
                merged += self._remove(frozen)
            elif len(deps) == 1:
                merged += self._merge(deps[0], frozen)
        return merged

    # ------------------------------------------------------------------ export / import

    def export(self, name: str) -> tuple[int, list[str]]:
        """Copy the VM and its whole tree; returns (bytes copied, checkpoint names)."""
        vm = self.vm(name)
        paths = self._tree_files(vm)
        files = {p: copy.deepcopy(self.disk_files[p]) for p in paths}
        copied = sum(f.bytes for f in files.values())
        copied += sum(c.memory_mib * MIB for c in vm.checkpoints.values() if c.memory)
        self.exports[name] = ExportRecord(copy.deepcopy(vm), files)
        self.bytes_exported += copied
        return copied, list(vm.checkpoints)

    def import_vm(
        self, name: str, memory_mib: int, cpus: int, disks: Sequence[DiskSpec], ip_address: str | None = None
    ) -> int:
        """Register the VM from its export in place (Off), on ``disks``; returns the bytes
        restored.

        Export files still intact on storage are used in place; files deleted or changed
        since the export (a merge) are restored from the export's copy."""
        self._unregistered(name)
        record = self.exports.get(name)
        if record is None:
            raise ObjectNotFound(f"Hyper-V was unable to find an export of virtual machine '{name}'.")
        address = self._address_for(name, ip_address)
        live = [d for d in disks if d.path is not None or d.volume_uuid not in record.vm.disks]
        paths = self._attach_disks(name, live)  # the only step that can refuse
        self.addresses[name] = address
        restored, moved = self._restore(record.files, self._import_needs(record, disks))
        vm = copy.deepcopy(record.vm)
        vm.power_state, vm.memory_mib, vm.cpus = PowerState.Off, memory_mib, cpus
        vm.disks = {d.volume_uuid: paths.get(d.volume_uuid) or moved[record.vm.disks[d.volume_uuid]] for d in disks}
        for c in vm.checkpoints.values():
            c.disks = {v: moved[p] for v, p in c.disks.items()}
        for v in [*vm.disks, *(v for c in vm.checkpoints.values() for v in c.disks)]:
            self.owners.setdefault(v, name)
        self._register(vm, name)
        self.bytes_imported += restored
        return restored

    def bytes_to_restore(self, name: str, disks: Sequence[DiskSpec]) -> int:
        """What :meth:`import_vm` would copy back from the export (0 without one)."""
        record = self.exports.get(name)
        return self._restore(record.files, self._import_needs(record, disks), dry_run=True)[0] if record else 0

    @staticmethod
    def _import_needs(record: ExportRecord, disks: Sequence[DiskSpec]) -> set[str]:
        """The export's files an import on ``disks`` needs: every checkpoint's, and the
        export's own leaf of each volume given without a live file."""
        needed = {p for c in record.vm.checkpoints.values() for p in c.disks.values()}
        saved = record.vm.disks
        needed.update(saved[d.volume_uuid] for d in disks if d.path is None and d.volume_uuid in saved)
        return needed

    def export_disks(self, name: str) -> list[DiskSpec]:
        """The disks the export's configuration names: each volume's file at export time
        (``path`` None when that file is gone from storage)."""
        record = self.exports.get(name)
        if record is None:
            raise ObjectNotFound(f"Hyper-V was unable to find an export of virtual machine '{name}'.")
        return [
            DiskSpec(vol, record.files[p].size, p if p in self.disk_files else None)
            for vol, p in record.vm.disks.items()
        ]

    def copy_import(self, name: str) -> int:
        """``Import-VM -Copy`` into the VM's own folder: every file of the export copied back
        to its place, which must be free. Returns the bytes copied."""
        self._unregistered(name)
        record = self.exports.get(name)
        if record is None:
            raise ObjectNotFound(f"Hyper-V was unable to find an export of virtual machine '{name}'.")
        taken = sorted(p for p in record.files if p in self.disk_files)
        if taken:
            raise OperationFailed(
                f"Failed to copy file during import of '{name}': '{taken[0]}': The file exists. (0x80070050)"
            )
        disks = [DiskSpec(vol, record.files[p].size) for vol, p in record.vm.disks.items()]
        self.import_vm(name, record.vm.memory_mib, record.vm.cpus, disks)
        return sum(f.bytes for f in record.files.values())

    def reattach(self, name: str, volume_uuid: str, path: str) -> None:
        """Point the VM's drive for ``volume_uuid`` at the file ``path``
        (``Set-VMHardDiskDrive -Path``); the file it left is removed if nothing needs it."""
        vm = self.vm(name)
        if volume_uuid not in vm.disks:
            raise ObjectNotFound(f"Virtual machine '{name}' has no hard disk for volume '{volume_uuid}'.")
        f = self.file(path)
        if f.volume_uuid != volume_uuid:
            raise InvalidState(f"'{path}' is not a disk of volume '{volume_uuid}'. {_BUSY}")
        for other in self.vms.values():
            if other.name != name and path in other.disks.values():
                raise InvalidState(f"'{path}' is in use by '{other.name}'. {_BUSY}")
        old = vm.disks[volume_uuid]
        if old == path:
            return
        self._set_disk(name, vm.disks, volume_uuid, path)
        if self.disk_files[old].parent and not self._protected(old) and not self._dependants(old):
            self._remove(old)

    # ------------------------------------------------------------------ volumes and guest data

    def volume_snapshot(self, name: str, disk: DiskSpec) -> int:
        """Bytes copied by a volume snapshot: the volume's whole current chain."""
        vm = self.vms.get(name)
        path = vm.disks.get(disk.volume_uuid) if vm else None
        path = path or disk.path
        if path is None:
            raise ObjectNotFound(f"Hyper-V was unable to find a hard disk for volume '{disk.volume_uuid}'.")
        return sum(self.file(p).bytes for p in self.chain(path))

    def write(self, name: str, key: str, value: str, volume_uuid: str | None = None, grow: int | None = None) -> None:
        """Write ``value`` under ``key`` into the disk's leaf. The leaf grows by ``grow`` bytes
        (default: one block the first time it holds the key; the guest's ``dd`` names its own)."""
        f = self.disk_files[self._guest_leaf(name, volume_uuid)]
        if grow is None:
            grow = 0 if key in f.blocks else BLOCK_BYTES
        if grow:
            self._need(grow)
            self._resize(f, f.bytes + grow)
        f.blocks[key] = value

    def read(self, name: str, key: str, volume_uuid: str | None = None) -> str | None:
        return self.peek(self._guest_leaf(name, volume_uuid), key)

    def _unregister(self, name: str) -> None:
        super()._unregister(name)
        self.power_changed(name)  # its guest goes with the registration

    def _address_for(self, name: str, given: str | None) -> str:
        """The address the VM will have: the manager's, else the one it kept, else a free one."""
        if given is not None:
            return checked(given)
        kept = self.addresses.get(name)
        return kept if kept is not None else next_free(self.guest_range, self.addresses.values())

    # ------------------------------------------------------------------ guest logins

    def set_guest_login(self, name: str, authorized_keys: Sequence[str], password: str | None) -> None:
        """What the VM's guest accepts for root from now on: ``authorized_keys`` (replacing
        earlier ones) and, when given, a new ``password`` (kept as a salted hash)."""
        self.guest_keys[name] = list(authorized_keys)
        if password is not None:
            salt = secrets.token_bytes(16)
            digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _GUEST_HASH_ROUNDS)
            self.guest_passwords[name] = f"{salt.hex()}${digest.hex()}"

    def guest_password_ok(self, name: str, password: str) -> bool | None:
        """Whether ``password`` is the guest's own; None when it has none (the template's)."""
        stored = self.guest_passwords.get(name)
        if stored is None:
            return None
        salt, digest = stored.split("$")
        given = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), _GUEST_HASH_ROUNDS)
        return hmac.compare_digest(given.hex(), digest)

    # ------------------------------------------------------------------ persistence

    _PLAIN: tuple[str, ...] = ("storage_root", "_counter", "owners", "boot_ids", "vss_fails", "capacity")
    _PLAIN += ("bytes_merged", "bytes_exported", "bytes_imported")
    # keys newer than some saved states
    _LATER = {"merge_mode": "live", "pending": {}, "addresses": {}, "guest_keys": {}, "guest_passwords": {}}

    def to_dict(self) -> dict[str, Any]:
        """The whole state as JSON-ready dicts (``from_dict`` reads it back)."""
        return {
            "version": STATE_VERSION,
            **{k: copy.deepcopy(getattr(self, k)) for k in (*self._PLAIN, *self._LATER)},
            "files": {p: asdict(f) for p, f in self.disk_files.items()},
            "vms": {n: asdict(v) for n, v in self.vms.items()},
            "exports": {
                n: {"vm": asdict(r.vm), "files": {p: asdict(f) for p, f in r.files.items()}}
                for n, r in self.exports.items()
            },
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HyperVHost:
        if d.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported simulator state version {d.get('version')!r}")
        host = cls()
        for k in cls._PLAIN:
            setattr(host, k, copy.deepcopy(d[k]))
        for k, default in cls._LATER.items():
            setattr(host, k, copy.deepcopy(d.get(k, default)))
        host.disk_files = {p: DiskFile(**f) for p, f in d["files"].items()}
        host.vms = {n: VirtualMachine.from_dict(v) for n, v in d["vms"].items()}
        host.exports = {
            n: ExportRecord(VirtualMachine.from_dict(r["vm"]), {p: DiskFile(**f) for p, f in r["files"].items()})
            for n, r in d["exports"].items()
        }
        host._reindex()
        return host

    # ------------------------------------------------------------------ internals

    def _unregistered(self, name: str) -> None:
        if name in self.vms:
            raise InvalidState(f"A virtual machine with name '{name}' is already registered.")

    def _checkpoint(self, vm: VirtualMachine, snapshot: str) -> Checkpoint:
        cp = vm.checkpoints.get(snapshot)
        if cp is None:
            raise ObjectNotFound(f"Unable to find a snapshot matching the given criteria: '{snapshot}' of '{vm.name}'.")
        return cp

    def _guest_leaf(self, name: str, volume_uuid: str | None) -> str:
        vm = self.vms.get(name)
        if vm is None:
            if name in self.owners.values():
                raise _busy(name, "not registered")
            raise _not_found_vm(name)
        if vm.power_state != PowerState.Running:
            raise _busy(name, vm.power_state)
        if volume_uuid is None:
            if not vm.disks:
                raise ObjectNotFound(f"Virtual machine '{name}' has no hard disk.")
            return next(iter(vm.disks.values()))
        if volume_uuid not in vm.disks:
            raise ObjectNotFound(f"Virtual machine '{name}' has no hard disk for volume '{volume_uuid}'.")
        return vm.disks[volume_uuid]

    def _check_disks(self, name: str, disks: Iterable[DiskSpec]) -> None:
        """Refuse before any change: missing files, existing base files, volumes in use."""
        disks = list(disks)
        need = 0
        for d in disks:
            if d.path is not None:
                self.file(d.path)
            elif (base := self._base_path(d.volume_uuid)) in self.disk_files:
                raise OperationFailed(f"Failed to create the virtual hard disk '{base}': The file exists.")
            else:
                need += VHDX_BASE_BYTES
            for other in self.vms.values():
                if d.volume_uuid in other.disks:
                    raise InvalidState(f"Volume '{d.volume_uuid}' is attached to '{other.name}'. {_BUSY}")
        self._need(need)

    def _attach_disks(self, name: str, disks: Sequence[DiskSpec]) -> dict[str, str]:
        """Check, then create missing base files; returns volume uuid -> path."""
        self._check_disks(name, disks)
        out: dict[str, str] = {}
        for d in disks:
            if d.path is None:
                path = self._base_path(d.volume_uuid)
                self._add_file(DiskFile(path, d.volume_uuid, None, VHDX_BASE_BYTES, d.size))
                out[d.volume_uuid] = path
            else:
                out[d.volume_uuid] = d.path
            self.owners[d.volume_uuid] = name
        return out
