"""The simulated Hyper-V host in SimPy time.

:class:`TimedHost` puts the instant state model (:class:`~simulator.host.HyperVHost`, driven
through :class:`~simulator.driver.SimulatedHyperVDriver` for its answers) into simulated
time. It is not a second host model: every state change is the instant model's, made at the
moment the real host would finish it; this module only decides *when* and at what cost
(:class:`~simulator.costs.Costs`), and what can go wrong meanwhile.

Contract (what a SimPy runner relies on):

- :meth:`TimedHost.execute` takes a :class:`~harness.drivers.Command` (or one of the
  simulator's own :class:`~simulator.operations.HostOperation` s, which the emulated host's
  cmdlets run) and
  returns a SimPy process whose value is the answer, or which fails with the same
  :class:`~harness.drivers.HostError` the instant driver (or a real host) would raise. Each
  operation's timing is one method, found by the operation's class in a table. Several
  hosts behind one ``execute`` are a :class:`~simulator.fleet.Fleet`.
- One state-changing operation per VM at a time: a command for a VM that is busy
  (``CreatingSnapshot``, ``MergingDisks``, ``ExportingVirtualMachine``, ...) fails at once
  with :class:`~harness.drivers.InvalidState`, as Hyper-V does (hyperv.md §5.2).
- Bulk copies (saved-state memory, merges, exports, imports) share the host's primary
  storage: a SimPy resource of ``storage_channels`` channels, taken in ``chunk_bytes``
  turns, so concurrent merges, exports and checkpoints slow each other.
- Merges: ``merge_mode="live"`` (2012+) merges as the checkpoint is deleted and the delete
  returns after the merge (the VM shows ``MergingDisks``); ``"deferred"`` (2008 R2) only
  records the bytes, merges after the next power-off in the background, and a start before
  the merge ends cancels it with all progress lost. Deferred bytes stay on storage.
- A Production checkpoint's VSS freeze succeeds or fails here (``Costs.vss_failure_p``, or
  a fault plan's ``vss_fails``), and the outcome is handed to the instant model with the
  command (``SimulatedHyperVDriver.create_snapshot(..., vss_fails=)``).
- Guests write: a running VM's leaves grow by ``guest_write_bps``; when the volume has a
  capacity and fills, every running VM on it is paused (paused-critical) until space frees.
- Faults (:mod:`simulator.faults`) call :meth:`crash`/:meth:`restart`,
  :meth:`storage_down`/:meth:`storage_up_again`, :meth:`disconnect`/:meth:`reconnect`;
  operations in flight fail at their next step with ``HostUnreachable`` or
  ``StorageUnavailable`` and leave the state model as it was.

Every command's begin, end and error goes to an :class:`EventLog` (a SHA-256 over its lines,
so two runs with one seed can be compared byte for byte).
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import replace
from typing import Any, Protocol

import simpy

from harness.drivers import (
    AttachVolume,
    Capabilities,
    Command,
    CreateVMSnapshot,
    CreateVolumeSnapshot,
    DeleteVMSnapshot,
    DeployVM,
    DestroyVM,
    DetachVolume,
    ExportVM,
    GetInventory,
    HostUnreachable,
    ImportVM,
    InsufficientSpace,
    InvalidState,
    OperationFailed,
    OperationTimeout,
    PowerOffVM,
    PowerState,
    ReadGuestData,
    ReclaimStorage,
    RegisterVM,
    RevertToVMSnapshot,
    SaveVM,
    StartVM,
    StorageUnavailable,
    UnregisterVM,
    WriteGuestData,
)
from simulator.costs import Costs, MiB
from simulator.disks import AVHDX_BASE_BYTES
from simulator.driver import SimulatedHyperVDriver
from simulator.host import HyperVHost
from simulator.operations import STATUS, CopyImportVM, Operation, RestoreCheckpoint

Proc = Generator[simpy.Event, Any, Any]
#: The host's and its storage's outage counts when an operation began (see ``_check``).
Epoch = tuple[int, int]


class EventLog:
    """Lines ``time host vm event detail``; ``sha256`` covers them all, in order."""

    def __init__(self, keep: bool = False) -> None:
        self._hash = hashlib.sha256()
        self.count = 0
        self.lines: list[str] | None = [] if keep else None

    def record(self, now: float, host: str, vm: str, event: str, detail: str = "") -> None:
        line = f"{now:.6f} {host} {vm} {event} {detail}\n"
        self._hash.update(line.encode())
        self.count += 1
        if self.lines is not None:
            self.lines.append(line)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


class CommandFaults(Protocol):
    """What a fault plan decides per command (see :mod:`simulator.faults`)."""

    def times_out(self, host: str, command: Operation) -> bool: ...

    def merge_fails(self, host: str) -> bool: ...

    def vss_fails(self, host: str) -> bool: ...


class TimedHost:
    """One Hyper-V host and its primary storage in simulated time."""

    capabilities = Capabilities(guest_data=True)

    def __init__(
        self,
        env: simpy.Environment,
        costs: Costs,
        rng: random.Random,
        log: EventLog,
        name: str = "hyperv-01",
        state: HyperVHost | None = None,
    ) -> None:
        self.env, self.costs, self.rng, self.log, self.name = env, costs, rng, log, name
        self.state = state if state is not None else HyperVHost()
        self.driver = SimulatedHyperVDriver(host=self.state)
        self.storage = simpy.Resource(env, capacity=costs.storage_channels)
        self.faults: CommandFaults | None = None
        self.busy: dict[str, str] = {}
        self.up = self.agent_up = self.storage_up = True
        self.host_epoch = self.storage_epoch = 0
        if costs.merge_mode == "deferred":  # the state keeps the files; this host times their merge
            self.state.merge_mode, self.state.merge_on_power_off = "deferred", False
            self.capabilities = replace(type(self).capabilities, deferred_merges=True)
        self.write_bps: dict[str, float] = {}
        self.stats: Counter[str] = Counter()
        self.on_reconnect: list[Callable[[TimedHost], None]] = []
        self.on_export: Callable[[TimedHost, Command], None] | None = None
        self._merging: dict[str, simpy.Process] = {}
        self._written: dict[str, float] = {}
        self._paused: set[str] = set()
        # each operation's timing; the state changes and answers are the instant driver's
        self._timings: dict[type[Operation], Callable[[Any, Epoch], Proc]] = {
            CreateVMSnapshot: self._checkpoint,
            RestoreCheckpoint: self._restore,
            RevertToVMSnapshot: self._revert,
            DeleteVMSnapshot: self._delete,
            ExportVM: self._export,
            CopyImportVM: self._copy_import,
            ImportVM: self._import,
            StartVM: self._start,
            PowerOffVM: self._power_off,
            SaveVM: self._save,
            RegisterVM: self._register,
            DeployVM: self._deploy,
            UnregisterVM: self._unregister,
            DestroyVM: self._unregister,
            ReclaimStorage: self._reclaim,
            AttachVolume: self._attach,
            DetachVolume: self._attach,
            CreateVolumeSnapshot: self._volume_snapshot,
            ReadGuestData: self._read,
            WriteGuestData: self._write,
        }
        if self.state.capacity is not None:
            env.process(self._storage_watch(self.state.capacity))

    # ------------------------------------------------------------------ the contract

    def execute(self, command: Operation) -> simpy.Process:
        """A process that carries out ``command``; its value is the answer."""
        return self.env.process(self.steps(command))

    def close(self) -> None:
        """Nothing to release (the contract's ``close``)."""

    # ------------------------------------------------------------------ queries

    def status(self, vm: str) -> str:
        """The VM's operational status as Hyper-V shows it (``Operating normally`` when idle)."""
        if vm in self._merging:
            return "MergingDisks"
        return self.busy.get(vm, "Operating normally")

    def depth(self, vm: str) -> int:
        """Differencing levels under the VM's first disk (0 without checkpoints)."""
        v = self.state.vms.get(vm)
        if v is None or not v.disks:
            return 0
        return self.state.chain_depth(next(iter(v.disks.values())))

    def read_latency_ms(self, vm: str) -> float:
        return self.costs.read_latency(self.depth(vm))

    @property
    def deferred(self) -> dict[str, int]:  # VM -> bytes of deleted checkpoints' AVHDX still waiting to merge
        return {vm: n for vm in self.state.pending if (n := self.state.pending_bytes(vm)) > 0}

    def used_bytes(self) -> int:
        """Bytes on primary storage, deferred (not yet merged) 2008 R2 files included."""
        return self.state.used_bytes()

    def export_bytes(self, vm: str) -> int:
        """What an ``Export-VM`` of the VM would copy now: its tree's files and saved states."""
        v = self.state.vm(vm)
        files = sum(self.state.disk_files[p].bytes for p in self.state._tree_files(v))
        memory = sum(c.memory_mib * MiB for c in v.checkpoints.values() if c.memory)
        return files + memory

    # ------------------------------------------------------------------ faults

    def crash(self) -> None:
        """Power loss: running VMs go Off, operations in flight fail, commands are refused."""
        self.up = False
        self.host_epoch += 1
        for vm in self.state.vms.values():
            if vm.power_state != PowerState.Off:
                vm.power_state = PowerState.Off
                self.state.power_changed(vm.name)  # its guest goes down with it
        for proc in list(self._merging.values()):
            proc.interrupt("host crash")
        self.log.record(self.env.now, self.name, "*", "host-crash")

    def restart(self) -> None:
        self.up = True
        self._written = dict.fromkeys(self._written, self.env.now)
        self.log.record(self.env.now, self.name, "*", "host-restart")
        self._reconnected()

    def storage_down(self) -> None:
        """Primary storage outage: running VMs pause (paused-critical), copies fail."""
        self.storage_up = False
        self.storage_epoch += 1
        for vm in self.state.vms.values():
            if vm.power_state == PowerState.Running:
                self._grow(vm.name)
                vm.power_state = PowerState.Paused
                self._paused.add(vm.name)
                self.state.power_changed(vm.name)
        self.log.record(self.env.now, self.name, "*", "storage-down")

    def storage_up_again(self) -> None:
        self.storage_up = True
        self._resume_paused()
        self.log.record(self.env.now, self.name, "*", "storage-up")
        self._reconnected()

    def disconnect(self) -> None:
        self.agent_up = False
        self.log.record(self.env.now, self.name, "*", "agent-disconnect")

    def reconnect(self) -> None:
        self.agent_up = True
        self.log.record(self.env.now, self.name, "*", "agent-reconnect")
        self._reconnected()

    def _reconnected(self) -> None:
        for callback in self.on_reconnect:
            callback(self)

    # ------------------------------------------------------------------ one command

    def steps(self, c: Operation) -> Proc:
        """Carry out ``c`` inside the caller's process (``yield from``); return the answer."""
        name, kind = c.vm.name, type(c).__name__
        if not (self.up and self.agent_up):
            self.log.record(self.env.now, self.name, name, "refused", f"{kind} HostUnreachable")
            raise HostUnreachable(f"The WinRM client cannot complete the operation on '{self.name}'.")
        if isinstance(c, GetInventory):
            return self.state.inventory()
        if not self.storage_up:
            self.log.record(self.env.now, self.name, name, "refused", f"{kind} StorageUnavailable")
            raise StorageUnavailable(f"The primary storage of '{self.name}' is not available.")
        if name in self.busy:
            self.log.record(self.env.now, self.name, name, "refused", f"{kind} InvalidState {self.busy[name]}")
            raise InvalidState(
                f"'{name}' ({self.busy[name]}): The operation cannot be performed while the object is in its "
                "current state."
            )
        self.busy[name] = STATUS.get(type(c), "Busy")
        epoch = (self.host_epoch, self.storage_epoch)
        self.log.record(self.env.now, self.name, name, "begin", kind)
        try:
            self._grow(name)
            answer = yield from self._perform(c, epoch)
            if self.faults is not None and self.faults.times_out(self.name, c):
                yield self.env.timeout(self.costs.command_timeout_s)
                raise OperationTimeout(f"{kind} on '{name}' did not answer within {self.costs.command_timeout_s:.0f} s")
        except Exception as err:
            self.log.record(
                self.env.now, self.name, name, "error", f"{kind} {getattr(err, 'code', type(err).__name__)}"
            )
            raise
        finally:
            del self.busy[name]
        self.log.record(self.env.now, self.name, name, "end", kind)
        return answer

    def _perform(self, c: Operation, epoch: Epoch) -> Proc:
        timing = self._timings.get(type(c))
        if timing is None:
            raise TypeError(f"TimedHost cannot execute {type(c).__name__}")
        return (yield from timing(c, epoch))

    # ------------------------------------------------------------------ what each command costs

    def _checkpoint(self, c: CreateVMSnapshot, epoch: Epoch) -> Proc:
        k, env = self.costs, self.env
        vm = self.state.vm(c.vm.name)
        disks = len(vm.disks)
        if vm.power_state != PowerState.Running:
            yield env.timeout(k.off_checkpoint_s + disks * k.avhdx_create_s)
            self._check(epoch)
            return self.driver.execute(c)
        fails = False
        if not c.memory:  # a Production checkpoint: the guest freezes first
            yield env.timeout(k.vss_freeze(self.rng))
            fails = self.rng.random() < k.vss_failure_p or (
                self.faults is not None and self.faults.vss_fails(self.name)
            )
            if fails:
                self.log.record(env.now, self.name, c.vm.name, "vss-failed", "quiesce" if c.quiesce else "fallback")
        if not (fails and c.quiesce):
            yield env.timeout(k.pause_s + disks * k.avhdx_create_s + k.config_copy_s)
            if c.memory or fails:  # saved state written while the VM runs again
                yield from self._transfer(vm.memory_mib * MiB, k.state_write_bps, epoch)
        self._check(epoch)
        return self.driver.create_snapshot(c, vss_fails=fails)

    def _restore(self, c: RestoreCheckpoint, epoch: Epoch) -> Proc:
        if c.snapshot.name in self.state.vm(c.vm.name).checkpoints:
            yield self.env.timeout(self.costs.restore_s)
            self._check(epoch)
        return self.state.revert(c.vm.name, c.snapshot.name)  # ObjectNotFound for a missing one

    def _revert(self, c: RevertToVMSnapshot, epoch: Epoch) -> Proc:
        k, env = self.costs, self.env
        cp = self.state.vm(c.vm.name).checkpoints.get(c.snapshot.name)
        if cp is None:
            return self.driver.execute(c)  # raises Hyper-V's ObjectNotFound
        yield env.timeout(k.restore_s)
        self._check(epoch)
        answer = self.driver.execute(c)
        if cp.memory:  # the driver resumes the VM from the checkpoint's saved state
            yield env.timeout(k.start_s)
            yield from self._transfer(cp.memory_mib * MiB, k.state_read_bps, epoch)
        return answer

    def _export(self, c: ExportVM, epoch: Epoch) -> Proc:
        name = c.vm.name
        if name in self._merging:  # an off VM's deferred merge finishes before its export
            yield self._merging[name]
        nbytes = self.export_bytes(name)
        if self.on_export is not None:
            self.on_export(self, c)
        yield from self._transfer(nbytes, self.costs.export_bps, epoch)
        answer = self.driver.execute(c)
        self.stats["bytes_exported"] += nbytes
        return answer

    def _copy_import(self, c: CopyImportVM, epoch: Epoch) -> Proc:  # every file of the export copied back
        name = c.vm.name
        self._cancel_merge(name)
        yield self.env.timeout(self.costs.register_s)
        record = self.state.exports.get(name)
        if record is not None:
            nbytes = sum(f.bytes for f in record.files.values())
            yield from self._transfer(nbytes, self.costs.import_copy_bps, epoch)
        self._check(epoch)
        return self.state.copy_import(name)

    def _import(self, c: ImportVM, epoch: Epoch) -> Proc:  # in place: only files gone since the export
        self._cancel_merge(c.vm.name)
        yield self.env.timeout(self.costs.register_s)
        nbytes = self.state.bytes_to_restore(c.vm.name, c.disks)
        yield from self._transfer(nbytes, self.costs.import_copy_bps, epoch)
        self._check(epoch)
        return self.driver.execute(c)

    def _start(self, c: StartVM, epoch: Epoch) -> Proc:
        name = c.vm.name
        self._cancel_merge(name)
        vm = self.state.vm(name)
        yield self.env.timeout(self.costs.start_s)
        if vm.power_state == PowerState.Saved:
            yield from self._transfer(vm.memory_mib * MiB, self.costs.state_read_bps, epoch)
        self._check(epoch)
        answer = self.driver.execute(c)
        self._written[name] = self.env.now
        return answer

    def _power_off(self, c: PowerOffVM, epoch: Epoch) -> Proc:
        yield self.env.timeout(self.costs.power_off_s)
        self._check(epoch)
        answer = self.driver.execute(c)
        self._paused.discard(c.vm.name)
        self._merge_offline(c.vm.name)
        return answer

    def _save(self, c: SaveVM, epoch: Epoch) -> Proc:  # the memory goes to disk, then deferred merges may run
        vm = self.state.vm(c.vm.name)
        if vm.power_state == PowerState.Running:
            yield from self._transfer(vm.memory_mib * MiB, self.costs.state_write_bps, epoch)
        self._check(epoch)
        answer = self.driver.execute(c)
        self._merge_offline(c.vm.name)
        return answer

    def _register(self, c: RegisterVM, epoch: Epoch) -> Proc:
        return (yield from self._define(c, self.costs.register_s, epoch))

    def _deploy(self, c: DeployVM, epoch: Epoch) -> Proc:
        k = self.costs
        return (yield from self._define(c, k.deploy_s + (k.start_s if c.start else 0.0), epoch))

    def _define(self, c: RegisterVM | DeployVM, delay: float, epoch: Epoch) -> Proc:
        self._cancel_merge(c.vm.name)
        yield self.env.timeout(delay)
        self._check(epoch)
        answer = self.driver.execute(c)
        self._written[c.vm.name] = self.env.now
        return answer

    def _unregister(self, c: UnregisterVM | DestroyVM, epoch: Epoch) -> Proc:
        yield self.env.timeout(self.costs.unregister_s)
        self._check(epoch)
        if isinstance(c, DestroyVM):
            self._cancel_merge(c.vm.name)
        return self.driver.execute(c)

    def _reclaim(self, c: ReclaimStorage, epoch: Epoch) -> Proc:  # file deletions: a constant per file
        answer = self.driver.execute(c)
        yield self.env.timeout(self.costs.delete_file_s * len(answer.removed))
        return answer

    def _attach(self, c: AttachVolume | DetachVolume, epoch: Epoch) -> Proc:
        yield self.env.timeout(self.costs.attach_s)
        self._check(epoch)
        return self.driver.execute(c)

    def _volume_snapshot(self, c: CreateVolumeSnapshot, epoch: Epoch) -> Proc:
        answer = self.driver.execute(c)
        yield from self._transfer(answer.bytes_copied, self.costs.export_bps, epoch)
        return answer

    def _read(self, c: ReadGuestData, epoch: Epoch) -> Proc:
        yield self.env.timeout(self.read_latency_ms(c.vm.name) / 1000)
        return self.driver.execute(c)

    def _write(self, c: WriteGuestData, epoch: Epoch) -> Proc:  # no time: the guest writes as it runs
        yield from ()
        return self.driver.execute(c)

    def _delete(self, c: DeleteVMSnapshot, epoch: Epoch) -> Proc:
        k, env, name = self.costs, self.env, c.vm.name
        vm = self.state.vm(name)
        cp = vm.checkpoints.get(c.snapshot.name)
        if cp is None:
            return self.driver.execute(c)  # ObjectNotFound
        live = k.merge_mode == "live" or vm.power_state == PowerState.Off
        if live and self.state.capacity is not None:
            need = max(
                (self.state.disk_files[p].bytes for p in cp.disks.values() if p in self.state.disk_files), default=0
            )
            if self.used_bytes() + need > self.state.capacity:
                raise InsufficientSpace(f"There is not enough space on the disk to merge '{c.snapshot.name}'.")
        yield env.timeout(k.delete_file_s)
        self._check(epoch)
        before, waiting = self.state.bytes_merged, self.state.pending_bytes(name)
        answer = self.driver.execute(c)
        merged = self.state.bytes_merged - before
        if not live:  # the state keeps the AVHDX in the chain until power-off or save
            self.log.record(env.now, self.name, name, "merge-deferred", str(self.state.pending_bytes(name) - waiting))
            return answer
        self.busy[name] = "MergingDisks"
        rate = k.merge_bps if vm.power_state == PowerState.Running else k.offline_merge_bps
        yield from self._transfer(merged, rate, epoch)
        self.stats["bytes_merged"] += merged
        if self.faults is not None and self.faults.merge_fails(self.name):
            raise OperationFailed(f"'{name}' background disk merge failed to complete (0x80070299).")
        return answer

    # ------------------------------------------------------------------ storage

    def _transfer(self, nbytes: int, bps: float, epoch: Epoch) -> Proc:
        """Copy ``nbytes`` through the host's shared storage, a chunk per channel turn."""
        rate = min(bps, self.costs.channel_bps())
        remaining = nbytes
        while remaining > 0:
            chunk = min(remaining, self.costs.chunk_bytes)
            with self.storage.request() as turn:
                yield turn
                self._check(epoch)
                yield self.env.timeout(chunk / rate)
            self._check(epoch)
            remaining -= chunk

    def _check(self, epoch: Epoch) -> None:
        if not self.up or self.host_epoch != epoch[0]:
            raise HostUnreachable(f"The connection to '{self.name}' was lost during the operation.")
        if not self.storage_up or self.storage_epoch != epoch[1]:
            raise StorageUnavailable(f"The primary storage of '{self.name}' failed during the operation.")

    def _merge_offline(self, name: str) -> None:  # start the offline merge of what waited, once
        if self.state.pending_bytes(name) and name not in self._merging:
            self._merging[name] = self.env.process(self._offline_merge(name))

    def _offline_merge(self, name: str) -> Proc:
        """2008 R2: merge the deferred files now that the VM is off or saved; a start cancels
        it (progress lost: the files stay in the chain)."""
        nbytes = self.state.pending_bytes(name)
        self.log.record(self.env.now, self.name, name, "merge-start", str(nbytes))
        try:
            yield from self._transfer(nbytes, self.costs.offline_merge_bps, (self.host_epoch, self.storage_epoch))
        except simpy.Interrupt as why:
            self.stats["merges_cancelled"] += 1
            self.log.record(self.env.now, self.name, name, "merge-cancelled", str(why.cause))
            return
        except (HostUnreachable, StorageUnavailable):
            self.log.record(self.env.now, self.name, name, "merge-interrupted")
            return
        finally:
            self._merging.pop(name, None)
        if name in self.state.vms:
            self.state.merge_pending(name)
        self.stats["bytes_merged"] += nbytes
        self.log.record(self.env.now, self.name, name, "merge-done", str(nbytes))

    def _cancel_merge(self, name: str) -> None:
        proc = self._merging.get(name)
        if proc is not None and proc.is_alive:
            proc.interrupt("VM started before the merge finished: progress lost")

    def _grow(self, name: str) -> None:
        """Account the guest's writes since it was last looked at into its leaves."""
        now = self.env.now
        last = self._written.get(name, now)
        self._written[name] = now
        vm = self.state.vms.get(name)
        if vm is None or vm.power_state != PowerState.Running or not vm.disks:
            return
        nbytes = int(self.write_bps.get(name, self.costs.guest_write_bps) * (now - last)) // len(vm.disks)
        if nbytes <= 0:
            return
        for path in vm.disks.values():
            f = self.state.disk_files[path]
            self.state._resize(f, min(f.bytes + nbytes, f.size + AVHDX_BASE_BYTES))

    def _storage_watch(self, capacity: int) -> Proc:
        """With a capacity: a full volume pauses the running VMs; freed space resumes them."""
        while True:
            yield self.env.timeout(self.costs.storage_tick_s)
            if not (self.up and self.storage_up):
                continue
            for name in list(self.state.vms):
                self._grow(name)
            if self.used_bytes() > capacity:
                for vm in self.state.vms.values():
                    if vm.power_state == PowerState.Running:
                        vm.power_state = PowerState.Paused
                        self._paused.add(vm.name)
                        self.stats["paused_critical"] += 1
                        self.log.record(self.env.now, self.name, vm.name, "paused-critical")
            elif self._paused:
                self._resume_paused()

    def _resume_paused(self) -> None:
        for name in sorted(self._paused):
            vm = self.state.vms.get(name)
            if vm is not None and vm.power_state == PowerState.Paused:
                vm.power_state = PowerState.Running
                self._written[name] = self.env.now
                self.state.power_changed(name)
        self._paused.clear()
