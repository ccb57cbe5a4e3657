"""Seeded campaign results saved as JSON (made by ``simulate(..., series=True)``, wall time
pinned), so the renderers' numbers are checked against fixed data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "simulator" / "scenarios"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


@pytest.fixture
def outage() -> dict[str, Any]:
    """outage.yaml, 3 VMs, 4 h, seed 5: a manager crash and storage down mid-export."""
    return load("outage-4h-seed5.json")


@pytest.fixture
def policies() -> dict[str, Any]:
    """policies.yaml, 3 days, seed 7: 75 policy snapshots, 48 pruned."""
    return load("policies-3d-seed7.json")


#: a small decision campaign: 2 VMs, 12 simulated hours, one seed; high loss rate at the base
SMALL_BASE = {
    "vm_gib": 1,
    "snapshots_per_day": 8,
    "stops_per_day": 4,
    "export_mbps": 200,
    "vms_per_host": 2,
    "losses_per_year": 52,
}
SMALL_AXES = {"export_mbps": [50, 200, 800], "losses_per_year": [1, 52, 365]}


@pytest.fixture(scope="session")
def small_decision() -> dict[str, Any]:
    """The decision campaign over :data:`SMALL_BASE`, run once on a 2-process pool."""
    from concurrent.futures import ProcessPoolExecutor

    from simulator.campaigns.decision import decide

    with ProcessPoolExecutor(2) as pool:
        return decide(pool, [1], 12 * 3600, SMALL_BASE, SMALL_AXES)
