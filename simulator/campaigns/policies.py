"""Recurring VM snapshot policies in simulated time: the scenario key ``policies`` and the
policy scheduler (``harness.service.scheduler``) as a SimPy process.

::

    start: 2024-10-08T00:00:00     # the simulated clock's start, UTC (default 2024-01-01)
    workload: {kind: idle}         # or mix/schedule: manual operations beside the policies
    policies:
      - vms: [0]                   # VM indexes, or "all"
        intervaltype: HOURLY       # HOURLY | DAILY | WEEKLY | MONTHLY
        schedule: "15"             # CloudStack's MM, MM:HH, MM:HH:D, MM:HH:DD
        timezone: America/New_York
        maxsnaps: 24
        snapshotmemory: false
        quiescevm: false

Each VM gets its policy as soon as it is deployed, through the manager's own
``policies.create`` (so every rule applies); the run raises ``vmsnapshot.max`` and the
interval ceilings where a policy needs it. The scheduler process sleeps until the next
policy is due (at most ``poll_s``), waits while the management server is down
(:class:`~harness.jobs.simulated.ManagerLife`), and ticks: after an outage that is one run
per policy, logged, no burst. Each run is a SimPy process of its own, driven by
:func:`~harness.jobs.simulated.simpy_process` like every other workflow of the simulation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import simpy

from harness.domain import config
from harness.domain.errors import CloudError
from harness.domain.model import VM, Account
from harness.domain.policy import Schedule
from harness.jobs.runners import Workflow
from harness.jobs.simulated import ManagerLife
from harness.service import accounts, policies
from harness.service.scheduler import RunOrder, Scheduler
from harness.store.ports import UowFactory

Proc = Generator[simpy.Event, Any, Any]
POLICY_KEYS = {"vms", "intervaltype", "schedule", "timezone", "maxsnaps", "snapshotmemory", "quiescevm"}


def start_of(text: str) -> datetime:
    """The scenario's ``start`` as naive UTC."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"start must be an ISO date and time, not {text!r}") from None
    if moment.tzinfo is not None:
        moment = (moment - moment.utcoffset()).replace(tzinfo=None)  # type: ignore[operator]
    return moment


def check_policies(items: list[dict[str, Any]], vm_count: int) -> None:
    """Reject a malformed ``policies`` list before anything runs (ValueError)."""
    for i, item in enumerate(items):
        unknown = sorted(set(item) - POLICY_KEYS)
        if unknown:
            raise ValueError(f"policies[{i}]: unknown key(s): {', '.join(unknown)}")
        for key in ("intervaltype", "schedule", "maxsnaps"):
            if key not in item:
                raise ValueError(f"policies[{i}]: {key} is required")
        try:
            Schedule.parse(str(item["intervaltype"]), str(item["schedule"]), str(item.get("timezone", "UTC")))
        except CloudError as err:
            raise ValueError(f"policies[{i}]: {err.errortext}") from None
        for index in vm_indexes(item, vm_count):
            if not 0 <= index < vm_count:
                raise ValueError(f"policies[{i}]: VM index {index} is outside the fleet of {vm_count}")


def vm_indexes(item: dict[str, Any], vm_count: int) -> list[int]:
    chosen = item.get("vms", "all")
    if chosen == "all":
        return list(range(vm_count))
    if isinstance(chosen, int):
        return [chosen]
    return [int(v) for v in chosen]


class SimPyClock:
    """The scheduler's clock in a SimPy run: ``start`` + ``env.now`` seconds."""

    def __init__(self, env: simpy.Environment, start: datetime) -> None:
        self.env, self.start = env, start

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.env.now)


class ScheduledRuns(Protocol):
    """What the scheduler needs of the simulation it serves (a
    :class:`~simulator.campaigns.run.Simulation` is one): its SimPy environment, the
    management server's lifetime, and a way to run a workflow and note an event."""

    @property
    def env(self) -> simpy.Environment: ...

    @property
    def life(self) -> ManagerLife: ...

    def workflow(self, kind: str, workflow: Workflow[Any]) -> Proc:
        """Run ``workflow`` under the SimPy runner; its result, or None when it failed."""
        ...

    def note(self, what: str, detail: str) -> None:
        """Record a manager event (``what``, ``detail``) in the run's event log."""
        ...


class PolicyScheduler:
    """The policy scheduler of one simulation (``runs``) on the store ``uow``, acting as
    ``admin``: the policies ``items`` of a fleet of ``fleet_vms`` VMs, beside a workload that
    keeps up to ``manual_snapshots`` snapshots of its own per VM."""

    def __init__(
        self,
        runs: ScheduledRuns,
        uow: UowFactory,
        admin: Account,
        start: datetime,
        items: list[dict[str, Any]],
        fleet_vms: int,
        manual_snapshots: int = 0,
        poll_s: float = 3600.0,
        retry_s: float = 60.0,
    ) -> None:
        self.runs, self.uow, self.admin, self.items, self.fleet_vms = runs, uow, admin, items, fleet_vms
        self.poll_s = poll_s
        self.clock = SimPyClock(runs.env, start)
        self.scheduler = Scheduler(uow, self.clock, self._launch, retry_s)
        self.totals: Counter[str] = Counter()
        self.policy_ids: list[int] = []
        self._wake = runs.env.event()
        self._make_room(manual_snapshots)

    def _make_room(self, manual: int) -> None:
        """Raise ``vmsnapshot.max`` and the interval ceilings to what the policies need."""
        uow, admin = self.uow, self.admin
        need = max(int(p["maxsnaps"]) for p in self.items)
        with uow(readonly=True) as u:
            per_vm = int(u.config.get(config.VMSNAPSHOT_MAX))
        accounts.set_config(uow, admin, config.VMSNAPSHOT_MAX.name, str(max(per_vm, need + manual + 1)))
        for item in self.items:
            key = config.POLICY_CEILINGS[str(item["intervaltype"]).upper()]
            with uow(readonly=True) as u:
                ceiling = int(u.config.get(key))
            accounts.set_config(uow, admin, key.name, str(max(ceiling, int(item["maxsnaps"]))))

    def attach(self, index: int, vm: VM) -> None:
        """Give the freshly deployed VM number ``index`` the policies that name it."""
        for item in self.items:
            if index in vm_indexes(item, self.fleet_vms):
                policy = policies.create(
                    self.uow,
                    self.admin,
                    vm.uuid,
                    str(item["intervaltype"]),
                    str(item["schedule"]),
                    str(item.get("timezone", "UTC")),
                    int(item["maxsnaps"]),
                    bool(item.get("snapshotmemory", False)),
                    bool(item.get("quiescevm", False)),
                )
                self.policy_ids.append(policy.id)
        if not self._wake.triggered:
            self._wake.succeed()  # the sleeping scheduler looks at the new policy's first run

    def process(self) -> Proc:
        """Tick whenever a policy is due; hold while the management server is down."""
        env, life = self.runs.env, self.runs.life
        while True:
            if not life.up:
                yield life.wait_up()
            report = self.scheduler.tick()
            self.totals["launched"] += len(report.launched)
            self.totals["retried"] += len(report.retried)
            self.totals["refused"] += len(report.refused)
            self.totals["missed_runs"] += sum(report.missed.values())
            self.totals["recoveries"] += len(report.missed)
            self.totals["removed"] += len(report.removed)
            for uuid, n in report.missed.items():
                self.runs.note("policy-missed", f"{uuid} missed={n}")
            wake = self.scheduler.next_wakeup()
            wait = self.poll_s
            if wake is not None:
                wait = min(wait, (wake - self.clock.now()).total_seconds())
            self._wake = env.event()
            yield env.timeout(max(wait, 1.0)) | self._wake

    def _launch(self, order: RunOrder) -> None:
        self.runs.env.process(self._run(order))

    def _run(self, order: RunOrder) -> Proc:
        pruned = yield from self.runs.workflow("scheduled", order.workflow(self.uow))
        if pruned is not None:
            self.totals["snapshots"] += 1
            self.totals["pruned"] += pruned

    def result(self, vms: Sequence[VM]) -> dict[str, Any]:
        """Counts for the run's result: runs, retries, refusals, misses, and what ``vms`` store."""
        scheduled = manual = 0
        with self.uow(readonly=True) as uow:
            for vm in vms:
                tagged = uow.vm_snapshot_policies.scheduled_ids(vm.id)
                for snap in uow.vm_snapshots.by_vm(vm.id):
                    if snap.id in tagged:
                        scheduled += 1
                    else:
                        manual += 1
        return {
            **{
                k: self.totals.get(k, 0)
                for k in (
                    "launched",
                    "snapshots",
                    "pruned",
                    "retried",
                    "refused",
                    "missed_runs",
                    "recoveries",
                    "removed",
                )
            },
            "policies": len(self.policy_ids),
            "stored_scheduled": scheduled,
            "stored_manual": manual,
        }
