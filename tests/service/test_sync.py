"""VMSnapshotSync against the instant simulated host (thread runner)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from harness.domain.errors import CloudError
from harness.domain.states import VMEvent
from harness.drivers import (
    A,
    Command,
    CreateVMSnapshot,
    DeleteVMSnapshot,
    DeployVM,
    ExportVM,
    GetInventory,
    HostUnreachable,
    OperationTimeout,
    PowerOffVM,
    PowerState,
    RevertToVMSnapshot,
    StartVM,
    UnregisterVM,
)
from harness.jobs.runners import Workflow, drive
from harness.service import events, sync, vms, vmsnapshots
from tests.service.conftest import Failing, World

Obj = dict[str, Any]


def _sync(world: World) -> sync.SyncReport:
    return world.m.runner.run(sync.sync(world.m.uow_factory))  # type: ignore[no-any-return]


def _host(world: World):  # type: ignore[no-untyped-def]
    return world.cloud.driver.host  # type: ignore[attr-defined]


def test_out_of_band_checkpoints_are_reported_never_imported(world: World) -> None:
    vm = world.deploy()
    world.snap(vm)
    name = world.vm(vm)["instancename"]
    _host(world).checkpoint(name, "made-in-hyperv-manager", memory=False, quiesce=False)
    report = _sync(world)
    assert report.out_of_band == [(name, "made-in-hyperv-manager")]
    assert len(world.snaps(vm_uuid=vm)) == 1


def test_a_vanished_checkpoint_is_lost(world: World, caplog: pytest.LogCaptureFixture) -> None:
    vm = world.deploy()
    snap = world.snap(vm)
    name = world.vm(vm)["instancename"]
    _host(world).delete_checkpoint(name, snap["name"])
    with caplog.at_level(logging.INFO, logger="hvsnap.transitions"):
        report = _sync(world)
    assert report.vanished == [(name, snap["name"])]
    assert world.snaps(vm_uuid=vm)[0]["state"] == "Error"
    # the log tells what happened: the checkpoint was lost, not a delete that failed
    moves = [r.getMessage() for r in caplog.records if snap["id"] in r.getMessage()]
    assert moves == [f"VM snapshot {snap['id']}: Ready -[Lost]-> Error"]
    (event,) = events.search(world.m.uow_factory, world.admin, type_="VMSNAPSHOT.LOST").items
    assert (event.level, event.state, event.resource_type, event.resource_uuid) == (
        "ERROR",
        "Completed",
        "VmSnapshot",
        snap["id"],
    )
    assert "its checkpoint vanished from the host" in event.description
    assert _sync(world).vanished == []  # lost once: a second sync records nothing again
    assert events.search(world.m.uow_factory, world.admin, type_="VMSNAPSHOT.LOST").count == 1


def test_a_stop_without_an_export_loses_the_snapshots_with_the_lost_event(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.config("hyperv.vmsnapshot.export.strategy", "none")
    vm = world.deploy()
    snap = world.snap(vm, memory=True)
    with caplog.at_level(logging.INFO, logger="hvsnap.transitions"):
        world.stop(vm)
    assert world.snaps(vm_uuid=vm)[0]["state"] == "Error"
    moves = [r.getMessage() for r in caplog.records if snap["id"] in r.getMessage()]
    assert moves == [f"VM snapshot {snap['id']}: Ready -[Lost]-> Error"]
    (event,) = events.search(world.m.uow_factory, world.admin, type_="VMSNAPSHOT.LOST").items
    assert "unregistered on stop without an export" in event.description


def test_a_clean_cloud_syncs_to_nothing(world: World) -> None:
    vm = world.deploy()
    world.snap(vm)
    report = _sync(world)
    assert (report.settled, report.vanished, report.out_of_band, report.failed) == ([], [], [], [])


class DoesThenFails:
    """The world's host, except that commands of one kind fail after the host did them (a
    merge that fails after the checkpoint left the tree, an answer that never comes);
    ``blind``: and the host cannot be asked what it holds until the next sync."""

    def __init__(self, world: World, kind: type[Command[Any]] = DeleteVMSnapshot, blind: bool = False) -> None:
        self.inner, self.kind, self.blind = world.cloud.driver, kind, blind

    def execute(self, command: Command[A]) -> A:
        if isinstance(command, GetInventory) and self.blind:
            raise HostUnreachable("The WinRM client cannot complete the operation.")
        answer = self.inner.execute(command)
        if isinstance(command, self.kind):
            raise OperationTimeout(f"{type(command).__name__} did not answer within 1800 s")
        return answer


def _parent_and_child(world: World) -> tuple[str, Obj, Obj]:
    vm = world.deploy()
    parent = world.snap(vm, name="P")
    child = world.snap(vm, name="C")
    return vm, parent, child


def _trees(world: World, vm: str) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """The database's tree of Ready snapshots and the host's, by internal name."""
    with world.m.uow_factory(readonly=True) as uow:
        row = uow.vms.get_by_uuid(vm)
        assert row is not None
        db = sync.db_tree(uow, row.id)
    on_host = world.host_vm(vm)
    assert on_host is not None
    return db, {c.name: c.parent for c in on_host.checkpoints}


def test_a_delete_that_fails_after_the_host_deleted_the_checkpoint_is_done(world: World) -> None:
    vm, parent, child = _parent_and_child(world)
    assert drive(vmsnapshots.delete(world.m.uow_factory, world.snapshot_id(parent["id"])), DoesThenFails(world).execute)
    assert list(world.by_name(vm)) == ["C"] and world.by_name(vm)["C"]["parent"] is None
    db, host = _trees(world, vm)
    assert db == host == {child["name"]: None}


def test_sync_finishes_a_failed_delete_the_host_did_and_keeps_one_it_did_not(world: World) -> None:
    vm, parent, child = _parent_and_child(world)
    with pytest.raises(CloudError, match="Failed to delete"):
        drive(
            vmsnapshots.delete(world.m.uow_factory, world.snapshot_id(parent["id"])),
            DoesThenFails(world, blind=True).execute,
        )
    assert world.by_name(vm)["P"]["state"] == "Error"  # the host could not say: a failed delete
    kept = world.snap(vm, name="K")
    with pytest.raises(CloudError, match="Failed to delete"):
        drive(
            vmsnapshots.delete(world.m.uow_factory, world.snapshot_id(kept["id"])),
            Failing(world, DeleteVMSnapshot).execute,
        )
    report = _sync(world)
    assert [(s.name, s.before, s.after) for s in report.settled] == [(parent["name"], "Error", "Removed")]
    snaps = world.by_name(vm)
    assert set(snaps) == {"C", "K"} and snaps["C"]["parent"] is None
    assert snaps["K"]["state"] == "Error"  # still on the host: the user deletes it again
    db, host = _trees(world, vm)
    assert db == host == {child["name"]: None, kept["name"]: child["name"]}  # the database knows it is there
    world.delete(kept["id"])
    db, host = _trees(world, vm)
    assert db == host == {child["name"]: None}


@pytest.mark.parametrize("running", [True, False])
def test_a_create_whose_answer_was_lost_adopts_the_checkpoint_the_host_took(world: World, running: bool) -> None:
    vm = world.deploy(start=running)
    first = world.snap(vm, name="first")
    snap = vmsnapshots.allocate(world.m.uow_factory, world.admin, vm, "late")
    done = drive(vmsnapshots.create(world.m.uow_factory, snap.id), DoesThenFails(world, CreateVMSnapshot).execute)
    assert done.state == "Ready" and done.current and done.parent == world.snapshot_id(first["id"])
    if running:
        db, host = _trees(world, vm)
        assert db == host == {first["name"]: None, snap.name: first["name"]}
    world.revert(first["id"])  # both restore: the tree is whole
    world.revert(done.uuid)


def test_a_create_whose_answer_was_lost_while_the_host_cannot_say_is_an_error(world: World) -> None:
    vm = world.deploy()
    snap = vmsnapshots.allocate(world.m.uow_factory, world.admin, vm, "late")
    with pytest.raises(CloudError, match="Failed to create"):
        drive(vmsnapshots.create(world.m.uow_factory, snap.id), DoesThenFails(world, CreateVMSnapshot, True).execute)
    assert world.by_name(vm)["late"]["state"] == "Error"
    name = world.vm(vm)["instancename"]
    assert _sync(world).orphans_removed == [(name, snap.name)]  # the failed create's checkpoint goes
    assert world.by_name(vm)["late"]["state"] == "Error"  # the user sees the failure and deletes it
    db, host = _trees(world, vm)
    assert db == host == {}
    world.delete(snap.uuid)
    assert world.snaps(vm_uuid=vm) == []


def test_a_vm_the_host_runs_after_a_deploy_whose_answer_was_lost_follows_the_host(world: World) -> None:
    vm = vms.check_deploy(world.m.uow_factory, world.admin, "lost-answer", "small", True)
    with pytest.raises(CloudError, match="Failed to deploy"):
        drive(vms.deploy(world.m.uow_factory, vm.id), DoesThenFails(world, DeployVM).execute)
    assert world.vm(vm.uuid)["state"] == "Stopped"
    assert world.host_vm(vm.uuid).power_state == PowerState.Running  # type: ignore[union-attr]
    report = _sync(world)
    assert [(v.before, v.after) for v in report.vms] == [("Stopped", "Running")]
    assert world.vm(vm.uuid)["state"] == "Running"
    world.snap(vm.uuid)  # usable: a create no longer trips over "already registered"


def test_a_stop_under_on_snapshot_takes_the_export_a_snapshot_could_not(world: World) -> None:
    world.config("hyperv.vmsnapshot.export.strategy", "on-snapshot")
    vm = world.deploy()
    world.write(vm, "k", "before")
    snap = vmsnapshots.allocate(world.m.uow_factory, world.admin, vm, "S", memory=True)
    with pytest.raises(CloudError):  # the checkpoint is taken; the export's answer never comes
        drive(vmsnapshots.create(world.m.uow_factory, snap.id), DoesThenFails(world, ExportVM).execute)
    assert world.by_name(vm)["S"]["state"] == "Ready"
    world.write(vm, "k", "after")
    world.stop(vm)  # the stop exports now instead of losing the checkpoint
    assert world.by_name(vm)["S"]["state"] == "Ready"
    assert events.search(world.m.uow_factory, world.admin, type_="VMSNAPSHOT.LOST").count == 0
    world.start(vm)
    world.revert(snap.uuid)
    assert world.read(vm, "k") == "before"


def test_sync_removes_an_orphan_of_its_own_naming_and_never_a_users_checkpoint(world: World) -> None:
    vm = world.deploy()
    kept = world.snap(vm)
    name = world.vm(vm)["instancename"]
    orphan = f"{name}_VS_20240101000000"  # hvsnap's naming, and no row claims it
    _host(world).checkpoint(name, orphan, memory=False, quiesce=False)
    _host(world).checkpoint(name, f"{name}_VS_manual", memory=False, quiesce=False)
    report = _sync(world)
    assert report.orphans_removed == [(name, orphan)]
    assert report.out_of_band == [(name, f"{name}_VS_manual")]
    held = {c.name for c in world.host_vm(vm).checkpoints}  # type: ignore[union-attr]
    assert held == {kept["name"], f"{name}_VS_manual"}
    assert [s["state"] for s in world.snaps(vm_uuid=vm)] == ["Ready"]


def test_a_revert_whose_answer_was_lost_is_applied_when_the_host_moved_to_it(world: World) -> None:
    vm = world.deploy()
    world.write(vm, "k", "A")
    a = world.snap(vm, memory=True, name="A")
    world.write(vm, "k", "B")
    b = world.snap(vm, memory=True, name="B")
    done = drive(
        vmsnapshots.revert(world.m.uow_factory, world.snapshot_id(a["id"])),
        DoesThenFails(world, RevertToVMSnapshot).execute,
    )
    assert done.state == "Running" and world.read(vm, "k") == "A"
    assert world.by_name(vm)["A"]["current"] is True
    c = world.snap(vm, name="C")  # the next snapshot hangs under A on both sides
    db, host = _trees(world, vm)
    assert db == host == {a["name"]: None, b["name"]: a["name"], c["name"]: a["name"]}
    # a revert to the current snapshot whose answer is lost cannot be told from one not applied
    with pytest.raises(CloudError, match="Failed to revert"):
        drive(
            vmsnapshots.revert(world.m.uow_factory, world.snapshot_id(c["id"])),
            DoesThenFails(world, RevertToVMSnapshot).execute,
        )
    assert world.by_name(vm)["C"]["state"] == "Ready"


def test_an_unregister_whose_answer_was_lost_keeps_the_export_it_follows(world: World) -> None:
    vm = world.deploy()
    first = world.snap(vm, name="first")
    world.stop(vm)
    snap = vmsnapshots.allocate(world.m.uow_factory, world.admin, vm, "second")
    with pytest.raises(CloudError):  # taken and exported; the unregister's answer never comes
        drive(vmsnapshots.create(world.m.uow_factory, snap.id), DoesThenFails(world, UnregisterVM).execute)
    assert world.host_vm(vm) is None
    world.start(vm)  # imported from the export: the whole tree comes back
    held = {c.name for c in world.host_vm(vm).checkpoints}  # type: ignore[union-attr]
    assert held == {first["name"], snap.name}


# --------------------------------------------------------------------------- stale reports
# Another manager (another unit of work on the same store) changes a VM between the host's
# report and sync's settling of that VM: sync must not act on the report, and must still
# settle what a crashed manager left behind.


def _until(workflow: Workflow[Any], world: World, kind: type[Command[Any]]) -> Command[Any]:
    """Drive ``workflow`` against the world's host until it asks for a ``kind`` command; that
    command is returned unsent (the manager driving it pauses, or crashes, there)."""
    command = next(workflow)
    while not isinstance(command, kind):
        command = workflow.send(world.cloud.driver.execute(command))
    return command


def _finish(workflow: Workflow[Any], world: World, answer: object, asked: list[Command[Any]] | None = None) -> Any:
    """Send ``answer`` to the paused ``workflow``, then drive it to its end; ``asked``
    collects the commands it sends on."""
    try:
        command = workflow.send(answer)
        while True:
            if asked is not None:
                asked.append(command)
            command = workflow.send(world.cloud.driver.execute(command))
    except StopIteration as done:
        return done.value


def test_a_power_report_older_than_the_vms_last_change_is_asked_for_again(world: World) -> None:
    started = world.deploy("started-meanwhile", start=False)
    leftover = world.deploy("crashed-before", start=False)
    late = world.deploy("crashed-meanwhile", start=False)
    uows = world.m.uow_factory
    # a manager crashed after the host started `leftover`, before it recorded that
    crashed = vms.start(uows, vms.check_start(uows, world.admin, leftover).id)
    world.cloud.driver.execute(_until(crashed, world, StartVM))
    # another manager's start of `started` has registered it on the host, not started it yet
    other = vms.start(uows, vms.check_start(uows, world.admin, started).id)
    start_it = _until(other, world, StartVM)
    run = sync.sync(uows)
    first = next(run)
    assert isinstance(first, GetInventory)
    stale = world.cloud.driver.execute(first)
    assert stale.vm(world.vm(started)["instancename"]).power_state == PowerState.Off  # type: ignore[union-attr]
    _finish(other, world, world.cloud.driver.execute(start_it))  # Running, on the host and in the DB
    # a third manager starts `late` on the host and crashes before recording it
    gone = vms.start(uows, vms.check_start(uows, world.admin, late).id)
    world.cloud.driver.execute(_until(gone, world, StartVM))
    asked: list[Command[Any]] = []
    report: sync.SyncReport = _finish(run, world, stale, asked)
    # the stale Off is never followed: `started` is neither stopped nor taken off the host
    assert world.vm(started)["state"] == "Running"
    assert world.host_vm(started).power_state == PowerState.Running  # type: ignore[union-attr]
    assert [c for c in asked if isinstance(c, (UnregisterVM, ExportVM))] == []
    # both crashed starts settle: `leftover` on the first report, `late` on the one asked again
    settled = {v.name: (v.before, v.after) for v in report.vms}
    assert settled == {
        world.vm(leftover)["instancename"]: ("Starting", "Running"),
        world.vm(late)["instancename"]: ("Starting", "Running"),
    }
    assert [world.vm(v)["state"] for v in (leftover, late)] == ["Running", "Running"]
    assert sum(isinstance(c, GetInventory) for c in asked) == 2  # asked again once, then the reconcile's
    assert report.skipped == []
    assert _sync(world).vms == []  # the next sync, on a fresh report, agrees


def test_a_checkpoint_taken_after_the_host_report_is_not_failed_by_it(world: World) -> None:
    vm = world.deploy("snapped-meanwhile")
    run = sync.sync(world.m.uow_factory)
    stale = world.cloud.driver.execute(next(run))
    # another manager takes a snapshot after the report, and crashes before recording it
    snap = vmsnapshots.allocate(world.m.uow_factory, world.admin, vm, "meanwhile")
    create = vmsnapshots.create(world.m.uow_factory, snap.id)
    world.cloud.driver.execute(_until(create, world, CreateVMSnapshot))
    report: sync.SyncReport = _finish(run, world, stale)
    assert [(s.name, s.before, s.after) for s in report.settled] == [(snap.name, "Creating", "Ready")]
    assert world.by_name(vm)["meanwhile"]["state"] == "Ready"
    db, host = _trees(world, vm)
    assert db == host == {snap.name: None}


class Churning:
    """The world's host, and a live manager that moves one VM after every host report (a stop
    asked for, then failed: Running again, as on the host, with a new update_count)."""

    def __init__(self, world: World, vm: str) -> None:
        self.inner, self.uows, self.vm = world.cloud.driver, world.m.uow_factory, vm
        self.reports = 0

    def execute(self, command: Command[A]) -> A:
        answer = self.inner.execute(command)
        if isinstance(command, GetInventory):
            self.reports += 1
            with self.uows() as uow:
                row = uow.vms.lock_uuid(self.vm)
                assert row is not None
                uow.vms.transit(row, VMEvent.StopRequested)
                uow.vms.transit(row, VMEvent.OperationFailed)
                uow.commit()
        return answer


def test_a_vm_that_changes_after_every_report_is_left_for_the_next_sync(world: World) -> None:
    vm = world.deploy("busy-elsewhere")
    calm = world.deploy("calm")
    world.snap(calm)
    host = Churning(world, vm)
    report = drive(sync.sync(world.m.uow_factory), host.execute)
    name = world.vm(vm)["instancename"]
    assert report.skipped == [name]
    assert "live manager is working on it" in report.why_skipped[name]
    assert host.reports == sync.ROUNDS + 1  # every round, then the reconcile's
    assert (report.vms, report.settled, report.vanished, report.failed) == ([], [], [], [])
    assert world.vm(vm)["state"] == "Running"
    assert _sync(world).skipped == []  # once it stops changing, a sync takes it again


def test_a_snapshot_taken_after_the_reconciliations_report_is_not_lost_by_it(world: World) -> None:
    vm = world.deploy("snapped-late")
    run = sync.sync(world.m.uow_factory)
    settle = next(run)
    reconcile = run.send(world.cloud.driver.execute(settle))
    assert isinstance(reconcile, GetInventory)
    stale = world.cloud.driver.execute(reconcile)
    snap = world.snap(vm, name="late")  # another manager, after the host's last report
    report: sync.SyncReport = _finish(run, world, stale)
    name = world.vm(vm)["instancename"]
    assert report.vanished == [] and report.skipped == [name]
    assert "the next sync reconciles it" in report.why_skipped[name]
    assert world.by_name(vm)["late"]["state"] == "Ready"
    assert _sync(world).vanished == []
    db, host = _trees(world, vm)
    assert db == host == {snap["name"]: None}


def test_a_job_begun_before_sync_read_the_rows_is_left_alone(world: World) -> None:
    """Recovery hands sync a function for the busy VMs, asked once the rows are read: a stop
    a live manager began after recovery looked at the jobs (its job row and the VM's
    Stopping written together, the power-off not yet on the host) is left to that manager."""
    vm = world.deploy("stopping-meanwhile")
    uows = world.m.uow_factory
    working: set[str] = set()
    run = sync.sync(uows, lambda: frozenset(working))
    stopping = vms.check_stop(uows, world.admin, vm)  # the live manager's request, and its job
    working.add(vm)
    stop = vms.stop(uows, stopping.id)
    power_off = _until(stop, world, PowerOffVM)
    report = drive(run, world.cloud.driver.execute)
    name = world.vm(vm)["instancename"]
    assert report.skipped == [name] and "pending job" in report.why_skipped[name]
    assert report.vms == []  # not followed back to Running from the host's report
    assert world.vm(vm)["state"] == "Stopping"
    _finish(stop, world, world.cloud.driver.execute(power_off))
    assert world.vm(vm)["state"] == "Stopped"
