"""Reports from a sweep on a Dask LocalCluster equal the process pool's, byte for byte
(wall time, the only unseeded number, pinned on both sides)."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from reports import files
from simulator.campaigns.scenario import Scenario
from simulator.campaigns.sweep import executor_for, sweep

from .conftest import SCENARIOS

distributed = pytest.importorskip("dask.distributed")


def _pinned(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "wall_seconds": 0.0} for r in results]


def test_sweep_reports_from_dask_equal_the_process_pools(tmp_path: Path) -> None:
    scenario = Scenario.load(SCENARIOS / "outage.yaml").with_values({"duration_s": 2 * 3600, "fleet.vms": 3})
    axes = {"strategy": ["on-stop", "on-snapshot"]}
    with ProcessPoolExecutor(2) as pool:
        local = sweep(scenario, axes, [4], pool, series=True)
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    )
    try:
        with executor_for(cluster.scheduler_address) as executor:
            remote = sweep(scenario, axes, [4], executor, series=True)
    finally:
        cluster.close()
    a = files.write_sweep(tmp_path / "pool", _pinned(local))
    b = files.write_sweep(tmp_path / "dask", _pinned(remote))
    assert a.read_text() == b.read_text()
    for page in ("runs/000.html", "runs/001.html"):
        assert (tmp_path / "pool" / page).read_text() == (tmp_path / "dask" / page).read_text()
    assert "storage_down_mid_export" in (tmp_path / "pool" / "runs/000.html").read_text()
