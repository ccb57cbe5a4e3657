"""The manager over the wire: the same flows through ``open_cloud(driver="live")`` against
the emulated host and through ``open_cloud(driver="sim")`` end in the same outcome,
host errors included (injected in the emulator's cmdlet layer on live, by a failing driver
on sim, or by the same host condition on both)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from harness.domain.errors import CloudError
from harness.drivers import (
    A,
    Command,
    CreateVMSnapshot,
    DeleteVMSnapshot,
    HostError,
    HyperVDriver,
    InvalidState,
    OperationFailed,
    OperationTimeout,
    RevertToVMSnapshot,
)
from harness.service.cloud import open_cloud
from simulator.host import HyperVHost
from simulator.psrp_endpoint.endpoint import EmulatedHost
from tests.service.conftest import World

CMDLET = {
    CreateVMSnapshot: "Checkpoint-VM",
    RevertToVMSnapshot: "Restore-VMSnapshot",
    DeleteVMSnapshot: "Remove-VMSnapshot",
}


class Backend:
    """A world on one backend, with its host model and a way to make a command fail."""

    def __init__(self, world: World, host: HyperVHost, fail: Callable[[type[Command], HostError], None]) -> None:
        self.world, self.host, self.fail = world, host, fail


class _Failing:
    def __init__(self, inner: HyperVDriver, kind: type[Command], error: HostError) -> None:
        self.inner, self.kind, self.error, self.capabilities = inner, kind, error, inner.capabilities

    def execute(self, command: Command[A]) -> A:
        if isinstance(command, self.kind):
            self.kind = type(None)  # type: ignore[assignment]  # once
            raise self.error
        return self.inner.execute(command)

    def close(self) -> None:
        self.inner.close()


@contextmanager
def backend(kind: str, home: Path) -> Iterator[Backend]:
    if kind == "sim":
        with open_cloud(home / "sim", driver="sim", state_file=None) as cloud:
            world = World(cloud)

            def fail(kind: type[Command], error: HostError) -> None:
                world.m.runner.driver = _Failing(cloud.driver, kind, error)  # type: ignore[attr-defined]

            yield Backend(world, cloud.driver.host, fail)  # type: ignore[attr-defined]
        return
    with EmulatedHost(HyperVHost(), username="tester", password="S3cret-pass") as em:
        config = em.driver_config(merge_poll_seconds=0.01, operation_timeout=5)
        with open_cloud(home / "live", driver="live", **config) as cloud:

            def inject(kind: type[Command], error: HostError) -> None:
                em.cmdlets.faults.append((CMDLET[kind], error))

            yield Backend(World(cloud), em.host, inject)


def outcome(call: Callable[[], Any]) -> Any:
    try:
        call()
        return "ok"
    except CloudError as err:
        return err.errorcode


def states(world: World, vm: str) -> dict[str, str]:
    return {s["displayname"]: s["state"] for s in world.snaps(vm_uuid=vm)}


def same_on_both(tmp_path: Path, flow: Callable[[Backend], Any]) -> Any:
    """Run ``flow`` on the simulated and the emulated host; their outcomes must be equal."""
    results = {}
    for kind in ("sim", "live"):
        with backend(kind, tmp_path) as b:
            results[kind] = flow(b)
    assert results["live"] == results["sim"]
    return results["sim"]


def create_revert_delete(b: Backend) -> Any:
    w = b.world
    vm = w.deploy("web")
    a = w.snap(vm, memory=True, name="A")
    w.snap(vm, name="B")
    reverted = w.revert(a["id"])["state"]
    w.delete(w.by_name(vm)["B"]["id"])
    host_vm = w.host_vm(vm)
    assert host_vm is not None
    on_host = [c.name for c in host_vm.checkpoints] == [w.by_name(vm)["A"]["name"]]
    return reverted, states(w, vm), on_host, w.stop(vm)["state"], w.start(vm)["state"]


def test_create_revert_delete(tmp_path: Path) -> None:
    reverted, snaps, on_host, stopped, started = same_on_both(tmp_path, create_revert_delete)
    assert (reverted, snaps, on_host, stopped, started) == ("Running", {"A": "Ready"}, True, "Stopped", "Running")


@pytest.mark.parametrize("error", [OperationTimeout, OperationFailed, InvalidState])
def test_a_failed_create_ends_the_same_way(tmp_path: Path, error: type[HostError]) -> None:
    def flow(b: Backend) -> Any:
        vm = b.world.deploy("web")
        b.fail(CreateVMSnapshot, error("the host said no"))
        return outcome(lambda: b.world.snap(vm, name="A")), states(b.world, vm)

    result, _snaps = same_on_both(tmp_path, flow)
    assert result != "ok"


def test_a_checkpoint_gone_from_the_host_fails_the_revert(tmp_path: Path) -> None:
    def flow(b: Backend) -> Any:
        w = b.world
        vm = w.deploy("web")
        a = w.snap(vm, name="A")
        b.host.delete_checkpoint(w.vm(vm)["instancename"], a["name"])
        return outcome(lambda: w.revert(a["id"])), states(w, vm)

    result, snaps = same_on_both(tmp_path, flow)
    assert result != "ok" and snaps == {"A": "Ready"}


def test_a_failed_delete_ends_the_same_way(tmp_path: Path) -> None:
    def flow(b: Backend) -> Any:
        vm = b.world.deploy("web")
        a = b.world.snap(vm, name="A")
        b.fail(DeleteVMSnapshot, InvalidState("busy"))
        return outcome(lambda: b.world.delete(a["id"])), states(b.world, vm)

    result, _snaps = same_on_both(tmp_path, flow)
    assert result != "ok"


def test_quiesce_failure_ends_the_same_way(tmp_path: Path) -> None:
    def flow(b: Backend) -> Any:
        vm = b.world.deploy("web")
        b.host.vss_fails = True
        result = outcome(lambda: b.world.snap(vm, name="Q", quiesce=True))
        fallback = b.world.snap(vm, name="P")  # Production falls back to Standard, with memory
        return result, states(b.world, vm), fallback["type"]

    result, _snaps, _kind = same_on_both(tmp_path, flow)
    assert result != "ok"
