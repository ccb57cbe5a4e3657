"""The store's ports: what the service layer may ask of a repository and of a unit of work.

One :class:`typing.Protocol` per repository (the shape of cosmicpython's
``AbstractRepository``: the methods use cases call, typed), and :class:`UnitOfWork`, the
abstract transaction that binds one of each. Two stores implement them side by side and
share nothing but this module: the SQL store (:class:`harness.store.uow.SqlUnitOfWork`,
SQLite, PostgreSQL, MariaDB) and the in-memory one
(:class:`harness.store.memory.MemoryUnitOfWork`, for simulations). mypy checks both
against the ports; ``tests/store/test_contract*.py`` runs the same behaviour on both.

The contract every repository keeps:

- finders skip soft-deleted rows and hand out copies: only repository methods change what
  is stored;
- ``transit`` applies a state machine event as a compare-and-swap on
  ``(state, update_count)``: ``InvalidTransition`` when the machine forbids it,
  ``ConcurrentOperation`` when another writer moved the row first;
- ``search`` returns a :class:`~harness.domain.model.Page`: the count before paging and
  one page of items (``pagesize`` ``None`` or 0: every item).
"""

from __future__ import annotations

import socket
from abc import ABC, abstractmethod
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum, StrEnum
from ipaddress import IPv4Address
from typing import Any, Protocol, Self, TypeVar

from harness.domain.config import ConfigKey
from harness.domain.errors import InvalidParameterValue
from harness.domain.model import (
    VM,
    Account,
    AsyncJob,
    Domain,
    Event,
    Host,
    HypervisorCapabilities,
    ManagementServer,
    Nic,
    Page,
    ResourceTag,
    ServiceOffering,
    SnapshotBrief,
    SSHKeyPair,
    User,
    VMSnapshot,
    Volume,
    VolumeSnapshot,
    Zone,
)
from harness.domain.policy import ResourceLimit, VMSnapshotPolicy
from harness.domain.states import VMSnapshotState, VMSnapshotType, VMState

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which owners a caller may see: ``None`` fields mean no restriction."""

    account_id: int | None = None
    domain_ids: frozenset[int] | None = None

    def admits(self, row: Any) -> bool:
        """Whether a caller with this scope may see ``row`` (an entity with an owner)."""
        return (self.account_id is None or row.account_id == self.account_id) and (
            self.domain_ids is None or row.domain_id in self.domain_ids
        )


EVERYTHING = Scope()


def utcnow() -> datetime:
    """Naive UTC, as CloudStack stores dates (GMT): both stores' default clock."""
    return datetime.now(UTC).replace(tzinfo=None)


def existing(entity: T | None, noun: str, ident: object) -> T:
    """``entity``, or a 431 saying it is gone: what a finder returns for a row that a
    concurrent request (a delete, a destroy, a sync) removed between a check and the work
    that follows it. Service code uses this instead of ``assert x is not None``."""
    if entity is None:
        raise InvalidParameterValue(f"Unable to find {noun} {ident}: it was removed by another operation")
    return entity


class Finder(Protocol[T_co]):
    """What every entity repository finds by key (live rows only)."""

    def get(self, id_: int) -> T_co | None: ...

    def get_by_uuid(self, uuid: str) -> T_co | None: ...


class SoftDeleting(Protocol):
    def soft_delete(self, id_: int) -> None:
        """Mark the row removed (now): finders no longer see it."""


# ---------------------------------------------------------------------- stateful entities


class Keep(Enum):
    """A field a write leaves as it is (where ``None`` is a value of its own)."""

    KEEP = "keep"


KEEP = Keep.KEEP


def tree_links(parent: int | Keep | None, current: bool | None) -> dict[str, Any]:
    """The link fields a :meth:`VMSnapshotRepository.transit` writes beside the state:
    ``parent`` unless :data:`KEEP`, ``current`` unless ``None``."""
    links: dict[str, Any] = {} if isinstance(parent, Keep) else {"parent": parent}
    if current is not None:
        links["current"] = current
    return links


class VMSnapshotRepository(Finder[VMSnapshot], SoftDeleting, Protocol):
    def add(self, snap: VMSnapshot) -> VMSnapshot: ...
    def transit(
        self, snap: VMSnapshot, event: StrEnum, *, parent: int | Keep | None = KEEP, current: bool | None = None
    ) -> None:
        """Apply ``event`` (compare-and-swap on ``(state, update_count)``), setting ``parent``
        and ``current`` in the same write when given: a workflow step that moves a snapshot
        and relinks it writes the row once."""
    def by_vm(self, vm_id: int) -> list[VMSnapshot]: ...
    def briefs_of_vm(self, vm_id: int) -> list[SnapshotBrief]: ...
    def has_snapshots(self, vm_id: int) -> bool:
        """Whether the VM has a live (not removed) snapshot: ``bool(briefs_of_vm(vm_id))``
        without loading them."""
    def current_of(self, vm_id: int) -> VMSnapshot | None: ...
    def set_parent(self, snap: VMSnapshot, parent: int | None) -> None: ...
    def set_current(self, snap: VMSnapshot, current: bool) -> None: ...
    def reparent_children(self, snap: VMSnapshot) -> None: ...
    def set_type(self, snap: VMSnapshot, type_: VMSnapshotType) -> None: ...
    def details(self, snap_id: int) -> dict[str, str]: ...
    def set_details(self, snap_id: int, details: dict[str, str]) -> None: ...
    def names_of_vm(self, vm_id: int) -> set[str]: ...

    def ancestry(self, ids: Iterable[int]) -> dict[int, tuple[int | None, str, str | None]]: ...
    def search(self, scope: Scope = EVERYTHING, *, ids: Sequence[int] | None = None,
            uuids: Sequence[str] | None = None, vm_id: int | None = None,
            states: Iterable[VMSnapshotState] | None = None, name: str | None = None, keyword: str | None = None,
            tagged: Sequence[tuple[str, str]] | None = None,
            page: int | None = None, pagesize: int | None = None) -> Page: ...


class VMRepository(Finder[VM], SoftDeleting, Protocol):
    def add(self, vm: VM) -> VM: ...
    def lock(self, vm_id: int) -> VM | None: ...
    def lock_uuid(self, uuid: str) -> VM | None: ...
    def set_instance_name(self, vm: VM, name: str) -> None: ...
    def transit(self, vm: VM, event: StrEnum) -> None: ...
    def set_offering(self, vm: VM, offering_id: int) -> None: ...
    def set_exported(self, vm: VM, exported: bool) -> None: ...

    def search(self, scope: Scope = EVERYTHING, *, state: VMState | None = None, keyword: str | None = None,
            tagged: Sequence[tuple[str, str]] | None = None,
            page: int | None = None, pagesize: int | None = None) -> Page: ...


class VolumeRepository(Finder[Volume], SoftDeleting, Protocol):
    def add(self, vol: Volume) -> Volume: ...
    def of_vm(self, vm_id: int) -> list[Volume]: ...
    def record_host_state(self, volume_uuid: str, path: str, chain_size: int) -> None: ...
    def attach(self, vol: Volume, vm_id: int | None, device_id: int | None) -> None: ...

    def search(self, scope: Scope = EVERYTHING, *, vm_id: int | None = None, page: int | None = None,
            pagesize: int | None = None) -> Page: ...


class VolumeSnapshotRepository(Finder[VolumeSnapshot], SoftDeleting, Protocol):
    def add(self, snap: VolumeSnapshot) -> VolumeSnapshot: ...
    def transit(self, snap: VolumeSnapshot, event: StrEnum) -> None: ...
    def set_size(self, snap: VolumeSnapshot, size: int) -> None: ...
    def active_for_vm(self, vm_id: int) -> list[VolumeSnapshot]: ...

    def search(self, scope: Scope = EVERYTHING, *, volume_id: int | None = None, page: int | None = None,
            pagesize: int | None = None) -> Page: ...


# ---------------------------------------------------------------------- the catalogue


class DomainRepository(Finder[Domain], SoftDeleting, Protocol):
    def add(self, d: Domain) -> Domain: ...
    def root(self) -> Domain | None: ...
    def subtree_ids(self, domain: Domain) -> frozenset[int]: ...
    def child_named(self, parent: Domain, name: str) -> Domain | None: ...
    def all(self) -> list[Domain]: ...


class AccountRepository(Finder[Account], SoftDeleting, Protocol):
    def add(self, a: Account, user_uuid: str) -> Account: ...
    def by_name(self, name: str, domain_id: int | None = None) -> Account | None: ...
    def by_api_key(self, api_key: str) -> Account | None: ...
    def set_keys(self, a: Account, api_key: str, secret_key: str) -> None: ...
    def set_password_hash(self, a: Account, password_hash: str) -> None: ...
    def in_domains(self, domain_ids: frozenset[int] | None) -> list[Account]: ...


class OfferingRepository(Finder[ServiceOffering], SoftDeleting, Protocol):
    def add(self, o: ServiceOffering) -> ServiceOffering: ...
    def by_name(self, name: str) -> ServiceOffering | None: ...
    def all(self) -> list[ServiceOffering]: ...


class ZoneRepository(Finder[Zone], Protocol):
    def add(self, z: Zone) -> Zone: ...
    def all(self) -> list[Zone]: ...


class HostRepository(Finder[Host], Protocol):
    def add(self, h: Host) -> Host: ...
    def in_zone(self, zone_id: int) -> list[Host]: ...


class CapabilityRepository(Finder[HypervisorCapabilities], Protocol):
    def add(self, c: HypervisorCapabilities) -> HypervisorCapabilities: ...

    def lookup(self, hypervisor_type: str, version: str = "default") -> HypervisorCapabilities | None:
        """The (type, version) row, falling back to (type, ``default``) as CloudStack's DAO does."""

    def all(self) -> list[HypervisorCapabilities]: ...
    def set_vm_snapshot_enabled(self, caps: HypervisorCapabilities, enabled: bool) -> None: ...


class ConfigurationRepository(Protocol):
    """One string value per key; a key never set reads as its default."""

    def get(self, key: ConfigKey) -> str: ...
    def set(self, key: ConfigKey, value: str) -> None: ...


class JobRepository(Finder[AsyncJob], Protocol):
    def add(self, job: AsyncJob) -> AsyncJob: ...

    def set_running(self, job: AsyncJob) -> None:
        """A manager has started running ``job`` (``job_process_status`` 1)."""

    def running(self, queue_key: str) -> list[AsyncJob]:
        """The pending jobs on ``queue_key`` (a VM) that a manager has started."""

    def take_over(self, job: AsyncJob, msid: int) -> bool:
        """Make ``msid`` the executor of a pending ``job`` whose executor is still the one
        ``job`` names (a compare-and-swap: two managers never both take one job over)."""

    def finish(self, job: AsyncJob, status: int, result_code: int, result: str) -> None: ...
    def pending(self) -> list[AsyncJob]: ...

    def search(self, account_ids: frozenset[int] | None, page: int | None = None, pagesize: int | None = None) -> Page:
        """The jobs of ``account_ids`` (``None``: everyone's), newest first."""


class ManagementServerRepository(Protocol):
    """The manager processes sharing the store and their heartbeats."""

    def register(self, server: ManagementServer) -> ManagementServer: ...
    def heartbeat(self, msid: int) -> None: ...
    def set_state(self, msid: int, state: str) -> None: ...
    def remove(self, msid: int) -> None: ...
    def up(self) -> list[ManagementServer]: ...


# ---------------------------------------------------------------------- policies and limits


class VMSnapshotPolicyRepository(Finder[VMSnapshotPolicy], Protocol):
    """Recurring snapshot policies (one per VM; deleted for real) and the snapshots each took."""

    def add(self, p: VMSnapshotPolicy) -> VMSnapshotPolicy:
        """Raises ``InvalidParameterValue`` when the VM already has a policy."""

    def save(self, p: VMSnapshotPolicy) -> None: ...

    def advance(self, p: VMSnapshotPolicy, next_run: datetime, last_run: datetime | None = None) -> bool:
        """Move ``next_run`` on, compare-and-swap on the old value: False when another
        scheduler took this run first."""

    def remove(self, policy_id: int) -> None: ...
    def of_vm(self, vm_id: int) -> VMSnapshotPolicy | None: ...
    def due(self, now: datetime) -> list[VMSnapshotPolicy]: ...
    def earliest(self) -> datetime | None: ...

    def search(self, scope: Scope, ids: Iterable[int] | None = None, vm_id: int | None = None
    ) -> list[VMSnapshotPolicy]: ...

    def tag(self, snapshot_id: int, policy_id: int, vm_id: int) -> None: ...

    def snapshots(self, policy_id: int, vm_id: int) -> list[VMSnapshot]:
        """The live snapshots ``policy_id`` took of the VM, oldest first."""

    def scheduled_ids(self, vm_id: int) -> set[int]:
        """Ids of the VM's snapshots (live or not) that any policy took."""


class ResourceLimitRepository(Protocol):
    def of_account(self, type_: str, account_id: int) -> ResourceLimit | None: ...
    def of_domain(self, type_: str, domain_id: int) -> ResourceLimit | None: ...

    def put(self, type_: str, max_: int, account_id: int | None = None, domain_id: int | None = None) -> ResourceLimit:
        """Set the limit of an account (``account_id``) or a domain (``domain_id`` only)."""

    def vm_snapshots_of_account(self, account_id: int) -> int: ...
    def vm_snapshots_in_domains(self, domain_ids: frozenset[int]) -> int: ...


# ---------------------------------------------------------------------- what the API tells


class UserRepository(Finder[User], Protocol):
    def set_names(self, user_uuid: str, firstname: str | None, lastname: str | None, email: str | None) -> None: ...
    def of_accounts(self, account_ids: Iterable[int]) -> list[User]: ...

    def remove_of_account(self, account_id: int) -> None:
        """Soft-delete the account's users and void their keys."""


def address_number(address: str) -> int:
    """A dotted IPv4 address as its 32-bit number (``int(IPv4Address(address))``, in C)."""
    return int.from_bytes(socket.inet_aton(address), "big")


def lowest_free_number(taken: Sequence[int], first: int, last: int, reserved: Collection[int] = ()) -> int | None:
    """The lowest number of ``first..last`` neither in ``taken`` (ascending, each once) nor in
    ``reserved``; ``None`` when there is none. A binary search for the first gap in ``taken``
    (``taken[i] - i`` never decreases), so a full /16 costs a few dozen steps, not a walk."""
    start = first
    while start <= last:
        lo = bisect_left(taken, start)
        hi = bisect_right(taken, last, lo)
        left, right = lo, hi  # taken[lo:left] is start, start + 1, ...: the gap is at or after left
        while left < right:
            mid = (left + right) // 2
            if taken[mid] - mid == start - lo:
                left = mid + 1
            else:
                right = mid
        found = start + (left - lo)
        if found > last:
            return None
        if found not in reserved:
            return found
        start = found + 1
    return None


class NicRepository(Finder[Nic], Protocol):
    """An ``ip4_address`` is held by one NIC, live or removed, until :meth:`release` clears it
    (the SQL unique constraint)."""

    def add(self, n: Nic) -> Nic: ...
    def of_vms(self, vm_ids: Iterable[int]) -> list[Nic]: ...
    def addresses_in_use(self) -> set[str]: ...

    def lowest_free(
        self, first: IPv4Address, last: IPv4Address, reserved: Collection[IPv4Address] = ()
    ) -> IPv4Address | None:
        """The lowest address of ``first..last`` that no NIC holds and that is not ``reserved``
        (``None``: every one is taken)."""

    def release(self, vm_id: int) -> None:
        """Give the VM's addresses back and remove its NICs (at expunge)."""


class TagRepository(Finder[ResourceTag], Protocol):
    """One value per (resource, key); tags are deleted, not soft-deleted."""

    def add(self, tag: ResourceTag) -> ResourceTag: ...
    def of_resources(self, resource_type: str, resource_ids: Iterable[int]) -> list[ResourceTag]: ...
    def remove(self, tag_ids: Iterable[int]) -> None: ...

    def matching(self, resource_type: str, pairs: list[tuple[str, str]]) -> set[int]:
        """The ids of the resources of ``resource_type`` carrying every (key, value) pair."""

    def search(self, scope: Scope, resource_type: str | None = None, resource_uuid: str | None = None,
            key: str | None = None, value: str | None = None, customer: str | None = None, page: int | None = None,
            pagesize: int | None = None) -> Page: ...


class EventRepository(Finder[Event], Protocol):
    def add(self, e: Event) -> Event: ...

    def search(self, scope: Scope, type_: str | None = None, level: str | None = None, start: datetime | None = None,
            end: datetime | None = None, keyword: str | None = None, page: int | None = None,
            pagesize: int | None = None) -> Page:
        """Newest first, as listEvents orders them."""


class SSHKeyPairRepository(Finder[SSHKeyPair], Protocol):
    """An account's public keys by name; a name is unique in its account."""

    def add(self, k: SSHKeyPair) -> SSHKeyPair: ...
    def by_name(self, account_id: int, name: str) -> SSHKeyPair | None: ...
    def by_fingerprint(self, account_id: int, fingerprint: str) -> SSHKeyPair | None: ...
    def remove(self, id_: int) -> None: ...
    def remove_of_account(self, account_id: int) -> None: ...

    def search(self, scope: Scope, uuid: str | None = None, name: str | None = None, fingerprint: str | None = None,
            keyword: str | None = None, page: int | None = None, pagesize: int | None = None) -> Page:
        """listSSHKeyPairs: the key pairs in ``scope``, by name; ``keyword`` is part of a name."""


class VMDetailRepository(Protocol):
    """Name -> value per VM (``SSH.PublicKey`` and the like)."""

    def of_vm(self, vm_id: int) -> dict[str, str]: ...

    def value_of_vms(self, vm_ids: Iterable[int], name: str) -> dict[int, str]:
        """VM id -> its detail ``name``, for the VMs that have it."""

    def set(self, vm_id: int, details: dict[str, str]) -> None:
        """Set each detail of ``details`` (replacing one of the same name)."""

    def remove(self, vm_id: int, name: str) -> None: ...


# ---------------------------------------------------------------------- the unit of work


class Transaction(Protocol):
    """What a store's open transaction does for its unit of work."""

    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class UnitOfWork(ABC):
    """One transaction and the repositories that work inside it:

        with uow_factory() as uow:
            snap = uow.vm_snapshots.get_by_uuid(uuid)
            uow.vm_snapshots.transit(snap, VMSnapshotEvent.RevertRequested)
            uow.commit()

    Leaving the block without :meth:`commit` undoes every write of the block, so a refused
    request changes nothing. The repositories are bound while the block runs."""

    clock: Callable[[], datetime]
    readonly: bool

    vm_snapshots: VMSnapshotRepository
    vms: VMRepository
    volumes: VolumeRepository
    volume_snapshots: VolumeSnapshotRepository
    domains: DomainRepository
    accounts: AccountRepository
    offerings: OfferingRepository
    zones: ZoneRepository
    hosts: HostRepository
    capabilities: CapabilityRepository
    config: ConfigurationRepository
    jobs: JobRepository
    mshosts: ManagementServerRepository
    vm_snapshot_policies: VMSnapshotPolicyRepository
    resource_limits: ResourceLimitRepository
    users: UserRepository
    nics: NicRepository
    tags: TagRepository
    events: EventRepository
    keypairs: SSHKeyPairRepository
    vm_details: VMDetailRepository

    @abstractmethod
    def __enter__(self) -> Self: ...

    @abstractmethod
    def __exit__(self, *exc: object) -> None:
        """End the transaction, undoing whatever was not committed."""

    def commit(self) -> None:
        """Make the block's writes so far stay."""
        self._open().commit()

    def rollback(self) -> None:
        """Undo the block's writes since the last commit."""
        self._open().rollback()

    @abstractmethod
    def _open(self) -> Transaction:
        """The block's open transaction; ``RuntimeError`` outside the block."""

    @property
    def now(self) -> datetime:
        return self.clock()


#: ``factory()`` opens a writing unit of work, ``factory(readonly=True)`` a reading one
UowFactory = Callable[..., UnitOfWork]
