"""Storage reclaimed on every delete path: after deleting one snapshot, all of them one by
one, all at once, an offering change, a destroy or a policy prune, under each export
strategy and with the VM Running or Stopped, the host holds exactly what the remaining
tree and its export need: summed file by file, nothing more (no stale export, no orphan
AVHDX) and nothing less."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from harness.domain import config
from harness.service.cloud import open_cloud
from harness.store.ports import utcnow
from simulator.driver import SimulatedHyperVDriver
from simulator.host import HyperVHost
from tests.service.conftest import World

STRATEGIES = ["on-stop", "on-snapshot", "none"]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with open_cloud(tmp_path, driver="sim", state_file=None, store="memory") as cloud:
        yield World(cloud)


def host_of(world: World) -> HyperVHost:
    driver = world.cloud.driver
    assert isinstance(driver, SimulatedHyperVDriver)
    return driver.host


def needed(world: World, export: str) -> tuple[set[str], set[str]]:
    """(disk files, exports) the VMs the manager knows still need, from the database's view:
    a registered VM's whole tree; a stopped one's active chains, and while it has snapshots
    its export and the files that export names in place (the import reuses them)."""
    host, files, exports = host_of(world), set[str](), set[str]()
    for vm in world.m.list_vms(world.admin)[1]:
        name = vm["instancename"]
        snaps = [s for s in world.snaps(vm_uuid=vm["id"]) if s["state"] == "Ready"]
        if name in host.vms:
            files |= set(host._tree_files(host.vms[name]))
        else:
            with world.m.uow_factory(readonly=True) as uow:
                paths = [v.path for v in uow.volumes.of_vm(uow.vms.get_by_uuid(vm["id"]).id) if v.path]  # type: ignore[union-attr]
            for path in paths:
                files |= set(host.chain(path))
        if snaps and name in host.exports and (name not in host.vms or export == "on-snapshot"):
            exports.add(name)
            if name not in host.vms:
                files |= {p for p in host.exports[name].files if p in host.disk_files}
    return files, exports


def stored(world: World) -> int:
    host = host_of(world)
    return host.used_bytes() + sum(host.export_bytes(n) for n in host.exports)


def assert_exactly_what_is_needed(world: World, export: str) -> None:
    host = host_of(world)
    files, exports = needed(world, export)
    assert set(host.exports) == exports
    assert set(host.disk_files) == files, f"orphans: {sorted(set(host.disk_files) - files)}"
    assert stored(world) == sum(host.disk_files[p].bytes for p in files) + sum(host.export_bytes(n) for n in exports)


def tree(world: World, running: bool) -> tuple[str, dict[str, str]]:
    """A VM with A (memory when running) <- B and A <- C (a revert in between), guest data
    in every file; stopped afterwards unless ``running``."""
    vm = world.deploy()
    world.write(vm, "k", "v0")
    ids = {"A": world.snap(vm, memory=True, name="A")["id"]}
    world.write(vm, "k", "v1")
    ids["B"] = world.snap(vm, name="B")["id"]
    world.write(vm, "k", "v2")
    world.revert(ids["A"])
    world.write(vm, "k", "v3")
    ids["C"] = world.snap(vm, name="C")["id"]
    world.write(vm, "k", "v4")
    if not running:
        world.stop(vm)
    return vm, ids


def delete_one(world: World, vm: str, ids: dict[str, str]) -> None:
    world.delete(ids["B"])


def delete_each(world: World, vm: str, ids: dict[str, str]) -> None:
    for name in ("C", "B", "A"):
        world.delete(ids[name])


def delete_all(world: World, vm: str, ids: dict[str, str]) -> None:
    world.delete_all(vm)


def destroy(world: World, vm: str, ids: dict[str, str]) -> None:
    world.destroy(vm)


def change_offering(world: World, vm: str, ids: dict[str, str]) -> None:
    world.change_offering(vm, "medium")  # a stopped VM's only


PATHS: dict[str, Callable[[World, str, dict[str, str]], None]] = {
    "delete one": delete_one,
    "delete each": delete_each,
    "delete all": delete_all,
    "change offering": change_offering,
    "destroy": destroy,
}


@pytest.mark.parametrize("running", [True, False], ids=["running", "stopped"])
@pytest.mark.parametrize("export", STRATEGIES)
@pytest.mark.parametrize("path", list(PATHS))
def test_each_delete_path_leaves_exactly_what_the_tree_needs(
    world: World, path: str, export: str, running: bool
) -> None:
    world.config(config.EXPORT_STRATEGY.name, export)
    bystander, _ = tree(world, running=True)  # another VM's files are never touched
    vm, ids = tree(world, running)
    if path == "change offering" and running:
        world.stop(vm)
    assert_exactly_what_is_needed(world, export)
    name, before = world.vm(vm)["instancename"], stored(world)
    PATHS[path](world, vm, ids)
    assert_exactly_what_is_needed(world, export)
    nothing_left = export == "none" and world.vm(vm)["state"] == "Stopped" and path != "destroy"
    assert stored(world) < before or nothing_left  # under none a stop already reclaimed it all
    if path in ("delete each", "delete all", "destroy"):
        assert name not in host_of(world).exports
    assert (world.vm(bystander)["instancename"] in host_of(world).exports) == (export == "on-snapshot")


def test_a_policy_prune_reclaims_the_pruned_checkpoints(world: World) -> None:
    world.config(config.EXPORT_STRATEGY.name, "on-snapshot")
    vm = world.deploy()
    world.m.create_vm_snapshot_policy(
        world.admin, vm, intervaltype="HOURLY", schedule="0", timezone="UTC", maxsnaps=1
    )

    class Clock:
        moment = utcnow()

        def now(self) -> object:
            return self.moment

    clock = Clock()
    sched = world.m.policy_scheduler(clock)  # type: ignore[arg-type]
    for i in range(3):
        world.write(vm, "k", f"v{i}")
        clock.moment += timedelta(hours=1)
        assert len(sched.tick().launched) == 1
        assert_exactly_what_is_needed(world, "on-snapshot")
    assert len(world.snaps(vm_uuid=vm)) == 1


def test_unregistering_under_none_removes_the_orphaned_branches(world: World) -> None:
    world.config(config.EXPORT_STRATEGY.name, "none")
    vm, _ = tree(world, running=True)
    host = host_of(world)
    name = world.vm(vm)["instancename"]
    tree_files = set(host._tree_files(host.vms[name]))
    world.stop(vm)
    assert name not in host.vms
    assert len(set(host.disk_files)) < len(tree_files)  # the branches went
    assert_exactly_what_is_needed(world, "none")
    world.start(vm)
    assert world.read(vm, "k") == "v4"  # the active chain stayed whole
