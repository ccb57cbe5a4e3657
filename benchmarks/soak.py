"""The seeded fault soak (:mod:`simulator.campaigns.soak`): short simulated runs, each with a
random fault plan over a mixed workload, every run's invariants checked.

    .venv/bin/python benchmarks/soak.py [--runs 10000] [--first 0] [--workers W]
        [--scheduler local:W | tcp://HOST:PORT] [--batch 50]
    .venv/bin/python benchmarks/soak.py --seed N      # one run again, from its seed alone

It prints the tally (runs, passed, failed, workflows, faults fired, snapshots whose data was
restored and checked), runs per wall second, and each failing seed with what failed and the
command that reproduces it.
"""

from __future__ import annotations

import argparse
import json
import time

from simulator.campaigns.soak import run_one, soak, soak_scenario, tally
from simulator.campaigns.sweep import executor_for

#: failing seeds printed in full (all are counted)
SHOWN = 20


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--first", type=int, default=0, help="the first seed")
    p.add_argument("--workers", type=int, default=None, help="process pool size (default: the cores)")
    p.add_argument("--scheduler", default=None, help="local:W or tcp://HOST:PORT: run on Dask")
    p.add_argument("--batch", type=int, default=50, help="seeds per task")
    p.add_argument("--seed", type=int, default=None, help="run one seed again and print its plan and outcome")
    a = p.parse_args()
    if a.seed is not None:
        scenario = soak_scenario(a.seed)
        outcome = run_one(a.seed)
        print(json.dumps({"scenario": scenario.to_dict(), "outcome": outcome.__dict__}, indent=2))
        raise SystemExit(0 if outcome.ok else 1)
    seeds = list(range(a.first, a.first + a.runs))
    start = time.perf_counter()
    with executor_for(a.scheduler, a.workers) as pool:
        outcomes = soak(seeds, pool, a.batch)
    wall = time.perf_counter() - start
    t = tally(outcomes)
    print(
        f"soak: {t['runs']} runs, {t['ok']} passed, {t['failed']} failed; {t['workflows']:,} workflows, "
        f"{t['faults_fired']:,} faults fired, {t['snapshots_checked']:,} snapshots restored and checked"
    )
    print(f"wall {wall:.1f} s, {t['runs'] / wall:,.1f} runs/s")
    failed = [o for o in outcomes if not o.ok]
    for o in failed[:SHOWN]:
        print(f"FAILED seed {o.seed}: {'; '.join(o.problems[:3])}")
        print(f"  reproduce: .venv/bin/python benchmarks/soak.py --seed {o.seed}")
    if len(failed) > SHOWN:
        print(f"... and {len(failed) - SHOWN} more failing seeds: {' '.join(str(o.seed) for o in failed[SHOWN:])}")


if __name__ == "__main__":
    main()
