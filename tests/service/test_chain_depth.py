"""Chain-length awareness (spec: "users should have the awareness to control the length of
VM snapshot chain"): snapshot and VM responses carry the chain depth, and create warns, in
its job result and on the CLI, once the depth passes ``vmsnapshot.chain.depth.warn``."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main
from tests.service.conftest import World


def test_depths_follow_the_tree_and_the_current_snapshot(world: World) -> None:
    vm = world.deploy()
    a = world.snap(vm, name="A")
    b = world.snap(vm, name="B")
    assert (a["chaindepth"], b["chaindepth"]) == (1, 2)
    world.revert(a["id"])
    assert world.vm(vm)["chaindepth"] == 1
    world.start(vm)
    c = world.snap(vm, name="C")
    depths = {s["displayname"]: s["chaindepth"] for s in world.snaps(vm_uuid=vm)}
    assert depths == {"A": 1, "B": 2, "C": 2}
    world.delete(a["id"])  # its children move up a level
    assert {s["displayname"]: s["chaindepth"] for s in world.snaps(vm_uuid=vm)} == {"B": 1, "C": 1}
    assert world.vm(vm)["chaindepth"] == 1 and c["current"] is True
    world.delete_all(vm)
    assert world.vm(vm)["chaindepth"] == 0


def test_create_warns_past_the_threshold_only(world: World) -> None:
    world.config("vmsnapshot.chain.depth.warn", "2")
    vm = world.deploy()
    results = []
    for name in ("A", "B", "C"):
        _, job = world.m.create_vm_snapshot(world.admin, vm, name)
        results.append(world.m.job_result(job)["jobresult"])
    assert ["warning" in r for r in results] == [False, False, True]
    assert "chain depth 3 exceeds vmsnapshot.chain.depth.warn=2" in results[2]["warning"]
    world.config("vmsnapshot.chain.depth.warn", "0")  # never
    _, job = world.m.create_vm_snapshot(world.admin, vm, "D")
    assert "warning" not in world.m.job_result(job)["jobresult"]


def test_the_cli_prints_the_warning_beside_the_snapshot(tmp_path: Path) -> None:
    runner = CliRunner()

    def hvsnap(*args: str) -> tuple[dict[str, object], str]:
        done = runner.invoke(main, ["--home", str(tmp_path), *args, "--json"])
        assert done.exit_code == 0, done.output
        return json.loads(done.stdout), done.stderr

    hvsnap("config", "set", "vmsnapshot.chain.depth.warn", "1")
    vm = hvsnap("vm", "deploy", "--name", "web1")[0]["id"]
    first, quiet = hvsnap("snapshot", "create", str(vm))
    second, warned = hvsnap("snapshot", "create", str(vm))
    assert (first["chaindepth"], second["chaindepth"]) == (1, 2)
    assert quiet == "" and warned.startswith("warning: VM snapshot chain depth 2 exceeds")
