"""Recovery benchmarks, each printed against a baseline measured in the same run.

Run: ``.venv/bin/python benchmarks/recovery.py`` (``--quick`` for a smoke run; ``--rounds N``,
``--vms N``; ``--two-managers URL`` adds the two-manager race on that PostgreSQL/MariaDB URL).

(a) Restart + sync of a large cloud: 1,000 VMs and 10,000 snapshots on SQLite with 5% of the
    snapshots left transient as a crash leaves them (Creating with and without a checkpoint
    on the host, Reverting, Expunging), a few VMs Stopping and their jobs pending under a dead
    manager. Timed: ``open_cloud(recover="always")`` (migrations check, mshost row, job
    takeover, VMSnapshotSync, finishing the jobs). Baseline: listing the same rows raw
    (``SELECT *`` of ``vm_snapshots`` and ``vm_instance``, fetchall). Target: <= 5 s.
(b) The kill -9 crash campaign (``tests/crash_campaign.py``): >= 200 rounds of a ``serve``
    subprocess in SimPy time killed at seeded moments; prints the tally of what each restart
    settled and the violations (none expected). Baseline: a clean restart (SIGTERM) of the
    same server, so the ratio is what a crash costs the restart.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.domain.model import AsyncJob, ManagementServer  # noqa: E402
from harness.service.cloud import open_cloud  # noqa: E402
from harness.store import tables as t  # noqa: E402
from harness.store.uow import make_engine  # noqa: E402
from simulator.host import HyperVHost  # noqa: E402
from tests.crash_campaign import Campaign  # noqa: E402


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def build(home: Path, n_vms: int, per_vm: int, seed: int = 1) -> dict[str, Any]:
    """The large cloud, then the crash: 5% transient snapshots, 1% VMs Stopping, their jobs
    pending under a dead manager. Returns the host's state (the driver's file is not used:
    a 10,000-checkpoint JSON saved after every command would time the simulator, not sync)."""
    rng = random.Random(seed)
    with open_cloud(home, driver="sim", state_file=None) as cloud:
        m, admin = cloud.manager, cloud.admin
        vm_ids = []
        for i in range(n_vms):
            vm, _ = m.deploy_vm(admin, f"vm{i}")
            vm_ids.append(vm.uuid)
        for _ in range(per_vm):
            for vm_uuid in vm_ids:
                m.create_vm_snapshot(admin, vm_uuid)
        host = cloud.driver.host  # type: ignore[attr-defined]
        factory = m.uow_factory
        with factory() as uow:
            uow.mshosts.register(ManagementServer(0, 4242, os.uname().nodename, _dead_pid()))
            conn = uow.vms.conn
            snaps = conn.execute(select(t.vm_snapshots.c.id, t.vm_snapshots.c.vm_id)).all()
            transient = rng.sample(snaps, len(snaps) // 20)
            for k, (sid, _vm) in enumerate(transient):
                state = ("Creating", "Reverting", "Expunging")[k % 3]
                conn.execute(update(t.vm_snapshots).where(t.vm_snapshots.c.id == sid).values(state=state))
                cmd = {
                    "Creating": "createVMSnapshot",
                    "Reverting": "revertToVMSnapshot",
                    "Expunging": "deleteVMSnapshot",
                }[state]
                uow.jobs.add(
                    AsyncJob(
                        0,
                        f"crash-{sid}",
                        admin.id,
                        cmd,
                        "{}",
                        "VmSnapshot",
                        sid,
                        init_msid=4242,
                        executing_msid=4242,
                        process_status=1,
                    )
                )
            stopping = rng.sample(range(1, n_vms + 1), max(1, n_vms // 100))
            conn.execute(update(t.vm_instance).where(t.vm_instance.c.id.in_(stopping)).values(state="Stopping"))
            uow.commit()
        return {"host": host.to_dict(), "snapshots": len(snaps), "transient": len(transient), "stopping": len(stopping)}


def bench_sync(n_vms: int, per_vm: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as d:
        home = Path(d)
        t0 = time.perf_counter()
        built = build(home, n_vms, per_vm)
        build_s = time.perf_counter() - t0
        engine = make_engine(f"sqlite:///{home / 'hvsnap.db'}")
        t0 = time.perf_counter()
        with engine.connect() as conn:
            rows = len(conn.execute(select(t.vm_snapshots)).all()) + len(conn.execute(select(t.vm_instance)).all())
        raw_s = time.perf_counter() - t0
        host = HyperVHost.from_dict(built["host"])
        t0 = time.perf_counter()
        with open_cloud(home, driver="sim", state_file=None, host=host, recover="always"):
            pass
        sync_s = time.perf_counter() - t0
        with engine.connect() as conn:
            left = conn.execute(
                text(
                    "SELECT COUNT(*) FROM vm_snapshots WHERE removed IS NULL AND state IN "
                    "('Allocated','Creating','Reverting','Expunging')"
                )
            ).scalar()
            pending = conn.execute(text("SELECT COUNT(*) FROM async_job WHERE job_status = 0")).scalar()
        engine.dispose()
    return {
        "vms": n_vms,
        "snapshots": built["snapshots"],
        "transient": built["transient"],
        "vms_stopping": built["stopping"],
        "build_s": round(build_s, 1),
        "raw_list_rows": rows,
        "raw_list_s": round(raw_s, 3),
        "restart_sync_s": round(sync_s, 2),
        "ratio": round(sync_s / raw_s, 1),
        "target_s": 5.0,
        "left_transient": left,
        "left_pending": pending,
    }


def bench_crashes(rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as d, Campaign(Path(d), seed=2026) as campaign:
        clean = []
        for _ in range(3):  # the baseline: clean restarts
            campaign.server.stop()
            clean.append(campaign.server.start())
        for _ in range(rounds):
            campaign.round()
        summary = campaign.summary()
    crash = sorted(campaign.tally.restart_s)
    summary["clean_restart_s"] = round(sorted(clean)[1], 2)
    summary["crash_restart_s_median"] = round(crash[len(crash) // 2], 2)
    summary["ratio"] = round(summary["crash_restart_s_median"] / summary["clean_restart_s"], 2)
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--vms", type=int, default=1000)
    ap.add_argument("--two-managers", metavar="URL", help="also race two managers on this database")
    args = ap.parse_args()
    vms, rounds = (50, 5) if args.quick else (args.vms, args.rounds)
    out: dict[str, Any] = {"sync": bench_sync(vms, 10)}
    print(json.dumps(out["sync"], indent=2), flush=True)
    out["crash_campaign"] = bench_crashes(rounds)
    print(json.dumps(out["crash_campaign"], indent=2), flush=True)
    if args.two_managers:
        from tests.two_managers import run

        with tempfile.TemporaryDirectory() as d:
            out["two_managers"] = run(Path(d), args.two_managers, 1000 if args.quick else 3000).summary()
        print(json.dumps(out["two_managers"], indent=2))
    report = ROOT / "reports" / "out"
    report.mkdir(parents=True, exist_ok=True)
    (report / "bench-recovery.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
