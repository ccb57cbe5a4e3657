"""A campaign sweep through a Dask scheduler gives the same results as serial runs.

Dask is the optional ``sim`` extra: without it this module is skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.campaigns.run import simulate
from simulator.campaigns.scenario import Scenario
from simulator.campaigns.sweep import executor_for, sweep

distributed = pytest.importorskip("dask.distributed")

SCENARIOS = Path(__file__).resolve().parents[2] / "simulator" / "scenarios"


def _without_wall(r: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in r.items() if k != "wall_seconds"}


def test_a_sweep_on_a_local_dask_cluster_matches_serial_runs() -> None:
    scenario = Scenario.load(SCENARIOS / "baseline.yaml").with_values({"duration_s": 3 * 3600})
    axes = {"strategy": ["on-stop", "on-snapshot"]}
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    )
    try:
        with executor_for(cluster.scheduler_address) as executor:
            results = sweep(scenario, axes, [3], executor)
    finally:
        cluster.close()
    assert [r["point"] for r in results] == [{"strategy": "on-stop"}, {"strategy": "on-snapshot"}]
    for r in results:
        serial = simulate(scenario.with_values(r["point"]), 3)
        assert _without_wall(r) == {"point": r["point"], **_without_wall(serial)}
