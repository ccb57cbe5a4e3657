"""Console benchmark: time to interactive of the VM Snapshots page with 100 snapshots,
beside a static page of the same size from the same server, in headless Chromium.

Run: ``.venv/bin/python benchmarks/console.py`` (``--quick`` for a smoke run; needs
``/usr/bin/chromium``). It seeds a cloud under a temporary home with one VM and 100 VM
snapshots (a revert every tenth snapshot, so the tree branches), then serves it in a child
process (``harness.api.server.serving`` on 127.0.0.1, port 0), whose console also carries
the baseline: the rendered VM Snapshots page saved as plain HTML (same DOM, same
stylesheet, no script), served from the same asset folder.

One browser context logs in once, then loads each page ``--loads`` times, alternating,
with a warm HTTP cache (``about:blank`` between loads, so each is a full navigation):

- the console page: from navigation start to the ``hvsnap:page-ready`` performance mark
  (the app has called the API, drawn the list and the tree, and put them in the page);
- the static page: from navigation start to its ``load`` event.

Figures: median and p90 in ms for each, the ratio of the medians, and one cold console load
(fresh context, empty cache). Target: the console's median at most 300 ms. Results are
printed and written to ``reports/out/bench-console.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.chromium import ARGS, CHROMIUM  # noqa: E402
from tests.service.conftest import user_id  # noqa: E402

SNAPSHOTS = 100
PASSWORD = "bench-password"
TARGET_MS = 300.0
STATIC_NAME = "static-vm-snapshots.html"


def seed(home: Path, count: int) -> str:
    """One VM with ``count`` snapshots, branching every tenth; the VM's id."""
    from harness.domain.errors import CloudError
    from harness.service.cloud import open_cloud

    with open_cloud(home) as cloud:
        m, admin = cloud.manager, cloud.admin
        m.set_password(admin, user_id(m, admin), PASSWORD)
        m.set_config(admin, "vmsnapshot.max", str(count + 10))
        vm, job = m.deploy_vm(admin, "bench-vm")
        m.job_result(job)
        taken: list[str] = []
        for i in range(count):
            if i % 10 == 9:  # back to an older snapshot: the next one starts a branch
                m.job_result(m.revert_to_vm_snapshot(admin, taken[i - 5]))
                with contextlib.suppress(CloudError):  # a disk-only revert leaves it Stopped
                    m.job_result(m.start_vm(admin, vm.uuid))
            snap, job = m.create_vm_snapshot(admin, vm.uuid, f"snap-{i:03d}", None, i % 3 == 0)
            if m.job_result(job)["jobstatus"] != 1:
                raise RuntimeError(f"seeding failed at snapshot {i}")
            taken.append(snap.uuid)
        return vm.uuid


def serve_child(home: str, assets: str) -> None:
    """The child process: serve ``home`` with the console's files taken from ``assets``."""
    from harness.api.console.assets import ConsoleAssets
    from harness.api.server import serving

    with serving(home, port=0, schedule=False) as running:
        running.server.RequestHandlerClass.console = ConsoleAssets(Path(assets))  # type: ignore[attr-defined]
        print(running.endpoint, flush=True)
        sys.stdin.read()  # until the parent closes our stdin


class Server:
    def __init__(self, home: Path, assets: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(home), str(assets)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.endpoint = self.proc.stdout.readline().strip()
        if not self.endpoint.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError("the server did not start")
        self.origin = self.endpoint.removesuffix("/client/api")

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def log_in(page: Any, origin: str) -> None:
    page.goto(origin + "/console/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(".who .user")


def console_load(page: Any, url: str) -> float:
    page.goto("about:blank")
    page.goto(url)
    page.wait_for_function(
        "() => performance.getEntriesByName('hvsnap:page-ready').length > 0 && !!document.querySelector('svg.tree')"
    )
    return float(page.evaluate("performance.getEntriesByName('hvsnap:page-ready').pop().startTime"))


def static_load(page: Any, url: str) -> float:
    page.goto("about:blank")
    page.goto(url, wait_until="load")
    return float(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))


def capture_static(page: Any, url: str, folder: Path) -> int:
    """Save the rendered console page as script-free HTML next to the console's files."""
    page.goto(url)
    page.wait_for_selector("svg.tree")
    html = page.evaluate("'<!doctype html>' + document.documentElement.outerHTML")
    html = re.sub(r"<script\b[^>]*>.*?</script>", "", html, flags=re.S)
    html = re.sub(r'href="[^"]*console\.css"', 'href="console.css"', html)
    (folder / STATIC_NAME).write_text(html)
    return len(html.encode())


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "p90_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))], 1),
        "min_ms": round(ordered[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 loads each instead of 15")
    parser.add_argument("--loads", type=int, default=15)
    parser.add_argument("--serve", nargs=2, metavar=("HOME", "ASSETS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_child(*args.serve)
        return
    loads = 3 if args.quick else args.loads

    from playwright.sync_api import sync_playwright

    from harness.api.console.assets import STATIC

    with tempfile.TemporaryDirectory(prefix="hvsnap-bench-console-") as tmp:
        home, assets = Path(tmp) / "home", Path(tmp) / "assets"
        t = time.perf_counter()
        vm = seed(home, SNAPSHOTS)
        seeded = time.perf_counter() - t
        shutil.copytree(STATIC, assets)
        server = Server(home, assets)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
                context = browser.new_context(viewport={"width": 1360, "height": 860})
                page = context.new_page()
                log_in(page, server.origin)
                console_url = f"{server.origin}/console/#/instances/{vm}/snapshots"
                size = capture_static(page, console_url, assets)
                server.stop()  # restart so the baseline is one of the console's own files
                server = Server(home, assets)
                log_in(page, server.origin)
                console_url = f"{server.origin}/console/#/instances/{vm}/snapshots"
                digest = page.evaluate("document.querySelector('script[type=module]').src").rsplit("/", 2)[-2]
                static_url = f"{server.origin}/console/assets/{digest}/{STATIC_NAME}"
                console_load(page, console_url), static_load(page, static_url)  # warm the cache
                console_ms, static_ms = [], []
                for _ in range(loads):
                    console_ms.append(console_load(page, console_url))
                    static_ms.append(static_load(page, static_url))
                cold_context = browser.new_context()
                cold = cold_context.new_page()
                log_in(cold, server.origin)
                cold_ms = console_load(cold, console_url)
                browser.close()
        finally:
            server.stop()
    c, s = summary(console_ms), summary(static_ms)
    report = {
        "snapshots": SNAPSHOTS,
        "loads": loads,
        "page_bytes": size,
        "seed_s": round(seeded, 2),
        "console": c,
        "static": s,
        "console_cold_ms": round(cold_ms, 1),
        "ratio_console_to_static": round(c["median_ms"] / s["median_ms"], 2) if s["median_ms"] else None,
        "target_ms": TARGET_MS,
        "meets_target": c["median_ms"] <= TARGET_MS,
    }
    out = ROOT / "reports" / "out" / "bench-console.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"VM Snapshots page, {SNAPSHOTS} snapshots, {size:,} bytes of HTML, {loads} warm loads each:")
    print(f"  console (API calls + list + tree): median {c['median_ms']} ms, p90 {c['p90_ms']} ms")
    print(f"  static page of the same size:      median {s['median_ms']} ms, p90 {s['p90_ms']} ms")
    print(f"  ratio console / static: {report['ratio_console_to_static']}x; cold console load {cold_ms:.0f} ms")
    print(f"  target <= {TARGET_MS:.0f} ms: {'met' if report['meets_target'] else 'NOT met'}")


if __name__ == "__main__":
    main()
