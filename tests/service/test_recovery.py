"""Recovery on every start: a dead manager's jobs are taken over and finished honestly, its
transient rows settled; a live manager's work is never touched; ``hvsnap sync`` and
``syncVMSnapshot`` do the same on demand."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main
from harness.domain.model import AsyncJob, ManagementServer
from harness.domain.states import VMSnapshotEvent
from harness.service.cloud import open_cloud
from tests.service.conftest import World


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _in_flight_revert(world: World, snap_uuid: str, msid: int, pid: int) -> AsyncJob:
    """What a manager (``msid``, process ``pid``) leaves when it dies during a revert."""
    with world.m.uow_factory() as uow:
        uow.mshosts.register(ManagementServer(0, msid, socket.gethostname(), pid))
        snap = uow.vm_snapshots.get_by_uuid(snap_uuid)
        assert snap is not None
        uow.vm_snapshots.transit(snap, VMSnapshotEvent.RevertRequested)
        vm = uow.vms.get(snap.vm_id)
        assert vm is not None
        job = uow.jobs.add(
            AsyncJob(
                0,
                f"job-{msid}",
                world.admin.id,
                "revertToVMSnapshot",
                "{}",
                "VmSnapshot",
                snap.id,
                init_msid=msid,
                executing_msid=msid,
                queue_key=vm.uuid,
                process_status=1,
            )
        )
        uow.commit()
    return job


def test_a_cli_command_after_a_crash_settles_and_finishes_the_dead_managers_job(tmp_path: Path) -> None:
    with open_cloud(tmp_path) as cloud:
        world = World(cloud)
        vm = world.deploy()
        snap = world.snap(vm, memory=True)["id"]
        job = _in_flight_revert(world, snap, 77, _dead_pid())
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "snapshot", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert [s["state"] for s in json.loads(result.output)] == ["Ready"]
    with open_cloud(tmp_path) as cloud:
        done = cloud.manager.query_job(cloud.admin, job.uuid)
    assert done["jobstatus"] == 1  # the checkpoint is current on the host: the revert had been applied
    assert done["jobresult"]["virtualmachine"]["id"] == vm


def test_hvsnap_sync_prints_what_it_settled_and_spares_a_live_manager(tmp_path: Path) -> None:
    with open_cloud(tmp_path) as cloud:
        world = World(cloud)
        vm1, vm2 = world.deploy("a"), world.deploy("b")
        dead = _in_flight_revert(world, world.snap(vm1)["id"], 77, _dead_pid())
        live = _in_flight_revert(world, world.snap(vm2)["id"], 88, os.getpid())  # this process is alive
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "sync", "--json"])
    assert result.exit_code == 0, result.output
    done = json.loads(result.output)
    assert [(s["kind"], s["from"], s["to"]) for s in done["settled"]] == [("snapshot", "Reverting", "Ready")]
    assert [(j["jobid"], j["cmd"]) for j in done["jobs"]] == [(dead.uuid, "revertToVMSnapshot")]
    assert done["skipped"] == [world.vm(vm2)["instancename"]]
    with open_cloud(tmp_path, recover="never") as cloud:
        assert cloud.manager.query_job(cloud.admin, live.uuid)["jobstatus"] == 0
        states = {s["virtualmachineid"]: s["state"] for s in World(cloud).snaps()}
    assert states == {vm1: "Ready", vm2: "Reverting"}


def test_guest_data_of_a_stopped_vm_is_refused_with_its_state(tmp_path: Path) -> None:
    with open_cloud(tmp_path) as cloud:
        world = World(cloud)
        vm = world.deploy(start=False)
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "guest", "read", vm, "k"])
    assert result.exit_code == 3
    assert json.loads(result.output)["errorcode"] == 431
    assert "Stopped" in result.output


def test_the_readme_sync_commands_as_printed(tmp_path: Path) -> None:
    with open_cloud(tmp_path) as cloud:
        world = World(cloud)
        vm = world.deploy()
        _in_flight_revert(world, world.snap(vm)["id"], 77, _dead_pid())
    hvsnap = str(Path(sys.executable).parent / "hvsnap")
    env = {**os.environ, "HVSNAP_HOME": str(tmp_path)}
    text = subprocess.run([hvsnap, "sync"], env=env, capture_output=True, text=True, check=True).stdout
    assert "Reverting" in text and "revertToVMSnapshot" in text
    again = subprocess.run([hvsnap, "sync", "--json"], env=env, capture_output=True, text=True, check=True).stdout
    assert json.loads(again)["settled"] == []  # nothing left to settle


def test_a_job_still_queued_when_its_manager_died_fails_and_nothing_changes(tmp_path: Path) -> None:
    with open_cloud(tmp_path) as cloud:
        world = World(cloud)
        vm = world.deploy()
        snap = world.snap(vm)
        with world.m.uow_factory() as uow:
            uow.mshosts.register(ManagementServer(0, 99, socket.gethostname(), _dead_pid()))
            row = uow.vm_snapshots.get_by_uuid(snap["id"])
            assert row is not None
            queued = uow.jobs.add(
                AsyncJob(
                    0,
                    "queued-delete",
                    world.admin.id,
                    "deleteVMSnapshot",
                    "{}",
                    "VmSnapshot",
                    row.id,
                    init_msid=99,
                    executing_msid=99,
                    queue_key=vm,
                )
            )
            uow.commit()
    with open_cloud(tmp_path) as cloud:  # the next manager's start takes it over
        done = cloud.manager.query_job(cloud.admin, queued.uuid)
        assert [s["state"] for s in World(cloud).snaps()] == ["Ready"]
    assert (done["jobstatus"], done["jobresult"]["errorcode"]) == (2, 530)
    assert "before the job started" in done["jobresult"]["errortext"]
