"""Alembic environment for hvsnap.

Run programmatically by :mod:`harness.store.migrate`: the caller passes an open connection in
``config.attributes["connection"]`` and owns its transaction. Without one (the ``alembic``
command line with ``-x``-less ``sqlalchemy.url``), an engine is made from ``sqlalchemy.url``.
SQLite gets ``render_as_batch`` so column drops and alters work through table copies.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from harness.store.tables import metadata

config = context.config


def _configure(**kwargs: object) -> None:
    context.configure(target_metadata=metadata, compare_type=True, **kwargs)  # type: ignore[arg-type]


def _run(connection: Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    _configure(url=url, literal_binds=True, render_as_batch=bool(url and url.startswith("sqlite")))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
