"""The emulated host in SimPy time (``EmulatedHost(time_scale=X)``): cmdlets over the wire take
the timed host's simulated time, a busy VM refuses a second state change, a merge shows in
another session's Get-VM, and a pipeline longer than the client's OperationTimeout is
long-polled through WS-Management TimedOut faults."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from harness.drivers import (
    CreateVMSnapshot,
    DeleteVMSnapshot,
    DeployVM,
    DiskSpec,
    ExportVM,
    InvalidState,
    PowerOffVM,
    PowerState,
    RevertToVMSnapshot,
    SnapshotRef,
    VMRef,
)
from live_driver.driver import PowerShellHyperVDriver
from live_driver.wire import Invocation, cmd
from simulator.costs import MB, Costs
from simulator.psrp_endpoint.endpoint import EmulatedHost

GIB = 2**30
VM = VMRef("i-2-9-VM")
#: no VSS freeze (memory checkpoints only) and no fixed costs but the ones a test names
QUICK: dict[str, Any] = {
    "deploy_s": 0.0,
    "start_s": 0.0,
    "power_off_s": 0.0,
    "register_s": 0.0,
    "restore_s": 0.0,
    "guest_write_bps": 0.0,
}


@contextmanager
def timed(time_scale: float, **costs: Any) -> Iterator[EmulatedHost]:
    with EmulatedHost(username="tester", password="S3cret-pass", time_scale=time_scale, costs=Costs(**costs)) as em:
        yield em


def driver(em: EmulatedHost, **extra: Any) -> PowerShellHyperVDriver:
    return PowerShellHyperVDriver(**em.driver_config(merge_poll_seconds=0.02, **extra))


def test_a_checkpoint_over_the_wire_takes_the_timed_hosts_time() -> None:
    costs = Costs(**QUICK)
    with timed(10, **QUICK) as em, driver(em) as d:
        d.execute(DeployVM(VM, 4096, 1, (DiskSpec("vol-root", 8 * GIB), DiskSpec("vol-data", GIB))))
        # a memory checkpoint of a running 4 GiB VM: pause, two AVHDX, the config, 4 GiB of state
        simulated = (
            costs.pause_s
            + 2 * costs.avhdx_create_s
            + costs.config_copy_s
            + 4096 * 2**20 / min(costs.state_write_bps, costs.channel_bps())
        )
        start = time.monotonic()
        answer = d.execute(CreateVMSnapshot(VM, SnapshotRef("A"), memory=True))
        wall = time.monotonic() - start
        # back to A: Restore-VMSnapshot leaves it Saved, Start-VM reads the 4 GiB back
        start = time.monotonic()
        reverted = d.execute(RevertToVMSnapshot(VM, SnapshotRef("A")))
        revert_wall = time.monotonic() - start
    assert answer.memory and answer.power_state == PowerState.Running
    assert simulated / 10 <= wall < simulated / 10 + 2.0, (simulated, wall)
    assert reverted.power_state == PowerState.Running
    assert revert_wall >= 4096 * 2**20 / min(costs.state_read_bps, costs.channel_bps()) / 10


def test_a_busy_vm_refuses_a_second_state_change_from_another_session() -> None:
    with timed(2, **QUICK) as em, driver(em) as first, driver(em) as second:
        first.execute(DeployVM(VM, 4096, 1, (DiskSpec("vol-root", 8 * GIB),)))
        result: dict[str, Any] = {}
        worker = threading.Thread(
            target=lambda: result.setdefault(
                "answer", first.execute(CreateVMSnapshot(VM, SnapshotRef("A"), memory=True))
            )
        )
        worker.start()
        deadline = time.monotonic() + 10
        while VM.name not in em.cmdlets.clock.realtime.timed.busy:  # type: ignore[union-attr]
            assert time.monotonic() < deadline
            time.sleep(0.01)
        with pytest.raises(InvalidState, match="InvalidState"):
            second.execute(PowerOffVM(VM))
        worker.join(timeout=30)
    assert result["answer"].memory and em.host.vm(VM.name).power_state == PowerState.Running


def test_another_session_sees_the_merge_while_a_delete_runs() -> None:
    with timed(1, **QUICK, merge_bps=500 * MB) as em, driver(em) as d, driver(em) as watcher:
        d.execute(DeployVM(VM, 1024, 1, (DiskSpec("vol-root", 8 * GIB),)))
        d.execute(CreateVMSnapshot(VM, SnapshotRef("A"), memory=True))
        with em.lock:  # the guest wrote 500 MB since A: deleting A merges them (~1 s)
            em.host._resize(em.host.disk_files[em.host.vm(VM.name).disks["vol-root"]], 500 * MB)
        seen: set[str] = set()
        delete = threading.Thread(target=d.execute, args=(DeleteVMSnapshot(VM, SnapshotRef("A")),))
        delete.start()
        while delete.is_alive():
            result = watcher.session.run(Invocation(((cmd("Get-VM", Name=VM.name),),), readonly=True))
            seen.update(str(s) for s in result.output[0]["OperationalStatus"])
        delete.join()
        after = watcher.session.run(Invocation(((cmd("Get-VM", Name=VM.name),),), readonly=True))
    assert "MergingDisks" in seen
    assert [str(s) for s in after.output[0]["OperationalStatus"]] == ["Ok"]
    assert not em.host.vm(VM.name).checkpoints


def test_a_pipeline_longer_than_the_operation_timeout_is_polled_through() -> None:
    with timed(1, **QUICK, export_bps=200 * MB) as em, driver(em, operation_timeout=1, read_timeout=5) as d:
        d.execute(DeployVM(VM, 1024, 1, (DiskSpec("vol-root", 8 * GIB),)))
        with em.lock:  # a 500 MB disk: the export takes 2.5 s, over two OperationTimeouts
            em.host._resize(em.host.disk_files[d.layout.disk(VM.name, "vol-root")], 500 * MB)
        start = time.monotonic()
        answer = d.execute(ExportVM(VM))
        wall = time.monotonic() - start
    assert answer.bytes_copied == 500 * MB
    # each Receive waited out most of its 1 s OperationTimeout before the TimedOut fault
    assert wall >= 2.5 and 2 <= em.timed_out <= 4


def test_emulate_host_serves_a_timed_host_from_the_command_line() -> None:
    argv = [sys.executable, "-m", "harness.cli", "emulate-host", "--port", "0", "--time-scale", "20"]
    argv += ["--user", "tester", "--password", "S3cret-pass"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r":(\d+)/wsman .*20 simulated s per wall s", line)
        assert match, line
        config = {"host": "127.0.0.1", "port": int(match.group(1)), "ssl": False, "auth": "ntlm"}
        with PowerShellHyperVDriver(**config, username="tester", password="S3cret-pass") as d:
            d.execute(DeployVM(VM, 4096, 1, (DiskSpec("vol-root", 8 * GIB),)))
            start = time.monotonic()
            d.execute(CreateVMSnapshot(VM, SnapshotRef("A"), memory=True))
            # 4 GiB of saved state at 1000 MB/s is over 4 simulated seconds: 0.2 s at 20x
            assert time.monotonic() - start >= 4.29 / 20
    finally:
        proc.terminate()
        proc.wait(timeout=10)
