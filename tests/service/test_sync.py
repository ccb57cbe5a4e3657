"""VMSnapshotSync against the instant simulated host (thread runner)."""

from __future__ import annotations

import logging

import pytest

from harness.service import events, sync
from tests.service.conftest import World


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
