"""The Alembic migrations, on SQLite, PostgreSQL and MariaDB: they build the schema that
``tables.py`` describes, and 0002 is the spec's ``vm_snapshot_enabled`` change."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from harness.store import migrate
from harness.store.tables import metadata
from harness.store.uow import make_engine

# 0001's hypervisor_capabilities, before the spec's column.
caps_0001 = sa.table(
    "hypervisor_capabilities",
    sa.column("id", sa.Integer),
    sa.column("uuid", sa.String),
    sa.column("hypervisor_type", sa.String),
    sa.column("hypervisor_version", sa.String),
    sa.column("max_guests_limit", sa.BigInteger),
)
caps = sa.table(
    "hypervisor_capabilities",
    sa.column("uuid", sa.String),
    sa.column("hypervisor_type", sa.String),
    sa.column("hypervisor_version", sa.String),
    sa.column("vm_snapshot_enabled", sa.Boolean),
)


@pytest.fixture
def bare(db_url: str) -> Iterator[Engine]:
    """An engine on an empty, never migrated database."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def table_names(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def enabled_by_uuid(engine: Engine) -> dict[str, bool]:
    with engine.connect() as conn:
        return {u: bool(e) for u, e in conn.execute(sa.select(caps.c.uuid, caps.c.vm_snapshot_enabled))}


def test_head_is_the_newest_script() -> None:
    """migrate.HEAD (read without Alembic at every start) names the one head of a straight line."""
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    assert scripts.get_heads() == [migrate.HEAD]
    chain = [s.revision for s in scripts.walk_revisions()]  # newest first
    assert chain[-2:] == ["0002", "0001"]
    assert chain[0] == migrate.HEAD


def test_upgrade_builds_every_table_from_empty(bare: Engine) -> None:
    assert table_names(bare) == set()
    assert migrate.current_revision(bare) is None

    migrate.upgrade(bare)

    assert table_names(bare) == set(metadata.tables) | {"alembic_version"}
    assert migrate.current_revision(bare) == migrate.HEAD


def _same_server_default(
    context: MigrationContext,
    inspected_column: sa.Column[Any],
    metadata_column: sa.Column[Any],
    inspected_default: str | None,
    metadata_default: object,
    rendered_metadata_default: str | None,
) -> bool | None:
    """The one piece of dialect noise: MariaDB has no boolean type and reflects the
    ``false`` default of a BOOL (tinyint(1)) column as ``0``. Anything else: Alembic decides."""
    if context.dialect.name in ("mysql", "mariadb") and rendered_metadata_default == "false":
        return inspected_default not in ("0", "'0'")
    return None


def test_migrated_schema_matches_tables_py(engine: Engine) -> None:
    """Autogenerate finds nothing to do: tables, columns, types, nullability, server defaults,
    indexes, unique constraints and foreign keys all agree with tables.py."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": _same_server_default}
        )
        assert compare_metadata(context, metadata) == []


def test_the_comparison_sees_drift(engine: Engine) -> None:
    """The check above is not vacuous: a column or index missing from the database shows."""
    drifted = sa.MetaData()
    for table in metadata.tables.values():
        table.to_metadata(drifted)
    vm_snapshots = drifted.tables["vm_snapshots"]
    vm_snapshots.append_column(sa.Column("memory_size", sa.BigInteger))
    sa.Index("vm_snapshots_state", vm_snapshots.c.state)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), drifted)
    assert sorted(d[0] for d in diffs) == ["add_column", "add_index"]


def test_0001_has_no_vm_snapshot_enabled(bare: Engine) -> None:
    migrate.upgrade(bare, "0001")

    assert migrate.current_revision(bare) == "0001"
    assert "vm_snapshot_enabled" not in columns(bare, "hypervisor_capabilities")
    assert "uc_hypervisor" in {
        u["name"] for u in sa.inspect(bare).get_unique_constraints("hypervisor_capabilities")
    } | {i["name"] for i in sa.inspect(bare).get_indexes("hypervisor_capabilities") if i["unique"]}


def test_0002_keeps_existing_rows_and_enables_hyperv(bare: Engine) -> None:
    migrate.upgrade(bare, "0001")
    rows = [
        ("caps-hyperv-default", "Hyperv", "default"),
        ("caps-hyperv-62", "Hyperv", "6.2"),
        ("caps-vmware", "VMware", "default"),
    ]
    with bare.begin() as conn:
        conn.execute(
            sa.insert(caps_0001),
            [{"uuid": u, "hypervisor_type": t, "hypervisor_version": v, "max_guests_limit": 1024}
             for u, t, v in rows],
        )

    migrate.upgrade(bare, "0002")

    assert enabled_by_uuid(bare) == {
        "caps-hyperv-default": True,
        "caps-hyperv-62": True,
        "caps-vmware": False,
    }
    with bare.connect() as conn:
        kept = conn.execute(sa.select(caps_0001.c.uuid, caps_0001.c.max_guests_limit)).all()
    assert sorted(kept) == sorted((u, 1024) for u, _, _ in rows)
    # A row written without the column gets the server default: disabled.
    with bare.begin() as conn:
        conn.execute(
            sa.insert(caps_0001).values(uuid="caps-kvm", hypervisor_type="KVM", hypervisor_version="x")
        )
    assert enabled_by_uuid(bare)["caps-kvm"] is False


def test_downgrade_0002_drops_the_column_and_keeps_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(caps).values(
                uuid="c1", hypervisor_type="Hyperv", hypervisor_version="default", vm_snapshot_enabled=True
            )
        )

    migrate.downgrade(engine, "0001")

    assert migrate.current_revision(engine) == "0001"
    assert "vm_snapshot_enabled" not in columns(engine, "hypervisor_capabilities")
    with engine.connect() as conn:
        kept = conn.execute(sa.select(caps_0001.c.uuid, caps_0001.c.hypervisor_type)).all()
    assert kept == [("c1", "Hyperv")]

    migrate.upgrade(engine)  # and back: Hyperv is enabled again

    assert enabled_by_uuid(engine) == {"c1": True}


def test_downgrade_to_base_drops_every_table(engine: Engine) -> None:
    migrate.downgrade(engine, "base")

    assert table_names(engine) == {"alembic_version"}
    assert migrate.current_revision(engine) is None


def test_ensure_schema_upgrades_an_old_database_and_is_idempotent(bare: Engine) -> None:
    migrate.upgrade(bare, "0001")

    migrate.ensure_schema(bare)
    assert migrate.current_revision(bare) == migrate.HEAD
    migrate.ensure_schema(bare)
    assert migrate.current_revision(bare) == migrate.HEAD
    with bare.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


@pytest.mark.parametrize("slow_commit", [False, True], ids=["plain", "slow-commit"])
def test_concurrent_starts_migrate_once(db_url: str, slow_commit: bool) -> None:
    """Two managers starting at once on an empty database: one migrates, the other waits
    (advisory lock, or SQLite's write lock) and then finds the schema at head. With a slow
    final commit, the lock must still be held until the commit is done: MariaDB commits each
    DDL statement by itself, so a waiter let in before the last commit would read an older
    version and run the last migration again ("table already exists")."""
    engines = [make_engine(db_url) for _ in range(2)]
    if slow_commit:
        for engine in engines:
            sa.event.listen(engine, "commit", lambda _conn: time.sleep(0.5))
    errors: list[BaseException] = []

    def start(engine: Engine) -> None:
        try:
            migrate.ensure_schema(engine)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert errors == []
        assert migrate.current_revision(engines[0]) == migrate.HEAD
        with engines[0].connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    finally:
        for engine in engines:
            engine.dispose()


def test_ensure_schema_at_head_does_not_import_alembic(sqlite_engine: Engine) -> None:
    """The CLI calls ensure_schema at every start: at head it must stay cheap."""
    url = sqlite_engine.url.render_as_string(hide_password=False)
    code = (
        "import sys\n"
        "from harness.store.migrate import ensure_schema\n"
        "from harness.store.uow import make_engine\n"
        f"ensure_schema(make_engine({url!r}))\n"
        "assert 'alembic' not in sys.modules, 'alembic was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_migrations_ship_in_the_package() -> None:
    here = migrate.MIGRATIONS
    assert (here / "env.py").is_file()
    assert (here / "script.py.mako").is_file()
    assert {p.name for p in (here / "versions").glob("*.py")} >= {
        "0001_initial.py",
        "0002_vm_snapshot_enabled.py",
    }
