"""Scenarios of features/policies.feature: the shared steps (features/steps/conftest.py, the
vocabulary in vocabulary.py) and the policy steps, each one manager call or one assertion."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pytest_bdd import given, scenarios, then, when

from features.steps.conftest import P
from features.steps.vocabulary import ScenarioCloud as C
from harness.service.scheduler import Scheduler, TickReport
from harness.store.ports import utcnow

scenarios("policies.feature")


class Timeline:
    """The scheduler's clock, moved by the steps, and what its ticks reported."""

    def __init__(self, cloud: C) -> None:
        self.moment = utcnow()
        self.scheduler: Scheduler = cloud.m.policy_scheduler(self)
        self.reports: list[TickReport] = []

    def now(self) -> datetime:
        return self.moment

    def advance(self, hours: int, tick_each_hour: bool = True) -> None:
        for _ in range(hours):
            self.moment += timedelta(hours=1)
            if tick_each_hour:
                self.reports.append(self.scheduler.tick())
        if not tick_each_hour:
            self.reports.append(self.scheduler.tick())


@pytest.fixture
def timeline(cloud: C) -> Timeline:
    return Timeline(cloud)


def give_policy(cloud: C, vm: str, interval: str, schedule: str, zone: str, keep: int) -> None:
    cloud.m.create_vm_snapshot_policy(cloud.caller, cloud.vm_id(vm), interval, schedule, zone, keep)


def scheduled(cloud: C, vm: str) -> list[str]:
    return [n for n, s in cloud.of_vm(vm).items() if (s.get("description") or "").startswith("Scheduled")]


@given(P('"{vm:N}" has an {interval:w} policy at "{schedule:N}" in "{zone:N}" keeping {keep:d}'))
def _(cloud: C, vm: str, interval: str, schedule: str, zone: str, keep: int) -> None:
    give_policy(cloud, vm, interval, schedule, zone, keep)


@when(P('I try to give "{vm:N}" a {interval:w} policy at "{schedule:N}" in "{zone:N}" keeping {keep:d}'))
def _(cloud: C, vm: str, interval: str, schedule: str, zone: str, keep: int) -> None:
    cloud.attempt(give_policy, cloud, vm, interval, schedule, zone, keep)


@given(P('the VM snapshot limit of account "{name:N}" is {limit:d}'))
def _(cloud: C, name: str, limit: int) -> None:
    cloud.m.update_resource_limit(cloud.cloud.admin, "vmsnapshot", limit, name)


@when(P("{hours:d} hours pass"))
def _(timeline: Timeline, hours: int) -> None:
    timeline.advance(hours)


@when(P("the manager is down for {hours:d} hours"))
def _(timeline: Timeline, hours: int) -> None:
    timeline.advance(hours, tick_each_hour=False)


@then(P('"{vm:N}" has {count:d} scheduled snapshots'))
def _(cloud: C, vm: str, count: int) -> None:
    assert len(scheduled(cloud, vm)) == count, scheduled(cloud, vm)


@then(P('the snapshot "{name:N}" is kept'))
def _(cloud: C, name: str) -> None:
    assert cloud.snap(name)["state"] == "Ready"


@then(P('"{vm:N}" has no policy'))
def _(cloud: C, vm: str) -> None:
    assert cloud.m.list_vm_snapshot_policies(cloud.cloud.admin, vm_uuid=cloud.vm_id(vm)) == []


@then(P("the scheduler reported {count:d} missed runs"))
def _(timeline: Timeline, count: int) -> None:
    assert sum(n for r in timeline.reports for n in r.missed.values()) == count
