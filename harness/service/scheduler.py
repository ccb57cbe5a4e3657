"""The policy scheduler: runs recurring VM snapshot policies when they are due.

The scheduler knows time only through a :class:`Clock` and starts work only through a
``launch`` callback, so one implementation serves every mode:

- ``hvsnap serve``: :class:`WallClock`, and :class:`SchedulerThread` polls; each run is an
  async job on the VM's serial queue (:func:`job_launch`), as a manual create is;
- the simulator: a clock reading SimPy's ``env.now`` and a SimPy process that sleeps until the
  next policy is due (``simulator.campaigns.policies``), so 30 days run in seconds;
- tests and ``hvsnap policy run-due``: a clock of their own, jobs inline.

One :meth:`Scheduler.tick` takes every due policy in turn:

1. A policy of a VM that is gone (destroyed, expunged) is deleted, and that is logged.
2. The run is claimed by moving ``next_run`` to the first slot after *now*
   (compare-and-swap: with two managers on one database one of them runs it).
3. **Missed runs** (the manager was down, or the VM busy, across later slots): exactly one
   snapshot is taken now and a warning says how many slots were missed; there is no burst of
   catch-up snapshots.
4. **Collisions**: when the VM has another operation in flight (a snapshot being created,
   reverted or deleted, a volume snapshot, a start or stop), the run is not lost: it is
   retried ``retry_s`` later (``next_run`` = now + retry_s), until it runs or the next slot
   comes (then it counts as missed, step 3).
5. Otherwise the snapshot is allocated with every rule of a manual create (``vmsnapshot.max``
   and the account and domain limits included; a refusal is logged and the run skipped) and
   tagged with the policy, and ``launch`` drives :func:`harness.service.policies.run`: the
   snapshot, then retention.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from harness.domain.errors import CloudError
from harness.domain.model import VM, Account, VMSnapshot
from harness.domain.policy import VMSnapshotPolicy
from harness.domain.states import ACTIVE_VM_SNAPSHOT_STATES, VMState
from harness.jobs.runners import Workflow
from harness.service import policies, views, vmsnapshots
from harness.store.ports import UnitOfWork, UowFactory, existing, utcnow

log = logging.getLogger("hvsnap.scheduler")

#: seconds between two tries of a run whose VM is busy
RETRY_S = 60.0
#: seconds between two polls of the wall-clock scheduler thread (at most)
POLL_S = 60.0


class Clock(Protocol):
    """What the scheduler reads the time from: naive UTC, as the database stores it."""

    def now(self) -> datetime: ...


class WallClock:
    def now(self) -> datetime:
        return utcnow()


@dataclass(frozen=True, slots=True)
class RunOrder:
    """A due run whose snapshot is allocated: ``launch`` drives :meth:`workflow`."""

    policy: VMSnapshotPolicy
    vm: VM
    owner: Account
    snapshot: VMSnapshot

    def workflow(self, uow_factory: UowFactory) -> Workflow[int]:
        return policies.run(uow_factory, self.policy.id, self.snapshot.id, self.policy.quiesce)


Launch = Callable[[RunOrder], None]


@dataclass
class TickReport:
    """What one tick did, by policy uuid."""

    launched: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    missed: dict[str, int] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)


def busy(uow: UnitOfWork, vm: VM) -> bool:
    """Whether another operation is in flight on ``vm`` (a run now would be refused 431)."""
    if vm.state not in (VMState.Running, VMState.Stopped):
        return True
    if uow.volume_snapshots.active_for_vm(vm.id):
        return True
    return any(s.state in ACTIVE_VM_SNAPSHOT_STATES for s in uow.vm_snapshots.briefs_of_vm(vm.id))


class Scheduler:
    def __init__(self, uow_factory: UowFactory, clock: Clock, launch: Launch, retry_s: float = RETRY_S) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.launch = launch
        self.retry = timedelta(seconds=retry_s)

    def next_wakeup(self) -> datetime | None:
        """When the earliest policy is due (``None``: there is no policy)."""
        with self.uow_factory(readonly=True) as uow:
            return uow.vm_snapshot_policies.earliest()

    def tick(self) -> TickReport:
        report = TickReport()
        now = self.clock.now()
        with self.uow_factory(readonly=True) as uow:
            due = uow.vm_snapshot_policies.due(now)
        for policy in due:
            try:
                self._one(policy, now, report)
            except Exception:  # one policy's bug must not stop the others
                log.exception("policy %s: run failed unexpectedly", policy.uuid)
        return report

    def _one(self, policy: VMSnapshotPolicy, now: datetime, report: TickReport) -> None:
        sched = policy.parsed
        slot = policy.next_run or now  # due() lists only policies with a next run
        with self.uow_factory() as uow:
            vm = uow.vms.get(policy.vm_id)
            if vm is None or vm.state in policies.GONE_VM_STATES:
                uow.vm_snapshot_policies.remove(policy.id)
                uow.commit()
                log.info("policy %s: its Instance is gone; policy deleted", policy.uuid)
                report.removed.append(policy.uuid)
                return
            owner = existing(uow.accounts.get(vm.account_id), "account", vm.account_id)
            if not uow.vm_snapshot_policies.advance(policy, sched.next_after(now), last_run=now):
                return  # another manager claimed this run
            uow.commit()
        missed = sched.runs_between(slot, now)
        if missed:
            report.missed[policy.uuid] = missed
            log.warning(
                "policy %s (%s): %d scheduled run(s) after %s were missed (manager down or Instance busy); "
                "taking one snapshot now at %s, no catch-up",
                policy.uuid,
                vm.instance_name,
                missed,
                slot,
                now,
            )
        description = (
            f"Scheduled by VM snapshot policy {policy.uuid} ({policy.interval} {policy.schedule} {policy.timezone})"
        )
        try:
            snap = vmsnapshots.allocate(
                self.uow_factory,
                owner,
                vm.uuid,
                None,
                description,
                policy.memory and vm.state == VMState.Running,
                policy_id=policy.id,
            )
        except CloudError as err:
            with self.uow_factory() as uow:
                fresh = uow.vms.get(vm.id)
                if fresh is not None and busy(uow, fresh):
                    uow.vm_snapshot_policies.advance(policy, now + self.retry)
                    uow.commit()
                    report.retried.append(policy.uuid)
                    log.info(
                        "policy %s (%s): Instance busy (%s); retrying at %s",
                        policy.uuid,
                        vm.instance_name,
                        err.errortext,
                        policy.next_run,
                    )
                    return
            report.refused[policy.uuid] = f"{err.errorcode}: {err.errortext}"
            log.warning(
                "policy %s (%s): scheduled snapshot refused with %d: %s; next run at %s",
                policy.uuid,
                vm.instance_name,
                err.errorcode,
                err.errortext,
                policy.next_run,
            )
            return
        report.launched.append(policy.uuid)
        log.info("policy %s (%s): taking scheduled snapshot %s", policy.uuid, vm.instance_name, snap.name)
        self.launch(RunOrder(policy, vm, owner, snap))


def job_launch(manager: Any) -> Launch:
    """Launch runs as async jobs of ``manager`` (a :class:`~harness.service.manager.Manager`)
    under the VM's key: serial with every other operation on the VM, inline when the manager
    runs jobs inline."""

    def launch(order: RunOrder) -> None:
        factory = manager.uow_factory

        def present(pruned: int) -> dict[str, Any]:
            with factory(readonly=True) as uow:
                snap = uow.vm_snapshots.get(order.snapshot.id)
                return {"vmsnapshot": views.vm_snapshot(uow, snap) if snap else None, "pruned": pruned}

        manager.jobs.submit(
            order.owner,
            "createVMSnapshot",
            order.vm.uuid,
            lambda: manager.runner.run(order.workflow(factory)),
            present,
            ("VmSnapshot", order.snapshot.id),
            {"vmsnapshotpolicyid": order.policy.uuid},
            abandon=lambda: vmsnapshots.drop_allocated(factory, order.snapshot.id),
            batched=True,
        )

    return launch


class SchedulerThread:
    """The wall-clock scheduler of ``hvsnap serve``: a tick at start (which takes any run
    missed while the server was down, once), then one whenever a policy is due, polling at
    least every ``poll_s`` (policies created meanwhile are seen within it)."""

    def __init__(self, scheduler: Scheduler, poll_s: float = POLL_S) -> None:
        self.scheduler = scheduler
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hvsnap-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.scheduler.tick()
                wake = self.scheduler.next_wakeup()
            except Exception:
                log.exception("scheduler tick failed")
                wake = None
            wait = self.poll_s
            if wake is not None:
                wait = min(wait, max(0.0, (wake - self.scheduler.clock.now()).total_seconds()))
            self._stop.wait(max(wait, 0.01))
