"""Charts as data, drawn to SVG with matplotlib (Agg backend, no display needed).

A :class:`Chart` holds exactly what it plots (series in display units, marks, labels), so a
test can check a plot's data without looking at pixels; :func:`svg` draws it. Drawing is
deterministic: no timestamps in the SVG, fixed element ids, text kept as text.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # after the backend is chosen

plt.rcParams.update(
    {
        "svg.fonttype": "none",  # text stays text: smaller, searchable, crisp
        "svg.hashsalt": "hvsnap",  # stable element ids, so one result draws one SVG
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
    }
)

PALETTE = ("#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#57606a", "#bf3989", "#0a7ea4")


@dataclass(frozen=True)
class Series:
    label: str
    x: list[float]
    y: list[float]
    #: ``line`` joins points, ``step`` holds a value until the next point, ``points`` draws
    #: markers only, ``bar`` draws bars at the x values
    style: str = "line"


@dataclass(frozen=True)
class Mark:
    """A vertical line at ``x`` with a short label (a percentile, a fault)."""

    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    xlabel: str
    ylabel: str
    series: list[Series]
    marks: list[Mark] = field(default_factory=list)
    logx: bool = False
    logy: bool = False
    caption: str = ""
    #: names of the x positions 0, 1, ... for a categorical axis (a swept strategy)
    xticks: list[str] = field(default_factory=list)

    def has_data(self) -> bool:
        return any(s.x for s in self.series)


def svg(chart: Chart, width: float = 7.2, height: float = 3.0) -> str:
    """The chart as an inline ``<svg>`` element (no XML prologue)."""
    fig, ax = plt.subplots(figsize=(width, height), dpi=96)
    try:
        for i, s in enumerate(chart.series):
            color = PALETTE[i % len(PALETTE)]
            if s.style == "step":
                ax.step(s.x, s.y, where="post", label=s.label, color=color, linewidth=1.4)
            elif s.style == "points":
                ax.plot(s.x, s.y, "o", label=s.label, color=color, markersize=4)
            elif s.style == "bar":
                ax.bar([str(v) for v in s.x], s.y, label=s.label, color=color)
            else:
                ax.plot(s.x, s.y, label=s.label, color=color, linewidth=1.4, marker="o" if len(s.x) < 12 else None)
        for m in chart.marks:
            ax.axvline(m.x, color="#57606a", linestyle=":", linewidth=1)
            ax.annotate(
                m.label, (m.x, 1), xycoords=("data", "axes fraction"), rotation=90, va="top", ha="right", fontsize=7
            )
        if chart.logx and _positive(chart, "x"):
            ax.set_xscale("log")
        if chart.logy and _positive(chart, "y"):
            ax.set_yscale("log")
        if chart.xticks:
            ax.set_xticks(range(len(chart.xticks)), chart.xticks)
            ax.set_xlim(-0.5, len(chart.xticks) - 0.5)
        ax.set_title(chart.title, loc="left", fontsize=10)
        ax.set_xlabel(chart.xlabel)
        ax.set_ylabel(chart.ylabel)
        if not chart.has_data():
            ax.text(0.5, 0.5, "no data in this run", transform=ax.transAxes, ha="center", va="center")
        if len(chart.series) > 1 or (chart.series and chart.series[0].label):
            ax.legend(loc="best", fontsize=8, frameon=False)
        fig.tight_layout()
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    finally:
        plt.close(fig)
    text = out.getvalue()
    return text[text.index("<svg") :]


def _positive(chart: Chart, axis: str) -> bool:
    values = [v for s in chart.series for v in (s.x if axis == "x" else s.y)]
    return bool(values) and all(isinstance(v, (int, float)) and v > 0 and math.isfinite(v) for v in values)
