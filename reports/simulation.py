"""The simulation report: one campaign run (``result.json``) as one HTML page.

:func:`charts` turns a result into the :class:`~reports.charts.Chart` objects the page
shows (their data is what a test checks); :func:`render` builds the page. A result made
without time series (``simulate`` without ``series=True``) still renders: the charts that
need series say so.
"""

from __future__ import annotations

from typing import Any

import yaml

from reports import units
from reports.charts import Chart, Mark, Series
from reports.metrics import lost
from reports.page import Page, cards, esc, figure, grid, lines, table

Result = dict[str, Any]
#: the operations whose latency CDF the page draws, in the spec's order
CDF_OPS = ("create", "revert", "delete", "stop", "start", "export", "import")
GiB = 2**30


def time_axis(r: Result) -> tuple[float, str]:
    """Seconds per unit of the time axis and its label: hours up to 3 days, then days."""
    return (3600.0, "simulated hours") if r["simulated_seconds"] <= 3 * 86400 else (86400.0, "simulated days")


def _t(r: Result) -> list[float]:
    scale, _ = time_axis(r)
    return [round(t / scale, 4) for t in r.get("series", {}).get("t", [])]


def _gib(values: list[int]) -> list[float]:
    return [round(v / GiB, 4) for v in values]


def _sum_hosts(per_host: dict[str, list[int]]) -> list[int]:
    columns = list(per_host.values())
    return [sum(c[i] for c in columns) for i in range(len(columns[0]))] if columns else []


def cdf_chart(r: Result, op: str) -> Chart:
    """Latency CDF of one operation, with p50, p95 and p99 marked."""
    q = r.get("latency_cdf", {}).get(op, [])
    stats = r["operations"].get(op, {})
    probs = [round(100 * i / (len(q) - 1), 4) for i in range(len(q))] if len(q) > 1 else [100.0] * len(q)
    marks = [Mark(stats[k], k) for k in ("p50", "p95", "p99") if stats.get(k) is not None]
    return Chart(
        f"cdf-{op}",
        f"{op}: latency CDF ({stats.get('count', 0)} operations)",
        "latency, simulated seconds",
        "operations finished, %",
        [Series(op, list(q), probs, "step")],
        marks,
        caption=", ".join(f"{k} {units.duration(stats[k])}" for k in ("p50", "p95", "p99") if stats.get(k) is not None),
    )


def charts(r: Result) -> list[Chart]:
    """Every chart of the simulation report, in page order."""
    out = [cdf_chart(r, op) for op in CDF_OPS if r["operations"].get(op, {}).get("count")]
    s = r.get("series") or {}
    _, tlabel = time_axis(r)
    t = _t(r)
    scale, _ = time_axis(r)
    if s:
        out.append(
            Chart(
                "chain-depth",
                "Chain depth over time (differencing levels under each VM's disk)",
                tlabel,
                "AVHDX levels",
                [
                    Series("mean over VMs", t, s["chain_depth_mean"]),
                    Series("deepest VM", t, s["chain_depth_max"], "step"),
                ],
            )
        )
    by_depth = {int(d): ms for d, ms in r.get("read_latency_ms", {}).get("by_depth", {}).items()}
    if by_depth:
        depths = sorted(by_depth)
        out.append(
            Chart(
                "read-latency",
                "Guest read latency by chain depth",
                "chain depth",
                "read latency, ms",
                [Series("read latency", [float(d) for d in depths], [by_depth[d] for d in depths])],
            )
        )
    if s:
        out.append(
            Chart(
                "bytes",
                "Bytes written by guests, merged and exported (cumulative)",
                tlabel,
                "GiB",
                [
                    Series("written", t, _gib(s["bytes_written"])),
                    Series("merged", t, _gib(s["bytes_merged"])),
                    Series("exported", t, _gib(s["bytes_exported"])),
                ],
            )
        )
        out.append(
            Chart(
                "storage",
                "Primary storage used (all hosts)",
                tlabel,
                "GiB",
                [
                    Series("used in all", t, _gib(_sum_hosts(s["storage_used"]))),
                    Series("exports kept", t, _gib(_sum_hosts(s["storage_exports"]))),
                    Series("AVHDX awaiting a deferred merge", t, _gib(_sum_hosts(s["storage_deferred"]))),
                ],
            )
        )
        out.append(
            Chart(
                "in-flight",
                "Host commands in flight, per host",
                tlabel,
                "commands",
                [Series(h, t, v, "step") for h, v in sorted(s["in_flight"].items())],
            )
        )
        out.append(
            Chart(
                "storage-queue",
                "Copies waiting for a storage channel, per host (queue)",
                tlabel,
                "copies waiting",
                [Series(h, t, v, "step") for h, v in sorted(s["storage_queue"].items())],
            )
        )
        out.append(
            Chart(
                "faults",
                "Faults (dotted lines) and what sync settled",
                tlabel,
                "snapshots / VMs",
                [
                    Series("snapshots at risk", t, s["at_risk_snapshots"], "step"),
                    Series(
                        "settled by sync",
                        [round(x["t"] / scale, 4) for x in r.get("sync_runs", [])],
                        [x["settled"] + x["vms"] for x in r.get("sync_runs", [])],
                        "points",
                    ),
                ],
                [Mark(round(float(f.split()[0]) / scale, 4), " ".join(f.split()[1:2])) for f in r["faults_fired"]],
            )
        )
        out.append(
            Chart(
                "data-at-risk",
                "Data at risk: snapshots whose only copy is the live host registration",
                tlabel,
                "GiB an export would copy",
                [Series("bytes at risk", t, _gib(s["at_risk_bytes"]), "step")],
                caption="A host or primary-storage loss at that moment takes these snapshots.",
            )
        )
        if "policy_snapshots" in s:
            out.append(
                Chart(
                    "policy",
                    "Policy schedule: snapshots taken and pruned (cumulative)",
                    tlabel,
                    "snapshots",
                    [
                        Series("taken", t, s["policy_snapshots"], "step"),
                        Series("pruned", t, s["policy_pruned"], "step"),
                    ],
                )
            )
    return out


def _reproduce(r: Result, scenario_path: str | None) -> str:
    spec = dict(r.get("scenario_spec") or {})
    path = scenario_path or f"{r['scenario']}.yaml"
    command = f"hvsnap simulate {path} --seed {r['seed']} --report DIR"
    parts = [
        f"<p>Seed <b>{esc(r['seed'])}</b>; event-log SHA-256 <code>{esc(r['event_log_sha256'])}</code> "
        f"({esc(units.number(r['events']))} events). The same scenario and seed give the same log.</p>",
        f"<p><code>{esc(command)}</code></p>",
    ]
    if spec:
        parts.append(f"<pre class=mono>{esc(yaml.safe_dump(spec, sort_keys=False))}</pre>")
    return "".join(parts)


def render(r: Result, scenario_path: str | None = None) -> str:
    """The page for one result: headline cards, operations table, charts, faults, reproduction.
    ``scenario_path``: the scenario file the reproduction line names (default: the result's
    ``scenario_file``, else ``<scenario name>.yaml``)."""
    risk = r["data_at_risk"]
    fails = sum(r["failures"].values())
    page = Page(
        f"Simulation: {r['scenario']}",
        f"strategy {r['strategy']}, merges {r.get('merge_mode', 'live')}, seed {r['seed']}; "
        f"{units.duration(r['simulated_seconds'])} simulated in {units.duration(r['wall_seconds'])}",
    )
    page.add(
        cards(
            [
                ("workflows", units.number(r["workflows"])),
                ("exported", units.size(r["bytes"]["exported"])),
                ("merged", units.size(r["bytes"]["merged"])),
                ("snapshots at risk at the end", units.number(risk["snapshots"])),
                ("snapshots lost", units.number(lost(r))),
                ("failed operations", units.number(fails)),
                ("invariants", "ok" if r["invariants"]["ok"] else f"{r['invariants']['count']} violated"),
            ]
        )
    )
    page.h2("Operations")
    rows = [
        (op, units.number(s["count"]), units.duration(s["p50"]), units.duration(s["p95"]), units.duration(s["p99"]))
        for op, s in r["operations"].items()
        if s["count"]
    ]
    page.add(table(["operation", "count", "p50", "p95", "p99"], rows))
    w = r.get("stop_waits") or {}
    if w.get("stops"):
        page.p(
            f"{w['waited']} of {w['stops']} stops ({units.share(w['waited'], w['stops'])}) took longer than a bare "
            f"power-off and unregister ({units.duration(w['bare_s'])}); "
            f"together they waited {units.duration(w['wait_s'])}."
        )
    if "policies" in r:
        pol = r["policies"]
        page.h2("Policy schedule")
        page.add(
            table(
                ["policies", "snapshots taken", "pruned", "missed runs", "stored"],
                [(pol["policies"], pol["snapshots"], pol["pruned"], pol["missed_runs"], pol["stored_scheduled"])],
            )
        )
    all_charts = charts(r)
    page.h2("Charts")
    if not r.get("series"):
        page.p("This result has no time series (run with --report to sample them): only latency plots follow.")
    page.add(grid(figure(c, small=True) for c in all_charts if c.id.startswith("cdf-")))
    for chart in all_charts:
        if not chart.id.startswith("cdf-"):
            page.add(figure(chart))
    page.h2("Faults and sync")
    if r["faults_fired"]:
        page.add(
            table(
                ["simulated s", "fault", "hit"],
                [(f.split()[0], f.split()[1], " ".join(f.split()[2:])) for f in r["faults_fired"]],
            )
        )
    else:
        page.p("No fault fired in this run.")
    for run in r.get("sync_runs", []):
        page.h3(
            f"sync at {units.duration(run['t'])} ({run['why']}): {run['settled']} snapshots, {run['vms']} VMs settled"
        )
        if run["lines"]:
            page.add(lines(run["lines"]))
    if r["failures"]:
        page.add(table(["failure", "count"], sorted(r["failures"].items())))
    if not r["invariants"]["ok"]:
        page.h3("Invariant violations")
        page.add(lines(r["invariants"]["violations"]))
    page.h2("Reproduce")
    page.add(_reproduce(r, scenario_path or r.get("scenario_file")))
    return page.html()
