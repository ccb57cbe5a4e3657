"""Simulated workflows per wall-second on a 1,000-VM fleet, beside bare SimPy timeouts per
second measured in the same run (the "physical limit", reference/tooling.md §3).

    .venv/bin/python benchmarks/simulate.py [--vms 1000] [--hours 3] [--hosts 20]

The fleet runs the 7-day policy workload ("snapshot every hour, delete the oldest beyond
24") for ``--hours`` simulated hours; the 7-day wall time is extrapolated from the measured
rate (targets: >= 1,500 workflows/s; 7 days <= 180 s wall on one core).
"""

from __future__ import annotations

import argparse
import time

import simpy

from simulator.campaigns.run import Simulation
from simulator.campaigns.scenario import Scenario


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


def fleet(vms: int, hosts: int, hours: float) -> tuple[float, dict]:  # type: ignore[type-arg]
    scenario = Scenario.from_dict(
        {
            "name": "fleet-hourly-keep-24",
            "duration": f"{hours}h",
            "strategy": "on-stop",
            "fleet": {"hosts": hosts, "vms": vms, "memory_mib": 4096},
            "workload": {"kind": "schedule", "every_s": 3600, "keep": 24, "jitter_s": 600, "memory": False},
        }
    )
    sim = Simulation(scenario)
    start = time.perf_counter()
    result = sim.run()
    wall = time.perf_counter() - start
    return sim.workflows / wall, result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--vms", type=int, default=1000)
    p.add_argument("--hosts", type=int, default=20)
    p.add_argument("--hours", type=float, default=3.0)
    a = p.parse_args()
    timeouts = bare_timeouts()
    rate, result = fleet(a.vms, a.hosts, a.hours)
    week = a.vms * (24 * 7) + a.vms * (24 * 7 - 24)  # creates + deletes beyond keep-24
    print(f"bare SimPy timeouts/s          {timeouts:12,.0f}")
    print(f"simulated workflows/s          {rate:12,.1f}   ({result['workflows']} workflows, {a.vms} VMs)")
    print(f"ratio workflows : timeouts     1 : {timeouts / rate:,.0f}")
    print(f"target 1,500 workflows/s       {rate / 1500:12.3f} x of target")
    print(f"7-day keep-24 run, estimated   {week / rate:12,.0f} s wall (target <= 180 s)")
    print(f"create p50 {result['operations']['create']['p50']} s, invariants ok: {result['invariants']['ok']}")


if __name__ == "__main__":
    main()
