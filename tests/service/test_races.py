"""Two requests on one snapshot at once: one succeeds, the other is refused with 431 before
a job exists, or its job fails with 431 and a CloudStack message; never 530.

"At once" is made exact with a real job at the head of the VM's serial queue that holds it
until both requests have passed their synchronous checks (the moment two users click
together); then the queue runs them in order."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from harness.domain.errors import CloudError
from harness.domain.model import AsyncJob
from harness.service.cloud import open_cloud
from tests.service.conftest import STORES, World


class Gate:
    """A job that occupies a VM's queue until :meth:`open`."""

    def __init__(self, world: World, vm: str) -> None:
        self.event = threading.Event()
        self.job = world.m.jobs.submit(world.admin, "gate", vm, self.event.wait, lambda _: {})

    def open(self) -> None:
        self.event.set()


@pytest.fixture(params=STORES)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with (
        ThreadPoolExecutor(4) as pool,
        open_cloud(tmp_path, driver="sim", state_file=None, store=request.param, executor=pool) as cloud,
    ):
        yield World(cloud)


def outcome(world: World, job: AsyncJob) -> tuple[int, Any]:
    done = world.m.job_result(job)
    result = done["jobresult"]
    return done["jobstatus"], result.get("errorcode") if done["jobstatus"] == 2 else result


def test_delete_and_delete_of_one_snapshot(world: World) -> None:
    vm = world.deploy()
    snap = world.snap(vm)["id"]
    gate = Gate(world, vm)
    first, second = world.m.delete_vm_snapshot(world.admin, snap), world.m.delete_vm_snapshot(world.admin, snap)
    gate.open()
    assert outcome(world, first) == (1, {"success": True, "displaytext": "success"})
    status, code = outcome(world, second)
    assert (status, code) == (2, 431)
    assert "removed by another operation" in world.m.job_result(second)["jobresult"]["errortext"]
    assert world.snaps(vm_uuid=vm) == []


def test_delete_then_revert_of_one_snapshot(world: World) -> None:
    vm = world.deploy()
    snap = world.snap(vm)["id"]
    gate = Gate(world, vm)
    delete = world.m.delete_vm_snapshot(world.admin, snap)
    revert = world.m.revert_to_vm_snapshot(world.admin, snap)
    gate.open()
    assert outcome(world, delete)[0] == 1
    assert outcome(world, revert) == (2, 431)
    assert world.vm(vm)["state"] == "Running"


def test_revert_then_delete_of_one_snapshot_both_run_in_order(world: World) -> None:
    vm = world.deploy()
    snap = world.snap(vm, memory=True)["id"]
    gate = Gate(world, vm)
    revert = world.m.revert_to_vm_snapshot(world.admin, snap)
    delete = world.m.delete_vm_snapshot(world.admin, snap)
    gate.open()
    assert outcome(world, revert)[0] == 1
    assert outcome(world, delete)[0] == 1
    assert world.snaps(vm_uuid=vm) == []


def test_a_retry_of_a_running_delete_is_refused(world: World) -> None:
    vm = world.deploy()
    snap = world.snap(vm)["id"]
    gate = Gate(world, vm)
    first = world.m.delete_vm_snapshot(world.admin, snap)
    # the first delete's job is queued; the snapshot is still Ready, so a second request is
    # accepted and its job loses (the test above); once Expunging, a retry is refused at once
    gate.open()
    assert outcome(world, first)[0] == 1
    with pytest.raises(CloudError) as info:
        world.m.delete_vm_snapshot(world.admin, snap)
    assert info.value.errorcode == 431


def test_create_and_destroy_of_the_vm(world: World) -> None:
    vm = world.deploy()
    gate = Gate(world, vm)
    destroy = world.m.destroy_vm(world.admin, vm)
    _, create = world.m.create_vm_snapshot(world.admin, vm, "late")
    gate.open()
    assert outcome(world, destroy)[0] == 1
    status, code = outcome(world, create)
    assert (status, code) == (2, 431)
    assert world.snaps() == []


def test_destroy_while_a_create_is_queued_is_refused_before_a_job(world: World) -> None:
    vm = world.deploy()
    gate = Gate(world, vm)
    _, create = world.m.create_vm_snapshot(world.admin, vm, "first")
    with pytest.raises(CloudError) as info:
        world.m.destroy_vm(world.admin, vm)
    assert info.value.errorcode == 431
    gate.open()
    assert outcome(world, create)[0] == 1


def test_delete_and_policy_prune_of_one_snapshot(world: World) -> None:
    vm = world.deploy()
    policy = world.m.create_vm_snapshot_policy(world.admin, vm, "HOURLY", "0", "UTC", 1)
    with world.m.uow_factory() as uow:  # due now
        p = uow.vm_snapshot_policies.get_by_uuid(policy["id"])
        assert p is not None
        uow.vm_snapshot_policies.advance(p, uow.now)
        uow.commit()
    world.m.run_due_policies(world.admin)
    oldest = _only_snapshot(world, vm)
    gate = Gate(world, vm)
    delete = world.m.delete_vm_snapshot(world.admin, oldest)
    with world.m.uow_factory() as uow:
        p = uow.vm_snapshot_policies.get_by_uuid(policy["id"])
        assert p is not None
        uow.vm_snapshot_policies.advance(p, uow.now)
        uow.commit()
    report = world.m.run_due_policies(world.admin)  # its prune would take the same snapshot
    gate.open()
    assert outcome(world, delete)[0] == 1
    for job in _all_finished(world):
        assert job["jobstatus"] == 1 or job["jobresult"]["errorcode"] == 431, job
    assert report["launched"] or report["retried"]
    assert oldest not in {s["id"] for s in world.snaps(vm_uuid=vm)}


def _all_finished(world: World) -> list[dict[str, Any]]:
    for _ in range(500):
        jobs = world.m.list_jobs(world.admin)[1]
        if all(j["jobstatus"] != 0 for j in jobs):
            return jobs
        threading.Event().wait(0.02)
    raise AssertionError("jobs still pending")


def _only_snapshot(world: World, vm: str) -> str:
    _all_finished(world)
    (snap,) = world.snaps(vm_uuid=vm)
    return str(snap["id"])


def test_a_create_refused_in_its_workflow_leaves_no_allocated_row(world: World) -> None:
    from harness.domain.states import VMSnapshotEvent

    vm = world.deploy()
    other = world.snap(vm)["id"]
    gate = Gate(world, vm)
    _, create = world.m.create_vm_snapshot(world.admin, vm, "late")
    with world.m.uow_factory() as uow:  # meanwhile another manager starts deleting a snapshot of the VM
        row = uow.vm_snapshots.get_by_uuid(other)
        assert row is not None
        uow.vm_snapshots.transit(row, VMSnapshotEvent.ExpungeRequested)
        uow.commit()
    gate.open()
    assert outcome(world, create) == (2, 431)
    assert [s["state"] for s in world.snaps(vm_uuid=vm)] == ["Expunging"]  # "late" is gone, not Allocated


def test_a_memory_snapshot_of_a_vm_stopped_after_the_request_is_refused_431(world: World) -> None:
    from harness.domain.states import VMEvent
    from harness.jobs.runners import drive
    from harness.service import vmsnapshots

    vm = world.deploy("stopped-later")
    snap = vmsnapshots.allocate(world.m.uow_factory, world.admin, vm, "mem", memory=True)
    # another manager stopped it between the request and its job (a revert to a disk snapshot)
    with world.m.uow_factory() as uow:
        row = uow.vms.get_by_uuid(vm)
        assert row is not None
        uow.vms.transit(row, VMEvent.StopRequested)
        uow.vms.transit(row, VMEvent.OperationSucceeded)
        uow.commit()
    world.cloud.driver.host.power_off(row.instance_name)  # type: ignore[attr-defined]
    with pytest.raises(CloudError) as refused:
        drive(vmsnapshots.create(world.m.uow_factory, snap.id), world.cloud.driver.execute)
    assert refused.value.errorcode == 431
    assert "Can not snapshot memory" in refused.value.errortext
    assert world.snaps() == []  # the Allocated row is gone, nothing was sent
    assert world.vm(vm)["state"] == "Stopped"
