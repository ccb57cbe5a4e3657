"""Schema migrations, run from code: no ``alembic.ini`` is needed.

:func:`ensure_schema` runs at every start of the CLI and the server. When the database is
already at :data:`HEAD` it costs one small query and never imports Alembic; otherwise it
upgrades the database to :data:`HEAD` in one transaction (one at a time per database:
PostgreSQL and MariaDB take an advisory lock, SQLite's ``BEGIN IMMEDIATE`` serialises).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

#: The newest revision in ``migrations/versions``; a test checks they agree.
HEAD = "0009"
VERSION_TABLE = "alembic_version"
MIGRATIONS = Path(__file__).resolve().with_name("migrations")
_LOCK = "hvsnap-schema-migration"


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or ``None`` when it was never migrated."""
    with engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="DEFERRED")  # a read: no write lock on SQLite
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def ensure_schema(engine: Engine) -> None:
    """Bring the database to :data:`HEAD` unless it is there already (the cheap check)."""
    with _sqlite_file_lock(engine):
        if current_revision(engine) != HEAD:
            upgrade(engine)


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """Two processes starting on one new SQLite file take turns: the second sees the first's
    schema instead of racing it for SQLite's write lock (servers use advisory locks)."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (Alembic's ``upgrade``)."""
    from alembic import command

    with _migrating(engine) as cfg:
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the database to ``revision`` (``"base"`` drops every table)."""
    from alembic import command

    with _migrating(engine) as cfg:
        command.downgrade(cfg, revision)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` for hvsnap's migrations, built in code."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@contextmanager
def _migrating(engine: Engine) -> Iterator[Config]:
    """A config bound to one connection in one transaction, holding the migration lock
    until that transaction has committed: the next manager to take the lock must read the
    version this one wrote (MariaDB commits each DDL statement by itself, so the last
    version update is only durable at the final commit)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        try:
            with conn.begin():
                _lock(conn)
                cfg.attributes["connection"] = conn
                yield cfg
        finally:
            _unlock(conn)


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": _LOCK})
    elif conn.dialect.name in ("mysql", "mariadb"):
        conn.execute(text("SELECT GET_LOCK(:name, 300)"), {"name": _LOCK})


def _unlock(conn: Connection) -> None:
    """MariaDB's named lock belongs to the session and outlives the commit; PostgreSQL's
    transaction lock went with it."""
    if conn.dialect.name in ("mysql", "mariadb"):
        conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _LOCK})
