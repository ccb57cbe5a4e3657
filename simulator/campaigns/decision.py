"""The export-strategy decision campaign: when to export the VM (spec, "When to export
the VM")?

It sweeps the regimes that decide the question one axis at a time around a base regime,
runs each regime under every strategy (``on-stop``, ``on-snapshot``, ``none``) and seed,
and runs the :mod:`~simulator.campaigns.probes` that answer the spec's "what happens if"
questions. The result (``decision.json``) is plain data; :mod:`reports.decision` turns it
into answers, a recommendation per regime and the crossover.

Regime parameters (what a scenario gets from each):

``vm_gib``             the VM's memory: its saved state is in every disk+memory snapshot
                       and in every export (``fleet.memory_mib``)
``snapshots_per_day``  VM snapshots created per VM per day (beyond ``keep`` the oldest is
                       deleted first: a second change to the tree)
``stops_per_day``      stop/start cycles per VM per day
``export_mbps``        export bandwidth to primary storage, MB/s (``costs.export_bps``)
``vms_per_host``       VMs sharing one host and its primary storage
``losses_per_year``    unplanned losses of a host or its primary storage, per host per
                       year: they scale the snapshots at risk into expected losses; no run
                       depends on them
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from simulator.campaigns.probes import run_probes
from simulator.campaigns.run import simulate
from simulator.campaigns.scenario import Scenario

STRATEGIES = ("on-stop", "on-snapshot", "none")
BASE: dict[str, float] = {
    "vm_gib": 4,
    "snapshots_per_day": 8,
    "stops_per_day": 1,
    "export_mbps": 200,
    "vms_per_host": 10,
    "losses_per_year": 1,
}
AXES: dict[str, list[float]] = {
    "vm_gib": [1, 4, 16, 64],
    "snapshots_per_day": [2, 8, 24, 96],
    "stops_per_day": [0.25, 0.5, 1, 2, 4, 8, 16],
    "export_mbps": [50, 200, 800],
    "vms_per_host": [2, 10, 40],
    "losses_per_year": [0.25, 1, 4, 12, 52, 365],
}
#: axes that change no simulation (applied when the report scores the runs)
ANALYTIC = ("losses_per_year",)
#: snapshots kept per VM before the oldest is deleted
KEEP = 6
DAY_S = 86400.0
#: a lost snapshot weighs as much as this many seconds of operations waiting on exports
RISK_WEIGHT_S = 3600.0


def regimes(base: dict[str, float], axes: dict[str, list[float]]) -> list[tuple[str, dict[str, float]]]:
    """``(axis, regime)`` for the base regime and every value of every axis, one axis away
    from the base at a time (the base appears once, as axis ``base``)."""
    out: list[tuple[str, dict[str, float]]] = [("base", dict(base))]
    for axis, values in axes.items():
        for v in values:
            if v != base[axis]:
                out.append((axis, {**base, axis: v}))
    return out


def scenario_for(regime: dict[str, float], strategy: str, duration_s: float, seed: int) -> Scenario:
    """The campaign scenario of one regime under one strategy."""
    snaps, stops = float(regime["snapshots_per_day"]), float(regime["stops_per_day"])
    return Scenario.from_dict(
        {
            "name": "decision",
            "duration_s": duration_s,
            "seed": seed,
            "strategy": strategy,
            "fleet": {
                "hosts": 1,
                "vms": int(regime["vms_per_host"]),
                "memory_mib": int(regime["vm_gib"] * 1024),
                "cpus": 2,
                "write_bps": 200_000,
            },
            "workload": {
                "kind": "mix",
                "interval_s": DAY_S / (snaps + stops),
                "mix": {"create": snaps, "stop_start": stops},
                "memory": True,
                "max_snapshots": KEEP,
                "stopped_s": 300,
            },
            "costs": {"export_bps": float(regime["export_mbps"]) * 1e6},
        }
    )


def _run(regime: dict[str, float], axis: str, strategy: str, duration_s: float, seed: int) -> dict[str, Any]:
    result = simulate(scenario_for(regime, strategy, duration_s, seed), seed, series=True)
    series = result.pop("series")
    result["series"] = {"t": series["t"], "at_risk_snapshots": series["at_risk_snapshots"]}
    return {"axis": axis, "regime": regime, "strategy": strategy, "seed": seed, "result": result}


def decide(
    executor: Executor,
    seeds: list[int],
    duration_s: float = DAY_S,
    base: dict[str, float] | None = None,
    axes: dict[str, list[float]] | None = None,
    probes: bool = True,
    done: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run the campaign on ``executor``; returns ``decision.json``'s content."""
    base = dict(BASE if base is None else base)
    axes = {k: list(v) for k, v in (AXES if axes is None else axes).items()}
    todo = [
        (regime, axis, strategy, seed)
        for axis, regime in regimes(base, {k: v for k, v in axes.items() if k not in ANALYTIC})
        for strategy in STRATEGIES
        for seed in seeds
    ]
    futures = [executor.submit(_run, regime, axis, strategy, duration_s, seed) for regime, axis, strategy, seed in todo]
    probe_future = executor.submit(run_probes, 16, base["export_mbps"] * 1e6, seeds[0]) if probes else None
    runs = []
    for n, f in enumerate(futures, 1):
        runs.append(f.result())
        if done is not None:
            done(n, len(futures))
    return {
        "base": base,
        "axes": axes,
        "analytic": list(ANALYTIC),
        "strategies": list(STRATEGIES),
        "seeds": seeds,
        "duration_s": duration_s,
        "keep": KEEP,
        "risk_weight_s": RISK_WEIGHT_S,
        "runs": runs,
        "probes": probe_future.result() if probe_future is not None else {},
    }
