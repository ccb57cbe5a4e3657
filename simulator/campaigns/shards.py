"""Sharded campaigns: one fleet split into shards that run as independent tasks, and the
exact merge of their results.

``hvsnap simulate SCENARIO --shards N`` splits the fleet into ``N`` blocks of hosts with the
VMs placed on them (:class:`~simulator.campaigns.scenario.Shard`: shards share no VM, host or
storage, and each has its own management server), runs each block as one task on a
:class:`concurrent.futures.Executor` (the process pool, a Dask ``LocalCluster`` or an existing
Dask cluster: :func:`simulator.campaigns.sweep.executor_for`) and merges the results.

The merge is exact and does not depend on where or in which order the tasks ran, so one seed
gives one JSON on 1 worker, 2 workers or the process pool (``wall_seconds`` aside):

- every shard's result is a function of (scenario, seed, shard) alone: hosts and VMs keep
  their fleet-wide random streams, the fault plan draws from one stream per shard;
- the results are merged in shard order, whatever order they finished in;
- latency percentiles come from per-shard DDSketch quantile sketches (relative accuracy
  :data:`RELATIVE_ACCURACY`) merged bucket by bucket, never from averaged percentiles; chain
  depths and read latencies, which take few distinct values, from exact value counts;
- counts (workflows, events, bytes, failures, sync, policies, stops) are summed; invariants
  are checked in each shard and reported per shard, their violations prefixed ``shard K:``;
- ``event_log_sha256`` is the SHA-256 of the shards' own event-log hashes, one a line in
  shard order; ``shards`` lists each shard's hosts, VMs, hash and invariants.

The merged result has every field of a single run's, with the same meaning, so the reports
render it (the time series of the shards are merged sample by sample).
"""

from __future__ import annotations

import gc
import hashlib
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from typing import Any

from ddsketch import DDSketch

from simulator.campaigns.run import Simulation, percentiles
from simulator.campaigns.scenario import Scenario, Shard
from simulator.campaigns.series import CDF_POINTS

#: the sketches' relative accuracy: a merged percentile is within 0.1 % of the exact one
RELATIVE_ACCURACY = 0.001
#: the operations a result reports (``Simulation.result``)
OPS = ("create", "revert", "delete", "stop", "start", "export", "import", "deploy", "sync", "scheduled")


@dataclass
class ShardOutput:
    """What one shard's task sends back: its result, the sketches and counts to merge, and
    what it cost (``wall_s``, ``peak_rss_mib`` of the worker process: not in the JSON)."""

    shard: Shard
    vms: int
    result: dict[str, Any]
    latencies: dict[str, DDSketch]
    depths: Counter[int]
    read_ms: Counter[float]
    wall_s: float
    peak_rss_mib: float
    log_lines: list[str] | None = field(default=None, repr=False)


def run_shard(scenario: Scenario, seed: int, shard: Shard, series: bool = False, keep_log: bool = False) -> ShardOutput:
    """Run one shard of ``scenario`` (a task: picklable arguments and result)."""
    start = time.perf_counter()
    sim = Simulation(scenario, seed, keep_log=keep_log, series=series, shard=shard)
    result = sim.run()
    sketches = {}
    for op in OPS:
        sketch = DDSketch(RELATIVE_ACCURACY)
        for value in sim.latencies.get(op, []):
            sketch.add(value)
        sketches[op] = sketch
    output = ShardOutput(
        shard,
        len(sim.vm_indexes),
        result,
        sketches,
        Counter(int(d) for d in sim.samples["depth"]),
        Counter(sim.samples["read_latency_ms"]),
        time.perf_counter() - start,
        _peak_rss_mib(),
        sim.log.lines,
    )
    del sim
    gc.collect()  # the run's objects hold cycles (SimPy processes): free them before the worker's next shard
    return output


def run_sharded(
    scenario: Scenario,
    seed: int | None,
    count: int,
    executor: Executor,
    series: bool = False,
    keep_log: bool = False,
    done: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, Any], list[ShardOutput]]:
    """Run the ``count`` shards of ``scenario`` on ``executor``; the merged result and the
    shards' outputs (in shard order). ``done(finished, total)`` as shards finish."""
    seed = scenario.seed if seed is None else seed
    start = time.perf_counter()
    futures = [
        executor.submit(run_shard, scenario, seed, shard, series, keep_log)
        for shard in Shard.split(scenario.fleet, count)
    ]
    if done is not None:
        for n, _ in enumerate(as_completed(futures), 1):
            done(n, len(futures))
    outputs = [f.result() for f in futures]
    merged = merge(outputs)
    merged["wall_seconds"] = round(time.perf_counter() - start, 3)
    return merged, outputs


def merge(outputs: list[ShardOutput]) -> dict[str, Any]:
    """One result from the shards' (``wall_seconds`` left to the caller)."""
    outputs = sorted(outputs, key=lambda o: o.shard.index)
    results = [o.result for o in outputs]
    first = results[0]
    latency: dict[str, DDSketch] = {}
    for op in OPS:
        latency[op] = DDSketch(RELATIVE_ACCURACY)
        for o in outputs:
            latency[op].merge(o.latencies[op])
    depths: Counter[int] = sum((o.depths for o in outputs), Counter())
    read_ms: Counter[float] = sum((o.read_ms for o in outputs), Counter())
    by_depth: dict[int, float] = {}
    for r in results:
        by_depth.update({int(d): ms for d, ms in r["read_latency_ms"]["by_depth"].items()})
    invariants = [r["invariants"] for r in results]
    spec = {**first["scenario_spec"], "shards": len(outputs)}
    merged: dict[str, Any] = {
        "scenario": first["scenario"],
        "seed": first["seed"],
        "strategy": first["strategy"],
        "merge_mode": first["merge_mode"],
        "simulated_seconds": max(r["simulated_seconds"] for r in results),
        "event_log_sha256": hashlib.sha256("".join(f"{r['event_log_sha256']}\n" for r in results).encode()).hexdigest(),
        "events": sum(r["events"] for r in results),
        "workflows": sum(r["workflows"] for r in results),
        "operations": {op: _sketch_percentiles(latency[op]) for op in OPS},
        "bytes": _sum_dicts(r["bytes"] for r in results),
        "data_at_risk": _sum_dicts(r["data_at_risk"] for r in results),
        "failures": dict(sorted(_sum_dicts(r["failures"] for r in results).items())),
        "invariants": {
            "ok": all(i["ok"] for i in invariants),
            "violations": [f"shard {k}: {v}" for k, i in enumerate(invariants) for v in i["violations"]][:50],
            "count": sum(i["count"] for i in invariants),
            "shards_ok": [i["ok"] for i in invariants],
        },
        "chain_depth": counted_percentiles(depths),
        "read_latency_ms": {**counted_percentiles(read_ms), "by_depth": dict(sorted(by_depth.items()))},
        "merges_cancelled": sum(r["merges_cancelled"] for r in results),
        "paused_critical": sum(r["paused_critical"] for r in results),
        "faults_fired": _by_time(f for r in results for f in r["faults_fired"]),
        "sync": _sum_dicts(r["sync"] for r in results),
        **({"policies": _sum_dicts(r["policies"] for r in results)} if "policies" in first else {}),
        "latency_cdf": {op: _sketch_cdf(latency[op]) for op in OPS},
        "stop_waits": _stop_waits([r["stop_waits"] for r in results]),
        "sync_runs": sorted(
            ({**run, "shard": o.shard.index} for o in outputs for run in o.result["sync_runs"]),
            key=lambda run: (run["t"], run["shard"]),
        ),
        **({"series": merge_series(outputs)} if "series" in first else {}),
        "scenario_spec": spec,
        "shards": [
            {
                "shard": o.shard.index,
                "hosts": [o.shard.first_host, o.shard.first_host + o.shard.hosts - 1],
                "vms": o.vms,
                "workflows": o.result["workflows"],
                "events": o.result["events"],
                "event_log_sha256": o.result["event_log_sha256"],
                "invariants_ok": o.result["invariants"]["ok"],
            }
            for o in outputs
        ],
    }
    return merged


def counted_percentiles(counts: Counter[Any]) -> dict[str, Any]:
    """:func:`~simulator.campaigns.run.percentiles` of the values ``counts`` counts, exactly."""
    n = sum(counts.values())
    if not n:
        return percentiles([])
    values = sorted(counts)

    def rank(q: float) -> float:
        want = min(n - 1, max(0, int(q * n + 0.999999) - 1))
        seen = 0
        for v in values:
            seen += counts[v]
            if seen > want:
                return round(v, 6)
        return round(values[-1], 6)

    total = sum(v * counts[v] for v in values)
    return {"count": n, "p50": rank(0.5), "p95": rank(0.95), "p99": rank(0.99), "mean": round(total / n, 6)}


def merge_series(outputs: list[ShardOutput]) -> dict[str, Any]:
    """The shards' time series as one fleet's: sums of the fleet-wide samples, the mean depth
    weighted by VMs, the deepest chain, and every host's own samples side by side. A shard
    stops sampling when its own run ends: the merged series ends with the first to stop."""
    series = [o.result["series"] for o in outputs]
    weights = [o.vms for o in outputs]
    total = sum(weights) or 1
    n = min(len(s["t"]) for s in series)
    out: dict[str, Any] = {"t": series[0]["t"][:n]}
    out["chain_depth_mean"] = [
        round(sum(s["chain_depth_mean"][i] * w for s, w in zip(series, weights, strict=True)) / total, 4)
        for i in range(len(out["t"]))
    ]
    out["chain_depth_max"] = [max(s["chain_depth_max"][i] for s in series) for i in range(len(out["t"]))]
    summed = ["bytes_written", "bytes_exported", "bytes_merged", "at_risk_snapshots", "at_risk_bytes"]
    summed += [k for k in ("policy_snapshots", "policy_pruned") if k in series[0]]
    for key in summed:
        out[key] = [sum(s[key][i] for s in series) for i in range(len(out["t"]))]
    for key in ("storage_used", "storage_deferred", "storage_exports", "in_flight", "storage_queue"):
        out[key] = {host: values[:n] for s in series for host, values in s[key].items()}
    return out


def _sketch_percentiles(sketch: DDSketch) -> dict[str, Any]:
    """count, p50, p95, p99 and mean as :func:`~simulator.campaigns.run.percentiles` has them
    (nearest rank), each value within the sketch's relative accuracy."""
    n = int(sketch.count)
    if not n:
        return percentiles([])
    q = {k: _at_rank(sketch, min(n - 1, max(0, int(p * n + 0.999999) - 1))) for k, p in _PS}
    return {"count": n, **q, "mean": round(sketch.sum / n, 6)}


def _sketch_cdf(sketch: DDSketch) -> list[float]:
    """:func:`~simulator.campaigns.series.quantiles` from a sketch."""
    n = int(sketch.count)
    if not n:
        return []
    return [_at_rank(sketch, min(n - 1, round(i * (n - 1) / (CDF_POINTS - 1)))) for i in range(CDF_POINTS)]


_PS = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))


def _at_rank(sketch: DDSketch, index: int) -> float:
    """The ``index``-th smallest value (0-based) as the sketch knows it. DDSketch answers a
    quantile ``q`` with the value of rank ``q * (count - 1)``: half a rank above ``index``
    keeps float rounding off the neighbouring value."""
    n = int(sketch.count)
    q = 0.0 if n == 1 else min(1.0, (index + 0.5) / (n - 1))
    value = sketch.get_quantile_value(q)  # None only for an empty sketch
    return round(float(value or 0.0), 6)


def _sum_dicts(dicts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for d in dicts:
        for k, v in d.items():
            total[k] = total.get(k, 0) + v
    return total


def _stop_waits(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "bare_s": parts[0]["bare_s"],
        "stops": sum(p["stops"] for p in parts),
        "waited": sum(p["waited"] for p in parts),
        "wait_s": round(sum(p["wait_s"] for p in parts), 6),
    }


def _by_time(lines: Iterable[str]) -> list[str]:
    """Fault lines (``"T kind ..."``) of every shard, by time (stable: shard order at ties)."""
    return sorted(lines, key=lambda line: float(line.split(" ", 1)[0]))


def _peak_rss_mib() -> float:
    """The peak resident memory of this (worker) process, MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024
