"""Headline numbers of one campaign result, shared by the sweep and decision reports.

Each :class:`Metric` reads one number out of a result (the JSON ``hvsnap simulate --json``
prints) and knows its unit, so pages and terminals format it the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reports import units

Result = dict[str, Any]


def vm_days(r: Result) -> float:
    """VMs x simulated days: the denominator of every per-VM-day rate."""
    vms = r.get("scenario_spec", {}).get("fleet", {}).get("vms") or 1
    return max(vms, 1) * max(r["simulated_seconds"], 1.0) / 86400


def op(r: Result, name: str, key: str) -> float | None:
    value = r["operations"].get(name, {}).get(key)
    return None if value is None else float(value)


def busy_s(r: Result, name: str) -> float:
    """Seconds spent in operation ``name`` over the run (count x mean)."""
    s = r["operations"].get(name, {})
    return float(s.get("count") or 0) * float(s.get("mean") or 0.0)


def stop_wait_share(r: Result) -> float | None:
    """Percent of stops that took longer than a bare power-off and unregister."""
    w = r.get("stop_waits") or {}
    return 100.0 * w["waited"] / w["stops"] if w.get("stops") else None


def at_risk_per_vm(r: Result) -> float:
    """Snapshots at risk per VM, averaged over the run's samples (the end state without them)."""
    vms = max(r.get("scenario_spec", {}).get("fleet", {}).get("vms") or 1, 1)
    samples = (r.get("series") or {}).get("at_risk_snapshots")
    if samples:
        return sum(samples) / len(samples) / vms
    return float(r["data_at_risk"]["snapshots"]) / vms


def lost(r: Result) -> int:
    """Snapshots lost over the run (deleted ones included when the result counts them)."""
    risk = r["data_at_risk"]
    return int(risk.get("lost_total", risk["lost_snapshots"]))


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str  # s | bytes | pct | count
    read: Callable[[Result], float | None]

    def text(self, value: float | None) -> str:
        if value is None:
            return "-"
        if self.unit == "s":
            return units.duration(value)
        if self.unit == "bytes":
            return units.size(value)
        if self.unit == "pct":
            return f"{value:.3g} %"
        return units.number(value)


METRICS: tuple[Metric, ...] = (
    Metric("create_p50", "create p50", "s", lambda r: op(r, "create", "p50")),
    Metric("create_p95", "create p95", "s", lambda r: op(r, "create", "p95")),
    Metric("stop_p50", "stop p50", "s", lambda r: op(r, "stop", "p50")),
    Metric("stop_p95", "stop p95", "s", lambda r: op(r, "stop", "p95")),
    Metric("stop_p99", "stop p99", "s", lambda r: op(r, "stop", "p99")),
    Metric("stops_waited", "stops that waited", "pct", stop_wait_share),
    Metric("start_p50", "start p50", "s", lambda r: op(r, "start", "p50")),
    Metric("export_p50", "export p50", "s", lambda r: op(r, "export", "p50")),
    Metric("export_s_per_vm_day", "exporting per VM-day", "s", lambda r: busy_s(r, "export") / vm_days(r)),
    Metric("exported_per_vm_day", "exported per VM-day", "bytes", lambda r: r["bytes"]["exported"] / vm_days(r)),
    Metric("at_risk_per_vm", "snapshots at risk per VM", "count", at_risk_per_vm),
    Metric("lost", "snapshots lost", "count", lambda r: float(lost(r))),
    Metric("failures", "failed operations", "count", lambda r: float(sum(r["failures"].values()))),
)
BY_KEY = {m.key: m for m in METRICS}


def values(r: Result) -> dict[str, float | None]:
    return {m.key: m.read(r) for m in METRICS}
