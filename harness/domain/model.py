"""The entities of a CloudStack-style cloud, as plain Python.

Each entity carries CloudStack's two identities: ``id`` (the database key, never shown to
users) and ``uuid`` (what the API and the CLI speak). Mapping to tables lives in
``harness.store``; nothing here knows SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import NamedTuple

from harness.domain.states import VMSnapshotState, VMSnapshotType, VMState, VolumeSnapshotState


class AccountType(IntEnum):
    """CloudStack's account types (``account.type``)."""

    User = 0
    Admin = 1
    DomainAdmin = 2


class VolumeType(StrEnum):
    ROOT = "ROOT"
    DATADISK = "DATADISK"


class ExportStrategy(StrEnum):
    """When the manager exports a VM so its checkpoints survive a CloudStack stop.

    CloudStack stops a VM on Hyper-V by unregistering it, which discards its checkpoints
    (spec, "Important questions"). ``on-stop`` exports right before the unregister and
    imports on start; ``on-snapshot`` exports after every change to the checkpoint tree;
    ``none`` exports nothing, and a stop loses the checkpoints (recorded as Error).
    """

    on_stop = "on-stop"
    on_snapshot = "on-snapshot"
    none = "none"


@dataclass(slots=True)
class Domain:
    id: int
    uuid: str
    name: str
    parent_id: int | None
    path: str  # "/" for ROOT, "/a/b/" below it, as CloudStack stores it
    removed: datetime | None = None


@dataclass(slots=True)
class Account:
    id: int
    uuid: str
    name: str
    type: AccountType
    domain_id: int
    api_key: str | None = None
    secret_key: str | None = None
    removed: datetime | None = None
    password_hash: str | None = None  # the user's salted hash; None: the user cannot log in

    @property
    def account_id(self) -> int:
        """An account owns itself (so access checks treat it like any owned resource)."""
        return self.id


@dataclass(slots=True)
class ServiceOffering:
    id: int
    uuid: str
    name: str
    cpu: int
    speed: int  # MHz
    ram_size: int  # MiB
    removed: datetime | None = None


@dataclass(slots=True)
class Zone:
    id: int
    uuid: str
    name: str


@dataclass(slots=True)
class Host:
    id: int
    uuid: str
    name: str
    zone_id: int
    hypervisor_type: str  # "Hyperv"
    hypervisor_version: str


@dataclass(slots=True)
class HypervisorCapabilities:
    id: int
    uuid: str
    hypervisor_type: str
    hypervisor_version: str  # "default" is the fallback row the snapshot manager consults
    max_guests_limit: int
    max_data_volumes_limit: int
    vm_snapshot_enabled: bool


@dataclass(slots=True)
class VM:
    id: int
    uuid: str
    instance_name: str  # i-<account>-<id>-VM, the name the host knows
    display_name: str
    state: VMState
    account_id: int
    domain_id: int
    service_offering_id: int
    zone_id: int
    host_id: int | None
    update_count: int = 0
    exported: bool = False  # the host holds an export of this VM (checkpoint tree included)
    created: datetime | None = None
    removed: datetime | None = None
    template_uuid: str | None = None  # the catalogue template it was deployed from


@dataclass(slots=True)
class Volume:
    id: int
    uuid: str
    name: str
    type: VolumeType
    size: int  # bytes, virtual size
    account_id: int
    domain_id: int
    vm_id: int | None
    device_id: int | None
    path: str | None  # active file on the host: .vhdx, or the leaf .avhdx once checkpoints exist
    vm_snapshot_chain_size: int = 0  # bytes the VM-snapshot chain uses (from the host's answers)
    state: str = "Ready"
    created: datetime | None = None
    removed: datetime | None = None


@dataclass(slots=True)
class VolumeSnapshot:
    id: int
    uuid: str
    name: str
    volume_id: int
    account_id: int
    domain_id: int
    state: VolumeSnapshotState
    size: int = 0
    update_count: int = 0
    created: datetime | None = None
    removed: datetime | None = None


class SnapshotBrief(NamedTuple):
    """What the rules need to know of a VM's other snapshots: cheaper to load than the
    whole :class:`VMSnapshot` (rules consult them on every create and delete)."""

    id: int
    name: str
    state: VMSnapshotState
    type: VMSnapshotType


@dataclass(slots=True)
class VMSnapshot:
    id: int
    uuid: str
    name: str  # internal: <instance>_VS_<yyyyMMddHHmmss> (GMT)
    display_name: str
    description: str | None
    vm_id: int
    account_id: int
    domain_id: int
    service_offering_id: int  # the VM's offering when the snapshot was taken
    type: VMSnapshotType
    state: VMSnapshotState
    parent: int | None = None
    current: bool | None = None  # NULL until the first successful create, as in CloudStack
    update_count: int = 0
    created: datetime | None = None
    updated: datetime | None = None
    removed: datetime | None = None
    details: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class AsyncJob:
    id: int
    uuid: str
    account_id: int
    cmd: str
    cmd_info: str
    instance_type: str | None
    instance_id: int | None
    job_status: int = 0  # 0 pending, 1 succeeded, 2 failed
    job_result_code: int = 0
    job_result: str | None = None  # JSON
    created: datetime | None = None
    last_updated: datetime | None = None
    completed: datetime | None = None
    init_msid: int | None = None  # the management server that accepted the job
    executing_msid: int | None = None  # the one running it now (a taker-over after a crash)
    queue_key: str | None = None  # the serial queue it runs in: its VM's uuid
    process_status: int = 0  # 1 once a manager has started running it


@dataclass(slots=True)
class ManagementServer:
    """An ``mshost`` row: one manager process, alive while its heartbeat is fresh."""

    id: int
    msid: int
    name: str  # the machine it runs on
    pid: int
    state: str = "Up"  # Up, or Down after a clean stop or a takeover
    last_update: datetime | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list call: ``count`` is the total before paging, as CloudStack reports it."""

    count: int
    items: list


@dataclass(slots=True)
class User:
    """A user of an account (CloudStack's ``user``): each account has one, made with it;
    the API keys are the user's (read through :class:`Account` for the signature check)."""

    id: int
    uuid: str
    username: str
    account_id: int
    firstname: str | None = None
    lastname: str | None = None
    email: str | None = None
    state: str = "enabled"
    created: datetime | None = None
    removed: datetime | None = None


@dataclass(slots=True)
class Nic:
    """A VM's network interface (CloudStack's ``nics``): the default NIC of every VM, on
    the zone's guest network, with an IPv4 address from the guest range. ``ip4_address``
    is cleared when the address is released (at expunge), so a live address is unique."""

    id: int
    uuid: str
    vm_id: int
    ip4_address: str | None
    netmask: str
    gateway: str
    mac_address: str
    device_id: int = 0
    default_nic: bool = True
    created: datetime | None = None
    removed: datetime | None = None


@dataclass(slots=True)
class SSHKeyPair:
    """A public key registered under a name in an account (CloudStack's ``ssh_keypairs``);
    names are unique per account. ``fingerprint`` is CloudStack's: the MD5 of the key blob,
    colon-separated hex."""

    id: int
    uuid: str
    name: str
    account_id: int
    domain_id: int
    public_key: str
    fingerprint: str


@dataclass(slots=True)
class ResourceTag:
    """A key and value on a resource (CloudStack's ``resource_tags``), owned as the
    resource is owned."""

    id: int
    uuid: str
    key: str
    value: str
    resource_type: str  # "UserVm" or "VMSnapshot"
    resource_id: int
    resource_uuid: str
    account_id: int
    domain_id: int
    customer: str | None = None


@dataclass(slots=True)
class Event:
    """One entry of the event log (CloudStack's ``event``): an action's type
    (``VMSNAPSHOT.CREATE``), its state (Scheduled, Started, Completed), level and text."""

    id: int
    uuid: str
    type: str
    state: str
    level: str
    description: str
    account_id: int
    domain_id: int
    user_id: int | None = None
    resource_type: str | None = None
    resource_id: int | None = None
    start_id: int | None = None
    created: datetime | None = None
    resource_uuid: str | None = None  # kept: the resource may be gone when the log is read


def chain_depths(snaps: Iterable[VMSnapshot]) -> dict[int, int]:
    """Snapshot id -> its depth in its VM's tree (a root snapshot is 1): how many
    differencing files a disk reverted to it reads through. The spec asks users to keep
    this short ("control the length of VM snapshot chain")."""
    return depths_in({s.id: s.parent for s in snaps})


def depths_in(parents: Mapping[int, int | None]) -> dict[int, int]:
    """:func:`chain_depths` from snapshot id -> parent id links (a parent missing from
    ``parents`` ends the chain, as a removed one does)."""
    depths: dict[int, int] = {}
    for start in parents:
        path: list[int] = []
        cur: int | None = start
        while cur is not None and cur in parents and cur not in depths and cur not in path:
            path.append(cur)
            cur = parents[cur]
        base = depths.get(cur, 0) if cur is not None else 0
        for i, sid in enumerate(reversed(path)):
            depths[sid] = base + i + 1
    return depths
