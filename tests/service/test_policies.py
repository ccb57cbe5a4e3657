"""Recurring VM snapshot policies, retention, resource limits and the scheduler,
on the service layer with a clock the test moves."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest

from harness.domain.model import AccountType
from harness.domain.policy import Schedule
from harness.service import vmsnapshots
from harness.service.scheduler import SchedulerThread, WallClock
from harness.store.ports import EVERYTHING, utcnow
from tests.service.conftest import World, refused


class ManualClock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def jump(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


def _policy(world: World, vm: str, caller: object = None, **kw: object) -> dict[str, object]:
    args: dict[str, object] = {"intervaltype": "HOURLY", "schedule": "0", "timezone": "UTC", "maxsnaps": 3}
    args.update(kw)
    return world.m.create_vm_snapshot_policy(caller or world.admin, vm, **args)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("interval", "schedule", "says"),
    [
        ("HOURLY", "60", "minute 60 is not between 0 and 59"),
        ("HOURLY", "10:02", "expected 'MM'"),
        ("DAILY", "30", "expected 'MM:HH'"),
        ("DAILY", "30:24", "hour 24 is not between 0 and 23"),
        ("WEEKLY", "0:12:8", "day of week 8 is not between 1 and 7"),
        ("WEEKLY", "0:12", "expected 'MM:HH:D'"),
        ("MONTHLY", "0:0:31", "day of month 31 is not between 1 and 28"),
        ("MONTHLY", "a:b:c", "expected 'MM:HH:DD'"),
        ("YEARLY", "0", "Invalid intervaltype"),
    ],
)
def test_a_bad_schedule_is_refused_with_what_was_expected(
    world: World, interval: str, schedule: str, says: str
) -> None:
    vm = world.deploy()
    text = refused(world, 431, _policy, world, vm, intervaltype=interval, schedule=schedule)
    assert says in text


def test_a_bad_timezone_is_refused(world: World) -> None:
    vm = world.deploy()
    assert "Invalid timezone 'Mars/Olympus'" in refused(world, 431, _policy, world, vm, timezone="Mars/Olympus")


def test_one_policy_per_vm(world: World) -> None:
    vm = world.deploy()
    first = _policy(world, vm)
    text = refused(world, 431, _policy, world, vm, intervaltype="DAILY", schedule="0:3")
    assert f"already has VM snapshot policy {first['id']}" in text


def test_maxsnaps_above_the_global_ceiling_is_refused(world: World) -> None:
    vm = world.deploy()
    world.config("vmsnapshot.max", "50")
    text = refused(world, 431, _policy, world, vm, maxsnaps=24)
    assert "maxSnaps exceeds limit: 8 for interval type: HOURLY" in text
    assert "vmsnapshot.max.hourly=8" in text
    world.config("vmsnapshot.max.hourly", "24")
    assert _policy(world, vm, maxsnaps=24)["maxsnaps"] == 24


def test_maxsnaps_must_leave_room_under_vmsnapshot_max(world: World) -> None:
    vm = world.deploy()
    world.config("vmsnapshot.max", "8")
    text = refused(world, 431, _policy, world, vm, maxsnaps=8)
    assert "leaves no room under vmsnapshot.max=8" in text


def test_a_user_cannot_give_someone_elses_vm_a_policy(world: World) -> None:
    vm = world.deploy()
    bob = world.account("bob")
    assert "does not have permission" in refused(world, 531, _policy, world, vm, caller=bob)


def test_update_list_delete(world: World) -> None:
    vm = world.deploy()
    policy = _policy(world, vm)
    changed = world.m.update_vm_snapshot_policy(
        world.admin,
        policy["id"],
        intervaltype="DAILY",
        schedule="30:02",
        timezone="Europe/Berlin",
        maxsnaps=5,
        memory=True,
    )
    assert (changed["intervaltype"], changed["schedule"], changed["timezone"]) == ("DAILY", "30:02", "Europe/Berlin")
    assert changed["maxsnaps"] == 5 and changed["snapshotmemory"] is True
    assert "needs its schedule too" in refused(
        world, 431, world.m.update_vm_snapshot_policy, world.admin, policy["id"], intervaltype="WEEKLY"
    )
    assert [p["id"] for p in world.m.list_vm_snapshot_policies(world.admin, vm_uuid=vm)] == [policy["id"]]
    assert world.m.list_vm_snapshot_policies(world.account("carol")) == []
    world.m.delete_vm_snapshot_policies(world.admin, [policy["id"]])
    assert world.m.list_vm_snapshot_policies(world.admin) == []


# --------------------------------------------------------------------------- the scheduler


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(utcnow())


def _scheduled(world: World, vm: str) -> set[str]:
    return {s["id"] for s in world.snaps(vm_uuid=vm) if (s.get("description") or "").startswith("Scheduled")}


def test_retention_keeps_the_newest_and_never_touches_manual_snapshots(world: World, clock: ManualClock) -> None:
    vm = world.deploy()
    _policy(world, vm, maxsnaps=2)
    sched = world.m.policy_scheduler(clock)
    manual = world.snap(vm, name="manual")
    taken: list[str] = []
    for _ in range(5):
        before = _scheduled(world, vm)
        clock.jump(hours=1)
        assert len(sched.tick().launched) == 1
        [new] = _scheduled(world, vm) - before
        taken.append(new)
    assert _scheduled(world, vm) == set(taken[-2:])
    assert world.by_name(vm)["manual"]["id"] == manual["id"]
    assert len(world.snaps(vm_uuid=vm)) == 3
    [listed] = world.m.list_vm_snapshot_policies(world.admin)
    assert listed["snapshots"] == 2


def test_missed_runs_during_an_outage_give_one_run_logged(
    world: World, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    vm = world.deploy()
    policy = _policy(world, vm)
    clock.jump(hours=5)  # the manager was down for five slots
    with caplog.at_level(logging.WARNING, logger="hvsnap.scheduler"):
        report = world.m.policy_scheduler(clock).tick()
    assert report.launched == [policy["id"]] and report.missed == {policy["id"]: 4}
    assert "4 scheduled run(s)" in caplog.text and "no catch-up" in caplog.text
    assert len(_scheduled(world, vm)) == 1
    assert world.m.policy_scheduler(clock).tick().launched == []  # nothing more until the next slot


def test_a_run_colliding_with_another_operation_is_retried_not_lost(world: World, clock: ManualClock) -> None:
    vm = world.deploy()
    policy = _policy(world, vm)
    snap = vmsnapshots.allocate(world.m.uow_factory, world.admin, vm, "manual")  # in flight: Allocated
    clock.jump(hours=1)
    sched = world.m.policy_scheduler(clock)
    report = sched.tick()
    assert report.retried == [policy["id"]] and report.launched == []
    [listed] = world.m.list_vm_snapshot_policies(world.admin)
    assert listed["nextrun"] == f"{clock.now() + timedelta(seconds=60):%Y-%m-%dT%H:%M:%S}+0000"
    world.m.runner.run(vmsnapshots.create(world.m.uow_factory, snap.id))  # the manual create ends
    clock.jump(seconds=61)
    assert sched.tick().launched == [policy["id"]]
    assert len(_scheduled(world, vm)) == 1


def test_a_run_refused_by_a_limit_is_logged_and_the_policy_goes_on(world: World, clock: ManualClock) -> None:
    vm = world.deploy()
    policy = _policy(world, vm, maxsnaps=1)
    world.config("vmsnapshot.max", "1")
    world.snap(vm, name="manual")
    clock.jump(hours=1)
    report = world.m.policy_scheduler(clock).tick()
    assert "530: Creating Instance Snapshot failed" in report.refused[policy["id"]]
    [listed] = world.m.list_vm_snapshot_policies(world.admin)
    assert listed["nextrun"] > f"{clock.now():%Y-%m-%dT%H:%M:%S}"


def test_the_policy_of_a_destroyed_vm_goes(world: World, clock: ManualClock) -> None:
    vm = world.deploy()
    policy = _policy(world, vm)
    world.destroy(vm)
    clock.jump(hours=1)
    assert world.m.policy_scheduler(clock).tick().removed == [policy["id"]]
    assert world.m.list_vm_snapshot_policies(world.admin) == []


def test_the_scheduler_thread_runs_a_due_policy_on_the_wall_clock(world: World) -> None:
    vm = world.deploy()
    _policy(world, vm)
    with world.m.uow_factory() as uow:  # due a second ago
        [p] = uow.vm_snapshot_policies.search(EVERYTHING)
        uow.vm_snapshot_policies.advance(p, utcnow() - timedelta(seconds=1))
        uow.commit()
    thread = SchedulerThread(world.m.policy_scheduler(WallClock()), poll_s=0.05)
    thread.start()
    try:
        deadline = utcnow() + timedelta(seconds=10)
        while not _scheduled(world, vm) and utcnow() < deadline:
            pass
    finally:
        thread.stop()
    assert len(_scheduled(world, vm)) == 1


def test_hourly_runs_once_per_real_hour_and_daily_once_per_local_day_across_dst() -> None:
    hourly = Schedule.parse("HOURLY", "15", "America/New_York")
    fall_back = datetime(2024, 11, 3, 0, 0)  # UTC; the switch is at 06:00 UTC
    assert hourly.runs_between(fall_back, fall_back + timedelta(days=1)) == 24
    daily = Schedule.parse("DAILY", "30:01", "America/New_York")  # 01:30 happens twice on Nov 3
    runs = [daily.next_after(datetime(2024, 11, 2, 6))]
    runs.append(daily.next_after(runs[-1]))
    assert runs == [datetime(2024, 11, 3, 5, 30), datetime(2024, 11, 4, 6, 30)]  # the first 01:30 only
    skipped = Schedule.parse("DAILY", "30:02", "America/New_York")  # 02:30 never happens on Mar 10
    assert skipped.next_after(datetime(2024, 3, 10, 0)) == datetime(2024, 3, 10, 7, 30)  # 03:30 EDT
    weekly = Schedule.parse("WEEKLY", "0:12:1", "UTC")
    assert weekly.next_after(datetime(2024, 1, 1)) == datetime(2024, 1, 7, 12)  # 1 = Sunday


# --------------------------------------------------------------------------- resource limits


def test_an_account_at_its_limit_is_refused_with_nothing_created(world: World) -> None:
    alice = world.account("alice")
    vm = world.deploy("a1", caller=alice)
    root = world.m.list_domains(world.admin)[0]["id"]
    limit = world.m.update_resource_limit(world.admin, "vmsnapshot", 2, "alice", root)
    assert (limit["resourcetype"], limit["resourcetypename"], limit["max"]) == ("100", "vmsnapshot", 2)
    world.snap(vm, caller=alice)
    world.snap(vm, caller=alice)
    text = refused(world, 535, world.snap, vm, caller=alice)
    assert "Maximum number of resources of type 'vmsnapshot' for account name=alice" in text
    assert "stores 2 VM snapshots and its limit is 2" in text
    assert len(world.snaps(vm_uuid=vm)) == 2
    [listed] = world.m.list_resource_limits(alice)
    assert (listed["max"], listed["used"], listed["account"]) == (2, 2, "alice")


def test_a_domain_limit_counts_every_account_below_it(world: World) -> None:
    sub = world.m.create_domain(world.admin, "eng")
    a, b = world.account("a", domain=sub["id"]), world.account("b", domain=sub["id"])
    world.m.update_resource_limit(world.admin, 100, 1, domain_uuid=sub["id"])
    world.snap(world.deploy("va", caller=a), caller=a)
    vb = world.deploy("vb", caller=b)
    assert "for domain id=" in refused(world, 535, world.snap, vb, caller=b)


def test_limit_rules(world: World) -> None:
    root = world.m.list_domains(world.admin)[0]["id"]
    user = world.account("u")
    assert "hvsnap manages resource type 100" in refused(
        world, 431, world.m.update_resource_limit, world.admin, 3, 5, "u", root
    )
    refused(world, 431, world.m.update_resource_limit, world.admin, "vmsnapshot", -2, "u", root)
    refused(world, 431, world.m.update_resource_limit, world.admin, "vmsnapshot", 5, "admin", root)
    refused(world, 531, world.m.update_resource_limit, user, "vmsnapshot", 5, "u", root)
    dadmin = world.account("da", AccountType.DomainAdmin)
    refused(world, 531, world.m.update_resource_limit, dadmin, "vmsnapshot", 5, "da", root)
    assert world.m.list_resource_limits(world.admin)[0]["max"] == -1  # the root admin is never limited
    world.config("max.account.vmsnapshots", "4")
    assert world.m.list_resource_limits(user)[0]["max"] == 4
