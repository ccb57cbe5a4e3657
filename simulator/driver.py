"""``SimulatedHyperVDriver``: the driver contract (``harness.drivers``) over a
:class:`~simulator.host.HyperVHost`, executed instantly.

Each command class maps to one host operation; the driver only builds the answer. With a
``state_file`` the host survives between processes: the state is loaded at construction,
written atomically after every command and on :meth:`close`, and an exclusive ``flock`` on
``<state_file>.lock`` is held from construction to close so two CLI processes never
interleave.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from harness.drivers import (
    A,
    AttachVolume,
    Capabilities,
    Command,
    CreateVMSnapshot,
    CreateVolumeSnapshot,
    DeleteVMSnapshot,
    DeployVM,
    DestroyVM,
    DetachVolume,
    ExportAnswer,
    ExportVM,
    GetInventory,
    GuestDataAnswer,
    HostUnreachable,
    ImportVM,
    PowerOffVM,
    PowerState,
    ReadGuestData,
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
    VolumeSnapshotAnswer,
    VolumeState,
    WriteGuestData,
)
from simulator.guests.addresses import guest_range as parse_range
from simulator.guests.files import text_of
from simulator.host import HyperVHost


class StateFile:
    """A simulated host's state on disk, shared by the simulated drivers: an exclusive
    ``flock`` on ``<path>.lock`` from construction to :meth:`close` (so two processes never
    interleave), :meth:`load`, and an atomic :meth:`save`."""

    def __init__(self, path: str | Path, lock_wait: float = 10.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd: int | None = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._acquire(lock_wait)
        except BaseException:
            self.close()
            raise

    def load(self) -> HyperVHost | None:
        """The saved host, or None when nothing was saved yet."""
        if not self.path.exists():
            return None
        return HyperVHost.from_dict(json.loads(self.path.read_text()))

    def save(self, host: HyperVHost) -> None:
        """Write ``host`` to the file atomically (a temporary file renamed over it)."""
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(host.to_dict(), out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def close(self) -> None:
        """Release the lock (idempotent)."""
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _acquire(self, wait: float) -> None:
        """Take the lock, waiting up to ``wait`` seconds for another process."""
        fd = self._lock_fd
        if fd is None:
            raise HostUnreachable(f"the simulated host {self.path} was closed")
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise HostUnreachable(
                        f"the simulated host {self.path} is in use by another hvsnap process "
                        "(is `hvsnap serve` running on this home? use its API instead)"
                    ) from None
                time.sleep(0.05)


def start_guests(host: HyperVHost, config: Any, lock: Any, clock: Callable[[], float]) -> Any:
    """The host's :class:`~simulator.guests.network.GuestNetwork` for ``config`` (a
    ``GuestConfig``, or True for the defaults), or None without one. asyncssh is imported
    only here, so a driver without guests never loads it."""
    if config is None or config is False:
        return None
    from simulator.guests.network import GuestConfig, GuestNetwork

    return GuestNetwork(host, GuestConfig() if config is True else config, lock, clock)


class SimulatedHyperVDriver:
    """An in-memory Hyper-V host behind the :class:`harness.drivers.HyperVDriver` contract.

    ``host`` is used as given (a caller that wants to inspect or tweak the model passes its
    own); otherwise the host is loaded from ``state_file`` when that file exists, or new.
    With ``guests`` (a :class:`simulator.guests.network.GuestConfig`) every running VM also
    answers SSH on its address (``self.guests``, closed with the driver); ``guest_range``
    sets where the host takes addresses the manager does not name. Commands and guest shell
    lines take turns on ``self.lock``.
    """

    capabilities = Capabilities(guest_data=True)

    def __init__(
        self,
        state_file: str | Path | None = None,
        host: HyperVHost | None = None,
        lock_wait: float = 10.0,
        guests: Any = None,
        guest_range: str | None = None,
    ) -> None:
        self.state_file = Path(state_file) if state_file is not None else None
        self._store = StateFile(self.state_file, lock_wait) if self.state_file is not None else None
        self._closed = False
        if self._store is not None and host is None:
            try:
                host = self._store.load()
            except BaseException:
                self._store.close()
                raise
        self.host = host if host is not None else HyperVHost()
        if guest_range is not None:
            self.host.guest_range = str(parse_range(guest_range))
        self.lock = threading.RLock()
        self.guests = start_guests(self.host, guests, self.lock, time.monotonic)
        # each handler returns its command's answer class (the command's type argument)
        self._handlers: dict[type[Command[Any]], Callable[[Any], Any]] = {
            DeployVM: self._deploy,
            RegisterVM: self._register,
            ImportVM: self._import,
            StartVM: self._start,
            PowerOffVM: self._power_off,
            SaveVM: self._save,
            UnregisterVM: self._unregister,
            DestroyVM: self._destroy,
            ExportVM: self._export,
            CreateVMSnapshot: self._create_snapshot,
            RevertToVMSnapshot: self._revert,
            DeleteVMSnapshot: self._delete_snapshot,
            AttachVolume: self._attach,
            DetachVolume: self._detach,
            CreateVolumeSnapshot: self._volume_snapshot,
            ReclaimStorage: self._reclaim,
            GetInventory: lambda _c: self.host.inventory(),
            WriteGuestData: self._write,
            ReadGuestData: self._read,
        }

    # ------------------------------------------------------------------ contract

    def execute(self, command: Command[A]) -> A:
        handler = self._handlers.get(type(command))
        if handler is None:
            raise TypeError(f"SimulatedHyperVDriver cannot execute {type(command).__name__}")
        return self._locked(handler, command)

    def create_snapshot(self, command: CreateVMSnapshot, vss_fails: bool | None = None) -> SnapshotAnswer:
        """:meth:`execute` of ``command``, the guest's VSS freeze failing as ``vss_fails``
        says (None: as the host's own ``vss_fails``): a timed host decides each freeze."""
        return self._locked(self._create_snapshot, command, vss_fails)

    def _locked(self, handler: Callable[..., Any], *args: Any) -> Any:
        if self._closed:
            raise RuntimeError("SimulatedHyperVDriver used after close()")
        with self.lock:
            try:
                return handler(*args)
            finally:
                self.save()

    def close(self) -> None:
        if self._closed:
            return
        try:
            if self.guests is not None:
                self.guests.close()
            self.save()
        finally:
            self._closed = True
            if self._store is not None:
                self._store.close()

    def save(self) -> None:
        """Write the host state to ``state_file`` atomically (no-op without one)."""
        if self._store is not None:
            self._store.save(self.host)

    def __enter__(self) -> SimulatedHyperVDriver:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ handlers

    def _vm_answer(self, name: str) -> VMAnswer:
        return VMAnswer(self.host.vm(name).power_state, tuple(self.host.volumes(name)))

    def _snapshot_answer(self, name: str, memory: bool = False) -> SnapshotAnswer:
        vm = self.host.vm(name)
        return SnapshotAnswer(vm.power_state, tuple(self.host.volumes(name)), memory)

    @contextlib.contextmanager
    def _guest_login(self, c: DeployVM | RegisterVM | ImportVM) -> Iterator[None]:
        """The login the VM's guest takes from the command, in place before the VM can
        start; a command that fails leaves the guest's login as it was."""
        name = c.vm.name
        if name in self.host.vms:  # registered already: the command fails, the login stays
            yield
            return
        keys, password = self.host.guest_keys.get(name), self.host.guest_passwords.get(name)
        self.host.set_guest_login(name, c.authorized_keys, c.password)
        try:
            yield
        except BaseException:
            self.host.guest_keys.pop(name, None)
            self.host.guest_passwords.pop(name, None)
            if keys is not None:
                self.host.guest_keys[name] = keys
            if password is not None:
                self.host.guest_passwords[name] = password
            raise

    def _deploy(self, c: DeployVM) -> VMAnswer:
        with self._guest_login(c):
            paths = self.host.deploy(c.vm.name, c.memory_mib, c.cpus, c.disks, c.start, c.ip_address)
        if c.start:
            return self._vm_answer(c.vm.name)
        return VMAnswer(None, tuple(VolumeState(v, p, self.host.chain_size(p)) for v, p in paths.items()))

    def _register(self, c: RegisterVM) -> VMAnswer:
        with self._guest_login(c):
            self.host.register(c.vm.name, c.memory_mib, c.cpus, c.disks, c.ip_address)
        return self._vm_answer(c.vm.name)

    def _import(self, c: ImportVM) -> VMAnswer:
        with self._guest_login(c):
            self.host.import_vm(c.vm.name, c.memory_mib, c.cpus, c.disks, c.ip_address)
        return self._vm_answer(c.vm.name)

    def _start(self, c: StartVM) -> VMAnswer:
        self.host.start(c.vm.name)
        return self._vm_answer(c.vm.name)

    def _power_off(self, c: PowerOffVM) -> VMAnswer:
        self.host.power_off(c.vm.name)
        return self._vm_answer(c.vm.name)

    def _save(self, c: SaveVM) -> VMAnswer:
        self.host.save(c.vm.name)
        return self._vm_answer(c.vm.name)

    def _unregister(self, c: UnregisterVM) -> UnregisterAnswer:
        if self.host.vm(c.vm.name).power_state == PowerState.Off:
            self.host.merge_pending(c.vm.name)  # the answer's paths are after any deferred merge
        volumes = tuple(self.host.volumes(c.vm.name))
        lost = self.host.unregister(c.vm.name)
        return UnregisterAnswer(tuple(lost), volumes)

    def _destroy(self, c: DestroyVM) -> VMAnswer:
        self.host.destroy(c.vm.name)
        return VMAnswer(None)

    def _export(self, c: ExportVM) -> ExportAnswer:
        copied, checkpoints = self.host.export(c.vm.name)
        return ExportAnswer(copied, tuple(checkpoints))

    def _reclaim(self, c: ReclaimStorage) -> ReclaimAnswer:
        freed, removed = self.host.reclaim(c.vm.name, c.disks)
        return ReclaimAnswer(freed, tuple(removed))

    def _create_snapshot(self, c: CreateVMSnapshot, vss_fails: bool | None = None) -> SnapshotAnswer:
        memory = self.host.checkpoint(c.vm.name, c.snapshot.name, c.memory, c.quiesce, vss_fails)
        return self._snapshot_answer(c.vm.name, memory)

    def _revert(self, c: RevertToVMSnapshot) -> SnapshotAnswer:
        self.host.revert(c.vm.name, c.snapshot.name)
        if self.host.vm(c.vm.name).power_state == PowerState.Saved:
            self.host.start(c.vm.name)  # resume from the checkpoint's saved state
        return self._snapshot_answer(c.vm.name)

    def _delete_snapshot(self, c: DeleteVMSnapshot) -> SnapshotAnswer:
        self.host.delete_checkpoint(c.vm.name, c.snapshot.name)
        return self._snapshot_answer(c.vm.name)

    def _attach(self, c: AttachVolume) -> VMAnswer:
        self.host.attach(c.vm.name, c.disk)
        return self._vm_answer(c.vm.name)

    def _detach(self, c: DetachVolume) -> VMAnswer:
        self.host.detach(c.vm.name, c.disk.volume_uuid)
        return self._vm_answer(c.vm.name)

    def _volume_snapshot(self, c: CreateVolumeSnapshot) -> VolumeSnapshotAnswer:
        return VolumeSnapshotAnswer(self.host.volume_snapshot(c.vm.name, c.disk))

    def _write(self, c: WriteGuestData) -> GuestDataAnswer:
        self.host.write(c.vm.name, c.key, c.value, c.volume_uuid)
        return GuestDataAnswer(c.value)

    def _read(self, c: ReadGuestData) -> GuestDataAnswer:
        return GuestDataAnswer(text_of(self.host.read(c.vm.name, c.key, c.volume_uuid)))
