"""The in-memory store: the unit of work and repositories of :mod:`harness.store.ports`
without a database, for simulations (and for tests that prove both stores equivalent).

One interface, two backends, chosen in one place: the caller picks a factory,
``uow_factory(engine, clock)`` (SQL) or ``memory_uow_factory(clock)`` (memory), and the
service code cannot tell them apart:

    factory = memory_uow_factory(clock)
    with factory() as uow:
        snap = uow.vm_snapshots.get_by_uuid(uuid)
        uow.vm_snapshots.transit(snap, VMSnapshotEvent.RevertRequested)
        uow.commit()

The contract is the ports', as the SQL store keeps it:

- leaving the block without :meth:`MemoryUnitOfWork.commit` undoes every write of the unit
  of work (an undo log), so a refused request changes nothing; ``commit`` makes them stay;
- entities handed out are copies: only repository methods change what is stored;
- ids auto-increment per table; ``transit`` is the same compare-and-swap on
  ``(state, update_count)`` with the same errors and log line;
- one unit of work at a time holds the store (a lock, re-entrant within a thread, as
  SQLite holds one writer).

Nothing persists: the data lives as long as the :class:`MemoryStore` (the factory's
``store``). The CLI and the HTTP server keep the SQL store.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime
from typing import Any

from harness.store import memory_catalog as mc
from harness.store import memory_keypairs as mkp
from harness.store import memory_repos as mr
from harness.store import memory_resources as mres
from harness.store.memory_tables import MemoryStore, Transaction
from harness.store.ports import UnitOfWork, utcnow

__all__ = ["MemoryStore", "MemoryUnitOfWork", "MemoryUowFactory", "memory_uow_factory"]


class MemoryUnitOfWork(UnitOfWork):
    """One transaction on a :class:`MemoryStore` and the repositories inside it.

    The repositories hold no state of their own (they write to the store's innermost open
    transaction), so a factory builds them once and every unit of work shares them: the
    factory's own subclass holds them as class attributes, so that opening a unit of work
    (several per workflow) costs an object of four fields. The annotations below say which
    class serves each port (mypy checks each against it)."""

    vm_snapshots: mr.MemoryVMSnapshots
    vms: mr.MemoryVMs
    volumes: mr.MemoryVolumes
    volume_snapshots: mr.MemoryVolumeSnapshots
    domains: mc.MemoryDomains
    accounts: mc.MemoryAccounts
    offerings: mc.MemoryOfferings
    zones: mc.MemoryZones
    hosts: mc.MemoryHosts
    capabilities: mc.MemoryCapabilities
    config: mc.MemoryConfiguration
    jobs: mc.MemoryJobs
    mshosts: mc.MemoryManagementServers
    vm_snapshot_policies: mc.MemoryVMSnapshotPolicies
    resource_limits: mc.MemoryResourceLimits
    users: mres.MemoryUsers
    nics: mres.MemoryNics
    tags: mres.MemoryTags
    events: mres.MemoryEvents
    keypairs: mkp.MemorySSHKeyPairs
    vm_details: mkp.MemoryVMDetails

    def __init__(
        self,
        store: MemoryStore,
        clock: Callable[[], datetime] = utcnow,
        readonly: bool = False,
        repositories: dict[str, Any] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.readonly = readonly
        self._txn: Transaction | None = None
        self.__dict__.update(repositories or build_repositories(store, clock))

    def __enter__(self) -> MemoryUnitOfWork:
        if self._txn is not None:
            raise RuntimeError("a unit of work is entered once at a time")
        self._txn = self.store.begin()
        return self

    def __exit__(self, *exc: object) -> None:
        txn, self._txn = self._open(), None
        self.store.end(txn)  # undoes whatever was not committed

    def _open(self) -> Transaction:
        if self._txn is None:
            raise RuntimeError("the unit of work is not open")
        return self._txn


#: the repositories a unit of work exposes, by attribute: what its annotations name
REPOSITORIES: dict[str, Callable[[MemoryStore, Callable[[], datetime]], Any]] = dict(
    inspect.get_annotations(MemoryUnitOfWork, eval_str=True)
)


def build_repositories(store: MemoryStore, clock: Callable[[], datetime]) -> dict[str, Any]:
    """One of each repository on ``store``, by unit-of-work attribute."""
    return {name: make(store, clock) for name, make in REPOSITORIES.items()}


class MemoryUowFactory:
    """``factory()`` for a writing unit of work, ``factory(readonly=True)`` for a reading one,
    on :attr:`store` (which tests may :meth:`~MemoryStore.dump`)."""

    def __init__(self, store: MemoryStore, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock
        self._bound: type[_BoundUnitOfWork] = type(
            "_BoundUnitOfWork", (_BoundUnitOfWork,), build_repositories(store, clock)
        )

    def __call__(self, readonly: bool = False) -> MemoryUnitOfWork:
        return self._bound(self.store, self.clock, readonly)


class _BoundUnitOfWork(MemoryUnitOfWork):
    """A unit of work whose class already holds its factory's repositories."""

    def __init__(self, store: MemoryStore, clock: Callable[[], datetime], readonly: bool = False) -> None:
        self.store = store
        self.clock = clock
        self.readonly = readonly
        self._txn = None


def memory_uow_factory(clock: Callable[[], datetime] = utcnow, store: MemoryStore | None = None) -> MemoryUowFactory:
    """A unit-of-work factory on ``store`` (a fresh, empty one by default: no schema to
    build, no migrations; bootstrap the catalogue as on SQL)."""
    return MemoryUowFactory(store if store is not None else MemoryStore(), clock)
