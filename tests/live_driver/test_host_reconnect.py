"""Host reconnect (fullHostSync): while ``serve`` runs over PowerShell Remoting, the host
stops answering (VMMS down: "The RPC server is unavailable") and comes back after a crash,
its VMs powered off. The command that found it unreachable marks it down; as soon as it
answers again the manager syncs, and the VM the database still calls Running follows the
host's power-off report."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from harness.api.server import serving
from harness.drivers import HostUnreachable
from simulator.psrp_endpoint.endpoint import EmulatedHost
from tests.service.conftest import World

pytest.importorskip("pypsrp")


def test_a_host_that_answers_again_is_synced(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="hvsnap.recovery")
    with (
        EmulatedHost() as em,
        serving(tmp_path, driver="live", port=0, driver_options=em.driver_config(merge_poll_seconds=0.01)) as served,
    ):
        world = World(served.cloud)
        world.config("cluster.heartbeat.interval", "100")
        vm = world.deploy()
        with em.lock:
            em.host.power_off(world.vm(vm)["instancename"])  # the host crashed: its VMs are off
            em.cmdlets.faults.append(("Checkpoint-VM", HostUnreachable("The RPC server is unavailable.")))
        _, job = world.m.create_vm_snapshot(world.admin, vm, "while-down")
        failed = world.m.job_result(job)
        assert (failed["jobstatus"], failed["jobresult"]["errorcode"]) == (2, 530)
        deadline = time.monotonic() + 30
        while world.vm(vm)["state"] != "Stopped" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert world.vm(vm)["state"] == "Stopped"
    assert any(
        "sync (host reconnect): " in r.getMessage() and "Running -> Stopped (host reports Off)" in r.getMessage()
        for r in caplog.records
    )
