"""Assembly: a database, a host driver, a runner and the job queue, wired into a
:class:`~harness.service.manager.Manager`. The CLI, the HTTP server and the test fixtures
all open a cloud this way, so there is one place that decides how the parts fit.

State lives under a home folder (``--home``, ``$HVSNAP_HOME``, default ``./.hvsnap``):
``hvsnap.db`` (unless another database URL is given) and, for the simulated host,
``host.json``. ``store="memory"`` keeps the database in memory instead
(:mod:`harness.store.memory`: no engine, no migrations, nothing saved), for tests and
simulations that run the same service code without SQL. A test session keeps one
:class:`PristineDatabase` and opens each scenario's cloud on it with :func:`cloud_on`.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.domain.model import Account
from harness.drivers import HyperVDriver, load_driver
from harness.jobs.queue import AsyncJobs
from harness.jobs.runners import ThreadRunner
from harness.service import accounts
from harness.service.manager import Manager
from harness.store import migrate
from harness.store.memory import memory_uow_factory
from harness.store.ports import UowFactory
from harness.store.uow import database_url, make_engine, uow_factory

HOME_ENV = "HVSNAP_HOME"


def home_dir(home: str | Path | None = None) -> Path:
    return Path(home or os.environ.get(HOME_ENV) or ".hvsnap").resolve()


@dataclass
class Cloud:
    manager: Manager
    admin: Account
    driver: HyperVDriver
    home: Path

    def account(self, name: str | None) -> Account:
        """The account called ``name``, or the admin."""
        return self.admin if name is None else accounts.account_named(self.manager.uow_factory, name)


@contextmanager
def open_cloud(
    home: str | Path | None = None,
    db: str | None = None,
    driver: str = "sim",
    executor: Executor | None = None,
    store: str = "sql",
    recover: str = "if-needed",
    **driver_config: Any,
) -> Iterator[Cloud]:
    """Open (creating on first use) the cloud under ``home``; the driver is closed, and the
    simulated host's state saved, on exit. ``store``: ``"sql"`` (the database ``db``) or
    ``"memory"`` (a fresh in-memory store; ``db`` is ignored).

    The cloud is a manager (an ``mshost`` row, Down again on exit). Before it is handed out
    it recovers (:mod:`harness.service.recovery`): ``"always"`` runs a full sync (``serve``),
    ``"if-needed"`` only when something is in flight that no live manager owns (every CLI
    command), ``"never"`` skips it (``hvsnap sync`` runs its own)."""
    root = home_dir(home)
    with open_store(root, db, store) as (factory, admin):
        if driver in ("sim", "sim-timed"):
            driver_config.setdefault("state_file", root / "host.json")
        host = load_driver(driver, **driver_config)
        try:
            cloud = cloud_on(factory, admin, host, root, executor=executor)
            manager = cloud.manager
            manager.recovery.register()
            try:
                if recover == "always" or (recover == "if-needed" and manager.recovery.needs_recovery()):
                    manager.recovery.recover("manager start")
                yield cloud
            finally:
                manager.recovery.retire()
        finally:
            host.close()


def cloud_on(
    factory: UowFactory,
    admin: Account,
    host: HyperVDriver,
    home: Path,
    *,
    executor: Executor | None = None,
    runner_driver: HyperVDriver | None = None,
) -> Cloud:
    """The cloud on an open store and an open host driver: the one place a manager is wired.
    Its runner sends commands to ``runner_driver`` (default ``host``: a wrapper of the host,
    such as the test plugin's observer, goes here); nothing is recovered or registered."""
    runner = ThreadRunner(runner_driver if runner_driver is not None else host)
    return Cloud(Manager(factory, runner, AsyncJobs(factory, executor), host.capabilities), admin, host, home)


@contextmanager
def open_store(
    home: str | Path | None = None, db: str | None = None, store: str = "sql"
) -> Iterator[tuple[UowFactory, Account]]:
    """The cloud's database alone (created and migrated on first use) and its admin:
    ``"sql"`` (the database ``db``) or ``"memory"`` (a fresh in-memory store)."""
    root = home_dir(home)
    root.mkdir(parents=True, exist_ok=True)
    if store == "memory":
        memory = memory_uow_factory()
        yield memory, accounts.bootstrap(memory)
        return
    if store != "sql":
        raise ValueError(f"unknown store {store!r}: sql or memory")
    engine = make_engine(database_url(root, db))
    try:
        migrate.ensure_schema(engine)
        factory = uow_factory(engine)
        yield factory, accounts.bootstrap(factory)
    finally:
        engine.dispose()


class PristineDatabase:
    """One in-memory SQLite database for a whole test session, migrated and bootstrapped
    once; :meth:`fresh` resets it to that pristine copy (SQLite's backup API, about a
    millisecond). Keeping the one engine keeps SQLAlchemy's compiled-statement cache warm
    across scenarios, which a new engine per scenario would throw away."""

    def __init__(self) -> None:
        self.engine = make_engine("sqlite://")
        migrate.ensure_schema(self.engine)
        accounts.bootstrap(uow_factory(self.engine))
        self.pristine = sqlite3.connect(":memory:", check_same_thread=False)
        self._raw().backup(self.pristine)

    def _raw(self) -> sqlite3.Connection:
        raw = self.engine.raw_connection().driver_connection
        if not isinstance(raw, sqlite3.Connection):
            raise TypeError(f"a pristine database is SQLite's, not {type(raw).__name__}")
        return raw

    def fresh(self) -> tuple[UowFactory, Account]:
        """The database as it was after bootstrap, and its admin."""
        self.pristine.backup(self._raw())
        factory = uow_factory(self.engine)
        return factory, accounts.bootstrap(factory)

    def close(self) -> None:
        self.pristine.close()
        self.engine.dispose()
