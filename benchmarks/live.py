"""Live-driver benchmark: per-command overhead through PowerShellHyperVDriver and the
emulated host, beside a bare pypsrp call measured in the same run, and the pool-open cost.

Run: ``.venv/bin/python benchmarks/live.py`` (``--quick`` for a smoke run, ``--in-process``
to serve the emulator from a thread of this process instead of ``hvsnap emulate-host`` in
a subprocess). Traffic is NTLM with WinRM message encryption over HTTP on 127.0.0.1.

Figures (medians over ``--runs`` timed calls after a warm-up):

- ``bare``: one pypsrp ``PowerShell`` with one trivial cmdlet (``Get-Module -Name none``)
  on an open pool: 2 HTTP requests, nothing of the driver;
- ``bare, 6 cmdlets``: six such statements in one pipeline, sent by plain pypsrp and by
  the driver's session (``live_driver.session.lean`` commands): what each cmdlet costs
  on the wire, and what the session saves;
- ``pool open``: WSMan + RunspacePool open (NTLM handshake, Create, Receive) and close;
- per driver command: ``driver.execute`` wall time, the invocations (PowerShell pipelines,
  i.e. Command+Receive round trips), cmdlets and objects returned it needed.

Target (issue 6): a median of 10 ms or less per command through the driver and the
endpoint. Ratios are to the bare call. Results are printed and written to
``reports/out/bench-live.json``.
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
from live_driver.commands import Invocation, cmd
from live_driver.driver import PowerShellHyperVDriver
from live_driver.session import Session, pipeline

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


def timed(fn: Callable[[], Any], runs: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def med(samples: list[float]) -> float:
    return statistics.median(samples)


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
        with RunspacePool(wsman) as pool:

            def bare() -> None:
                PowerShell(pool).add_cmdlet("Get-Module").add_parameter("Name", "none").invoke()

            def bare_six() -> None:
                ps = PowerShell(pool)
                for i in range(6):
                    ps.add_cmdlet("Get-Module").add_parameter("Name", "none").add_parameter("ErrorAction", "Stop")
                    if i < 5:
                        ps.add_statement()
                ps.invoke()

            bare_ms = timed(bare, runs * 2)
            bare_six_ms = timed(bare_six, runs)
            six = Invocation(tuple((cmd("Get-Module", Name="none"),) for _ in range(6)))
            lean_six_ms = timed(lambda: pipeline(pool, six).invoke(), runs)

        def open_close() -> None:
            session = Session(config["host"], config["port"], auth="ntlm", ssl=False, username=USER, password=PASSWORD)
            session.pool()
            session.close()

        open_ms = timed(open_close, max(5, runs // 3), warmup=1)

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
            return lambda: [driver.execute(c) for c in commands] and None

        n = iter(range(10**9))
        scenarios: dict[str, tuple[Callable[[], None], int]] = {}

        def snapshot_pair() -> None:
            name = SnapshotRef(f"s{next(n)}")
            driver.execute(CreateVMSnapshot(vm, name))
            driver.execute(DeleteVMSnapshot(vm, name))

        driver.execute(CreateVMSnapshot(vm, SnapshotRef("base"), memory=True))
        scenarios["GetInventory"] = (cycle([GetInventory(VMRef("*"))]), 1)
        scenarios["PowerOffVM+StartVM"] = (cycle([PowerOffVM(vm), StartVM(vm)]), 2)
        scenarios["CreateVMSnapshot+DeleteVMSnapshot"] = (snapshot_pair, 2)
        scenarios["RevertToVMSnapshot"] = (cycle([RevertToVMSnapshot(vm, SnapshotRef("base"))]), 1)

        results: dict[str, Any] = {
            "bare_pypsrp_call_ms": med(bare_ms),
            "bare_six_cmdlets_ms": med(bare_six_ms),
            "session_six_cmdlets_ms": med(lean_six_ms),
            "ms_per_extra_cmdlet_bare": (med(bare_six_ms) - med(bare_ms)) / 5,
            "ms_per_extra_cmdlet_session": (med(lean_six_ms) - med(bare_ms)) / 5,
            "pool_open_close_ms": med(open_ms),
            "pool_open_ratio_to_bare": med(open_ms) / med(bare_ms),
            "emulator": "in-process thread" if args.in_process else "subprocess",
            "commands": {},
        }
        for name, (fn, commands) in scenarios.items():
            counter["n"] = counter["cmdlets"] = counter["objects"] = 0
            samples = timed(fn, runs)
            invocations = counter["n"] / (runs + 3) / commands
            cmdlets = counter["cmdlets"] / (runs + 3) / commands
            per_command = med(samples) / commands
            results["commands"][name] = {
                "median_ms_per_command": per_command,
                "invocations_per_command": invocations,
                "cmdlets_per_command": cmdlets,
                "objects_per_command": counter["objects"] / (runs + 3) / commands,
                "median_ms_per_invocation": per_command / invocations,
                "median_ms_per_cmdlet": per_command / cmdlets,
                "ratio_to_bare": per_command / med(bare_ms),
            }
        driver.close()

    per_command = med([c["median_ms_per_command"] for c in results["commands"].values()])
    per_invocation = med([c["median_ms_per_invocation"] for c in results["commands"].values()])
    results["median_ms_per_command"] = per_command
    results["median_ms_per_invocation"] = per_invocation
    results["target_met"] = per_command <= 10.0
    print(f"bare pypsrp call (Get-Module):     {results['bare_pypsrp_call_ms']:.2f} ms")
    print(
        f"6 cmdlets, plain pypsrp / session: {results['bare_six_cmdlets_ms']:.2f} / "
        f"{results['session_six_cmdlets_ms']:.2f} ms ({results['ms_per_extra_cmdlet_bare']:.2f} / "
        f"{results['ms_per_extra_cmdlet_session']:.2f} ms per extra cmdlet)"
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
        f"median per command through the driver: {per_command:.2f} ms, per invocation {per_invocation:.2f} ms "
        f"(target <= 10 ms per command: {'met' if results['target_met'] else 'NOT met'})"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
