"""Guest benchmark: SSH into a simulated guest beside a bare asyncssh echo server, in the
same run, and 50 guests up at once.

Run: ``.venv/bin/python benchmarks/guests.py`` (``--quick`` for a smoke run).

Both servers run in this process on the guests' own event loop thread (the simulated one
is a real :class:`~simulator.guests.network.GuestNetwork` on a simulated host; the bare one
is ``asyncssh.create_server`` whose sessions echo their command and exit), so the client
(paramiko, as CloudStack's tests use it, with TCP_NODELAY) and the machine are the same.
Samples alternate guest / bare; a figure's ratio is the median of the paired ratios.

- ``connect``: TCP connect, key exchange, password login, close;
- ``command``: one ``exec_command`` round trip on an open connection (``echo x`` on the
  bare server; ``echo x > f && cat f`` in the guest: a write and a read of the disk chain);
- ``50 guests``: wall time to deploy 50 running VMs with their servers, one command in
  each, the process's resident memory growth, and CPU seconds used.

Target: the guest's round trips within 2x the bare server's; 50 guests within
the 2-core budget. Results are printed and written to ``reports/out/bench-guests.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import socket
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncssh
import paramiko

from harness.drivers import DeployVM, DiskSpec, VMRef
from simulator.driver import SimulatedHyperVDriver
from simulator.guests.network import GuestConfig, _Loop

OUT = Path("reports/out/bench-guests.json")


def connect(address: str, port: int, password: str) -> paramiko.SSHClient:
    sock = socket.create_connection((address, port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(address, port, "root", password, sock=sock, look_for_keys=False, allow_agent=False, timeout=10)
    return client


def command(client: paramiko.SSHClient, line: str) -> str:
    _, out, _ = client.exec_command(line, timeout=10)
    text = out.read().decode()
    out.channel.recv_exit_status()
    return text


async def _bare_server(address: str) -> asyncssh.SSHAcceptor:
    class Server(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, password: str) -> bool:
            return password == "password"

    def echo(process: asyncssh.SSHServerProcess[str]) -> None:
        process.stdout.write((process.command or "").removeprefix("echo ") + "\n")
        process.exit(0)

    key = asyncssh.generate_private_key("ssh-ed25519")
    return await asyncssh.create_server(
        Server, address, 0, server_host_keys=[key], process_factory=echo, encoding="utf-8"
    )


def paired(runs: int, guest: Callable[[], Any], bare: Callable[[], Any]) -> dict[str, float]:
    g_times, b_times, ratios = [], [], []
    for _ in range(3):  # warm-up
        guest()
        bare()
    for _ in range(runs):
        t0 = time.perf_counter()
        bare()
        t1 = time.perf_counter()
        guest()
        t2 = time.perf_counter()
        b_times.append(t1 - t0)
        g_times.append(t2 - t1)
        ratios.append((t2 - t1) / (t1 - t0))
    return {
        "guest_ms": statistics.median(g_times) * 1000,
        "bare_ms": statistics.median(b_times) * 1000,
        "ratio": statistics.median(ratios),
    }


def many(n: int) -> dict[str, float]:
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    driver = SimulatedHyperVDriver(guests=GuestConfig(port=0, fallback_port=0), guest_range="127.93.0.0/24")
    try:
        for i in range(n):
            driver.execute(DeployVM(VMRef(f"i-2-{i}-VM"), 512, 1, (DiskSpec(f"root-{i}", 2**30),)))
        up = time.perf_counter() - t0
        clients = []
        for i in range(n):
            endpoint = driver.guests.endpoint(f"i-2-{i}-VM")
            assert endpoint is not None
            clients.append(connect(*endpoint, "password"))
        for i, c in enumerate(clients):
            if command(c, f"echo {i} > f && cat f") != f"{i}\n":
                raise RuntimeError(f"guest {i} answered wrong")
        total = time.perf_counter() - t0
        running = len(driver.guests.running())
        for c in clients:
            c.close()
    finally:
        driver.close()
    return {
        "guests": float(running),
        "deploy_and_listen_s": up,
        "all_logged_in_and_answered_s": total,
        "cpu_s": time.process_time() - cpu0,
        "rss_growth_mib": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few samples, 10 guests")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    runs, n = (8, 10) if args.quick else (args.runs, 50)

    driver = SimulatedHyperVDriver(guests=GuestConfig(port=0, fallback_port=0), guest_range="127.92.0.0/24")
    loop = _Loop.get()
    bare = asyncio.run_coroutine_threadsafe(_bare_server("127.92.1.1"), loop.loop).result(10)
    try:
        driver.execute(DeployVM(VMRef("i-2-1-VM"), 512, 1, (DiskSpec("root", 2**30),)))
        endpoint = driver.guests.endpoint("i-2-1-VM")
        assert endpoint is not None
        bare_at = ("127.92.1.1", bare.get_port())
        results: dict[str, Any] = {
            "connect": paired(runs, lambda: connect(*endpoint, "password").close(),
                              lambda: connect(*bare_at, "password").close()),
        }  # fmt: skip
        g, b = connect(*endpoint, "password"), connect(*bare_at, "password")
        results["command"] = paired(runs * 5, lambda: command(g, "echo x > f && cat f"), lambda: command(b, "echo x"))
        g.close()
        b.close()
    finally:
        bare.close()
        driver.close()
    results[f"{n} guests"] = many(n)
    for name, figures in results.items():
        print(f"{name:>12}: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
