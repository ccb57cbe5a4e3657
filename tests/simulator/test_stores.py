"""The simulation gives the same result, event log and all, on either store: the memory store
it uses by default and the SQL store the CLI and the server use."""

from __future__ import annotations

from simulator.campaigns.run import Simulation
from simulator.campaigns.scenario import Scenario


def test_the_memory_and_sql_stores_simulate_the_same_run() -> None:
    scenario = Scenario.from_dict(
        {
            "duration": "6h",
            "strategy": "on-stop",
            "fleet": {"hosts": 2, "vms": 6},
            "workload": {"kind": "mix", "interval_s": 900},
        }
    )
    results = [Simulation(scenario, seed=7, store=store).run() for store in ("memory", "sql")]
    for result in results:
        result.pop("wall_seconds")
    assert results[0]["workflows"] > 20
    assert results[0] == results[1]
