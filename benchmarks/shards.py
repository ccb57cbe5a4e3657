"""Sharded campaigns on Dask: 2 workers against 1 on the same campaign, beside bare SimPy
timeouts per second measured in the same run, and (``--demo``) a 100,000-VM fleet-day.

    .venv/bin/python benchmarks/shards.py [--vms 4000] [--hosts 80] [--hours 26] [--shards 4]
        [--demo [--demo-vms 100000] [--demo-hosts 2000] [--demo-hours 24] [--demo-shards 8]]

The campaign is the hourly keep-24 fleet of ``benchmarks/simulate.py``. It runs on a Dask
``LocalCluster`` of 1 worker, then of 2 (``--scheduler local:W``), and on the process pool
(``--shards N``), checks that the three merged results are the same JSON (``wall_seconds``
aside), and prints the walls and the speed-up of 2 workers over 1 (target >= 1.7x on 2
cores). ``--demo`` then runs the large fleet on 2 workers and prints its wall time, its
workflows per second and the peak memory of a worker.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from simulate import bare_timeouts  # type: ignore[import-not-found]

from simulator.campaigns.scenario import Scenario
from simulator.campaigns.shards import ShardOutput, run_sharded
from simulator.campaigns.sweep import executor_for


def fleet(vms: int, hosts: int, hours: float) -> Scenario:
    return Scenario.from_dict(
        {
            "name": "fleet-hourly-keep-24",
            "duration": f"{hours}h",
            "strategy": "on-stop",
            "fleet": {"hosts": hosts, "vms": vms, "memory_mib": 4096},
            "workload": {"kind": "schedule", "every_s": 3600, "keep": 24, "jitter_s": 600, "memory": False},
        }
    )


def timed(
    scenario: Scenario, shards: int, scheduler: str | None, workers: int | None = None
) -> tuple[float, dict[str, Any], list[ShardOutput]]:
    with executor_for(scheduler, workers) as pool:  # the cluster's start is not timed
        start = time.perf_counter()
        result, outputs = run_sharded(scenario, None, shards, pool)
        wall = time.perf_counter() - start
    result.pop("wall_seconds")
    return wall, result, outputs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vms", type=int, default=4000)
    p.add_argument("--hosts", type=int, default=80)
    p.add_argument("--hours", type=float, default=26.0)
    p.add_argument("--shards", type=int, default=4)
    p.add_argument("--demo", action="store_true", help="also run the large fleet on 2 workers")
    p.add_argument("--demo-vms", type=int, default=100_000)
    p.add_argument("--demo-hosts", type=int, default=2000)
    p.add_argument("--demo-hours", type=float, default=24.0)
    p.add_argument("--demo-shards", type=int, default=8)
    a = p.parse_args()
    scenario = fleet(a.vms, a.hosts, a.hours)
    timeouts = bare_timeouts()
    one, r1, _ = timed(scenario, a.shards, "local:1")
    two, r2, outputs = timed(scenario, a.shards, "local:2")
    pool, r3, _ = timed(scenario, a.shards, None, 2)
    same = json.dumps(r1, sort_keys=True) == json.dumps(r2, sort_keys=True) == json.dumps(r3, sort_keys=True)
    workflows = r1["workflows"]
    print(f"bare SimPy timeouts/s          {timeouts:12,.0f}")
    print(f"campaign                       {a.vms:,} VMs, {a.hosts} hosts, {a.hours:g} h, {a.shards} shards")
    print(f"1 Dask worker                  {one:12,.1f} s wall, {workflows / one:,.0f} workflows/s")
    print(f"2 Dask workers                 {two:12,.1f} s wall, {workflows / two:,.0f} workflows/s")
    print(f"process pool of 2              {pool:12,.1f} s wall")
    print(f"2 workers vs 1                 {one / two:12.2f} x (target >= 1.7)")
    print(f"one JSON on all three          {same}; invariants ok: {r1['invariants']['ok']}")
    print(f"peak RSS of a worker           {max(o.peak_rss_mib for o in outputs):12,.0f} MiB")
    if a.demo:
        big = fleet(a.demo_vms, a.demo_hosts, a.demo_hours)
        wall, r, outs = timed(big, a.demo_shards, "local:2")
        print(
            f"demo: {a.demo_vms:,} VMs, {a.demo_hosts} hosts, {a.demo_hours:g} h, {a.demo_shards} shards on 2 workers: "
            f"{wall:,.1f} s wall, {r['workflows']:,} workflows ({r['workflows'] / wall:,.0f}/s), "
            f"peak RSS per worker {max(o.peak_rss_mib for o in outs):,.0f} MiB, invariants ok: {r['invariants']['ok']}"
        )


if __name__ == "__main__":
    main()
