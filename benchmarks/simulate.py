"""Simulated workflows per wall-second on a 1,000-VM fleet, beside bare SimPy timeouts per
second measured in the same run (the "physical limit", reference/tooling.md §3).

    .venv/bin/python benchmarks/simulate.py [--vms 1000] [--hosts 20]
        [--warmup 26] [--window 3] [--hours H | --week] [--series]

The fleet runs the 7-day policy workload ("snapshot every hour, delete the oldest beyond
24"). Retention only starts deleting (and merging) once a VM has 25 snapshots, at 24-25
simulated hours (jitter), so the first day is cheaper than the steady state (2 workflows per
VM-hour, a create and a delete, on 24-deep chains): by default the run simulates 26 hours
unmeasured (``--warmup``), then times the ``--window`` hours after them. It prints the steady-state
workflows/s and the 7-day wall time extrapolated from it (the warm-up's measured wall time
plus the remaining hours at the window's pace). ``--week`` (or ``--hours 168``) simulates
the whole 7 days and prints the measured 7-day wall time as well. ``--warmup 0 --window 3
--hours 3`` is the old (optimistic) first-3-hours measure.

``--series`` samples the time series ``simulate --report`` plots (``Simulation(series=True)``),
to measure what a report costs; without it a run samples nothing.

Targets: >= 1,500 workflows/s; 7 days <= 180 s wall on one core. The 10,000-VM fleet-week
(``--vms 10000 --hosts 200 --week``, about 3.4 M workflows): <= 10 min wall and a peak RSS
<= 4 GiB, both printed.
"""

from __future__ import annotations

import argparse
import resource
import time
from dataclasses import dataclass
from typing import Any

import simpy

from simulator.campaigns.run import Simulation, fewer_collections
from simulator.campaigns.scenario import Scenario

WEEK_H = 24 * 7


def bare_timeouts(n: int = 300_000) -> float:
    env = simpy.Environment()

    def ticker(env: simpy.Environment, count: int):  # type: ignore[no-untyped-def]
        for _ in range(count):
            yield env.timeout(1)

    for _ in range(100):
        env.process(ticker(env, n // 100))
    start = time.perf_counter()
    env.run()
    return n / (time.perf_counter() - start)


@dataclass
class Timing:
    """Wall seconds and workflows started, at marks of simulated time."""

    walls: dict[float, float]  # simulated hours -> wall seconds since the start
    workflows: dict[float, int]  # simulated hours -> workflows started by then
    total_wall: float
    total_workflows: int
    result: dict[str, Any]
    total_cpu: float = 0.0  # CPU seconds of this process: the wall time a machine of our own would take


def fleet(vms: int, hosts: int, marks_h: list[float], hours: float, series: bool = False) -> Timing:
    scenario = Scenario.from_dict(
        {
            "name": "fleet-hourly-keep-24",
            "duration": f"{hours}h",
            "strategy": "on-stop",
            "fleet": {"hosts": hosts, "vms": vms, "memory_mib": 4096},
            "workload": {"kind": "schedule", "every_s": 3600, "keep": 24, "jitter_s": 600, "memory": False},
        }
    )
    sim = Simulation(scenario, series=series)
    start, cpu = time.perf_counter(), time.process_time()
    end = sim.start()
    walls: dict[float, float] = {0.0: 0.0}
    workflows: dict[float, int] = {0.0: 0}
    with fewer_collections():  # as Simulation.run collects
        for h in sorted(m for m in set(marks_h) if 0 < m <= hours):
            sim.env.run(until=h * 3600)
            walls[h], workflows[h] = time.perf_counter() - start, sim.workflows
        sim.env.run(until=end)
    total = time.perf_counter() - start
    return Timing(walls, workflows, total, sim.workflows, sim.result(total), time.process_time() - cpu)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vms", type=int, default=1000)
    p.add_argument("--hosts", type=int, default=20)
    p.add_argument("--warmup", type=float, default=26.0, help="simulated hours run unmeasured first")
    p.add_argument("--window", type=float, default=3.0, help="simulated hours timed after the warm-up")
    p.add_argument("--hours", type=float, default=None, help="simulated hours in all (default warmup + window)")
    p.add_argument("--week", action="store_true", help="simulate the whole 7 days (--hours 168)")
    p.add_argument("--series", action="store_true", help="also sample the time series a report plots")
    a = p.parse_args()
    hours = WEEK_H if a.week else (a.hours if a.hours is not None else a.warmup + a.window)
    hours = max(hours, a.warmup + a.window)
    days = [24.0 * d for d in range(1, int(hours // 24) + 1)]
    w0, w1 = a.warmup, a.warmup + a.window
    before = bare_timeouts()
    t = fleet(a.vms, a.hosts, [w0, w1, *days], hours, a.series)
    after = bare_timeouts()
    timeouts = (before + after) / 2  # the machine's pace can drift during a long run
    window_wall = t.walls[w1] - t.walls[w0]
    window_workflows = t.workflows[w1] - t.workflows[w0]
    rate = window_workflows / window_wall
    week = t.walls[w0] + (WEEK_H - w0) / a.window * window_wall
    window = f"hours {w0:g}-{w1:g}"
    print(f"bare SimPy timeouts/s          {timeouts:12,.0f}   (before the run {before:,.0f}, after {after:,.0f})")
    if w0:
        print(f"warm-up, hours 0-{w0:g}          {t.walls[w0]:12,.1f} s wall (unmeasured for the rate)")
    print(f"simulated workflows/s          {rate:12,.1f}   ({window}: {window_workflows} workflows, {a.vms} VMs)")
    print(f"ratio workflows : timeouts     1 : {timeouts / rate:,.0f}")
    print(f"target 1,500 workflows/s       {rate / 1500:12.3f} x of target")
    print(f"7-day keep-24 run, estimated   {week:12,.0f} s wall (warm-up + {window} pace; target <= 180 s)")
    print(
        f"whole run, {hours:g} h simulated    {t.total_wall:12,.1f} s wall, "
        f"{t.total_workflows / t.total_wall:,.1f} workflows/s ({t.total_workflows} workflows)"
    )
    if len(days) > 1:
        per_day = [
            f"{t.walls[d] - t.walls[d - 24]:.1f} s/{(t.workflows[d] - t.workflows[d - 24]) / 1000:.0f}k" for d in days
        ]
        print(f"per simulated day (wall/workflows) {', '.join(per_day)}")
    print(f"whole run, CPU                 {t.total_cpu:12,.1f} s of one core (the wall time of an idle machine)")
    if hours >= WEEK_H:
        print(f"7-day keep-24 run, measured    {t.total_wall:12,.1f} s wall (target <= 180 s; 10,000 VMs <= 600 s)")
    r = t.result
    print(f"create p50 {r['operations']['create']['p50']} s, invariants ok: {r['invariants']['ok']}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS                       {peak:12,.0f} MiB (target <= 4,096 MiB)")


if __name__ == "__main__":
    main()
