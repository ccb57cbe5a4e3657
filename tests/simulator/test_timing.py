"""The host in SimPy time: costs, per-VM serialisation, shared storage, merges, faults."""

from __future__ import annotations

import random

import pytest
import simpy

from harness.drivers import (
    CreateVMSnapshot,
    DeleteVMSnapshot,
    DeployVM,
    DiskSpec,
    ExportVM,
    InvalidState,
    OperationFailed,
    PowerOffVM,
    PowerState,
    SnapshotRef,
    StartVM,
    StorageUnavailable,
    VMRef,
)
from simulator.costs import Costs, GiB
from simulator.timed import EventLog, TimedHost

VM = VMRef("i-2-3-VM")


def _host(**overrides: object) -> tuple[simpy.Environment, TimedHost]:
    env = simpy.Environment()
    host = TimedHost(env, Costs().with_overrides(dict(overrides)), random.Random(1), EventLog())
    _do(env, host, DeployVM(VM, 4096, 2, (DiskSpec("root", 20 * GiB),)))
    return env, host


def _do(env: simpy.Environment, host: TimedHost, command: object) -> float:
    start = env.now
    proc = host.execute(command)  # type: ignore[arg-type]
    env.run(until=proc)
    return env.now - start


def _grow(env: simpy.Environment, host: TimedHost, seconds: float) -> None:
    env.run(until=env.now + seconds)


def test_every_cost_cites_its_source() -> None:
    for name, source in Costs.sources().items():
        assert source.startswith(("hyperv.md", "assumption:", "CloudStack", "spec", "Microsoft")), name


def test_memory_checkpoint_costs_memory_at_write_bandwidth_and_off_vm_is_constant() -> None:
    env, host = _host()
    k = host.costs
    t = _do(env, host, CreateVMSnapshot(VM, SnapshotRef("a"), memory=True))
    assert t == pytest.approx(k.pause_s + k.avhdx_create_s + k.config_copy_s + 4096 * 2**20 / k.state_write_bps)
    _do(env, host, PowerOffVM(VM))
    assert _do(env, host, CreateVMSnapshot(VM, SnapshotRef("b"))) == pytest.approx(
        k.off_checkpoint_s + k.avhdx_create_s
    )


def test_production_checkpoint_falls_back_or_fails_when_vss_fails() -> None:
    env, host = _host(vss_failure_p=1.0)
    proc = host.execute(CreateVMSnapshot(VM, SnapshotRef("a")))
    env.run(until=proc)
    assert proc.value.memory is True  # Production -> Standard with memory
    proc = host.execute(CreateVMSnapshot(VM, SnapshotRef("b"), quiesce=True))
    with pytest.raises(OperationFailed):
        env.run(until=proc)
    assert "b" not in host.state.vm(VM.name).checkpoints


def test_a_second_operation_on_a_busy_vm_gets_invalid_state() -> None:
    env, host = _host()
    first = host.execute(CreateVMSnapshot(VM, SnapshotRef("a"), memory=True))
    second = host.execute(CreateVMSnapshot(VM, SnapshotRef("b"), memory=True))
    with pytest.raises(InvalidState):
        env.run(until=second)
    env.run(until=first)
    assert list(host.state.vm(VM.name).checkpoints) == ["a"]


def test_shared_storage_slows_concurrent_copies() -> None:
    env = simpy.Environment()
    host = TimedHost(env, Costs().with_overrides({"storage_channels": 1}), random.Random(1), EventLog())
    names = [VMRef(f"vm{i}") for i in range(3)]
    for n in names:
        _do(env, host, DeployVM(n, 4096, 1, (DiskSpec(n.name, 20 * GiB),)))
    alone = _do(env, host, CreateVMSnapshot(names[0], SnapshotRef("solo"), memory=True))
    start = env.now
    procs = [host.execute(CreateVMSnapshot(n, SnapshotRef("x"), memory=True)) for n in names]
    env.run(until=simpy.AllOf(env, procs))
    assert env.now - start > 2.5 * alone  # three memory copies through one channel


def test_merge_and_export_time_scale_with_bytes() -> None:
    times = {}
    for seconds in (1000, 4000):
        env, host = _host(guest_write_bps=1e6)
        _do(env, host, CreateVMSnapshot(VM, SnapshotRef("a")))
        _grow(env, host, seconds)  # the guest writes into the new leaf
        export = _do(env, host, ExportVM(VM))
        merge = _do(env, host, DeleteVMSnapshot(VM, SnapshotRef("a")))
        times[seconds] = (export, merge)
    assert times[4000][0] > times[1000][0]
    assert times[4000][1] > 3 * times[1000][1]


def test_read_latency_rises_with_chain_depth() -> None:
    env, host = _host()
    latencies = [host.read_latency_ms(VM.name)]
    for i in range(5):
        _do(env, host, CreateVMSnapshot(VM, SnapshotRef(f"s{i}")))
        latencies.append(host.read_latency_ms(VM.name))
    assert latencies == sorted(latencies) and latencies[-1] > latencies[0]
    assert host.depth(VM.name) == 5


def test_2008r2_merge_waits_for_power_off_and_a_start_cancels_it() -> None:
    env, host = _host(merge_mode="deferred", guest_write_bps=1e6)
    _do(env, host, CreateVMSnapshot(VM, SnapshotRef("a")))
    _grow(env, host, 5000)
    assert _do(env, host, DeleteVMSnapshot(VM, SnapshotRef("a"))) == pytest.approx(host.costs.delete_file_s)
    assert host.deferred[VM.name] > 0
    _do(env, host, PowerOffVM(VM))
    assert host.status(VM.name) == "MergingDisks"
    _do(env, host, StartVM(VM))  # before the merge ends: progress lost
    assert host.stats["merges_cancelled"] == 1 and host.deferred[VM.name] > 0
    _do(env, host, PowerOffVM(VM))
    env.run(until=env.now + 3600)
    assert VM.name not in host.deferred and host.stats["bytes_merged"] > 0


def test_full_volume_pauses_running_vms() -> None:
    env = simpy.Environment()
    costs = Costs().with_overrides({"guest_write_bps": 1e7, "storage_tick_s": 60})
    host = TimedHost(env, costs, random.Random(1), EventLog(), state=_capped(2 * GiB))  # type: ignore[arg-type]
    _do(env, host, DeployVM(VM, 1024, 1, (DiskSpec("root", 20 * GiB),)))
    env.run(until=3600)
    assert host.state.vm(VM.name).power_state == PowerState.Paused
    assert host.stats["paused_critical"] >= 1


def _capped(capacity: int) -> object:
    from simulator.host import HyperVHost

    state = HyperVHost()
    state.capacity = capacity
    return state


def test_storage_outage_mid_export_fails_the_export() -> None:
    env, host = _host()
    for i in range(3):
        _do(env, host, CreateVMSnapshot(VM, SnapshotRef(f"s{i}"), memory=True))
    proc = host.execute(ExportVM(VM))
    env.run(until=env.now + 5)
    host.storage_down()
    with pytest.raises(StorageUnavailable):
        env.run(until=proc)
    assert VM.name not in host.state.exports
