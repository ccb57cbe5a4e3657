"""VMSnapshotSync against the instant simulated host (thread runner)."""

from __future__ import annotations

from harness.service import sync
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


def test_a_vanished_checkpoint_is_flagged(world: World) -> None:
    vm = world.deploy()
    snap = world.snap(vm)
    name = world.vm(vm)["instancename"]
    _host(world).delete_checkpoint(name, snap["name"])
    report = _sync(world)
    assert report.vanished == [(name, snap["name"])]
    assert world.snaps(vm_uuid=vm)[0]["state"] == "Error"


def test_a_clean_cloud_syncs_to_nothing(world: World) -> None:
    vm = world.deploy()
    world.snap(vm)
    report = _sync(world)
    assert (report.settled, report.vanished, report.out_of_band, report.failed) == ([], [], [], [])
