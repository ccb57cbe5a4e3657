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
