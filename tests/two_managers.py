"""Two ``serve`` processes on one PostgreSQL or MariaDB database, managing one host: the
emulated Hyper-V host over WinRM/PSRP (started once, in SimPy time, so operations overlap
in wall time and the host refuses a second change on a busy VM, as Hyper-V does).

Client threads race create / revert / delete on a handful of shared VMs through both
managers at random. While they run, a monitor reads the database every few milliseconds (one
statement: a consistent view under READ COMMITTED) and records any moment with two
snapshot operations in flight on one VM, or more live snapshots than ``vmsnapshot.max``.
Used by ``tests/test_two_managers.py`` and ``benchmarks/recovery.py``.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cs import CloudStack, CloudStackApiException
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from harness.domain.states import VMState
from harness.service import accounts, sync
from harness.store.uow import make_engine, uow_factory
from simulator.psrp_endpoint.endpoint import EmulatedHost

ROOT = Path(__file__).resolve().parents[1]
MAX = 4
LIMIT_TEXT = "Please delete old ones"

IN_FLIGHT_TWICE = text(
    "SELECT vm_id FROM vm_snapshots WHERE removed IS NULL AND state IN ('Creating', 'Reverting', 'Expunging') "
    "GROUP BY vm_id HAVING COUNT(*) > 1"
)
OVER_MAX = text(f"SELECT vm_id FROM vm_snapshots WHERE removed IS NULL GROUP BY vm_id HAVING COUNT(*) > {MAX}")


@dataclass
class Race:
    ops: int = 0
    accepted: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)  # 431 before a job, by operation
    lost: Counter[str] = field(default_factory=Counter)  # jobs that failed 431 (race lost in the workflow)
    limit: int = 0  # creates refused at vmsnapshot.max (530, CloudStack's limit error)
    samples: int = 0
    reasons: Counter[str] = field(default_factory=Counter)  # what the 431 refusals said
    violations: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "ops": self.ops,
            "accepted": dict(self.accepted),
            "refused_431": dict(self.refused),
            "jobs_failed_431": dict(self.lost),
            "refused_at_max": self.limit,
            "refusal_reasons": dict(self.reasons.most_common(6)),
            "monitor_samples": self.samples,
            "violations": self.violations,
        }


class Manager:
    def __init__(self, home: Path, db: str, host: str) -> None:
        env = {**os.environ, "HVSNAP_HYPERV_USERNAME": "hvsnap", "HVSNAP_HYPERV_PASSWORD": "hvsnap-emulated"}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "harness.cli",
                "--home",
                str(home),
                "--db",
                db,
                "serve",
                "--port",
                "0",
                "--driver",
                "live",
                "--hyperv-host",
                host,
                "--hyperv-auth",
                "ntlm",
                "--hyperv-no-tls",
                "--workers",
                "4",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        banner = self.proc.stdout.readline()
        if " on " not in banner:
            self.proc.kill()
            raise RuntimeError(f"serve did not start: {banner!r}")
        self.endpoint = banner.split(" on ", 1)[1].split()[0]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)


def run(tmp: Path, db: str, ops: int, vms: int = 4, threads: int = 4, seed: int = 7) -> Race:
    race = Race()
    with EmulatedHost(time_scale=400.0) as em:
        managers = [Manager(tmp / f"m{i}", db, f"{em.address}:{em.port}") for i in range(2)]
        engine = make_engine(db)
        try:
            admin = accounts.bootstrap(uow_factory(engine))
            apis = [
                CloudStack(
                    endpoint=m.endpoint, key=admin.api_key, secret=admin.secret_key, poll_interval=0.02, job_timeout=120
                )
                for m in managers
            ]
            apis[0].updateConfiguration(name="vmsnapshot.max", value=str(MAX))
            vm_ids = _deploy(apis[0], vms)
            stop = threading.Event()
            monitor = threading.Thread(target=_monitor, args=(db, race, stop))
            monitor.start()
            budget = iter(range(ops))
            lock = threading.Lock()

            def client(n: int) -> None:
                rng = random.Random(seed * 100 + n)
                while True:
                    with lock:
                        if next(budget, None) is None:
                            return
                        race.ops += 1
                    _one(rng, rng.choice(apis), rng.choice(vm_ids), race, lock)

            workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            _wait_for_jobs(engine)
            stop.set()
            monitor.join()
            _tally_jobs(engine, race)
        finally:
            for m in managers:
                m.stop()
        _check_db_equals_host(engine, em, race)
        engine.dispose()
    return race


def _deploy(api: CloudStack, n: int) -> list[str]:
    zone = api.listZones()["zone"][0]["id"]
    template = api.listTemplates(templatefilter="featured")["template"][0]["id"]
    small = api.listServiceOfferings(name="small")["serviceoffering"][0]["id"]
    return [
        api.deployVirtualMachine(
            serviceofferingid=small, templateid=template, zoneid=zone, name=f"shared{i}", fetch_result=True
        )["virtualmachine"]["id"]
        for i in range(n)
    ]


def _one(rng: random.Random, api: CloudStack, vm: str, race: Race, lock: threading.Lock) -> None:
    snaps = api.listVMSnapshot(virtualmachineid=vm).get("vmSnapshot", [])
    ready = [s["id"] for s in snaps if s["state"] == "Ready"]
    op = rng.choice(["create", "create", "revert", "delete"]) if ready else "create"
    wait = rng.random() < 0.3  # most requests do not wait for their job: more of them collide
    try:
        if op == "create":
            api.createVMSnapshot(virtualmachineid=vm, snapshotmemory=rng.random() < 0.3, fetch_result=wait)
        elif op == "revert":
            api.revertToVMSnapshot(vmsnapshotid=rng.choice(ready), fetch_result=wait)
        else:
            api.deleteVMSnapshot(vmsnapshotid=rng.choice(ready), fetch_result=wait)
        with lock:
            race.accepted[op] += 1
    except CloudStackApiException as err:
        error = err.error or {}
        code, textual = error.get("errorcode"), str(error.get("errortext", ""))
        with lock:
            if code == 431 and not (err.args and err.args[0] == "Job failure"):
                race.refused[op] += 1
                race.reasons[" ".join(textual.split()[:7])] += 1
            elif code == 431:
                pass  # counted from the job rows at the end
            elif code == 530 and LIMIT_TEXT in textual:
                race.limit += 1
            else:
                race.violations.append(f"{op} on {vm}: {error}")


def _wait_for_jobs(engine: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            if not conn.execute(text("SELECT COUNT(*) FROM async_job WHERE job_status = 0")).scalar():
                return
            conn.commit()
            time.sleep(0.05)


def _tally_jobs(engine: Any, race: Race) -> None:
    """Every job's outcome, from the database both managers wrote."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT job_cmd, job_status, job_result FROM async_job")).all()
    for cmd, status, result in rows:
        if status == 1 or cmd == "deployVirtualMachine":
            continue
        error = json.loads(result or "{}")
        if error.get("errorcode") == 431:
            race.lost[cmd] += 1
        elif error.get("errorcode") == 530 and LIMIT_TEXT in str(error.get("errortext")):
            race.limit += 1
        else:
            race.violations.append(f"job {cmd} ended {status}: {error}")


def _monitor(db: str, race: Race, stop: threading.Event) -> None:
    engine = create_engine(db, poolclass=NullPool)
    with engine.connect() as conn:
        while not stop.wait(0.02):
            twice = conn.execute(IN_FLIGHT_TWICE).scalars().all()
            over = conn.execute(OVER_MAX).scalars().all()
            conn.commit()  # a fresh view next time
            race.samples += 1
            if twice:
                race.violations.append(f"two snapshot operations in flight on VM {twice}")
            if over:
                race.violations.append(f"more than {MAX} snapshots on VM {over}")
    engine.dispose()


def _check_db_equals_host(engine: Any, em: EmulatedHost, race: Race) -> None:
    with em.lock:
        inventory = em.host.inventory()
    with uow_factory(engine)(readonly=True) as uow:
        if uow.jobs.pending():
            race.violations.append(f"{len(uow.jobs.pending())} jobs still pending")
        for vm in uow.vms.search().items:
            snaps = uow.vm_snapshots.by_vm(vm.id)
            ids = {s.id for s in snaps}
            if any(s.parent is not None and s.parent not in ids for s in snaps):
                race.violations.append(f"{vm.instance_name}: a snapshot's parent is gone (tree broken)")
            if sum(1 for s in snaps if s.current) > 1:
                race.violations.append(f"{vm.instance_name}: more than one current snapshot")
            on_host = inventory.vm(vm.instance_name)
            if (on_host is None) != (vm.state == VMState.Stopped):
                race.violations.append(f"{vm.instance_name}: {vm.state} in the DB, registered on the host: {on_host}")
            elif on_host is not None:
                host_tree = {c.name: c.parent for c in on_host.checkpoints}
                if sync.db_tree(uow, vm.id) != host_tree:
                    race.violations.append(
                        f"{vm.instance_name}: DB tree {sync.db_tree(uow, vm.id)} != host tree {host_tree}"
                    )
