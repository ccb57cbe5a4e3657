"""The kill -9 crash campaign: a ``serve`` subprocess in SimPy time, a seeded mixed workload,
``kill -9`` at seeded moments, a restart on the same home, and the recovery invariants.

Used by ``tests/test_crash_campaign.py`` (a few dozen rounds) and ``benchmarks/recovery.py``
(hundreds). Each round:

1. for every VM, one seeded operation is sent without waiting for it (create with or
   without memory, quiesced create, revert to either kind, delete mid-chain, delete-all,
   stop with export, start with import, change offering), a guest write before each create
   so the snapshot's content is known;
2. after a seeded delay the server is killed with SIGKILL;
3. the server is started again on the same home: it syncs before it answers;
4. the invariants are checked from the database and the host's saved state: no snapshot
   Allocated/Creating/Reverting/Expunging, no VM Starting/Stopping, no pending job, the DB
   tree of each registered VM equals its checkpoint tree on the host; then one Ready
   snapshot (seeded) is reverted to and must give back the guest data written before it,
   and every VM must accept a new snapshot.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cs import CloudStack, CloudStackApiException
from sqlalchemy import Engine

from harness.domain.states import VMState
from harness.service import accounts, sync
from harness.store.uow import make_engine, uow_factory
from simulator.host import HyperVHost

ROOT = Path(__file__).resolve().parents[1]
TRANSIENT_SNAPSHOTS = {"Allocated", "Creating", "Reverting", "Expunging"}
VMS = 2


class Server:
    """``hvsnap serve`` as a subprocess on ``home``."""

    def __init__(self, home: Path, time_scale: float) -> None:
        self.home, self.time_scale = home, time_scale
        self.proc: subprocess.Popen[str] | None = None
        self.endpoint = ""

    def start(self) -> float:
        """Start and wait for the banner (printed after the start sync); the seconds it took."""
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "harness.cli",
                "--home",
                str(self.home),
                "serve",
                "--port",
                "0",
                "--time-scale",
                str(self.time_scale),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        banner = self.proc.stdout.readline()
        if " on " not in banner:
            raise RuntimeError(f"serve did not start: {banner!r} {self.proc.stderr.read() if self.proc.stderr else ''}")
        self.endpoint = banner.split(" on ", 1)[1].split()[0]
        return time.perf_counter() - t0

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None


@dataclass
class Tally:
    rounds: int = 0
    sent: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    settled: Counter[str] = field(default_factory=Counter)  # "Creating -> Error", "Stopping -> Running", ...
    jobs: Counter[str] = field(default_factory=Counter)  # taken-over jobs: "createVMSnapshot succeeded", ...
    restores_checked: int = 0
    restart_s: list[float] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


class Campaign:
    def __init__(self, home: Path, seed: int, time_scale: float = 120.0) -> None:
        self.home, self.rng = home, random.Random(seed)
        self.server = Server(home, time_scale)
        self.tally = Tally()
        self.vms: list[str] = []
        self.expected: dict[str, str] = {}  # snapshot uuid -> guest data written before it
        self.counter = 0
        self.log_seen = 0
        self.engine: Engine | None = None

    # ------------------------------------------------------------------ plumbing

    def api(self) -> CloudStack:
        assert self.engine is not None
        admin = accounts.bootstrap(uow_factory(self.engine))
        return CloudStack(
            endpoint=self.server.endpoint,
            key=admin.api_key,
            secret=admin.secret_key,
            poll_interval=0.02,
            job_timeout=120,
        )

    def __enter__(self) -> Campaign:
        self.server.start()
        self.engine = make_engine(f"sqlite:///{self.home / 'hvsnap.db'}")
        api = self.api()
        api.updateConfiguration(name="vmsnapshot.max", value="6")
        zone = api.listZones()["zone"][0]["id"]
        template = api.listTemplates(templatefilter="featured")["template"][0]["id"]
        small = api.listServiceOfferings(name="small")["serviceoffering"][0]["id"]
        for i in range(VMS):
            vm = api.deployVirtualMachine(
                serviceofferingid=small, templateid=template, zoneid=zone, name=f"crash{i}", fetch_result=True
            )
            self.vms.append(vm["virtualmachine"]["id"])
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
        if self.engine is not None:
            self.engine.dispose()

    # ------------------------------------------------------------------ one round

    def round(self) -> None:
        api = self.api()
        for vm in self.vms:
            self._send(api, vm)
        time.sleep(self.rng.uniform(0.0, 0.3))
        self.server.kill()
        self.tally.restart_s.append(self.server.start())
        self.tally.rounds += 1
        self._tally_restart()
        self._check_settled()
        api = self.api()
        self._check_restore(api)
        self._check_accepts_snapshot(api)

    def _send(self, api: CloudStack, vm_uuid: str) -> None:
        vm = api.listVirtualMachines(id=vm_uuid)["virtualmachine"][0]
        snaps = api.listVMSnapshot(virtualmachineid=vm_uuid).get("vmSnapshot", [])
        ready = [s for s in snaps if s["state"] == "Ready"]
        running = vm["state"] == "Running"
        creates = ["create", "create-memory", "create-quiesce"] if running else ["create"]
        choices = creates if len(snaps) < 5 else []
        choices += ["revert", "revert", "delete"] if ready else []
        choices += ["delete-all"] if len(ready) >= 3 else []  # deleteVMSnapshots: all of them, one job
        choices += ["stop"] if running else ["start", "start", "start", "change-offering"]
        op = self.rng.choice(choices)
        self.tally.sent[op] += 1
        try:
            if op.startswith("create"):
                memory = op == "create-memory" and running
                value = None
                if running:
                    self.counter += 1
                    value = f"v{self.counter}"
                    api.writeGuestData(virtualmachineid=vm_uuid, key="k", value=value)
                made = api.createVMSnapshot(
                    virtualmachineid=vm_uuid, snapshotmemory=memory, quiescevm=op == "create-quiesce"
                )
                if value is not None:
                    self.expected[made["id"]] = value
            elif op == "revert":
                api.revertToVMSnapshot(vmsnapshotid=self.rng.choice(ready)["id"])
            elif op == "delete":
                api.deleteVMSnapshot(vmsnapshotid=self.rng.choice(ready or snaps)["id"])
            elif op == "delete-all":
                api.deleteVMSnapshots(virtualmachineid=vm_uuid)
            elif op == "stop":
                api.stopVirtualMachine(id=vm_uuid)
            elif op == "start":
                api.startVirtualMachine(id=vm_uuid)
            else:
                offerings = [
                    o for o in api.listServiceOfferings()["serviceoffering"] if o["id"] != vm["serviceofferingid"]
                ]
                api.changeServiceForVirtualMachine(id=vm_uuid, serviceofferingid=offerings[0]["id"])
        except CloudStackApiException as err:
            self.tally.refused += 1
            code = (err.error or {}).get("errorcode")
            if code != 431:
                self.tally.violations.append(f"round {self.tally.rounds}: {op} answered {err.error}")

    def _tally_restart(self) -> None:
        """What the restart's sync settled, from the server's log (one line per item)."""
        log = (self.home / "hvsnap.log").read_text().splitlines()
        fresh, self.log_seen = log[self.log_seen :], len(log)
        for line in fresh:
            if "sync (manager start): " not in line:
                continue
            item = line.split("sync (manager start): ", 1)[1]
            if item.startswith("job "):
                self.tally.jobs[" ".join(item.split()[2:])] += 1
            else:
                self.tally.settled[item.split(": ", 1)[1].split(" (", 1)[0]] += 1

    def _check_settled(self) -> None:
        assert self.engine is not None
        factory = uow_factory(self.engine)
        host = HyperVHost.from_dict(json.loads((self.home / "host.json").read_text()))
        inventory = host.inventory()
        bad = self.tally.violations
        with factory(readonly=True) as uow:
            for vm in uow.vms.search().items:
                if vm.state in (VMState.Starting, VMState.Stopping):
                    bad.append(f"round {self.tally.rounds}: VM {vm.instance_name} {vm.state}")
                for snap in uow.vm_snapshots.by_vm(vm.id):
                    if snap.state.value in TRANSIENT_SNAPSHOTS:
                        bad.append(f"round {self.tally.rounds}: snapshot {snap.name} {snap.state}")
                on_host = inventory.vm(vm.instance_name)
                running = vm.state == VMState.Running and on_host is not None
                host_tree = {c.name: c.parent for c in on_host.checkpoints} if on_host is not None else None
                if running and sync.db_tree(uow, vm.id) != host_tree:
                    bad.append(f"round {self.tally.rounds}: {vm.instance_name} DB tree != host tree")
            pending = uow.jobs.pending()
            if pending:
                bad.append(f"round {self.tally.rounds}: {len(pending)} pending jobs: {[j.cmd for j in pending]}")

    def _restorable(self, api: CloudStack) -> list[dict[str, Any]]:
        return [
            s
            for vm in self.vms
            for s in api.listVMSnapshot(virtualmachineid=vm).get("vmSnapshot", [])
            if s["state"] == "Ready" and s["id"] in self.expected
        ]

    def check_every_restore(self) -> None:
        """Revert to every Ready snapshot whose guest data is known (the campaign's end)."""
        api = self.api()
        for snap in self._restorable(api):
            self._restore(api, snap)

    def _check_restore(self, api: CloudStack) -> None:
        snaps = self._restorable(api)
        if snaps:
            self._restore(api, self.rng.choice(snaps))

    def _restore(self, api: CloudStack, snap: dict[str, Any]) -> None:
        try:
            api.revertToVMSnapshot(vmsnapshotid=snap["id"], fetch_result=True)
            vm = api.listVirtualMachines(id=snap["virtualmachineid"])["virtualmachine"][0]
            if vm["state"] != "Running":
                api.startVirtualMachine(id=vm["id"], fetch_result=True)
            got = api.readGuestData(virtualmachineid=vm["id"], key="k")["guestdata"]["value"]
        except CloudStackApiException as err:
            self.tally.violations.append(f"round {self.tally.rounds}: restore of {snap['name']} failed: {err.error}")
            return
        self.tally.restores_checked += 1
        if got != self.expected[snap["id"]]:
            self.tally.violations.append(
                f"round {self.tally.rounds}: {snap['name']} restored {got!r}, wrote {self.expected[snap['id']]!r}"
            )

    def _check_accepts_snapshot(self, api: CloudStack) -> None:
        for vm in self.vms:
            snaps = api.listVMSnapshot(virtualmachineid=vm).get("vmSnapshot", [])
            try:
                while len(snaps) >= 3:  # room for the next rounds
                    api.deleteVMSnapshot(vmsnapshotid=snaps.pop()["id"], fetch_result=True)
                api.createVMSnapshot(virtualmachineid=vm, fetch_result=True)
            except CloudStackApiException as err:
                self.tally.violations.append(f"round {self.tally.rounds}: VM {vm} refused a snapshot: {err.error}")

    def summary(self) -> dict[str, Any]:
        t = self.tally
        return {
            "rounds": t.rounds,
            "sent": dict(t.sent),
            "refused_431": t.refused,
            "settled": dict(t.settled),
            "taken_over_jobs": dict(t.jobs),
            "restores_checked": t.restores_checked,
            "restart_s_max": round(max(t.restart_s, default=0), 2),
            "violations": t.violations,
        }
