"""Time series of one simulation run, for reports (``result["series"]``).

A :class:`Sampler` is a SimPy process that looks at the run on a fixed grid of simulated
time (``POINTS`` samples over the scenario's duration) and keeps what the simulation report
plots: chain depth, bytes the guests wrote (rate x time between samples), merged and
exported, primary storage used (live files, AVHDX waiting for a deferred merge, exports
kept), commands in flight and copies queued for storage per host, snapshots at risk, and
the policy schedule's snapshots and prunes. A run samples only when asked
(``Simulation(..., series=True)``): on a 1,000-VM fleet the samples cost wall time.

Contract: sampling only reads. It never draws from a random generator, never records an
event and never changes host or store state (it estimates the guests' unaccounted writes
instead of accounting them), so a run's event log, and so its SHA-256, is the same with or
without it. :func:`quantiles` turns a list of latencies into the points of their CDF.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any, Protocol

import simpy

from harness.domain.model import VM
from harness.drivers import PowerState
from simulator.campaigns.policies import PolicyScheduler
from simulator.cluster import Cluster
from simulator.fleet import Fleet
from simulator.timed import TimedHost

#: samples per run (the grid is ``duration / POINTS``)
POINTS = 200
#: probabilities at which a latency CDF is kept (0, 1, ..., 100 %)
CDF_POINTS = 101


def quantiles(values: list[float], points: int = CDF_POINTS) -> list[float]:
    """The values at probabilities ``0, 1/(points-1), ..., 1`` (nearest rank): the CDF's shape
    in ``points`` numbers, whatever the number of values. Empty for no values."""
    if not values:
        return []
    s = sorted(values)
    n = len(s)
    return [round(s[min(n - 1, round(i * (n - 1) / (points - 1)))], 6) for i in range(points)]


class SampledRun(Protocol):
    """What the sampler reads of the run it samples (a
    :class:`~simulator.campaigns.run.Simulation` is one)."""

    @property
    def env(self) -> simpy.Environment: ...

    @property
    def hosts(self) -> Sequence[TimedHost]: ...

    @property
    def fleet(self) -> Fleet | Cluster: ...

    @property
    def vms(self) -> Sequence[VM]: ...

    @property
    def policies(self) -> PolicyScheduler | None: ...

    def data_at_risk(self) -> dict[str, Any]:
        """``snapshots`` and ``bytes`` whose only copy is the live host registration."""
        ...


class Sampler:
    """Samples a run that lasts ``duration_s`` on a grid of simulated time."""

    def __init__(self, sim: SampledRun, duration_s: float, points: int = POINTS) -> None:
        self.sim, self.end = sim, duration_s
        self.step = duration_s / points
        hosts = [h.name for h in sim.hosts]
        self.t: list[float] = []
        self.depth_mean: list[float] = []
        self.depth_max: list[int] = []
        self.written: list[int] = []
        self.exported: list[int] = []
        self.merged: list[int] = []
        self.used: dict[str, list[int]] = {h: [] for h in hosts}
        self.deferred: dict[str, list[int]] = {h: [] for h in hosts}
        self.exports_kept: dict[str, list[int]] = {h: [] for h in hosts}
        self.in_flight: dict[str, list[int]] = {h: [] for h in hosts}
        self.storage_queue: dict[str, list[int]] = {h: [] for h in hosts}
        self.at_risk: list[int] = []
        self.at_risk_bytes: list[int] = []
        self.policy_snapshots: list[int] = []
        self.policy_pruned: list[int] = []
        self._written_total = 0

    def process(self) -> Generator[simpy.Event, Any, None]:
        env, end = self.sim.env, self.end
        while True:
            self.sample()
            if env.now + self.step > end + 1e-9:
                return
            yield env.timeout(self.step)

    def sample(self) -> None:
        sim, now = self.sim, self.sim.env.now
        self.t.append(round(now, 3))
        depths = [sim.fleet.host_of(vm.instance_name).depth(vm.instance_name) for vm in sim.vms]
        self.depth_mean.append(round(sum(depths) / len(depths), 4) if depths else 0.0)
        self.depth_max.append(max(depths, default=0))
        exported = merged = 0
        rate = 0.0
        for h in sim.hosts:
            pending = self._unaccounted(h, now)
            files = h.state.used_bytes()
            rate += self._write_rate(h)
            deferred = sum(h.deferred.values())
            kept = sum(sum(f.bytes for f in r.files.values()) for r in h.state.exports.values())
            self.used[h.name].append(files + pending + deferred + kept)
            self.deferred[h.name].append(deferred)
            self.exports_kept[h.name].append(kept)
            self.in_flight[h.name].append(len(h.busy) + len(h._merging))
            self.storage_queue[h.name].append(len(h.storage.queue))
            exported += h.stats["bytes_exported"]
            merged += h.stats["bytes_merged"]
        self.written.append(self._written_total)
        self._written_total += int(rate * self.step)
        self.exported.append(exported)
        self.merged.append(merged)
        risk = sim.data_at_risk()
        self.at_risk.append(risk["snapshots"])
        self.at_risk_bytes.append(risk["bytes"])
        totals = sim.policies.totals if sim.policies is not None else {}
        self.policy_snapshots.append(totals.get("snapshots", 0))
        self.policy_pruned.append(totals.get("pruned", 0))

    @staticmethod
    def _unaccounted(host: Any, now: float) -> int:
        """Bytes the running guests wrote since the host last accounted them (read only)."""
        total = 0.0
        for name, since in host._written.items():
            vm = host.state.vms.get(name)
            if vm is not None and vm.power_state == PowerState.Running and vm.disks:
                total += host.write_bps.get(name, host.costs.guest_write_bps) * max(0.0, now - since)
        return int(total)

    @staticmethod
    def _write_rate(host: Any) -> float:
        """Bytes per second the host's running guests write now."""
        return sum(
            host.write_bps.get(vm.name, host.costs.guest_write_bps)
            for vm in host.state.vms.values()
            if vm.power_state == PowerState.Running and vm.disks
        )

    def result(self) -> dict[str, Any]:
        return {
            "t": self.t,
            "chain_depth_mean": self.depth_mean,
            "chain_depth_max": self.depth_max,
            "bytes_written": self.written,
            "bytes_exported": self.exported,
            "bytes_merged": self.merged,
            "storage_used": self.used,
            "storage_deferred": self.deferred,
            "storage_exports": self.exports_kept,
            "in_flight": self.in_flight,
            "storage_queue": self.storage_queue,
            "at_risk_snapshots": self.at_risk,
            "at_risk_bytes": self.at_risk_bytes,
            **(
                {"policy_snapshots": self.policy_snapshots, "policy_pruned": self.policy_pruned}
                if self.sim.policies is not None
                else {}
            ),
        }
