"""THE boundary between the manager and a Hyper-V host.

The manager's workflows never talk to a host. They *yield* a :class:`Command` and receive an
:class:`Answer` (or have a :class:`HostError` thrown in). A runner passes each command to a
driver's :meth:`HyperVDriver.execute`. Every command class names its answer's class as its
type argument (``class CreateVMSnapshot(Command[SnapshotAnswer])``), and ``execute`` is
typed ``(Command[A]) -> A``, so mypy knows what each command answers and a workflow needs
no ``isinstance`` on an answer (``harness.jobs.runners.ask``). Two drivers implement this
contract:

- ``simulator.driver.SimulatedHyperVDriver``: an in-memory Hyper-V host
  (``simulator.host.HyperVHost``) that models checkpoint trees, AVHDX chains, merges,
  export/import and guest data; instant, or in SimPy time.
- ``live_driver.driver.PowerShellHyperVDriver``: real hosts over PowerShell Remoting.

Rules every driver follows:

- Commands and answers speak domain terms: a VM by its CloudStack instance name
  (:class:`VMRef`), a VM snapshot by its internal name (:class:`SnapshotRef`), a volume by
  its uuid. Cmdlet names, Hyper-V GUIDs and WMI paths never cross this boundary.
- A VM on the host is *registered* (it has a configuration, a power state and a checkpoint
  tree) or not. CloudStack stops a VM on Hyper-V by unregistering it (:class:`UnregisterVM`),
  which discards its checkpoint tree; the disk files stay on primary storage. An
  :class:`ExportVM` taken before the unregister lets :class:`ImportVM` bring the tree back.
- Answers carry what CloudStack's answers carry: per volume, the new active file (the leaf
  ``.avhdx`` once checkpoints exist) and the bytes the snapshot chain uses
  (:class:`VolumeState`), and the VM's resulting power state.
- Failures raise one hierarchy, :class:`HostError`, with a stable ``code``; the simulator
  raises exactly the classes the live driver raises.
- Optional powers are declared in :attr:`HyperVDriver.capabilities`; a driver never raises
  ``NotImplementedError`` for a command in this module except the guest-data pair, which
  only drivers with ``capabilities.guest_data`` accept.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

# --------------------------------------------------------------------------- references


@dataclass(frozen=True, slots=True)
class VMRef:
    """A VM as the host knows it: CloudStack's instance name (``i-2-7-VM``)."""

    name: str


@dataclass(frozen=True, slots=True)
class SnapshotRef:
    """A VM snapshot as the host knows it: the checkpoint is named after ``name``
    (``<instance>_VS_<yyyyMMddHHmmss>``), which the manager keeps unique per VM."""

    name: str


@dataclass(frozen=True, slots=True)
class DiskSpec:
    """A volume the host should attach: ``path`` is the active file from the database, or
    ``None`` for a volume the host has not created yet (it then creates ``<uuid>.vhdx``)."""

    volume_uuid: str
    size: int
    path: str | None = None


class PowerState(StrEnum):
    """A registered VM's power state, as Hyper-V reports it (``VMState``)."""

    Running = "Running"
    Off = "Off"
    Saved = "Saved"
    Paused = "Paused"


# --------------------------------------------------------------------------- commands


#: The answer type of a command (``Command[SnapshotAnswer]`` answers a :class:`SnapshotAnswer`).
A = TypeVar("A", bound="Answer", covariant=True)


@dataclass(frozen=True, slots=True)
class Command(Generic[A]):
    """Base of every host command, generic in the class of its answer: a driver's
    ``execute`` of a ``Command[A]`` returns an ``A``. ``vm`` is the VM the command acts on."""

    vm: VMRef


@dataclass(frozen=True, slots=True)
class DeployVM(Command["VMAnswer"]):
    """Create the VM's disk files; when ``start``, also register and start it.

    Answer: :class:`VMAnswer` with every volume's path. Errors: :class:`InvalidState` if a VM
    of that name is already registered.
    """

    memory_mib: int
    cpus: int
    disks: tuple[DiskSpec, ...]
    start: bool = True
    #: the address of the VM's default NIC on the guest network (the guest answers on it)
    ip_address: str | None = None
    #: OpenSSH public key lines the VM's guest accepts for root (its key pair), replacing earlier ones
    authorized_keys: tuple[str, ...] = ()
    #: a new root password for the guest (a ``passwordenabled`` template's); None keeps its own
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class RegisterVM(Command["VMAnswer"]):
    """Define an Off VM from its disk files (CloudStack's start creates the VM this way).
    No checkpoints. Answer: :class:`VMAnswer`. Errors: :class:`InvalidState` if registered,
    :class:`ObjectNotFound` if a disk file is missing."""

    memory_mib: int
    cpus: int
    disks: tuple[DiskSpec, ...]
    #: the address of the VM's default NIC on the guest network (the guest answers on it)
    ip_address: str | None = None
    #: OpenSSH public key lines the VM's guest accepts for root (its key pair), replacing earlier ones
    authorized_keys: tuple[str, ...] = ()
    #: a new root password for the guest (a ``passwordenabled`` template's); None keeps its own
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ImportVM(Command["VMAnswer"]):
    """Register the VM from its export in place (``Import-VM -Register``: nothing copied,
    the VM keeps its Id), checkpoint tree included, attached to ``disks`` (the live active
    files: a drive the export names an older file for is pointed at the live one) and sized
    to ``memory_mib``/``cpus``. Never ``Import-VM -Copy``: that would bring back the disks as
    of the export, losing later writes, or fail on the live files in its way. The VM comes
    back Off. Errors: :class:`ObjectNotFound` when there is no export, :class:`InvalidState`
    when a VM of that name is registered or a disk is in use by another VM."""

    memory_mib: int
    cpus: int
    disks: tuple[DiskSpec, ...]
    #: the address of the VM's default NIC on the guest network (the guest answers on it)
    ip_address: str | None = None
    #: OpenSSH public key lines the VM's guest accepts for root (its key pair), replacing earlier ones
    authorized_keys: tuple[str, ...] = ()
    #: a new root password for the guest (a ``passwordenabled`` template's); None keeps its own
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class StartVM(Command["VMAnswer"]):
    """Start a registered VM (from Off, or resume from Saved). Answer: :class:`VMAnswer`
    (Running). Errors: :class:`ObjectNotFound`, :class:`InvalidState` if already running."""


@dataclass(frozen=True, slots=True)
class PowerOffVM(Command["VMAnswer"]):
    """Turn a registered VM off (``Stop-VM -TurnOff``); it stays registered. Off already is
    not an error. Answer: :class:`VMAnswer` (Off)."""


@dataclass(frozen=True, slots=True)
class SaveVM(Command["VMAnswer"]):
    """Save a running VM's memory to disk (``Save-VM``); it stays registered, Saved, and a
    :class:`StartVM` resumes it. On a host that defers merges (2008 R2) this is one of the
    three moments the AVHDX of deleted checkpoints merge ("until the virtual machine is shut
    down, turned off, or put into a saved state"), the only one that keeps the guest's
    memory; the answer's volumes show the chains after it. ``through_cluster``: a clustered
    VM is saved by the cluster service (``Stop-ClusterGroup`` of its role, whose offline
    action saves it), never ``Save-VM`` behind the cluster's back, which the cluster takes
    for a role failure (:class:`RevertToVMSnapshot`). Answer: :class:`VMAnswer` (Saved).
    Errors: :class:`ObjectNotFound`, :class:`InvalidState` when the VM is not Running."""

    through_cluster: bool = False


@dataclass(frozen=True, slots=True)
class UnregisterVM(Command["UnregisterAnswer"]):
    """Remove the VM's registration (``Remove-VM``). Disk files stay; the checkpoint tree is
    discarded (its AVHDX files stay on storage as orphans). Answer: :class:`UnregisterAnswer`
    naming the checkpoints that went with it. The VM must be Off."""


@dataclass(frozen=True, slots=True)
class DestroyVM(Command["VMAnswer"]):
    """Unregister the VM if registered, and delete its disk files and its export.
    Answer: :class:`VMAnswer` without a power state."""


@dataclass(frozen=True, slots=True)
class ExportVM(Command["ExportAnswer"]):
    """Export the registered VM with its whole checkpoint tree, replacing any older export
    (``Export-VM``). Answer: :class:`ExportAnswer` with the bytes copied."""


@dataclass(frozen=True, slots=True)
class ReclaimStorage(Command["ReclaimAnswer"]):
    """Delete the checkpoint storage nothing needs any more ("remove a snapshot and delete
    any associated storage"): the VM's export, and, while the VM is not registered, every
    file of the volumes in ``disks`` that is not on the chain of its active file
    (``disk.path``; a volume without one is left alone), such as the branch AVHDX an
    unregister orphaned. Files of other volumes, and a registered VM's tree, are never
    touched. The manager sends it when a VM has no snapshot the host must keep: after its
    last snapshot goes, or after it is unregistered without an export. Nothing to delete is
    not an error. Answer: :class:`ReclaimAnswer`."""

    disks: tuple[DiskSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class CreateVMSnapshot(Command["SnapshotAnswer"]):
    """Take a checkpoint named ``snapshot.name`` of a registered VM.

    ``memory`` asks for disk and memory (a Standard checkpoint of a Running VM). Without it,
    a Running VM gets a Production checkpoint: with ``quiesce`` one that must be
    application-consistent (``ProductionOnly``: fails when the guest cannot freeze), without
    it one that may fall back to Standard, in which case the answer says ``memory=True``.
    A checkpoint of an Off VM never holds memory. The new checkpoint becomes the VM's
    current one; every disk gets a new leaf. Answer: :class:`SnapshotAnswer`.
    Errors: :class:`ObjectNotFound`, :class:`InvalidState` (busy VM, memory of an Off VM),
    :class:`OperationFailed` (VSS), :class:`InsufficientSpace`.
    """

    snapshot: SnapshotRef
    memory: bool = False
    quiesce: bool = False


@dataclass(frozen=True, slots=True)
class RevertToVMSnapshot(Command["SnapshotAnswer"]):
    """Apply the checkpoint (``Restore-VMSnapshot``). A checkpoint with memory leaves the VM
    Saved and the driver starts it (answer: Running); one without leaves it Off. The
    checkpoint becomes current; the abandoned leaf is discarded unless something depends on
    it. Answer: :class:`SnapshotAnswer`. Errors: :class:`ObjectNotFound`, :class:`InvalidState`.

    ``through_cluster`` (a clustered VM, ``capabilities.clustered``): the Hyper-V VSS writer
    and the VM cmdlets ignore the cluster, which takes a VM that turns Saved or Off behind
    its back for a failed role and fails it over to another node (spec, "Failover
    Clustering and Hyper-V VSS"). So the revert goes through the cluster service: the
    role's resources are taken offline (``Stop-ClusterGroup``: the cluster saves or stops
    the VM), the checkpoint restored, the role brought online again (``Start-ClusterGroup``,
    resuming a memory checkpoint's state on the owner node). A manager sends it set for
    every VM of a clustered host; a revert without it on a clustered VM is the spec's
    failure case and the host answers with what the failover left.
    """

    snapshot: SnapshotRef
    through_cluster: bool = False


@dataclass(frozen=True, slots=True)
class DeleteVMSnapshot(Command["SnapshotAnswer"]):
    """Delete the checkpoint (``Remove-VMSnapshot``) and wait for its merge. Its AVHDX is
    merged into the chain, or kept when two or more files depend on it; on a host that
    defers merges (2008 R2) a running or saved VM keeps it in the chain until it is shut
    down, turned off or saved (:class:`SaveVM`), and the answer's chain sizes say so. If it
    was current, its parent becomes current. Answer: :class:`SnapshotAnswer` with the new
    active paths.
    Errors: :class:`ObjectNotFound` when no such checkpoint exists."""

    snapshot: SnapshotRef


@dataclass(frozen=True, slots=True)
class AttachVolume(Command["VMAnswer"]):
    """Attach a disk to a registered VM (``Add-VMHardDiskDrive``), creating its file if
    ``disk.path`` is None. Answer: :class:`VMAnswer`."""

    disk: DiskSpec


@dataclass(frozen=True, slots=True)
class DetachVolume(Command["VMAnswer"]):
    """Detach a disk from a registered VM (``Remove-VMHardDiskDrive``); the file stays.
    Answer: :class:`VMAnswer`."""

    disk: DiskSpec


@dataclass(frozen=True, slots=True)
class CreateVolumeSnapshot(Command["VolumeSnapshotAnswer"]):
    """Copy the volume's current content (its whole chain, collapsed) off the host.
    Answer: :class:`VolumeSnapshotAnswer` with the bytes copied."""

    disk: DiskSpec


@dataclass(frozen=True, slots=True)
class GetInventory(Command["Inventory"]):
    """Report every registered VM with its power state, disks and checkpoint tree, and the
    VMs that have an export. ``vm`` is ignored (use ``VMRef("*")``). Answer: :class:`Inventory`."""


@dataclass(frozen=True, slots=True)
class WriteGuestData(Command["GuestDataAnswer"]):
    """Write ``value`` under ``key`` on the volume's disk, as a guest would (simulated hosts
    only: ``capabilities.guest_data``). ``volume_uuid`` None means the ROOT disk.
    Answer: :class:`GuestDataAnswer` with the value written."""

    key: str
    value: str
    volume_uuid: str | None = None


@dataclass(frozen=True, slots=True)
class ReadGuestData(Command["GuestDataAnswer"]):
    """Read ``key`` from the volume's disk through its chain. Answer: :class:`GuestDataAnswer`."""

    key: str
    volume_uuid: str | None = None


# --------------------------------------------------------------------------- answers


@dataclass(frozen=True, slots=True)
class VolumeState:
    """A volume after a command: its active file and the bytes its snapshot chain uses."""

    volume_uuid: str
    path: str
    chain_size: int


@dataclass(frozen=True, slots=True)
class Answer:
    """Base of every answer."""


@dataclass(frozen=True, slots=True)
class VMAnswer(Answer):
    power_state: PowerState | None
    volumes: tuple[VolumeState, ...] = ()


@dataclass(frozen=True, slots=True)
class SnapshotAnswer(Answer):
    """``memory`` says whether the checkpoint holds memory (create only)."""

    power_state: PowerState
    volumes: tuple[VolumeState, ...]
    memory: bool = False


@dataclass(frozen=True, slots=True)
class UnregisterAnswer(Answer):
    lost_checkpoints: tuple[str, ...]
    volumes: tuple[VolumeState, ...] = ()


@dataclass(frozen=True, slots=True)
class ExportAnswer(Answer):
    bytes_copied: int
    checkpoints: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReclaimAnswer(Answer):
    """What :class:`ReclaimStorage` deleted: bytes freed and the disk files removed."""

    bytes_freed: int
    removed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VolumeSnapshotAnswer(Answer):
    bytes_copied: int


@dataclass(frozen=True, slots=True)
class GuestDataAnswer(Answer):
    value: str | None


@dataclass(frozen=True, slots=True)
class CheckpointInfo:
    name: str
    parent: str | None
    memory: bool


@dataclass(frozen=True, slots=True)
class VMInventory:
    """A registered VM as the host reports it. ``ip_addresses``: the addresses the host
    reports for the VM's network adapters (``Get-VMNetworkAdapter``'s ``IPAddresses``),
    default NIC first; empty when unknown. ``owner_node``: on a failover cluster, the
    node that owns the VM's role now (a failover moves it; the VM keeps its name, disks and
    checkpoints on Cluster Shared Volumes); ``role_pending``: the role is failing over right
    now (Off only until it is online on another node). ``merge_pending``: deleted checkpoints' AVHDX
    still in the chain, waiting for a shut-down, turn-off or save (a host that defers
    merges); ``volumes`` then show the chain as it really is, lingering files included.
    A pending merge is not drift: the tree (``checkpoints``) no longer has those checkpoints."""

    name: str
    power_state: PowerState
    current: str | None
    checkpoints: tuple[CheckpointInfo, ...]
    volumes: tuple[VolumeState, ...]
    ip_addresses: tuple[str, ...] = ()
    merge_pending: bool = False
    owner_node: str | None = None
    role_pending: bool = False


@dataclass(frozen=True, slots=True)
class Inventory(Answer):
    vms: tuple[VMInventory, ...]
    exported: tuple[str, ...] = ()

    def vm(self, name: str) -> VMInventory | None:
        return next((v for v in self.vms if v.name == name), None)


# --------------------------------------------------------------------------- errors


class HostError(Exception):
    """A host refused or failed a command. ``code`` is stable across drivers."""

    code = "HostError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidState(HostError):
    """The VM is busy or in a state the command does not accept (Hyper-V ``InvalidState``)."""

    code = "InvalidState"


class ObjectNotFound(HostError):
    """No such VM, checkpoint, disk file or export (Hyper-V ``ObjectNotFound``)."""

    code = "ObjectNotFound"


class OperationFailed(HostError):
    """The host tried and failed (VSS freeze failed, merge failed, export failed)."""

    code = "OperationFailed"


class InsufficientSpace(OperationFailed):
    """The volume holding the VM's files is full."""

    code = "InsufficientSpace"


class OperationTimeout(HostError):
    """No answer within the command's wait; the outcome on the host is unknown."""

    code = "Timeout"


class HostUnreachable(HostError):
    """The host (or its agent) cannot be reached; nothing was done, or the outcome is unknown."""

    code = "HostUnreachable"


class StorageUnavailable(HostError):
    """Primary storage is down."""

    code = "StorageUnavailable"


# --------------------------------------------------------------------------- the driver


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a driver can do beyond the core commands.

    Attributes:
        guest_data: accepts :class:`WriteGuestData` / :class:`ReadGuestData`.
        clustered: the host is a failover cluster and its VMs are clustered roles: revert
            and save go ``through_cluster``.
        deferred_merges: the host keeps a deleted checkpoint's AVHDX until the VM is shut
            down, turned off or saved (2008 R2): an export taken while the VM runs would
            copy the unmerged chain, so a stop exports after the power-off.
    """

    guest_data: bool = False
    clustered: bool = False
    deferred_merges: bool = False


@runtime_checkable
class HyperVDriver(Protocol):
    """What a runner needs from a host backend."""

    capabilities: Capabilities

    def execute(self, command: Command[A]) -> A:
        """Carry out ``command`` on the host and return its answer, of the class the
        command names (a :class:`CreateVMSnapshot` answers a :class:`SnapshotAnswer`).

        Blocks until the host has finished (a delete returns after its merge). Raises a
        :class:`HostError` subclass on failure; anything else is a driver bug.
        """
        ...

    def close(self) -> None:
        """Release connections or persist state; the driver is not used afterwards."""
        ...


_DRIVERS = {
    "sim": "simulator.driver:SimulatedHyperVDriver",
    "sim-timed": "simulator.realtime:RealtimeHyperVDriver",  # needs time_scale > 0
    "live": "live_driver.driver:PowerShellHyperVDriver",
}


def load_driver(name: str, **config: Any) -> HyperVDriver:
    """Build the driver called ``name`` (``sim``, ``sim-timed`` or ``live``) from ``config``.
    The one place that chooses a backend. ``sim-timed`` is the simulated host in SimPy time
    with its clock tied to the wall (``time_scale`` simulated seconds per wall second)."""
    try:
        module_name, class_name = _DRIVERS[name].split(":")
    except KeyError:
        raise ValueError(f"unknown driver {name!r}; choose one of {', '.join(_DRIVERS)}") from None
    cls = getattr(importlib.import_module(module_name), class_name)
    driver = cls(**config)
    if not isinstance(driver, HyperVDriver):
        raise TypeError(f"{cls.__name__} does not implement the HyperVDriver contract")
    return driver
