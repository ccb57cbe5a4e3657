"""Campaigns: a scenario swept over parameter values, one seeded run per point.

Runs go through a :class:`concurrent.futures.Executor`: a local
:class:`~concurrent.futures.ProcessPoolExecutor` by default, or a Dask cluster's executor when
a scheduler address is given (``pip install hvsnap[sim]``; Dask is imported only then). Each
run is independent and seeded, so the results do not depend on where or in which order the
runs execute.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any

from simulator.campaigns.run import simulate
from simulator.campaigns.scenario import Scenario


def parse_axes(specs: list[str]) -> dict[str, list[Any]]:
    """``["costs.merge_bps=1e8,3e8", "strategy=on-stop,on-snapshot"]`` -> axes."""
    axes: dict[str, list[Any]] = {}
    for spec in specs:
        key, _, values = spec.partition("=")
        if not key or not values:
            raise ValueError(f"a sweep axis is KEY=V1,V2,...: {spec!r}")
        axes[key.strip()] = [_value(v.strip()) for v in values.split(",")]
    return axes


def _value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def points(axes: dict[str, list[Any]], seeds: list[int]) -> list[tuple[dict[str, Any], int]]:
    """Every combination of axis values, for every seed."""
    keys = sorted(axes)
    combos = [dict(zip(keys, values, strict=True)) for values in itertools.product(*(axes[k] for k in keys))]
    return [(combo, seed) for combo in combos for seed in seeds]


def _one(scenario: Scenario, values: dict[str, Any], seed: int, series: bool = False) -> dict[str, Any]:
    result = simulate(scenario.with_values(values), seed, series=series)
    return {"point": values, **result}


@contextmanager
def executor_for(scheduler: str | None = None, workers: int | None = None) -> Iterator[Executor]:
    """A process pool (``scheduler`` None; ``workers`` processes), a Dask ``LocalCluster`` of
    ``W`` single-threaded worker processes on 127.0.0.1 (``"local:W"``), or the executor of
    the Dask cluster at ``scheduler`` (``tcp://HOST:PORT``)."""
    if scheduler is None:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            yield pool
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as err:  # pragma: no cover - depends on the optional extra
        raise RuntimeError("a Dask scheduler needs the 'sim' extra: pip install 'hvsnap[sim]'") from err
    cluster = None
    if scheduler.startswith("local:"):
        count = scheduler.removeprefix("local:")
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"--scheduler local:W needs a worker count W >= 1, not {scheduler!r}")
        cluster = LocalCluster(
            n_workers=int(count),
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",  # the diagnostics server: loopback, a free port
            host="127.0.0.1",
        )
        scheduler = cluster.scheduler_address
    try:
        client = Client(scheduler)
        try:
            yield client.get_executor()
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


def sweep(
    scenario: Scenario,
    axes: dict[str, list[Any]],
    seeds: list[int],
    executor: Executor,
    series: bool = False,
    done: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every point on ``executor``; results in point order. ``series``: sample each
    run's time series; ``done(finished, total)`` is called as runs finish (a progress bar)."""
    futures = [executor.submit(_one, scenario, values, seed, series) for values, seed in points(axes, seeds)]
    if done is not None:
        for n, _ in enumerate(as_completed(futures), 1):
            done(n, len(futures))
    return [f.result() for f in futures]


def table(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One summary row per run: the point, the seed and the headline numbers."""
    rows = []
    for r in results:
        ops = r["operations"]
        rows.append(
            {
                **r["point"],
                "seed": r["seed"],
                "create_p50": ops["create"]["p50"],
                "stop_p50": ops["stop"]["p50"],
                "export_p50": ops["export"]["p50"],
                "bytes_exported": r["bytes"]["exported"],
                "at_risk": r["data_at_risk"]["snapshots"],
                "invariants_ok": r["invariants"]["ok"],
                **(
                    {
                        "failovers": r["cluster"]["failovers"],
                        "downtime_s": r["cluster"]["application_downtime_s"]["total"],
                        "snapshots_lost": r["cluster"]["snapshots"]["lost"],
                    }
                    if "cluster" in r
                    else {}
                ),
            }
        )
    return rows
