"""Recovery in the running product: who owns each job, taking over a dead manager's jobs,
and VMSnapshotSync where CloudStack runs it (fullSync on start, fullHostSync on reconnect,
on a schedule, on demand).

Every manager process (a ``serve``, or a CLI command that opens a cloud) is a row of
``mshost`` with its own ``msid``; every job it accepts records ``job_init_msid`` and
``job_executing_msid``. A manager is *live* while its row says ``Up`` and

- on the same machine: its process exists (so a restart right after ``kill -9`` takes over
  at once);
- on another machine: its heartbeat (``last_update``) is younger than
  ``cluster.heartbeat.threshold``.

:meth:`Recovery.recover` is the one procedure behind every trigger:

1. the pending jobs of managers that are not live are *taken over* (a compare-and-swap on
   ``job_executing_msid``, so two starting managers never both take one);
2. :func:`harness.service.sync.sync` runs, leaving alone every VM that a live manager has
   a pending job on (a live manager never loses its in-flight work to another's sync; the
   jobs are read once sync has read the rows, so none begun in between is missed);
3. each taken-over job is finished from what sync settled, honestly: success with the
   result object when its operation reached its goal (the snapshot is Ready, the revert
   was applied, the row is gone, the VM is in the state asked for), else failure 530 with
   the reason; nothing stays pending;
4. the dead managers' rows go ``Down``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from harness.domain import config
from harness.domain.model import AsyncJob, ManagementServer
from harness.domain.states import ACTIVE_VM_SNAPSHOT_STATES, VMSnapshotState, VMState
from harness.drivers import A, Command, HostError, HostUnreachable, HyperVDriver
from harness.jobs.queue import FAILED, SUCCEEDED, AsyncJobs
from harness.jobs.runners import Runner
from harness.service import sync, views
from harness.store.ports import EVERYTHING, UnitOfWork, UowFactory

Obj = dict[str, Any]
log = logging.getLogger("hvsnap.recovery")

#: What a taken-over job's command must find after sync to count as done.
_VM_GOALS = {
    "startVirtualMachine": {VMState.Running},
    "stopVirtualMachine": {VMState.Stopped},
    "deployVirtualMachine": {VMState.Running, VMState.Stopped},
    "destroyVirtualMachine": {VMState.Destroyed, VMState.Expunging},
}


class _Manager(Protocol):
    """What recovery needs of a :class:`~harness.service.manager.Manager`."""

    uow_factory: UowFactory
    runner: Runner
    jobs: AsyncJobs


@dataclass
class RecoveryReport:
    """What one recovery did: ``why`` it ran, the sync's report, and the jobs it finished."""

    why: str
    sync: sync.SyncReport
    jobs: list[Obj] = field(default_factory=list)

    def as_dict(self) -> Obj:
        r = self.sync
        return {
            "why": self.why,
            "settled": [s.as_dict() for s in r.settled + r.vms],
            "jobs": self.jobs,
            "skipped": r.skipped,
            "vanished": [{"vm": vm, "snapshot": name} for vm, name in r.vanished],
            "outofband": [{"vm": vm, "checkpoint": name} for vm, name in r.out_of_band],
            "unknownvms": r.unknown_vms,
            "failed": r.failed,
        }


def new_msid() -> int:
    """A management server id: 48 random bits (CloudStack derives its msid from a MAC)."""
    return uuid.uuid4().int >> 80


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Recovery:
    """One manager's identity in ``mshost`` and its recovery procedure (module doc)."""

    def __init__(self, manager: _Manager, msid: int | None = None) -> None:
        self.manager = manager
        self.me = ManagementServer(0, msid if msid is not None else new_msid(), socket.gethostname(), os.getpid())
        self.registered = False

    @property
    def msid(self) -> int:
        return self.me.msid

    # ------------------------------------------------------------------ heartbeat

    def register(self) -> None:
        with self.manager.uow_factory() as uow:
            uow.mshosts.register(self.me)
            uow.commit()
        self.registered = True

    def heartbeat(self) -> None:
        with self.manager.uow_factory() as uow:
            uow.mshosts.heartbeat(self.me.msid)
            uow.commit()

    def retire(self) -> None:
        """A clean stop (its jobs have finished): this manager's row goes."""
        if not self.registered:
            return
        with self.manager.uow_factory() as uow:
            uow.mshosts.remove(self.me.msid)
            uow.commit()
        self.registered = False

    def interval(self, key: config.ConfigKey) -> float:
        """The value of a timing key in seconds (``cluster.heartbeat.*`` are milliseconds)."""
        with self.manager.uow_factory(readonly=True) as uow:
            value = int(config.parse(key, uow.config.get(key)))
        return value / 1000 if key.name.startswith("cluster.") else float(value)

    def _live(self, uow: UnitOfWork) -> tuple[set[int], list[ManagementServer]]:
        """The msids of live managers (this one included) and the rows of dead ones."""
        threshold = timedelta(seconds=self.interval(config.CLUSTER_HEARTBEAT_THRESHOLD))
        live, dead = {self.me.msid}, []
        for server in uow.mshosts.up():
            if server.msid == self.me.msid:
                continue
            if server.name == self.me.name:
                alive = _alive(server.pid)
            else:
                alive = server.last_update is not None and uow.now - server.last_update < threshold
            if alive:
                live.add(server.msid)
            else:
                dead.append(server)
        return live, dead

    # ------------------------------------------------------------------ recovery

    def needs_recovery(self) -> bool:
        """Whether anything is in flight that no live manager owns: a transient snapshot
        or VM, or a pending job of a dead manager (cheap: a few counts)."""
        with self.manager.uow_factory(readonly=True) as uow:
            live, _ = self._live(uow)
            if any(j.executing_msid not in live for j in uow.jobs.pending()):
                return True
            transient = uow.vm_snapshots.search(EVERYTHING, states=sorted(ACTIVE_VM_SNAPSHOT_STATES), pagesize=1)
            if transient.count:
                return True
            return any(uow.vms.search(state=s, pagesize=1).count for s in (VMState.Starting, VMState.Stopping))

    def recover(self, why: str) -> RecoveryReport:
        """Take over the dead managers' jobs, sync, finish those jobs (module doc)."""
        factory = self.manager.uow_factory
        with factory() as uow:
            live, dead = self._live(uow)
            pending = uow.jobs.pending()
            taken = [j for j in pending if j.executing_msid not in live and uow.jobs.take_over(j, self.me.msid)]
            for server in dead:
                uow.mshosts.set_state(server.msid, "Down")
            uow.commit()
            threshold = timedelta(seconds=self.interval(config.CLUSTER_HEARTBEAT_THRESHOLD))
            others = len(live) > 1
            allocated_before = uow.now - threshold if others else None
        taken_ids = {j.id for j in taken}

        def busy() -> frozenset[str]:  # asked by sync once it has read the rows
            with factory(readonly=True) as uow:
                keys = {j.queue_key for j in uow.jobs.pending() if j.id not in taken_ids and j.queue_key}
            return frozenset(keys | self.manager.jobs.pending_keys())

        report = RecoveryReport(why, self.manager.runner.run(sync.sync(factory, busy, allocated_before)))
        for job in taken:
            report.jobs.append(self._finish(job, report.sync))
        for item in report.sync.settled + report.sync.vms:
            log.info("sync (%s): %s", why, item)
        for vm, reason in report.sync.why_skipped.items():
            log.info("sync (%s): %s left for a later sync: %s", why, vm, reason)
        for done in report.jobs:
            verdict = "succeeded" if done["jobstatus"] == SUCCEEDED else "failed"
            log.info("sync (%s): job %s %s %s", why, done["jobid"], done["cmd"], verdict)
        return report

    def _finish(self, job: AsyncJob, found: sync.SyncReport) -> Obj:
        with self.manager.uow_factory() as uow:
            result = _outcome(uow, job, found)
            status = SUCCEEDED if "errorcode" not in result else FAILED
            uow.jobs.finish(job, status, 0 if status == SUCCEEDED else 530, json.dumps(result, default=str))
            uow.commit()
        return {"jobid": job.uuid, "cmd": job.cmd, "jobstatus": status, "jobresult": result}


def _outcome(uow: UnitOfWork, job: AsyncJob, found: sync.SyncReport) -> Obj:
    """The result a taken-over job ends with: a 530 when it had not started; its command's
    result object when sync left its target where the command wanted it; else a 530 saying
    what happened."""
    snap = uow.vm_snapshots.get(job.instance_id) if job.instance_type == "VmSnapshot" and job.instance_id else None
    vm = uow.vms.get(job.instance_id) if job.instance_type == "VirtualMachine" and job.instance_id else None
    if job.process_status == 0:  # still queued when its manager died: nothing of it ran
        return {
            "errorcode": 530,
            "errortext": "The management server that accepted this job stopped before the job started; "
            "nothing was done, send the request again",
        }
    if job.cmd == "createVMSnapshot" and snap is not None and snap.state == VMSnapshotState.Ready:
        return {"vmsnapshot": views.vm_snapshot(uow, snap)}
    if job.cmd == "revertToVMSnapshot" and snap is not None and snap.state == VMSnapshotState.Ready and snap.current:
        owner = uow.vms.get(snap.vm_id)
        if owner is not None:
            return {"virtualmachine": views.vm(uow, owner)}
    if job.cmd == "deleteVMSnapshot" and job.instance_type == "VmSnapshot" and snap is None:
        return {"success": True, "displaytext": "success"}
    if job.cmd in _VM_GOALS and (vm is None or vm.state in _VM_GOALS[job.cmd]):
        if vm is not None:
            return {"virtualmachine": views.vm(uow, vm)}
        if job.cmd == "destroyVirtualMachine":
            return {"success": True, "displaytext": "success"}
    target = snap.uuid if snap is not None else (vm.uuid if vm is not None else None)
    why = next((s.why for s in found.settled + found.vms if s.uuid == target), None)
    state = snap.state if snap is not None else (vm.state if vm is not None else "removed")
    return {
        "errorcode": 530,
        "errortext": (
            "The management server running this job stopped before it finished; sync found its "
            f"{job.instance_type or 'target'} {state}" + (f" ({why})" if why else "")
        ),
    }


class HostWatch:
    """A driver seen through: notes when the host stops answering (``HostUnreachable``)
    so the manager can run fullHostSync when it answers again."""

    def __init__(self, inner: HyperVDriver) -> None:
        self.inner = inner
        self.capabilities = inner.capabilities
        self.down = False

    def execute(self, command: Command[A]) -> A:
        try:
            answer = self.inner.execute(command)
        except HostUnreachable:
            self.down = True
            raise
        return answer

    def close(self) -> None:
        self.inner.close()


class RecoveryThread:
    """What ``serve`` runs beside the API: a heartbeat every ``cluster.heartbeat.interval``,
    a sync every ``vmsnapshot.sync.interval`` seconds (0: none), and a sync as soon as a
    host that was unreachable answers again (host reconnect). A failed round is logged and
    tried again at the next beat."""

    def __init__(self, recovery: Recovery, watch: HostWatch | None = None) -> None:
        self.recovery = recovery
        self.watch = watch
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hvsnap-recovery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        last_sync = time.monotonic()
        while not self._stop.wait(self._beat()):
            try:
                self.recovery.heartbeat()
                every = self.recovery.interval(config.VMSNAPSHOT_SYNC_INTERVAL)
                if self.watch is not None and self.watch.down:
                    self.recovery.recover("host reconnect")  # its first command probes the host
                    self.watch.down = False
                    last_sync = time.monotonic()
                elif every and time.monotonic() - last_sync >= every:
                    self.recovery.recover("periodic")
                    last_sync = time.monotonic()
            except HostError as err:
                log.warning("sync: the host did not answer (%s); trying again", err)
            except Exception:
                log.exception("recovery round failed")

    def _beat(self) -> float:
        try:
            return self.recovery.interval(config.CLUSTER_HEARTBEAT_INTERVAL)
        except Exception:
            log.exception("cannot read %s", config.CLUSTER_HEARTBEAT_INTERVAL.name)
            return 1.5
