"""The host's derived indexes (dependants by parent, VM references by path, the bytes in use)
stay equal to a full scan of the state through every kind of operation, and are rebuilt on
load; under the timed host too, whose guests grow their disks and whose capacity pauses them."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import pytest

from harness.drivers import DiskSpec, HostError, PowerState
from simulator.campaigns.run import Simulation
from simulator.campaigns.scenario import Scenario
from simulator.host import HyperVHost

SCENARIOS = Path(__file__).parents[2] / "simulator" / "scenarios"

GIB = 2**30
VMS = ("vm-a", "vm-b", "vm-c")


def scanned_children(host: HyperVHost) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for p, f in host.disk_files.items():
        if f.parent is not None:
            out.setdefault(f.parent, set()).add(p)
    return out


def scanned_holders(host: HyperVHost) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for name, vm in host.vms.items():
        for mapping in [vm.disks, *(c.disks for c in vm.checkpoints.values())]:
            for p in mapping.values():
                held = out.setdefault(p, {})
                held[name] = held.get(name, 0) + 1
    return out


def walked_chain(host: HyperVHost, path: str) -> tuple[int, int]:
    """(differencing files, their bytes) from ``path`` up to its base, walked file by file."""
    depth = size = 0
    f = host.disk_files[path]
    while f.parent is not None:
        depth, size = depth + 1, size + f.bytes
        f = host.disk_files[f.parent]
    return depth, size


def assert_indexes(host: HyperVHost) -> None:
    assert {p: set(c) for p, c in host._children.items()} == scanned_children(host)
    assert host._holders == scanned_holders(host)
    assert host.used_bytes() == sum(f.bytes for f in host.disk_files.values())
    bases: dict[str, int] = {}
    for f in host.disk_files.values():
        if f.parent is None:
            bases[f.volume_uuid] = bases.get(f.volume_uuid, 0) + 1
    assert {v: n for v, n in host._bases.items() if n} == bases
    # the chain figures kept per file with dependants answer as a walk of the chain would
    assert {p: (host.chain_depth(p), host.chain_size(p)) for p in host.disk_files} == {
        p: walked_chain(host, p) for p in host.disk_files
    }


def step(host: HyperVHost, rng: random.Random, n: int) -> None:
    name = rng.choice(VMS)
    vm = host.vms.get(name)
    cps = list(vm.checkpoints) if vm else []
    op = rng.randrange(14)
    if op == 0:
        host.deploy(name, 1024, 1, [DiskSpec(f"{name}-root", GIB), DiskSpec(f"{name}-data", GIB)], rng.random() < 0.8)
    elif op in (1, 2) and vm:
        host.checkpoint(name, f"s{n}", memory=rng.random() < 0.2, quiesce=False)
    elif op in (3, 4) and cps:
        host.delete_checkpoint(name, rng.choice(cps))
    elif op == 5 and cps:
        host.revert(name, rng.choice(cps))
    elif op == 6 and vm:
        (host.start if vm.power_state != PowerState.Running else host.power_off)(name)
    elif op == 7 and vm:
        host.write(name, f"k{rng.randrange(5)}", f"v{n}", rng.choice([*vm.disks, None]))
    elif op == 8 and vm:
        host.export(name)
    elif op == 9 and vm:
        host.power_off(name)
        host.unregister(name)
    elif op == 10 and not vm and name in host.exports:
        record = host.exports[name]
        host.import_vm(name, 1024, 1, [DiskSpec(v, GIB, p) for v, p in record.vm.disks.items()])
    elif op == 11 and not vm and name in host.exports:
        host.register(name, 1024, 1, [DiskSpec(v, GIB, p) for v, p in host.exports[name].vm.disks.items()])
    elif op == 12 and vm:
        extra = f"{name}-x{n}"
        if rng.random() < 0.5 and len(vm.disks) > 1:
            host.detach(name, rng.choice(list(vm.disks)[1:]))
        else:
            host.attach(name, DiskSpec(extra, GIB))
    elif op == 13 and rng.random() < 0.3:
        host.destroy(name)


def test_deleting_the_oldest_checkpoint_shifts_the_kept_chains_instead_of_forgetting_them() -> None:
    """Keep-N retention: every delete merges the base's only child into it. The kept figures
    move by one file and its bytes alike, so they still answer as a walk, and the volume's
    chains are not walked again (its generation stays)."""
    host = HyperVHost()
    host.deploy("vm-a", 1024, 1, [DiskSpec("vm-a-root", GIB)], True)
    for n in range(30):
        host.write("vm-a", f"k{n % 7}", f"v{n}")
        host.checkpoint("vm-a", f"s{n}", memory=False, quiesce=False)
        if n >= 24:
            before = host._generations.get("vm-a-root", 0)
            host.delete_checkpoint("vm-a", next(iter(host.vm("vm-a").checkpoints)))
            assert host._generations.get("vm-a-root", 0) == before
        assert_indexes(host)
    assert host.bytes_merged > 0 and host._shifts["vm-a-root"][0] == -6


@pytest.mark.parametrize("seed", range(12))
def test_indexes_match_a_full_scan_through_a_random_walk(seed: int) -> None:
    rng = random.Random(seed)
    host = HyperVHost()
    for n in range(400):
        with contextlib.suppress(HostError):
            step(host, rng, n)
        assert_indexes(host)
    assert host.bytes_merged > 0  # the walk reached merges
    loaded = HyperVHost.from_dict(host.to_dict())
    assert loaded._holders == host._holders
    assert {p: set(c) for p, c in loaded._children.items()} == {p: set(c) for p, c in host._children.items()}
    assert loaded.used_bytes() == host.used_bytes()
    assert loaded.to_dict() == host.to_dict()


def test_indexes_are_not_persisted() -> None:
    host = HyperVHost()
    host.deploy("vm-a", 1024, 1, [DiskSpec("root", GIB)], True)
    host.checkpoint("vm-a", "s1", memory=False, quiesce=False)
    state = host.to_dict()
    assert not any(k.startswith("_children") or k.startswith("_holders") for k in state)
    assert_indexes(HyperVHost.from_dict(state))


@pytest.mark.parametrize(
    ("scenario", "capacity_gib"),
    [("chain-depth", None), ("chain-depth", 12), ("export-on-stop", None), ("deferred-merges", None)],
)
def test_bytes_in_use_match_a_full_scan_after_a_timed_run(scenario: str, capacity_gib: int | None) -> None:
    sc = Scenario.load(SCENARIOS / f"{scenario}.yaml")
    sim = Simulation(sc.with_values({"duration_s": min(sc.duration_s, 12 * 3600), "fleet.capacity_gib": capacity_gib}))
    result = sim.run()
    assert result["storage"]["peak_used_bytes"] > 0
    if capacity_gib is not None:
        assert result["paused_critical"] > 0  # the guest filled the volume: the capacity path ran
    for host in sim.hosts:
        assert_indexes(host.state)
