"""The seeded fault soak: a 200-run slice on the process pool; every run is checked and a
failing run reproduces from its seed alone."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from simulator.campaigns.soak import DURATION_S, QUIET_S, run_one, soak, soak_scenario, tally
from simulator.faults import KINDS

ROOT = Path(__file__).resolve().parents[2]
SLICE = range(200)


def test_a_200_run_slice_checks_every_run_and_each_outcome_reproduces_from_its_seed() -> None:
    with ProcessPoolExecutor(2) as pool:
        outcomes = soak(list(SLICE), pool, batch=25)
    t = tally(outcomes)
    assert [o.seed for o in outcomes] == list(SLICE)
    assert t["runs"] == 200 and t["ok"] + t["failed"] == 200
    assert t["snapshots_checked"] > 200  # the data of Ready snapshots was restored and read back
    assert not [o for o in outcomes if any("the run raised" in p for p in o.problems)]  # no simulator crash
    plans = [soak_scenario(s) for s in SLICE]
    assert {f["kind"] for sc in plans for f in sc.faults} == set(KINDS)  # the whole vocabulary is drawn
    for o in [o for o in outcomes if not o.ok][:3] + [o for o in outcomes if o.ok][:1]:
        again = run_one(o.seed)  # in this process, from the seed alone
        assert again == o


def test_every_fault_window_closes_before_the_run_ends() -> None:
    for seed in SLICE:
        for f in soak_scenario(seed).faults:
            if "at" in f:
                length = f.get("restart_after", f.get("duration", 0))
                assert f["at"] + length <= DURATION_S - QUIET_S, (seed, f)


def test_the_benchmark_reruns_one_seed_and_prints_its_plan_and_outcome() -> None:
    seed = 3
    done = subprocess.run(
        [sys.executable, "benchmarks/soak.py", "--seed", str(seed)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    printed = json.loads(done.stdout)
    outcome = run_one(seed)
    assert printed["outcome"]["event_log_sha256"] == outcome.event_log_sha256
    assert printed["outcome"]["problems"] == outcome.problems
    assert printed["scenario"]["faults"] == soak_scenario(seed).faults
    assert done.returncode == (0 if outcome.ok else 1)


@pytest.mark.parametrize(
    ("seed", "what"),
    [
        (3, "a merge that failed after the checkpoint left the tree"),
        (66, "a merge failure on delete, children re-parented on the host"),
        (19, "a merge failure on a VM stopped afterwards (the export holds the tree)"),
        (129, "a delete whose answer was lost"),
        (40, "a delete refused by an unreachable host stays Error, still on the host"),
        (9, "a create whose answer was lost, on a VM stopped afterwards"),
        (69, "creates whose answers were lost"),
        (42, "a deploy whose answer was lost: the host runs the VM"),
        (124, "a manager crash after a create step"),
        (220, "two hosts reconnect at once: their syncs run one after the other"),
        (17, "a workload that ends while its host is still down is checked after the restart"),
        (127, "storage that fails mid-export past the end is checked after it is back"),
        (286, "on-snapshot exports whose answers were lost: the stop exports"),
        (33, "a revert whose answer was lost"),
        (310, "an unregister whose answer was lost keeps its export"),
        (325, "a restart sync leaves alone the VMs the live manager is working on"),
        (154, "command timeouts end with the faults: the last sync releases the VM"),
        (586, "a create that failed while the host was down: its checkpoint is removed"),
        (338, "a manager that restarts after the end: its sync settles before the checks"),
    ],
)
def test_a_seed_of_each_settled_fault_class_passes_its_invariants(seed: int, what: str) -> None:
    outcome = run_one(seed)
    assert outcome.ok, (what, outcome.problems)
