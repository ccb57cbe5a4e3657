"""``hvsnap simulate SCENARIO.yaml [--seed N] [--json] [--out DIR] [--sweep KEY=V1,V2 ...]``.

One run prints a summary (or, with ``--json``, the result object). ``--out DIR`` also writes
``result.json`` and the event log ``events.log`` (whose SHA-256 is ``event_log_sha256``).
With ``--sweep``, the scenario runs once per combination of values and seed, on a process
pool, or on the Dask cluster at ``--scheduler``; the results go to ``DIR/campaign.json``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, NoReturn

import click
import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from simulator.campaigns.run import Simulation
from simulator.campaigns.scenario import Scenario
from simulator.campaigns.sweep import executor_for, parse_axes, points, sweep, table

#: the bar appears once a run has taken this many wall seconds
PROGRESS_AFTER_S = 2.0


class _Bar:
    """A rich progress bar on stderr, shown only for runs longer than a few seconds."""

    def __init__(self, console: Console, enabled: bool) -> None:
        self.console, self.enabled = console, enabled
        self.start = time.perf_counter()
        self.progress: Progress | None = None
        self.task: Any = None

    def __call__(self, now: float, total: float) -> None:
        if not self.enabled:
            return
        if self.progress is None:
            if time.perf_counter() - self.start < PROGRESS_AFTER_S:
                return
            self.progress = Progress(
                TextColumn("simulating"),
                BarColumn(),
                TextColumn("{task.fields[sim]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("sim", total=total, sim="")
        self.progress.update(self.task, completed=now, sim=f"{now / 3600:.1f} h simulated")

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


@click.command("simulate")
@click.argument("scenario_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--seed", type=int, default=None, help="Override the scenario's seed.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Write result and event log here."
)
@click.option("--sweep", "axes", multiple=True, help="KEY=V1,V2,... (e.g. costs.export_bps=1e8,2e8); repeatable.")
@click.option("--seeds", default=None, help="Comma-separated seeds for a sweep (default: the scenario's).")
@click.option("--scheduler", default=None, help="Dask scheduler address for a sweep (default: local processes).")
@click.option("--workers", type=int, default=None, help="Local worker processes for a sweep.")
def simulate_command(
    scenario_file: Path,
    seed: int | None,
    as_json: bool,
    out_dir: Path | None,
    axes: tuple[str, ...],
    seeds: str | None,
    scheduler: str | None,
    workers: int | None,
) -> None:
    """Run a simulation scenario in SimPy time and report latencies, bytes, risk and faults."""
    try:
        scenario = Scenario.load(scenario_file)
        parsed = parse_axes(list(axes))
        for values, _ in points(parsed, [0]):  # every point of a sweep is checked before one runs
            scenario.with_values(values)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        _refuse(f"{scenario_file} is not valid YAML ({getattr(err, 'problem', None) or err}{where}); fix the file")
    except (ValueError, TypeError) as err:
        _refuse(f"{' '.join(str(err).split())}; see hvsnap simulate --help and simulator/scenarios/*.yaml")
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    if parsed:
        seed_list = [int(s) for s in seeds.split(",")] if seeds else [seed if seed is not None else scenario.seed]
        with executor_for(scheduler, workers) as pool:
            results = sweep(scenario, parsed, seed_list, pool)
        if out_dir is not None:
            (out_dir / "campaign.json").write_text(json.dumps(results, indent=2))
        _emit(table(results), as_json)
        return
    console = Console(stderr=True)
    bar = _Bar(console, console.is_terminal)
    sim = Simulation(scenario, seed, keep_log=out_dir is not None)
    try:
        result = sim.run(bar)
    finally:
        bar.close()
    if out_dir is not None:
        (out_dir / "result.json").write_text(json.dumps(result, indent=2))
        (out_dir / "events.log").write_text("".join(sim.log.lines or []))
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        _summary(result)


def _refuse(message: str) -> NoReturn:
    """A usage error as one line on stderr, exit 2 (no usage block, no traceback)."""
    click.echo(f"hvsnap simulate: {message}", err=True)
    raise SystemExit(2)


def _emit(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    t = Table(*(rows[0] if rows else []))
    for row in rows:
        t.add_row(*(str(v) for v in row.values()))
    Console().print(t)


def _summary(r: dict[str, Any]) -> None:
    console = Console()
    console.print(
        f"[bold]{r['scenario']}[/] seed {r['seed']}  strategy {r['strategy']}  "
        f"{r['simulated_seconds'] / 3600:.1f} h simulated in {r['wall_seconds']:.1f} s  "
        f"({r['workflows']} workflows)"
    )
    t = Table("operation", "count", "p50 s", "p95 s", "p99 s")
    for op, s in r["operations"].items():
        if s["count"]:
            t.add_row(op, str(s["count"]), f"{s['p50']:.2f}", f"{s['p95']:.2f}", f"{s['p99']:.2f}")
    console.print(t)
    console.print(f"bytes {r['bytes']}  data at risk {r['data_at_risk']}")
    console.print(
        f"failures {r['failures'] or 'none'}  invariants {'ok' if r['invariants']['ok'] else r['invariants']}"
    )
    console.print(f"event log sha256 {r['event_log_sha256']}")
