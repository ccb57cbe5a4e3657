"""Engines and the SQL unit of work.

A :class:`SqlUnitOfWork` is one database transaction with the SQL repositories bound to it
(the port it implements: :class:`harness.store.ports.UnitOfWork`). Leaving the block
without :meth:`SqlUnitOfWork.commit` rolls everything back, so a rejected request changes
nothing. On SQLite (the embedded default) a writing unit of work starts with
``BEGIN IMMEDIATE``: SQLite has one writer, and taking the lock up front turns a would-be
deadlock between two upgrading readers into a short wait (``busy_timeout``).

Inside :func:`harness.store.batch.batch` the units of work of one thread share one
transaction, committed at each :func:`harness.store.batch.flush` (before a host command).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import StaticPool

from harness.store import catalog, policies, resources
from harness.store.batch import Batch, current
from harness.store.keypairs import SSHKeyPairs, VMDetails
from harness.store.ports import UnitOfWork, UowFactory, utcnow
from harness.store.vms import VMs
from harness.store.vmsnapshots import VMSnapshots
from harness.store.volumes import Volumes, VolumeSnapshots

DB_ENV = "HVSNAP_DB"


def database_url(home: Path, url: str | None = None) -> str:
    """The database to use: ``url``, else ``$HVSNAP_DB``, else ``<home>/hvsnap.db`` (SQLite)."""
    return url or os.environ.get(DB_ENV) or f"sqlite:///{home / 'hvsnap.db'}"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, ``synchronous=NORMAL`` and a busy timeout;
    PostgreSQL and MariaDB run READ COMMITTED."""
    if not url.startswith("sqlite"):
        # READ COMMITTED on every server (MariaDB defaults to REPEATABLE READ): a check that
        # runs after the VM's row lock must see what the lock's previous holder committed.
        return create_engine(url, pool_pre_ping=True, future=True, isolation_level="READ COMMITTED")
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=StaticPool if in_memory else None,
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        if not in_memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


class SqlUnitOfWork(UnitOfWork):
    """One database transaction and the SQL repositories that work inside it (the
    annotations say which class serves each port; mypy checks each against it)."""

    vm_snapshots: VMSnapshots
    vms: VMs
    volumes: Volumes
    volume_snapshots: VolumeSnapshots
    domains: catalog.Domains
    accounts: catalog.Accounts
    offerings: catalog.Offerings
    zones: catalog.Zones
    hosts: catalog.Hosts
    capabilities: catalog.Capabilities
    config: catalog.Configuration
    jobs: catalog.Jobs
    mshosts: catalog.ManagementServers
    vm_snapshot_policies: policies.VMSnapshotPolicies
    resource_limits: policies.ResourceLimits
    users: resources.Users
    nics: resources.Nics
    tags: resources.Tags
    events: resources.Events
    keypairs: SSHKeyPairs
    vm_details: VMDetails

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow, readonly: bool = False):
        self.engine = engine
        self.clock = clock
        self.readonly = readonly
        self._conn: Connection | None = None
        self._batch: Batch | None = None  # the batch this unit of work is a part of
        self._savepoint: str | None = None
        self._committed = False

    def __enter__(self) -> SqlUnitOfWork:
        shared = current()
        if shared is not None and shared.engine is self.engine:
            conn, self._savepoint = shared.join(self.readonly)
            self._batch, self._committed = shared, False
            bound = shared.repos.get(id(self.clock))
            if bound is None:
                bound = shared.repos[id(self.clock)] = {
                    name: repo(conn, self.clock) for name, repo in _REPOSITORIES.items()
                }
            self.__dict__.update(bound)
            self._conn = conn
            return self
        conn = self.engine.connect()
        if self.readonly and self.engine.dialect.name == "sqlite":
            conn = conn.execution_options(sqlite_begin="DEFERRED")
        conn.begin()
        self._conn = conn
        self.__dict__.update({name: repo(conn, self.clock) for name, repo in _REPOSITORIES.items()})
        return self

    def __exit__(self, *exc: object) -> None:
        conn, self._conn = self._open(), None
        if self._batch is not None:
            shared, self._batch = self._batch, None
            if not self._committed:
                self._undo(shared)
            return
        try:
            if conn.in_transaction():
                conn.rollback()
        finally:
            conn.close()

    def commit(self) -> None:
        conn = self._open()
        if self._batch is None:
            conn.commit()
            return
        if self._savepoint is not None:
            self._batch.savepoint(f"RELEASE SAVEPOINT {self._savepoint}")
            self._savepoint = None
        self._batch.dirty = self._committed = True

    def rollback(self) -> None:
        conn = self._open()
        if self._batch is None:
            conn.rollback()
            return
        self._undo(self._batch)  # in a batch this ends the unit of work's use of the database

    def _undo(self, shared: Batch) -> None:
        """Undo what this part of a batch wrote since it began (or last committed)."""
        if self._savepoint is not None:
            name, self._savepoint = self._savepoint, None
            shared.savepoint(f"ROLLBACK TO SAVEPOINT {name}")
            shared.savepoint(f"RELEASE SAVEPOINT {name}")
            for bound in shared.repos.values():  # what it wrote and locked is undone with it
                for name in _READ_ONCE:
                    bound[name].forget()
        elif not self.readonly and not shared.dirty:
            shared.discard()  # nothing of the units before it to keep

    def _open(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("the unit of work is not open")
        return self._conn


#: the repositories that keep what their transaction read (each has ``forget()``)
_READ_ONCE = ("vms", "config")

#: the repositories a unit of work binds to its connection, by attribute: what its annotations name
_REPOSITORIES: dict[str, Callable[[Connection, Callable[[], datetime]], Any]] = dict(
    inspect.get_annotations(SqlUnitOfWork, eval_str=True)
)


class SqlUowFactory:
    """``factory()`` for a writing unit of work, ``factory(readonly=True)`` for a reading one,
    on :attr:`engine` (which :func:`harness.store.batch.batch` shares a transaction on)."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def __call__(self, readonly: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.clock, readonly)


def uow_factory(engine: Engine, clock: Callable[[], datetime] = utcnow) -> UowFactory:
    """``factory()`` for a writing unit of work, ``factory(readonly=True)`` for a reading one."""
    return SqlUowFactory(engine, clock)
