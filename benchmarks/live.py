"""Live-driver benchmark: per-command overhead through PowerShellHyperVDriver and the
emulated host, beside a bare pypsrp call measured in the same run, and the pool-open cost.

Run: ``.venv/bin/python benchmarks/live.py`` (``--quick`` for a smoke run, ``--in-process``
to serve the emulator from a thread of this process instead of ``hvsnap emulate-host`` in
a subprocess). Traffic is NTLM with WinRM message encryption over HTTP on 127.0.0.1.

Figures are medians over ``--runs`` timed samples after a warm-up. Every sample of a
figure is taken right after a sample of the bare call, and its ratio is the median of those
pairs' ratios: this machine's speed drifts by 2x within a minute, and paired samples see the
same drift.

- ``bare``: one pypsrp ``PowerShell`` with one trivial cmdlet (``Get-Module -Name none``)
  on an open pool: 2 HTTP requests, nothing of the driver;
- ``6 cmdlets``: six such statements in one pipeline, sent by plain pypsrp and by the
  driver's session (``live_driver.session.lean`` commands): what each cmdlet costs on the
  wire, and what the session saves;
- ``pool open``: WSMan + RunspacePool open (NTLM handshake, Create, Receive) and close;
- per driver command: ``driver.execute`` wall time, the invocations (PowerShell pipelines,
  i.e. Command+Receive round trips), cmdlets and objects returned it needed.

Target: a median of 10 ms or less per command through the driver and the
endpoint. Results are printed and written to ``reports/out/bench-live.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

from harness.drivers import (
    Command,
    CreateVMSnapshot,
    DeleteVMSnapshot,
    DeployVM,
    DiskSpec,
    GetInventory,
    PowerOffVM,
    RevertToVMSnapshot,
    SnapshotRef,
    StartVM,
    VMRef,
)
from live_driver.driver import PowerShellHyperVDriver
from live_driver.session import Session, pipeline
from live_driver.wire import Invocation, cmd

USER, PASSWORD = "bench", "bench-pass"
OUT = Path(__file__).resolve().parent.parent / "reports" / "out" / "bench-live.json"


@contextmanager
def emulator(in_process: bool) -> Iterator[dict[str, Any]]:
    config = {"host": "127.0.0.1", "ssl": False, "auth": "ntlm", "username": USER, "password": PASSWORD}
    if in_process:
        from simulator.psrp_endpoint.endpoint import EmulatedHost

        with EmulatedHost(username=USER, password=PASSWORD) as em:
            yield {**config, "port": em.port}
        return
    cmd = [sys.executable, "-m", "harness.cli", "emulate-host", "--port", "0", "--user", USER, "--password", PASSWORD]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r":(\d+)/wsman", line)
        if not match:
            raise SystemExit(f"emulate-host did not start: {line!r}")
        yield {**config, "port": int(match.group(1))}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def paired(fn: Callable[[], Any], bare: Callable[[], Any], runs: int, warmup: int = 3) -> tuple[float, float]:
    """(median ms of ``fn``, median of its ratios to a ``bare`` call timed just before)."""
    for _ in range(warmup):
        bare()
        fn()
    samples, ratios = [], []
    for _ in range(runs):
        base = clock(bare)
        sample = clock(fn)
        samples.append(sample)
        ratios.append(sample / base)
    return statistics.median(samples), statistics.median(ratios)


def clock(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()
    runs = 10 if args.quick else args.runs

    with emulator(args.in_process) as config:
        wsman = WSMan(
            config["host"],
            port=config["port"],
            ssl=False,
            auth="ntlm",
            username=USER,
            password=PASSWORD,
            no_proxy=True,
            operation_timeout=10,
            read_timeout=20,
        )
        pool = RunspacePool(wsman)
        pool.open()

        def bare() -> None:
            PowerShell(pool).add_cmdlet("Get-Module").add_parameter("Name", "none").invoke()

        def bare_six() -> None:
            ps = PowerShell(pool)
            for i in range(6):
                ps.add_cmdlet("Get-Module").add_parameter("Name", "none").add_parameter("ErrorAction", "Stop")
                if i < 5:
                    ps.add_statement()
            ps.invoke()

        six = Invocation(tuple((cmd("Get-Module", Name="none"),) for _ in range(6)))

        def session_six() -> None:
            pipeline(pool, six).invoke()

        def open_close() -> None:
            session = Session(config["host"], config["port"], auth="ntlm", ssl=False, username=USER, password=PASSWORD)
            session.pool()
            session.close()

        bare_ms, _ = paired(bare, bare, runs)
        six_ms, six_ratio = paired(bare_six, bare, runs)
        lean_ms, lean_ratio = paired(session_six, bare, runs)
        open_ms, open_ratio = paired(open_close, bare, max(5, runs // 3), warmup=1)

        driver = PowerShellHyperVDriver(**config, merge_poll_seconds=0.01)
        vm = VMRef("i-2-7-VM")
        driver.execute(DeployVM(vm, 512, 1, (DiskSpec("vol-root", 8 * 2**30), DiskSpec("vol-data", 2**30))))
        counter = {"n": 0, "cmdlets": 0, "objects": 0}
        real_run = driver.session.run

        def counting_run(invocation: Any) -> Any:
            counter["n"] += 1
            counter["cmdlets"] += sum(len(s) for s in invocation.statements)
            result = real_run(invocation)
            counter["objects"] += len(result.output)
            return result

        driver.session.run = counting_run  # type: ignore[method-assign]

        def cycle(commands: list[Command]) -> Callable[[], None]:
            def run() -> None:
                for c in commands:
                    driver.execute(c)

            return run

        n = iter(range(10**9))

        def snapshot_pair() -> None:
            name = SnapshotRef(f"s{next(n)}")
            driver.execute(CreateVMSnapshot(vm, name))
            driver.execute(DeleteVMSnapshot(vm, name))

        driver.execute(CreateVMSnapshot(vm, SnapshotRef("base"), memory=True))
        scenarios: dict[str, tuple[Callable[[], None], int]] = {
            "GetInventory": (cycle([GetInventory(VMRef("*"))]), 1),
            "PowerOffVM+StartVM": (cycle([PowerOffVM(vm), StartVM(vm)]), 2),
            "CreateVMSnapshot+DeleteVMSnapshot": (snapshot_pair, 2),
            "RevertToVMSnapshot": (cycle([RevertToVMSnapshot(vm, SnapshotRef("base"))]), 1),
        }
        results: dict[str, Any] = {
            "bare_pypsrp_call_ms": bare_ms,
            "bare_six_cmdlets_ms": six_ms,
            "bare_six_cmdlets_ratio": six_ratio,
            "session_six_cmdlets_ms": lean_ms,
            "session_six_cmdlets_ratio": lean_ratio,
            "pool_open_close_ms": open_ms,
            "pool_open_ratio_to_bare": open_ratio,
            "emulator": "in-process thread" if args.in_process else "subprocess",
            "commands": {},
        }
        for name, (fn, commands) in scenarios.items():
            counter["n"] = counter["cmdlets"] = counter["objects"] = 0
            ms, ratio = paired(fn, bare, runs)
            calls = (runs + 3) * commands
            per_command = ms / commands
            invocations = counter["n"] / calls
            results["commands"][name] = {
                "median_ms_per_command": per_command,
                "invocations_per_command": invocations,
                "cmdlets_per_command": counter["cmdlets"] / calls,
                "objects_per_command": counter["objects"] / calls,
                "median_ms_per_invocation": per_command / invocations,
                "ratio_to_bare": ratio / commands,
            }
        pool.close()
        driver.close()

    commands = results["commands"].values()
    per_command = statistics.median(c["median_ms_per_command"] for c in commands)
    per_invocation = statistics.median(c["median_ms_per_invocation"] for c in commands)
    results["median_ms_per_command"] = per_command
    results["median_ms_per_invocation"] = per_invocation
    results["median_ratio_per_command"] = statistics.median(c["ratio_to_bare"] for c in commands)
    results["target_met"] = per_command <= 10.0
    print(f"bare pypsrp call (Get-Module):     {results['bare_pypsrp_call_ms']:.2f} ms")
    print(
        f"6 cmdlets, plain pypsrp / session: {results['bare_six_cmdlets_ms']:.2f} / "
        f"{results['session_six_cmdlets_ms']:.2f} ms ({results['bare_six_cmdlets_ratio']:.2f}x / "
        f"{results['session_six_cmdlets_ratio']:.2f}x bare)"
    )
    print(
        f"pool open+close (NTLM):            {results['pool_open_close_ms']:.2f} ms "
        f"({results['pool_open_ratio_to_bare']:.1f}x bare)"
    )
    for name, c in results["commands"].items():
        print(
            f"{name:<34} {c['median_ms_per_command']:6.2f} ms/command  {c['invocations_per_command']:.1f} inv "
            f"{c['cmdlets_per_command']:4.1f} cmdlets {c['objects_per_command']:4.1f} objects  "
            f"{c['median_ms_per_invocation']:6.2f} ms/inv  {c['ratio_to_bare']:.1f}x bare"
        )
    print(
        f"median per command through the driver: {per_command:.2f} ms "
        f"({results['median_ratio_per_command']:.1f}x bare), per invocation {per_invocation:.2f} ms "
        f"(target <= 10 ms per command: {'met' if results['target_met'] else 'NOT met'})"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
