"""Failover clusters (the spec's "Failover Clustering and Hyper-V VSS"): a node crash fails
its roles over with their checkpoints kept on CSV; a revert behind the cluster's back is a
role failure and a failover; a revert through the cluster service is neither. The outage
scenario puts the figures in the campaign result."""

from __future__ import annotations

import os
import random
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import simpy

from harness.drivers import (
    CreateVMSnapshot,
    DeployVM,
    DiskSpec,
    GetInventory,
    HostUnreachable,
    Inventory,
    PowerState,
    RevertToVMSnapshot,
    SnapshotRef,
    VMRef,
)
from simulator.campaigns.run import simulate
from simulator.campaigns.scenario import Scenario
from simulator.cluster import Cluster
from simulator.costs import Costs
from simulator.timed import EventLog, TimedHost

VM = VMRef("i-2-7-VM")
ROOT = DiskSpec("vol-root", 8 * 2**30)
SCENARIOS = Path(__file__).resolve().parents[2] / "simulator" / "scenarios"


def cluster_with_a_vm() -> tuple[simpy.Environment, Cluster]:
    env = simpy.Environment()
    cluster = Cluster(TimedHost(env, Costs(), random.Random(1), EventLog()), nodes=3)
    env.run(cluster.execute(DeployVM(VM, 1024, 1, (ROOT,))))
    env.run(cluster.execute(CreateVMSnapshot(VM, SnapshotRef("A"), memory=True)))
    return env, cluster


def test_a_node_crash_fails_the_role_over_with_its_checkpoints() -> None:
    env, cluster = cluster_with_a_vm()
    first, boots = cluster.owner[VM.name], cluster.csv.state.boot_id(VM.name)
    cluster.crash(first)
    assert cluster.csv.state.vm(VM.name).power_state == PowerState.Off
    env.run(until=env.now + 120)
    assert cluster.owner[VM.name] != first
    assert cluster.csv.state.vm(VM.name).power_state == PowerState.Running
    assert cluster.csv.state.boot_id(VM.name) == boots + 1  # a cold start on the new node
    assert cluster.csv.state.tree(VM.name) == {"A": None}  # on CSV: kept
    k = cluster.costs
    expected = k.node_failure_detect_s + k.role_move_s + k.start_s + k.guest_boot_s
    assert cluster.result()["application_downtime_s"]["failover"] == expected
    inventory = env.run(cluster.execute(GetInventory(VMRef("*"))))
    assert isinstance(inventory, Inventory) and inventory.vms[0].owner_node == cluster.owner[VM.name]


def test_a_revert_behind_the_clusters_back_is_a_role_failure() -> None:
    env, cluster = cluster_with_a_vm()
    first = cluster.owner[VM.name]
    env.run(cluster.execute(RevertToVMSnapshot(VM, SnapshotRef("A"))))
    env.run(until=env.now + 120)
    figures = cluster.result()
    assert (figures["role_failures"], figures["failovers"], figures["reverts_undone"]) == (1, 1, 1)
    assert cluster.owner[VM.name] != first


def test_a_revert_through_the_cluster_keeps_the_vm_on_its_node() -> None:
    env, cluster = cluster_with_a_vm()
    first, boots = cluster.owner[VM.name], cluster.csv.state.boot_id(VM.name)
    answer = env.run(cluster.execute(RevertToVMSnapshot(VM, SnapshotRef("A"), through_cluster=True)))
    env.run(until=env.now + 120)
    assert answer.power_state == PowerState.Running  # type: ignore[union-attr]
    assert cluster.result()["failovers"] == 0 and cluster.owner[VM.name] == first
    assert cluster.csv.state.boot_id(VM.name) == boots  # resumed from the checkpoint's memory


def test_with_every_node_down_commands_are_refused() -> None:
    env, cluster = cluster_with_a_vm()
    for node in list(cluster.up):
        cluster.crash(node)
    with pytest.raises(HostUnreachable):
        env.run(cluster.execute(CreateVMSnapshot(VM, SnapshotRef("B"))))


def test_the_outage_scenario_compares_naive_and_cluster_aware_reverts() -> None:
    scenario = Scenario.load(SCENARIOS / "cluster-outage.yaml").with_values({"duration_s": 12 * 3600})
    aware, naive = simulate(scenario), simulate(scenario.with_values({"cluster.aware": False}))
    a, n = aware["cluster"], naive["cluster"]
    assert a["failovers_by_cause"]["role failure"] == 0 < n["failovers_by_cause"]["role failure"]
    assert a["failovers_by_cause"]["node crash"] > 0 and n["failovers_by_cause"]["node crash"] > 0
    assert a["application_downtime_s"]["total"] < n["application_downtime_s"]["total"]
    assert a["snapshots"]["lost"] == 0 and a["snapshots"]["kept"] > 0
    assert aware["invariants"]["ok"] and naive["invariants"]["ok"]


def test_the_readme_sweep_command_as_printed() -> None:
    """``hvsnap simulate simulator/scenarios/cluster-outage.yaml --sweep cluster.aware=true,false``"""
    root = SCENARIOS.parents[1]
    line = next(
        line.strip().split("#", 1)[0].strip()
        for line in (root / "README.md").read_text().splitlines()
        if "cluster-outage.yaml --sweep" in line
    )
    argv = shlex.split(line)
    assert argv[0] == "hvsnap"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "hvsnap"), *argv[1:]],
        cwd=root,
        env={**os.environ, "COLUMNS": "250"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    table = [re.split(r"\s{2,}", line.strip()) for line in done.stdout.splitlines() if line.strip()]
    header = next(row for row in table if row[0] == "cluster.aware")
    rows = {row[0]: dict(zip(header, row, strict=True)) for row in table if row[0] in ("true", "false")}
    assert int(rows["true"]["failovers"]) < int(rows["false"]["failovers"])
    assert units_s(rows["true"]["downtime"]) < units_s(rows["false"]["downtime"])


def units_s(text: str) -> float:
    """Seconds from a duration as the terminal prints it (``1.6 h``, ``27 min``, ``80 s``)."""
    number, unit = text.split()
    return float(number) * {"ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400}[unit]
