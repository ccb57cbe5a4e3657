"""Database fixtures shared by every test.

``db_kind`` runs a test on ``sqlite``, ``postgres`` and ``mysql`` (MariaDB). The server URLs
come from ``HVSNAP_TEST_PG_URL`` and ``HVSNAP_TEST_MYSQL_URL``, which ``scripts/test.sh``
exports after starting private servers; without them those tests skip, or fail when ``CI``
is set. Under pytest-xdist (``scripts/test.sh`` runs a worker per core) each worker has a
database of its own on each server. Every test starts from a clean database:

- ``db_url``: an empty database (every table dropped, ``alembic_version`` included);
- ``engine``: an engine on a database migrated to the head revision, with no rows;
- ``uow_factory``: units of work on ``engine``;
- ``sqlite_engine``: a migrated SQLite engine, for tests that need no other database.

Use either ``db_url`` or ``engine`` in one test, not both.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, create_engine, make_url, update
from sqlalchemy.pool import NullPool

from harness.store import uow as store_uow
from harness.store.migrate import HEAD, current_revision, ensure_schema
from harness.store.ports import UowFactory
from harness.store.tables import metadata
from harness.store.uow import make_engine

SERVER_URL_ENV = {"postgres": "HVSNAP_TEST_PG_URL", "mysql": "HVSNAP_TEST_MYSQL_URL"}
DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mysql", marks=pytest.mark.mysql),
]

# Server databases this session migrated itself: emptying their rows is as good as a fresh
# migration and costs a fraction of it (DDL on MariaDB takes about a second per test).
_migrated_here: set[str] = set()


def server_url(kind: str) -> str:
    """The URL of the test server ``kind``; skips (fails under ``CI``) when there is none.
    Under pytest-xdist each worker has a database of its own on the server, named after
    the worker (``hvsnap_test_gw0``, ...), which ``scripts/test.sh`` creates beside the
    first."""
    env = SERVER_URL_ENV[kind]
    url = os.environ.get(env)
    if not url:
        msg = f"{env} is not set: run `bash scripts/test.sh` to start the test servers"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


def wipe(url: str) -> None:
    """Drop every table of the database at ``url`` (``alembic_version`` included)."""
    _migrated_here.discard(url)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            existing = MetaData()
            existing.reflect(conn)
            existing.drop_all(conn)
    finally:
        engine.dispose()


def empty_tables(engine: Engine) -> None:
    """Delete every row of every table, children first."""
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            for fk in table.foreign_keys:
                if fk.column.table is table:  # domain.parent: InnoDB checks row by row
                    conn.execute(update(table).values({fk.parent.name: None}))
            conn.execute(table.delete())


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(params=DATABASES)
def db_kind(request: pytest.FixtureRequest) -> str:
    """``sqlite``, ``postgres`` or ``mysql``; parametrize it (``indirect=True``) to narrow."""
    return str(request.param)


@pytest.fixture
def db_url(db_kind: str, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or the PostgreSQL / MariaDB test database wiped."""
    if db_kind == "sqlite":
        return sqlite_url(tmp_path / "hvsnap.db")
    url = server_url(db_kind)
    wipe(url)
    return url


def migrated(url: str) -> Iterator[Engine]:
    server = not url.startswith("sqlite")
    engine = make_engine(url)
    try:
        if server and url in _migrated_here and current_revision(engine) == HEAD:
            empty_tables(engine)
        else:
            if server:
                wipe(url)
            ensure_schema(engine)
            if server:
                _migrated_here.add(url)
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def engine(db_kind: str, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database at the head revision with no rows (each of the three)."""
    url = sqlite_url(tmp_path / "hvsnap.db") if db_kind == "sqlite" else server_url(db_kind)
    yield from migrated(url)


@pytest.fixture
def uow_factory(engine: Engine) -> UowFactory:
    """``uow_factory()`` makes a writing unit of work, ``uow_factory(readonly=True)`` a reading one."""
    return store_uow.uow_factory(engine)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite engine, for tests that need no other database."""
    yield from migrated(sqlite_url(tmp_path / "sqlite-engine.db"))
