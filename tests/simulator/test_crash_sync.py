"""Crash the management server at every step of create, revert, delete and
stop-with-export, then run VMSnapshotSync: nothing stays transient, and the database tree is
the host's tree (or its export's, for a stopped VM)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harness.jobs.simulated import ManagerCrashed, Step
from harness.service import vms, vmsnapshots
from tests.simulator.conftest import SimWorld

Op = Callable[[SimWorld, Any, list[Any]], Any]


def _create_running(w: SimWorld, vm: Any, snaps: list[Any]) -> Any:
    snap = vmsnapshots.allocate(w.uow, w.admin, vm.uuid, None, None, True)
    return vmsnapshots.create(w.uow, snap.id)


def _create_stopped(w: SimWorld, vm: Any, snaps: list[Any]) -> Any:
    snap = vmsnapshots.allocate(w.uow, w.admin, vm.uuid, None, None, False)
    return vmsnapshots.create(w.uow, snap.id)


def _revert_disk(w: SimWorld, vm: Any, snaps: list[Any]) -> Any:
    snap = vmsnapshots.check_revert(w.uow, w.admin, snaps[0].uuid)
    return vmsnapshots.revert(w.uow, snap.id)


def _revert_memory(w: SimWorld, vm: Any, snaps: list[Any]) -> Any:
    snap = vmsnapshots.check_revert(w.uow, w.admin, snaps[1].uuid)
    return vmsnapshots.revert(w.uow, snap.id)


def _delete(w: SimWorld, vm: Any, snaps: list[Any]) -> Any:
    snap = vmsnapshots.check_delete(w.uow, w.admin, snaps[1].uuid)
    return vmsnapshots.delete(w.uow, snap.id)


def _stop(w: SimWorld, vm: Any, snaps: list[Any]) -> Any:
    vms.check_stop(w.uow, w.admin, vm.uuid)
    return vms.stop(w.uow, vm.id)


OPS: dict[str, tuple[Op, bool]] = {
    "create-running": (_create_running, False),
    "create-stopped": (_create_stopped, True),
    "revert-disk": (_revert_disk, False),
    "revert-memory": (_revert_memory, False),
    "delete": (_delete, False),
    "stop-with-export": (_stop, False),
}


def _prepared(stopped: bool) -> tuple[SimWorld, Any, list[Any]]:
    w = SimWorld("on-stop")
    vm = w.deploy()
    snaps = [w.snap(vm, memory=False), w.snap(vm, memory=True)]
    if stopped:
        w.stop(vm)
    return w, w.vm(vm.id), snaps


def _steps(op: Op, stopped: bool) -> list[Step]:
    w, vm, snaps = _prepared(stopped)
    seen: list[Step] = []
    w.hook = lambda step: seen.append(step) or False
    w.run(op(w, vm, snaps))
    assert not w.problems(vm.id)
    return seen


@pytest.mark.parametrize("name", sorted(OPS))
def test_crash_at_every_step_then_sync_settles(name: str) -> None:
    op, stopped = OPS[name]
    steps = _steps(op, stopped)
    assert steps, "the workflow sent no command"
    for target in steps:
        w, vm, snaps = _prepared(stopped)
        w.hook = lambda step, t=target: step == t
        with pytest.raises(ManagerCrashed):
            w.run(op(w, vm, snaps))
        assert w.sim.life.crashed_at, f"no crash at {target}"
        w.sync()
        assert w.problems(vm.id) == [], f"after a crash at {target}"
