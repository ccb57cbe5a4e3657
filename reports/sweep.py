"""The sweep report: a scenario run once per parameter set and seed (``campaign.json``).

One row per run (its parameter values and seed, a column per metric), a row per parameter
set with the spread across seeds (min-max), and for each swept parameter a plot of each
metric against it: one line per combination of the other parameters, through the mean
over seeds.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from reports.charts import Chart, Series
from reports.metrics import METRICS, Metric, values
from reports.page import Page, Raw, esc, figure, grid, table

Result = dict[str, Any]
#: the metrics a sweep plots against each swept parameter
PLOTTED = ("create_p50", "stop_p95", "stops_waited", "export_s_per_vm_day", "exported_per_vm_day", "at_risk_per_vm")


def axes_of(results: list[Result]) -> dict[str, list[Any]]:
    """The swept parameters and their values, in first-seen order."""
    axes: dict[str, list[Any]] = {}
    for r in results:
        for k, v in r["point"].items():
            axes.setdefault(k, [])
            if v not in axes[k]:
                axes[k].append(v)
    return axes


def _key(point: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(point.items()))


def spread(results: list[Result]) -> list[dict[str, Any]]:
    """Per parameter set: the seeds and, per metric, mean, min and max across them."""
    groups: dict[tuple[tuple[str, Any], ...], list[Result]] = defaultdict(list)
    for r in results:
        groups[_key(r["point"])].append(r)
    out = []
    for key, runs in groups.items():
        per: dict[str, dict[str, float | None]] = {}
        for m in METRICS:
            vals = [v for v in (m.read(r) for r in runs) if v is not None]
            per[m.key] = (
                {"mean": sum(vals) / len(vals), "min": min(vals), "max": max(vals)}
                if vals
                else {"mean": None, "min": None, "max": None}
            )
        out.append({"point": dict(key), "seeds": [r["seed"] for r in runs], "metrics": per})
    return out


def _numeric(vals: list[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals)


def charts(results: list[Result]) -> list[Chart]:
    """For each swept parameter and plotted metric: the metric's mean over seeds against it."""
    axes = axes_of(results)
    groups = spread(results)
    out = []
    for axis, axis_values in axes.items():
        numeric = _numeric(axis_values)
        xs = sorted(axis_values) if numeric else axis_values
        others = [a for a in axes if a != axis]
        for key in PLOTTED:
            m = _metric(key)
            scale, unit = (2**30, "GiB") if m.unit == "bytes" else (1, {"s": "s", "pct": "%"}.get(m.unit, m.unit))
            lines: dict[str, dict[Any, float]] = defaultdict(dict)
            for g in groups:
                label = ", ".join(f"{a}={g['point'][a]}" for a in others) or m.label
                mean = g["metrics"][key]["mean"]
                if mean is not None:
                    lines[label][g["point"][axis]] = mean
            series = []
            for label, pts in lines.items():
                present = [x for x in xs if x in pts]
                xv = [float(x) if numeric else float(xs.index(x)) for x in present]
                series.append(
                    Series(label, xv, [round(pts[x] / scale, 6) for x in present], "line" if numeric else "points")
                )
            out.append(
                Chart(
                    f"sweep-{axis}-{key}",
                    f"{m.label} against {axis}",
                    axis,
                    f"{m.label}, {unit}",
                    series,
                    logx=numeric and len(xs) > 2 and min(xs) > 0 and max(xs) / min(xs) >= 20,
                    xticks=[] if numeric else [str(x) for x in xs],
                )
            )
    return out


def _metric(key: str) -> Metric:
    return next(m for m in METRICS if m.key == key)


def render(results: list[Result], links: dict[int, str] | None = None, title: str = "") -> str:
    """The comparison page; ``links`` maps a run's index to its own report page."""
    axes = axes_of(results)
    name = results[0]["scenario"] if results else "sweep"
    page = Page(
        title or f"Sweep: {name}",
        f"{len(results)} runs: " + "; ".join(f"{k} = {', '.join(map(str, v))}" for k, v in axes.items()),
    )
    page.h2("Spread across seeds (min - max)")
    rows = []
    for g in spread(results):
        cells = [", ".join(f"{k}={v}" for k, v in g["point"].items()), ",".join(map(str, g["seeds"]))]
        for m in METRICS:
            s = g["metrics"][m.key]
            cells.append(m.text(s["mean"]) if s["min"] == s["max"] else f"{m.text(s['min'])} - {m.text(s['max'])}")
        rows.append(cells)
    page.add(table(["parameters", "seeds", *(m.label for m in METRICS)], rows, text_cols=2))
    page.h2("Every run")
    run_rows = []
    for i, r in enumerate(results):
        v = values(r)
        label: object = ", ".join(f"{k}={val}" for k, val in r["point"].items())
        if links and i in links:
            label = Raw(f'<a href="{esc(links[i])}">{esc(label)}</a>')
        run_rows.append([label, r["seed"], *(m.text(v[m.key]) for m in METRICS), r["event_log_sha256"][:12]])
    page.add(table(["parameters", "seed", *(m.label for m in METRICS), "event log"], run_rows, text_cols=2))
    page.h2("Metrics against each swept parameter")
    page.add(grid(figure(c, small=True) for c in charts(results)))
    return page.html()
