"""``hvsnap simulate SCENARIO.yaml [--seed N] [--json] [--out DIR] [--report DIR] [--sweep KEY=V1,V2 ...]
[--shards N] [--scheduler local:W | tcp://HOST:PORT]`` and ``hvsnap decide [--report DIR]``.

One run prints a summary (or, with ``--json``, the result object). ``--out DIR`` also writes
``result.json`` and the event log ``events.log`` (whose SHA-256 is ``event_log_sha256``).
With ``--sweep``, the scenario runs once per combination of values and seed, on a process
pool, or on the Dask cluster at ``--scheduler``; the results go to ``DIR/campaign.json``.
``--report DIR`` samples the runs' time series and writes the HTML report (``reports``)
beside the result it was made from. ``--shards N`` splits the fleet into N blocks of hosts
run as parallel tasks and prints their merged result (:mod:`simulator.campaigns.shards`);
``events-K.log`` is then shard K's event log. ``decide`` runs the export-strategy decision campaign
(:mod:`simulator.campaigns.decision`) and prints its recommendation per regime.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import click
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from reports import terminal
from simulator.campaigns import decision
from simulator.campaigns.run import Simulation
from simulator.campaigns.scenario import Scenario, Shard, seconds
from simulator.campaigns.shards import run_sharded
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


class _RunsBar:
    """Runs finished out of all runs of a sweep, on stderr when it is a terminal."""

    def __init__(self, console: Console, what: str) -> None:
        self.progress: Progress | None = None
        self.task: Any = None
        if console.is_terminal:
            self.progress = Progress(
                TextColumn(what),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )

    def __enter__(self) -> _RunsBar:
        if self.progress is not None:
            self.progress.start()
        return self

    def __call__(self, finished: int, total: int) -> None:
        if self.progress is None:
            return
        if self.task is None:
            self.task = self.progress.add_task("runs", total=total)
        self.progress.update(self.task, completed=finished)

    def __exit__(self, *exc: object) -> None:
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
@click.option(
    "--shards",
    type=click.IntRange(min=1),
    default=None,
    help="Split the fleet into N shards of hosts, run as parallel tasks, and merge the results.",
)
@click.option(
    "--scheduler",
    default=None,
    help="Where a sweep's runs or the shards run: local:W (a Dask LocalCluster of W workers) or "
    "tcp://HOST:PORT (a Dask scheduler); default: a local process pool.",
)
@click.option("--workers", type=int, default=None, help="Local worker processes for a sweep or the shards.")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the HTML report (and the result it is built from) here.",
)
def simulate_command(
    scenario_file: Path,
    seed: int | None,
    as_json: bool,
    out_dir: Path | None,
    axes: tuple[str, ...],
    seeds: str | None,
    shards: int | None,
    scheduler: str | None,
    workers: int | None,
    report_dir: Path | None,
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
    if shards is not None and parsed:
        raise click.UsageError("--shards runs one campaign; it does not combine with --sweep")
    if shards is not None:
        try:
            Shard.split(scenario.fleet, shards)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--shards") from err
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    if shards is not None:
        _sharded(scenario, scenario_file, seed, shards, scheduler, workers, as_json, out_dir, report_dir)
        return
    if parsed:
        seed_list = [int(s) for s in seeds.split(",")] if seeds else [seed if seed is not None else scenario.seed]
        with executor_for(scheduler, workers) as pool, _RunsBar(Console(stderr=True), "sweeping") as runs_bar:
            results = sweep(scenario, parsed, seed_list, pool, series=report_dir is not None, done=runs_bar)
        if out_dir is not None:
            (out_dir / "campaign.json").write_text(json.dumps(results, indent=2))
        page = _files().write_sweep(report_dir, results) if report_dir is not None else None
        if as_json:
            click.echo(json.dumps(table(results), indent=2))
        else:
            Console().print(terminal.sweep_table(results))
        _written(page)
        return
    console = Console(stderr=True)
    bar = _Bar(console, console.is_terminal)
    keep = out_dir is not None or report_dir is not None
    sim = Simulation(scenario, seed, keep_log=keep, series=report_dir is not None)
    try:
        result = sim.run(bar)
    finally:
        bar.close()
    for folder in (d for d in (out_dir, report_dir) if d is not None):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "result.json").write_text(json.dumps(result, indent=2))
        (folder / "events.log").write_text("".join(sim.log.lines or []))
    page = _files().write_simulation(report_dir, result, str(scenario_file)) if report_dir is not None else None
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        Console(highlight=False).print(terminal.summary(result))
    _written(page)


def _refuse(message: str) -> NoReturn:
    """A usage error as one line on stderr, exit 2 (no usage block, no traceback)."""
    click.echo(f"hvsnap simulate: {message}", err=True)
    raise SystemExit(2)


def _sharded(
    scenario: Scenario,
    scenario_file: Path,
    seed: int | None,
    shards: int,
    scheduler: str | None,
    workers: int | None,
    as_json: bool,
    out_dir: Path | None,
    report_dir: Path | None,
) -> None:
    """``simulate --shards N``: the shards on the process pool or Dask, one merged result."""
    keep = out_dir is not None or report_dir is not None
    try:
        with executor_for(scheduler, workers) as pool, _RunsBar(Console(stderr=True), "shards") as bar:
            result, outputs = run_sharded(scenario, seed, shards, pool, report_dir is not None, keep, done=bar)
    except (OSError, TimeoutError, RuntimeError, ValueError) as err:  # no scheduler there, or a bad local:W
        raise click.ClickException(f"the sharded campaign could not run: {err}") from err
    for folder in (d for d in (out_dir, report_dir) if d is not None):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "result.json").write_text(json.dumps(result, indent=2))
        for o in outputs:  # shard K's own log, whose SHA-256 is shards[K].event_log_sha256
            (folder / f"events-{o.shard.index}.log").write_text("".join(o.log_lines or []))
    page = _files().write_simulation(report_dir, result, str(scenario_file)) if report_dir is not None else None
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        Console(highlight=False).print(terminal.summary(result))
        peak = max(o.peak_rss_mib for o in outputs)
        click.echo(f"{shards} shards: {result['wall_seconds']:.1f} s wall, peak {peak:,.0f} MiB per worker", err=True)
    _written(page)


def _files() -> ModuleType:
    """:mod:`reports.files`, imported when a report is asked for (it loads matplotlib)."""
    from reports import files

    return files


def _written(page: Path | None) -> None:
    if page is not None:
        click.echo(f"report: {page}", err=True)


@click.command("decide", epilog="\b\nExample:\n  hvsnap decide --report reports/out/decision")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the decision report (and decision.json) here.",
)
@click.option(
    "--seeds", default="1,2", show_default=True, help="Comma-separated seeds: every regime runs once per seed."
)
@click.option("--duration", default="1d", show_default=True, help="Simulated time per run (s, m, h, d).")
@click.option("--scheduler", default=None, help="Dask scheduler address (default: local processes).")
@click.option("--workers", type=int, default=None, help="Local worker processes.")
@click.option("--json", "as_json", is_flag=True, help="Print decision.json instead of the summary.")
def decide_command(
    report_dir: Path | None, seeds: str, duration: str, scheduler: str | None, workers: int | None, as_json: bool
) -> None:
    """When to export the VM: sweep the regimes for on-stop, on-snapshot and none, and recommend."""
    try:
        seed_list = [int(s) for s in seeds.split(",") if s.strip()]
    except ValueError as err:
        raise click.BadParameter(f"comma-separated integers, not {seeds!r}", param_hint="--seeds") from err
    try:
        duration_s = seconds(duration)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--duration") from err
    if not seed_list:
        raise click.BadParameter("give at least one seed", param_hint="--seeds")
    if duration_s <= 0:
        raise click.BadParameter("a run needs a positive duration", param_hint="--duration")
    try:
        with executor_for(scheduler, workers) as pool, _RunsBar(Console(stderr=True), "deciding") as runs_bar:
            data = decision.decide(pool, seed_list, duration_s, done=runs_bar)
    except (OSError, TimeoutError, RuntimeError) as err:  # no scheduler there, or Dask not installed
        raise click.ClickException(f"the decision campaign could not run: {err}") from err
    page = _files().write_decision(report_dir, data) if report_dir is not None else None
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        Console(highlight=False).print(terminal.decision_summary(data))
    _written(page)
