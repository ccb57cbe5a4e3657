"""Core benchmarks of the manager, each against a baseline measured in the same run.

Run: ``.venv/bin/python benchmarks/core.py`` (``--quick`` for a smoke run). These machines
are noisy, so every figure comes with a ratio to raw SQLAlchemy Core on the same disk:

(a) create -> Ready workflows per second on a SQLite WAL file with the instant in-memory
    simulated host, driven as the thread runner does (``vmsnapshots.allocate`` +
    ``ThreadRunner.run(vmsnapshots.create(...))``) and through
    ``Manager.create_vm_snapshot`` (which adds the ``async_job`` row and the result view),
    round-robin over many VMs within ``vmsnapshot.max``. Baseline: Core transactions of
    INSERT 1 row + UPDATE 1 row by pk + SELECT <= 10 rows by an indexed column + COMMIT,
    on a separate WAL file with the same pragmas (``make_engine``). Target: 1,500/s.
(b) ``Manager.list_vm_snapshots`` of one VM holding 1,000 snapshots (service + views, all
    rows), median of repeated runs. Baseline: the raw Core
    ``SELECT * FROM vm_snapshots WHERE vm_id = ?`` fetchall. Target: 20 ms.

Results are printed as a table and written to ``reports/out/bench-core.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Column, Engine, Index, Integer, MetaData, String, insert, select, text, update
from sqlalchemy import Table as SATable

from harness.domain.model import VMSnapshot
from harness.domain.states import VMSnapshotState, VMSnapshotType
from harness.jobs.runners import ThreadRunner
from harness.service import vms, vmsnapshots
from harness.service.cloud import Cloud, open_cloud
from harness.store.batch import tally
from harness.store.uow import make_engine

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "reports" / "out" / "bench-core.json"

CREATE_TARGET_PER_S = 1500.0
LIST_TARGET_MS = 20.0

Result = dict[str, Any]


# --------------------------------------------------------------------------- baselines


def _baseline_engine(url: str) -> tuple[Engine, SATable]:
    md = MetaData()
    table = SATable(
        "bench_rows", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("vm_id", Integer, nullable=False),
        Column("name", String(255), nullable=False),
        Column("state", String(32), nullable=False),
        Column("update_count", Integer, nullable=False, default=0),
        Index("bench_rows_vm_id", "vm_id"),
    )
    engine = make_engine(url)
    md.drop_all(engine)
    md.create_all(engine)
    return engine, table


class CoreBaseline:
    """Raw Core transactions: INSERT 1 + UPDATE 1 by pk + SELECT <= 10 by an indexed column
    + COMMIT, round-robin over ``vm_count`` values of the indexed column."""

    def __init__(self, url: str, vm_count: int) -> None:
        self.engine, self.table = _baseline_engine(url)
        self.vm_count = vm_count
        self.i = 0
        self.run(200)  # warm the statement cache and the file

    def one(self) -> None:
        table, c = self.table, self.table.c
        self.i += 1
        vm_id = self.i % self.vm_count
        with self.engine.connect() as conn:
            new_id = conn.execute(insert(table).values(vm_id=vm_id, name=f"n{self.i}", state="Allocated")).lastrowid
            conn.execute(update(table).where(c.id == new_id).values(state="Ready", update_count=1))
            conn.execute(select(table).where(c.vm_id == vm_id).limit(10)).fetchall()
            conn.commit()

    def run(self, n: int) -> float:
        """Seconds for ``n`` transactions."""
        start = time.perf_counter()
        for _ in range(n):
            self.one()
        return time.perf_counter() - start

    def close(self) -> None:
        self.engine.dispose()


# --------------------------------------------------------------------------- (a) create -> Ready


def _deploy(cloud: Cloud, count: int, prefix: str) -> list[str]:
    f, runner = cloud.manager.uow_factory, cloud.manager.runner
    out = []
    for i in range(count):
        vm = vms.check_deploy(f, cloud.admin, f"{prefix}{i}", "small", True)
        runner.run(vms.deploy(f, vm.id))
        out.append(vm.uuid)
    return out


def _ready_count(cloud: Cloud) -> int:
    with cloud.manager.uow_factory(readonly=True) as uow:
        return int(
            uow.vms.conn.execute(
                text("SELECT count(*) FROM vm_snapshots WHERE state = 'Ready' AND removed IS NULL")
            ).scalar_one()
        )


def bench_create(work: Path, vm_count: int, rounds: int, db: str | None = None) -> Result:
    """Each round creates one snapshot on every VM, through each path, with a baseline chunk
    of as many Core transactions between them: rates and ratios are medians over rounds, so
    a load spike on the machine hits both sides of a ratio alike. ``db``: a server database
    (an empty one) for the cloud and the baseline both, instead of two SQLite WAL files."""
    baseline = CoreBaseline(db or f"sqlite:///{work / 'baseline.db'}", vm_count)
    with open_cloud(work / "cloud", db=db, driver="sim", state_file=None) as cloud:
        m, f, admin = cloud.manager, cloud.manager.uow_factory, cloud.admin
        runner = ThreadRunner(cloud.driver)  # as the thread runner drives a workflow
        service_vms = _deploy(cloud, vm_count, "svc")
        manager_vms = _deploy(cloud, vm_count, "mgr")
        [warm] = _deploy(cloud, 1, "warm")
        for _ in range(5):
            snap = vmsnapshots.allocate(f, admin, warm)
            runner.run(vmsnapshots.create(f, snap.id))
        m.set_config(admin, "vmsnapshot.max", str(max(10, rounds)))
        ready_before = _ready_count(cloud)

        def service_round() -> None:
            for vm_uuid in service_vms:
                snap = vmsnapshots.allocate(f, admin, vm_uuid)
                runner.run(vmsnapshots.create(f, snap.id))

        def manager_round() -> None:
            for vm_uuid in manager_vms:
                _, job = m.create_vm_snapshot(admin, vm_uuid)
                assert job.job_status == 1, job.job_result

        core, service, manager = [], [], []
        for _ in range(rounds):
            core.append(vm_count / baseline.run(vm_count))
            service.append(vm_count / _timed(service_round))
            core.append(vm_count / baseline.run(vm_count))
            manager.append(vm_count / _timed(manager_round))
        baseline.close()
        n = vm_count * rounds
        ready = _ready_count(cloud) - ready_before
        assert ready == 2 * n, f"expected {2 * n} new Ready snapshots, found {ready}"
        costs = _costs(cloud, manager_vms[0])
    med = statistics.median
    return {
        "database": cloud.manager.uow_factory(readonly=True).engine.dialect.name, "per_workflow": costs,
        "vms": vm_count, "snapshots_per_vm": rounds, "workflows_per_path": n,
        "service_per_s": med(service), "manager_per_s": med(manager), "core_tx_per_s": med(core),
        "service_ratio": med(s / c for s, c in zip(service, core[0::2], strict=True)),
        "manager_ratio": med(m_ / c for m_, c in zip(manager, core[1::2], strict=True)),
        "rounds": {"service_per_s": service, "manager_per_s": manager, "core_tx_per_s": core},
    }


def _costs(cloud: Cloud, vm_uuid: str) -> dict[str, int]:
    """Transactions and statements of one create -> Ready through the manager (its jobs run
    inline), as the engine counts them."""
    m = cloud.manager
    with tally(m.uow_factory(readonly=True).engine) as counts:
        m.create_vm_snapshot(cloud.admin, vm_uuid)
    return {"transactions": counts.transactions, "commits": counts.commits, "statements": counts.statements}


def _timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# --------------------------------------------------------------------------- (b) list 1,000


def bench_list(work: Path, snapshots: int, runs: int) -> Result:
    with open_cloud(work / "list", driver="sim", state_file=None) as cloud:
        m, f, admin = cloud.manager, cloud.manager.uow_factory, cloud.admin
        m.set_config(admin, "vmsnapshot.max", str(snapshots + 1))
        [vm_uuid] = _deploy(cloud, 1, "big")
        _insert_snapshots(cloud, vm_uuid, snapshots)
        count, rows = m.list_vm_snapshots(admin, vm_uuid=vm_uuid)
        assert count == snapshots and len(rows) == snapshots
        engine = make_engine(f"sqlite:///{work / 'list' / 'hvsnap.db'}")
        with f(readonly=True) as uow:
            vm = uow.vms.get_by_uuid(vm_uuid)
            assert vm is not None
        raw_sql = text("SELECT * FROM vm_snapshots WHERE vm_id = :vm_id")

        def raw() -> None:
            with engine.connect() as conn:
                assert len(conn.execute(raw_sql, {"vm_id": vm.id}).fetchall()) == snapshots

        def listing() -> None:
            m.list_vm_snapshots(admin, vm_uuid=vm_uuid)

        raw()
        listing()  # warm both
        service, core = [], []
        for _ in range(runs):  # interleaved, so both see the same machine
            service.append(_timed(listing) * 1000)
            core.append(_timed(raw) * 1000)
        engine.dispose()
    med = statistics.median
    return {
        "snapshots": snapshots, "runs": runs, "service_ms": med(service), "core_ms": med(core),
        "ratio": med(s / c for s, c in zip(service, core, strict=True)),
        "service_ms_all": service, "core_ms_all": core,
    }


def _insert_snapshots(cloud: Cloud, vm_uuid: str, count: int) -> None:
    """``count`` Ready snapshots in one chain, the last current: written through the store's
    repository in one transaction (the listing never asks the host)."""
    with cloud.manager.uow_factory() as uow:
        vm = uow.vms.get_by_uuid(vm_uuid)
        assert vm is not None
        parent: int | None = None
        for i in range(count):
            name = f"{vm.instance_name}_VS_{20240101000000 + i}"
            snap = uow.vm_snapshots.add(
                VMSnapshot(
                    id=0, uuid=str(uuid.uuid4()), name=name, display_name=f"snap-{i}", description=None,
                    vm_id=vm.id, account_id=vm.account_id, domain_id=vm.domain_id,
                    service_offering_id=vm.service_offering_id,
                    type=VMSnapshotType.DiskAndMemory if i % 3 == 0 else VMSnapshotType.Disk,
                    state=VMSnapshotState.Ready, parent=parent, current=i == count - 1,
                )
            )
            parent = snap.id
        uow.commit()


# --------------------------------------------------------------------------- report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--vms", type=int, default=200, help="VMs for the create benchmark (each path)")
    parser.add_argument("--rounds", type=int, default=10, help="snapshots per VM (within vmsnapshot.max)")
    parser.add_argument("--list-size", type=int, default=1000, help="snapshots of the listed VM")
    parser.add_argument("--runs", type=int, default=20, help="timed listings (median)")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--db", help="an empty server database (URL) for the create benchmark and its baseline")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.quick:
        args.vms, args.rounds, args.list_size, args.runs = 20, 3, 200, 5

    console = Console(width=150)
    with tempfile.TemporaryDirectory(prefix="hvsnap-bench-") as tmp:
        work = Path(tmp)
        console.print(f"[dim]create: {args.vms} VMs x {args.rounds} snapshots, per path...[/dim]")
        create = bench_create(work, args.vms, args.rounds, args.db)
        gc.collect()  # the create run's garbage must not be collected on the listing's time
        console.print(f"[dim]list: 1 VM x {args.list_size} snapshots, median of {args.runs}...[/dim]")
        listing = bench_list(work, args.list_size, args.runs)

    core = create["core_tx_per_s"]
    create.update(
        target_per_s=CREATE_TARGET_PER_S, service_met=create["service_per_s"] >= CREATE_TARGET_PER_S,
        manager_met=create["manager_per_s"] >= CREATE_TARGET_PER_S,
    )
    listing.update(target_ms=LIST_TARGET_MS, met=listing["service_ms"] <= LIST_TARGET_MS)

    table = Table(title="hvsnap core benchmarks")
    for col in ("benchmark", "result", "baseline (same run)", "ratio", "target", "met"):
        table.add_column(col, justify="left" if col == "benchmark" else "right")

    def met(ok: bool) -> str:
        return "[green]yes[/green]" if ok else "[red]no[/red]"

    table.add_row(
        "create->Ready, service (allocate + ThreadRunner)", f"{create['service_per_s']:,.0f} wf/s",
        f"{core:,.0f} core tx/s", f"{create['service_ratio']:.3f}", f">= {CREATE_TARGET_PER_S:,.0f}/s",
        met(create["service_met"]),
    )
    table.add_row(
        "create->Ready, Manager.create_vm_snapshot (+ job)", f"{create['manager_per_s']:,.0f} wf/s",
        f"{core:,.0f} core tx/s", f"{create['manager_ratio']:.3f}", f">= {CREATE_TARGET_PER_S:,.0f}/s",
        met(create["manager_met"]),
    )
    table.add_row(
        f"list 1 VM x {listing['snapshots']} snapshots (median)", f"{listing['service_ms']:.2f} ms",
        f"{listing['core_ms']:.2f} ms raw SELECT", f"{listing['ratio']:.1f}x", f"<= {LIST_TARGET_MS:.0f} ms",
        met(listing["met"]),
    )
    console.print(table)
    cost = create["per_workflow"]
    console.print(
        f"one create->Ready through the manager on {create['database']}: {cost['transactions']} transactions "
        f"({cost['commits']} commits), {cost['statements']} statements"
    )
    console.print(
        "ratios are medians of per-round ratios against a baseline chunk run right beside each round: "
        "create = workflows/s / core tx/s, list = service ms / raw SELECT ms"
    )

    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "python": sys.version.split()[0], "platform": platform.platform(), "quick": args.quick,
        "create": create, "list": listing,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    console.print(f"[dim]written {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}[/dim]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
