"""CLI benchmark: what one ``hvsnap`` command costs alone and beside a server.

Run: ``.venv/bin/python benchmarks/cli.py`` (``--quick`` for a smoke run). On a temporary
home with one VM and a few snapshots it times, in this one process (click's runner, so the
interpreter start is not counted):

- ``snapshot tree web1`` alone: the CLI opens the home (database and simulated host) and
  hands its API requests to the API in-process;
- the same beside ``hvsnap serve`` (a separate process) on that home: the requests go
  over loopback HTTP, signed; the CLI opens only the database, for the caller's keys;
- the baseline: the same API requests (listVirtualMachines, listVMSnapshot) made straight
  on the API object of an open cloud, no CLI around them.

It also times the console script's start (``hvsnap --help`` in a fresh interpreter)
against a bare ``python -c pass``. Figures: medians in ms and ratios to the baseline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from harness.api.app import ApiApp
from harness.api.signing import sign
from harness.cli import main
from harness.service.cloud import open_cloud

ROOT = Path(__file__).resolve().parent.parent
HVSNAP = str(Path(sys.executable).parent / "hvsnap")


def median_ms(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        begun = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - begun) * 1000)
    return statistics.median(samples)


def cli_tree(home: Path) -> None:
    result = CliRunner().invoke(main, ["--home", str(home), "snapshot", "tree", "web1", "--json"])
    if result.exit_code != 0:
        raise SystemExit(result.output)


def main_bench() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    runs = 5 if parser.parse_args().quick else 30
    home = Path(tempfile.mkdtemp(prefix="hvsnap-bench-cli-"))
    runner = CliRunner()
    runner.invoke(main, ["--home", str(home), "vm", "deploy", "--name", "web1"])
    for name in ("A", "B", "C", "D"):
        runner.invoke(main, ["--home", str(home), "snapshot", "create", "web1", "--name", name])

    with open_cloud(home) as cloud:
        app, admin = ApiApp(cloud.manager), cloud.admin
        vmid = cloud.manager.list_vms(admin)[1][0]["id"]

        def raw() -> None:
            for params in ({"command": "listVirtualMachines"}, {"command": "listVMSnapshot", "virtualmachineid": vmid}):
                app.handle(sign({**params, "apikey": admin.api_key or "", "response": "json"}, admin.secret_key or ""))

        baseline = median_ms(raw, runs)
    alone = median_ms(lambda: cli_tree(home), runs)

    server = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "--home", str(home), "serve", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()
        beside = median_ms(lambda: cli_tree(home), runs)
    finally:
        server.terminate()
        server.wait(30)

    start = median_ms(lambda: subprocess.run([HVSNAP, "--help"], capture_output=True, check=True), max(3, runs // 5))
    bare = median_ms(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), max(3, runs // 5))
    report = {
        "runs": runs,
        "api_baseline_ms": round(baseline, 2),
        "cli_alone_ms": round(alone, 2),
        "cli_beside_server_ms": round(beside, 2),
        "alone_over_baseline": round(alone / baseline, 1),
        "beside_over_baseline": round(beside / baseline, 1),
        "console_script_start_ms": round(start, 1),
        "bare_python_start_ms": round(bare, 1),
        "start_over_bare_python": round(start / bare, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main_bench()
