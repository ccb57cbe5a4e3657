"""Campaign results for a terminal: rich renderables in human units, 80 columns wide.

:func:`summary` is one run (``hvsnap simulate``), :func:`sweep_table` one row per run of a
sweep; neither prints, the CLI does. Tables wrap their cells (never truncate with "...")
so they fit the console they are printed on.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from reports import units
from reports.metrics import BY_KEY, lost, values

Result = dict[str, Any]
#: sweep columns besides the swept parameters and the seed, with their short headers
SWEEP_COLUMNS = {
    "create_p50": "create p50",
    "stop_p95": "stop p95",
    "stops_waited": "stops waited",
    "exported_per_vm_day": "exported /VM-day",
    "at_risk_per_vm": "at risk /VM",
    "lost": "lost",
}


def _table(*headers: str, numbers: bool = True) -> Table:
    """A borderless table; the first column (every column unless ``numbers``) left-aligned."""
    t = Table(box=None, pad_edge=False, header_style="bold", expand=False, show_header=any(headers))
    for i, h in enumerate(headers):
        t.add_column(h, justify="right" if numbers and i else "left", overflow="fold")
    return t


def summary(r: Result) -> RenderableType:
    """One run: what ran, latencies, bytes, risk, policies, faults, failures, invariants."""
    parts: list[RenderableType] = [
        Text.assemble(
            (r["scenario"], "bold"),
            f"  seed {r['seed']}  strategy {r['strategy']}  merges {r.get('merge_mode', 'live')}\n",
            f"{units.duration(r['simulated_seconds'])} simulated in {units.duration(r['wall_seconds'])} wall, "
            f"{units.number(r['workflows'])} workflows",
        )
    ]
    ops = _table("operation", "count", "p50", "p95", "p99", "mean")
    for op, s in r["operations"].items():
        if s["count"]:
            ops.add_row(
                op,
                units.number(s["count"]),
                *(units.duration(s[k]) for k in ("p50", "p95", "p99", "mean")),
            )
    parts.append(ops)
    b, risk = r["bytes"], r["data_at_risk"]
    facts = _table("", "", numbers=False)
    facts.add_row("exported", units.size(b["exported"]))
    facts.add_row("merged", units.size(b["merged"]))
    if b.get("deferred_unmerged"):
        facts.add_row("awaiting a deferred merge", units.size(b["deferred_unmerged"]))
    w = r.get("stop_waits") or {}
    if w.get("stops"):
        facts.add_row(
            "stops that waited",
            f"{w['waited']} of {w['stops']} ({units.share(w['waited'], w['stops'])}), {units.duration(w['wait_s'])}",
        )
    facts.add_row(
        "at risk at the end",
        f"{risk['snapshots']} snapshots of {risk['vms']} VMs ({units.size(risk['bytes'])})",
    )
    facts.add_row("snapshots lost", units.number(lost(r)))
    if "policies" in r:
        p = r["policies"]
        facts.add_row(
            "policy snapshots",
            f"{units.number(p['snapshots'])} taken, {units.number(p['pruned'])} pruned, "
            f"{units.number(p['stored_scheduled'])} kept ({p['policies']} policies)",
        )
        if p.get("missed_runs") or p.get("refused"):
            facts.add_row("policy runs missed", f"{p['missed_runs']} missed, {p['refused']} refused")
    if r["faults_fired"]:
        facts.add_row("faults", "; ".join(_fault(f) for f in r["faults_fired"]))
    sync = r.get("sync") or {}
    if sync.get("runs"):
        facts.add_row("sync", f"{sync['runs']} runs settled {sync['settled']} snapshots, {sync['vms_settled']} VMs")
    fails = r["failures"]
    facts.add_row("failures", ", ".join(f"{k} {v}" for k, v in fails.items()) if fails else "none")
    inv = r["invariants"]
    facts.add_row("invariants", "ok" if inv["ok"] else f"{inv['count']} violated: {'; '.join(inv['violations'][:3])}")
    parts.append(facts)
    parts.append(Text(f"event log  {r['event_log_sha256']}"))
    return Group(*parts)


def _fault(line: str) -> str:
    at, _, rest = line.partition(" ")
    try:
        return f"{units.duration(float(at))} {rest}"
    except ValueError:
        return line


def sweep_table(results: list[Result]) -> Table:
    """One row per run: the swept values, the seed and the headline metrics."""
    keys = list(results[0]["point"]) if results else []
    t = Table(box=None, pad_edge=False, header_style="bold")
    for k in (*keys, "seed"):  # the parameters never wrap: the metrics' headers do
        t.add_column(k, no_wrap=True)
    for header in SWEEP_COLUMNS.values():
        t.add_column(header, justify="right", overflow="fold")
    clustered = bool(results) and all("cluster" in r for r in results)
    for header in ("failovers", "downtime") if clustered else ():  # a failover cluster's outage figures
        t.add_column(header, justify="right", overflow="fold")
    for r in results:
        v = values(r)
        cluster = r.get("cluster") or {}
        extra = (
            (units.number(cluster["failovers"]), units.duration(cluster["application_downtime_s"]["total"]))
            if clustered
            else ()
        )
        t.add_row(
            *(str(r["point"][k]) for k in keys),
            str(r["seed"]),
            *(BY_KEY[k].text(v[k]) for k in SWEEP_COLUMNS),
            *extra,
        )
    return t


def decision_summary(data: dict[str, Any]) -> RenderableType:
    """The decision campaign: the recommendation per regime, the crossover, the answers."""
    from reports import decision  # the decision module draws charts: import it only when asked

    t = _table("regime", "recommended", *(f"{s}" for s in data["strategies"]), "break-even")
    for axis, regime, scores, rec in decision.recommendations(data):
        label = (
            "base"
            if axis == "base"
            else f"{decision.LABELS.get(axis, axis).split(',')[0]} {units.number(regime[axis])}"
        )
        even = decision.break_even(scores, data["risk_weight_s"])
        t.add_row(
            label,
            rec,
            *(units.number(round(scores[s].cost, 1)) if s in scores else "-" for s in data["strategies"]),
            units.number(even) if even is not None else "-",
        )
    parts: list[RenderableType] = [
        Text(
            "cost in seconds per VM-day (export waits + risk); break-even: losses/host/year above which "
            "on-snapshot costs less",
            style="dim",
        ),
        t,
    ]
    parts.append(Text(" ".join(decision.verdict(data)), style="bold"))
    for item, question, answer in decision.answers(data):
        parts.append(Text.assemble((f"{item}: {question}", "bold"), "\n", answer))
    return Group(*parts)
