"""``RealtimeHyperVDriver``: the timed host behind the blocking driver contract, its SimPy
clock running ``time_scale`` simulated seconds per wall second."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness.drivers import (
    CreateVMSnapshot,
    DeployVM,
    DiskSpec,
    GuestDataAnswer,
    HostUnreachable,
    HyperVDriver,
    InvalidState,
    ObjectNotFound,
    PowerState,
    ReadGuestData,
    RevertToVMSnapshot,
    SnapshotAnswer,
    SnapshotRef,
    VMRef,
    WriteGuestData,
    load_driver,
)
from simulator.driver import SimulatedHyperVDriver
from simulator.realtime import RealtimeHyperVDriver
from simulator.timed import EventLog

GIB = 2**30


def deploy(driver: HyperVDriver, name: str) -> None:
    """A running 4 GiB VM with one disk (5 simulated seconds: deploy and start)."""
    driver.execute(DeployVM(VMRef(name), 4096, 2, (DiskSpec(f"{name}-root", 20 * GIB),)))


def snapshot(name: str, snap: str = "s1") -> CreateVMSnapshot:
    """Disk and memory: 0.6 s of AVHDX swap and 4 GiB of saved state at 1 GB/s, ~4.9 s."""
    return CreateVMSnapshot(VMRef(name), SnapshotRef(snap), memory=True)


@pytest.fixture
def fast() -> Iterator[RealtimeHyperVDriver]:
    with RealtimeHyperVDriver(time_scale=600, log=EventLog(keep=True)) as driver:
        yield driver


def test_a_checkpoint_takes_its_simulated_time_scaled_down(fast: RealtimeHyperVDriver) -> None:
    assert isinstance(fast, HyperVDriver)
    deploy(fast, "vm1")
    before, wall = fast.now, time.monotonic()
    answer = fast.execute(snapshot("vm1"))
    wall, simulated = time.monotonic() - wall, fast.now - before
    assert isinstance(answer, SnapshotAnswer) and answer.memory and answer.power_state == PowerState.Running
    assert simulated >= 4.0  # ~4.9 s of simulated work ...
    assert wall < 2.0  # ... in ~8 ms of wall time at 600x
    assert wall >= 4.0 / 600 * 0.5


def began(driver: RealtimeHyperVDriver, vm: str, kind: str) -> bool:
    lines = driver.log.lines or []
    return any(line.split(" ")[2:5] == [vm, "begin", f"{kind}\n"] for line in list(lines))


def test_a_second_command_on_a_busy_vm_is_refused() -> None:
    # at 10x the checkpoint lasts ~0.5 s of wall
    with RealtimeHyperVDriver(time_scale=10, log=EventLog(keep=True)) as driver:
        deploy(driver, "vm1")
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(driver.execute, snapshot("vm1"))
            deadline = time.monotonic() + 5
            while not began(driver, "vm1", "CreateVMSnapshot") and time.monotonic() < deadline:
                time.sleep(0.005)
            with pytest.raises(InvalidState, match="CreatingSnapshot"):
                driver.execute(snapshot("vm1", "s2"))
            assert isinstance(first.result(timeout=10), SnapshotAnswer)


def test_two_vms_commands_overlap() -> None:
    # at 10x each checkpoint lasts ~0.5 s of wall: ample for both threads to submit
    with RealtimeHyperVDriver(time_scale=10, log=EventLog(keep=True)) as driver:
        deploy(driver, "vm1")
        deploy(driver, "vm2")
        go = threading.Barrier(2)

        def run(name: str) -> None:
            go.wait()
            driver.execute(snapshot(name))

        with ThreadPoolExecutor(2) as pool:
            list(pool.map(run, ["vm1", "vm2"]))
    assert driver.log.lines is not None
    spans: dict[str, dict[str, float]] = {}
    for line in driver.log.lines:
        now, _host, vm, event, detail = line.split(" ", 4)
        if detail.strip() == "CreateVMSnapshot" and event in ("begin", "end"):
            spans.setdefault(vm, {})[event] = float(now)
    one, two = spans["vm1"], spans["vm2"]
    assert one["begin"] < two["end"] and two["begin"] < one["end"]  # in flight together
    assert one["end"] - one["begin"] >= 4.0


def test_errors_are_the_same_host_errors(fast: RealtimeHyperVDriver) -> None:
    with pytest.raises(ObjectNotFound):
        fast.execute(snapshot("nobody"))
    deploy(fast, "vm1")
    with pytest.raises(InvalidState):
        deploy(fast, "vm1")
    with pytest.raises(ObjectNotFound):
        fast.execute(RevertToVMSnapshot(VMRef("vm1"), SnapshotRef("missing")))
    fast.execute(WriteGuestData(VMRef("vm1"), "k", "v"))  # the driver still serves after errors
    assert fast.execute(ReadGuestData(VMRef("vm1"), "k")) == GuestDataAnswer("v")


def test_guest_data_follows_a_revert(fast: RealtimeHyperVDriver) -> None:
    deploy(fast, "vm1")
    fast.execute(WriteGuestData(VMRef("vm1"), "data", "one"))
    fast.execute(snapshot("vm1"))
    fast.execute(WriteGuestData(VMRef("vm1"), "data", "two"))
    fast.execute(RevertToVMSnapshot(VMRef("vm1"), SnapshotRef("s1")))
    assert fast.execute(ReadGuestData(VMRef("vm1"), "data")) == GuestDataAnswer("one")


def test_close_stops_the_clock_and_saves(tmp_path: Path) -> None:
    state = tmp_path / "host.json"
    driver = load_driver("sim-timed", time_scale=600, state_file=state)
    assert isinstance(driver, RealtimeHyperVDriver)
    deploy(driver, "vm1")
    driver.execute(snapshot("vm1"))
    assert state.exists()  # saved after each command
    with pytest.raises(HostUnreachable, match="in use"):
        SimulatedHyperVDriver(state, lock_wait=0.1)
    driver.execute(WriteGuestData(VMRef("vm1"), "data", "kept"))
    driver.close()
    driver.close()  # idempotent
    assert not driver._thread.is_alive()
    with pytest.raises(RuntimeError, match="after close"):
        driver.execute(ReadGuestData(VMRef("vm1"), "data"))

    with RealtimeHyperVDriver(time_scale=600, state_file=state) as again:
        assert again.execute(ReadGuestData(VMRef("vm1"), "data")) == GuestDataAnswer("kept")
        assert set(again.host.vm("vm1").checkpoints) == {"s1"}
    with SimulatedHyperVDriver(state) as instant:  # one state format for both simulated drivers
        assert instant.execute(ReadGuestData(VMRef("vm1"), "data")) == GuestDataAnswer("kept")


def test_close_fails_commands_in_flight() -> None:
    driver = RealtimeHyperVDriver(time_scale=1)
    deploy_started = ThreadPoolExecutor(1)
    try:
        pending = deploy_started.submit(deploy, driver, "vm1")  # 5 s of wall at 1x
        time.sleep(0.1)
        driver.close()
        with pytest.raises(HostUnreachable, match="stopped"):
            pending.result(timeout=5)
    finally:
        deploy_started.shutdown()


def test_a_time_scale_must_be_positive() -> None:
    with pytest.raises(ValueError, match="time_scale"):
        RealtimeHyperVDriver(time_scale=0)
