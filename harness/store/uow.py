"""Engines and the unit of work.

A :class:`UnitOfWork` is one database transaction with the repositories bound to it:

    with uow_factory() as uow:
        snap = uow.vm_snapshots.get_by_uuid(uuid)
        uow.vm_snapshots.transit(snap, VMSnapshotEvent.RevertRequested)
        uow.commit()

Leaving the block without :meth:`UnitOfWork.commit` rolls everything back, so a rejected
request changes nothing. On SQLite (the embedded default) a writing unit of work starts with
``BEGIN IMMEDIATE``: SQLite has one writer, and taking the lock up front turns a would-be
deadlock between two upgrading readers into a short wait (``busy_timeout``).

Batching: inside :func:`batch`, the units of work of one thread on the factory's engine share
one transaction. Each one still behaves as its own: it commits into the shared transaction
(a ``SAVEPOINT`` undoes a writing one that leaves without :meth:`UnitOfWork.commit` once
something is committed before it), and later ones see what it wrote. The shared transaction
commits at :func:`flush`, which the runners call before they send a host command, and when
the batch ends: what a workflow wrote before a command is durable before the host sees the
command, and between two commands it is written at once. A crash therefore leaves one of
the states the unbatched code could have left (the last flush), only fewer of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import StaticPool

from harness.store import catalog, policies, resources
from harness.store.keypairs import SSHKeyPairs, VMDetails
from harness.store.vms import VMs
from harness.store.vmsnapshots import VMSnapshots
from harness.store.volumes import Volumes, VolumeSnapshots

DB_ENV = "HVSNAP_DB"


def utcnow() -> datetime:
    """Naive UTC, as CloudStack stores dates (GMT)."""
    return datetime.now(UTC).replace(tzinfo=None)


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


@dataclass
class Tally:
    """What an engine ran while :func:`tally` watched: transactions begun and committed, and
    statements (savepoints apart; SQLite's own ``BEGIN`` is the transaction, not counted)."""

    transactions: int = 0
    commits: int = 0
    statements: int = 0
    savepoints: int = 0


@contextmanager
def tally(engine: Engine) -> Iterator[Tally]:
    """Count what ``engine`` runs inside the block (benchmarks and tests of the
    transactions a workflow costs)."""
    counts = Tally()

    def on_begin(_conn: Connection) -> None:
        counts.transactions += 1

    def on_commit(_conn: Connection) -> None:
        counts.commits += 1

    def on_statement(_conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        head = statement.lstrip()[:9].upper()
        if head.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK ")):
            counts.savepoints += 1
        elif not head.startswith("BEGIN"):
            counts.statements += 1

    hooks: list[tuple[str, Callable[..., None]]] = [
        ("begin", on_begin),
        ("commit", on_commit),
        ("before_cursor_execute", on_statement),
    ]
    for name, hook in hooks:
        event.listen(engine, name, hook)
    try:
        yield counts
    finally:
        for name, hook in hooks:
            event.remove(engine, name, hook)


class _Batch:
    """The transaction the units of work of one :func:`batch` share, opened on first use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conn: Connection | None = None
        self.dirty = False  # a unit of work has committed into the open transaction
        self.savepoints = 0  # issued, for the record (they bypass SQLAlchemy: see savepoint)
        # the repositories bound to the open connection, per clock: they hold nothing else,
        # so every unit of work of the transaction shares one set
        self.repos: dict[int, dict[str, Any]] = {}

    def join(self, readonly: bool) -> tuple[Connection, str | None]:
        """The shared connection, and a savepoint for a writing unit of work that must not
        undo, on failure, what the units before it committed."""
        if self.conn is None:
            self.conn = self.engine.connect()
            self.conn.begin()  # IMMEDIATE on SQLite even when a reader opens it: a writer follows
        if not self.dirty or readonly:
            return self.conn, None
        self.savepoints += 1
        name = f"hvsnap_uow_{self.savepoints}"
        self.savepoint(f"SAVEPOINT {name}")
        return self.conn, name

    def savepoint(self, sql: str) -> None:
        """Run a savepoint statement on the driver's connection itself: SQLAlchemy's nested
        transactions cost more than the statements they send, several times per workflow.
        The statements only mark and undo inside the open transaction, which SQLAlchemy
        still owns and ends."""
        if self.conn is None:
            return
        cursor = self.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql)
        finally:
            cursor.close()

    def discard(self) -> None:
        """Roll the open transaction back (nothing in it was committed by a unit of work)."""
        self.repos.clear()
        if self.conn is not None:
            conn, self.conn = self.conn, None
            try:
                conn.rollback()
            finally:
                conn.close()

    def end(self) -> None:
        """Commit what the units of work committed; start afresh on next use."""
        if self.conn is None:
            return
        conn, self.conn = self.conn, None
        dirty, self.dirty = self.dirty, False
        self.repos.clear()
        try:
            if dirty:
                conn.commit()
            else:
                conn.rollback()
        finally:
            conn.close()


_batch: ContextVar[_Batch | None] = ContextVar("hvsnap_uow_batch", default=None)


@contextmanager
def batch(factory: Callable[..., Any]) -> Iterator[None]:
    """Share one transaction among the units of work ``factory`` opens in this thread until
    the next :func:`flush` (see the module's doc). Re-entrant: an inner batch is the outer
    one. A factory without an engine (the in-memory store) is not batched."""
    engine = getattr(factory, "engine", None)
    if not isinstance(engine, Engine) or _batch.get() is not None:
        yield
        return
    state = _Batch(engine)
    token = _batch.set(state)
    try:
        yield
    finally:
        _batch.reset(token)
        state.end()


@contextmanager
def unbatched() -> Iterator[None]:
    """Run the block outside this thread's batch (what it holds is committed first): for
    work that may wait on something other than a host command."""
    flush()
    token = _batch.set(None)
    try:
        yield
    finally:
        _batch.reset(token)


def flush() -> None:
    """Commit this thread's batched transaction now (no-op outside a batch): before a host
    command is sent, and before a wait that must not hold locks."""
    state = _batch.get()
    if state is not None:
        state.end()


class UnitOfWork:
    """One transaction and the repositories that work inside it (or one part of a batch's)."""

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
        self._batch: _Batch | None = None
        self._savepoint: str | None = None
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        shared = _batch.get()
        if shared is not None and shared.engine is self.engine:
            conn, self._savepoint = shared.join(self.readonly)
            self._batch, self._committed = shared, False
            bound = shared.repos.get(id(self.clock))
            if bound is not None:
                self.__dict__.update(bound)
                self._conn = conn
                return self
        else:
            conn = self.engine.connect()
            if self.readonly and self.engine.dialect.name == "sqlite":
                conn = conn.execution_options(sqlite_begin="DEFERRED")
            conn.begin()
        self._conn = conn
        now = self.clock
        self.vm_snapshots = VMSnapshots(conn, now)
        self.vms = VMs(conn, now)
        self.volumes = Volumes(conn, now)
        self.volume_snapshots = VolumeSnapshots(conn, now)
        self.domains = catalog.Domains(conn, now)
        self.accounts = catalog.Accounts(conn, now)
        self.offerings = catalog.Offerings(conn, now)
        self.zones = catalog.Zones(conn, now)
        self.hosts = catalog.Hosts(conn, now)
        self.capabilities = catalog.Capabilities(conn, now)
        self.config = catalog.Configuration(conn, now)
        self.jobs = catalog.Jobs(conn, now)
        self.mshosts = catalog.ManagementServers(conn, now)
        self.vm_snapshot_policies = policies.VMSnapshotPolicies(conn, now)
        self.resource_limits = policies.ResourceLimits(conn, now)
        self.users = resources.Users(conn, now)
        self.nics = resources.Nics(conn, now)
        self.tags = resources.Tags(conn, now)
        self.events = resources.Events(conn, now)
        self.keypairs = SSHKeyPairs(conn, now)
        self.vm_details = VMDetails(conn, now)
        if self._batch is not None:
            self._batch.repos[id(self.clock)] = {name: getattr(self, name) for name in REPOSITORIES}
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._conn is not None
        if self._batch is not None:
            shared, self._batch, self._conn = self._batch, None, None
            if not self._committed:
                self._undo(shared)
            return
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            self._conn.close()
            self._conn = None

    def commit(self) -> None:
        assert self._conn is not None, "commit outside a unit of work"
        if self._batch is None:
            self._conn.commit()
            return
        if self._savepoint is not None:
            self._batch.savepoint(f"RELEASE SAVEPOINT {self._savepoint}")
            self._savepoint = None
        self._batch.dirty = self._committed = True

    def rollback(self) -> None:
        assert self._conn is not None
        if self._batch is None:
            self._conn.rollback()
            return
        self._undo(self._batch)  # in a batch this ends the unit of work's use of the database

    def _undo(self, shared: _Batch) -> None:
        """Undo what this part of a batch wrote since it began (or last committed)."""
        if self._savepoint is not None:
            name, self._savepoint = self._savepoint, None
            shared.savepoint(f"ROLLBACK TO SAVEPOINT {name}")
            shared.savepoint(f"RELEASE SAVEPOINT {name}")
        elif not self.readonly and not shared.dirty:
            shared.discard()  # nothing of the units before it to keep

    @property
    def now(self) -> datetime:
        return self.clock()


UowFactory = Callable[..., UnitOfWork]
#: the repositories a unit of work binds, by attribute
REPOSITORIES = tuple(UnitOfWork.__annotations__)


class SqlUowFactory:
    """``factory()`` for a writing unit of work, ``factory(readonly=True)`` for a reading one,
    on :attr:`engine` (which :func:`batch` shares a transaction on)."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def __call__(self, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(self.engine, self.clock, readonly)


def uow_factory(engine: Engine, clock: Callable[[], datetime] = utcnow) -> UowFactory:
    """``factory()`` for a writing unit of work, ``factory(readonly=True)`` for a reading one."""
    return SqlUowFactory(engine, clock)
