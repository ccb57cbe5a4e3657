"""The decision report: when to export the VM (spec, "When to export the VM").

Input: ``decision.json`` (:func:`simulator.campaigns.decision.decide`). The report answers
each pro, con and open question of the spec's section with a measured number and a
sentence, scores every regime, recommends a strategy per regime, and charts where the
recommendation crosses over.

The score of a strategy in a regime (lower is better), per VM-day, mean over seeds::

    cost = export_wait_s + risk_weight_s x (lost_on_stop + losses_per_year / 365 x at_risk)

``export_wait_s``: seconds operations spent waiting on exports (stops under ``on-stop``,
snapshot changes under ``on-snapshot``); ``lost_on_stop``: snapshots a stop lost (only
``none`` loses them); ``at_risk``: snapshots whose only copy is the live registration,
averaged over the run, which an unplanned host or primary-storage loss would take;
``risk_weight_s``: what one lost snapshot is worth in seconds of waiting (the campaign's
``risk_weight_s``, 1 h by default).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from reports import units
from reports.charts import Chart, Mark, Series
from reports.metrics import at_risk_per_vm, busy_s, op, stop_wait_share, vm_days
from reports.page import Page, esc, figure, grid, table

Data = dict[str, Any]
LABELS = {
    "vm_gib": "VM size, GiB",
    "snapshots_per_day": "snapshots per VM per day",
    "stops_per_day": "stops per VM per day",
    "export_mbps": "export bandwidth, MB/s",
    "vms_per_host": "VMs per host",
    "losses_per_year": "host/storage losses per host per year",
}
SHORT = {
    "vm_gib": "VM GiB",
    "snapshots_per_day": "snapshots/day",
    "stops_per_day": "stops/day",
    "export_mbps": "export MB/s",
    "vms_per_host": "VMs/host",
    "losses_per_year": "losses/year",
}
#: the axis whose crossover the headline chart shows
HEADLINE_AXIS = "losses_per_year"


@dataclass(frozen=True)
class Score:
    strategy: str
    wait_s: float  # per VM-day
    lost_on_stop: float  # per VM-day
    at_risk: float  # snapshots per VM, time mean
    expected_loss: float  # snapshots per VM-day
    cost: float
    seeds: tuple[int, ...]


def _key(regime: dict[str, float], analytic: list[str]) -> tuple[tuple[str, float], ...]:
    return tuple(sorted((k, v) for k, v in regime.items() if k not in analytic))


def runs_by_regime(data: Data) -> dict[tuple[tuple[str, float], ...], dict[str, list[Data]]]:
    """Simulated regime -> strategy -> its runs' results (one per seed)."""
    out: dict[tuple[tuple[str, float], ...], dict[str, list[Data]]] = defaultdict(lambda: defaultdict(list))
    for run in data["runs"]:
        out[_key(run["regime"], data["analytic"])][run["strategy"]].append(run)
    return out


def score(runs: list[Data], losses_per_year: float, risk_weight_s: float) -> Score:
    """A strategy's score in a regime from its runs (module doc)."""
    waits, lost, risk = [], [], []
    for run in runs:
        r = run["result"]
        waits.append(busy_s(r, "export") / vm_days(r))
        risk_now = r["data_at_risk"]
        lost.append(risk_now.get("lost_total", risk_now["lost_snapshots"]) / vm_days(r))
        risk.append(at_risk_per_vm(r))
    n = len(runs)
    wait, lost_on_stop, at_risk = sum(waits) / n, sum(lost) / n, sum(risk) / n
    expected = lost_on_stop + losses_per_year / 365 * at_risk
    return Score(
        runs[0]["strategy"],
        wait,
        lost_on_stop,
        at_risk,
        expected,
        wait + risk_weight_s * expected,
        tuple(run["seed"] for run in runs),
    )


def scored_regimes(data: Data) -> list[tuple[str, dict[str, float], dict[str, Score]]]:
    """``(axis, regime, strategy -> score)`` for the base and every axis value."""
    by_regime = runs_by_regime(data)
    base, weight = data["base"], data["risk_weight_s"]
    out = []
    points: list[tuple[str, dict[str, float]]] = [("base", dict(base))]
    for axis, values in data["axes"].items():
        points += [(axis, {**base, axis: v}) for v in values if v != base[axis]]
    for axis, regime in points:
        runs = by_regime.get(_key(regime, data["analytic"]))
        if not runs:
            continue
        scores = {s: score(rs, regime["losses_per_year"], weight) for s, rs in runs.items() if rs}
        out.append((axis, regime, scores))
    return out


def recommend(scores: dict[str, Score]) -> str:
    """The strategy with the lowest cost (ties go to the spec's default, ``on-stop``)."""
    order = {"on-stop": 0, "on-snapshot": 1, "none": 2}
    return min(scores.values(), key=lambda s: (round(s.cost, 9), order.get(s.strategy, 9))).strategy


def axis_curve(data: Data, axis: str) -> list[tuple[float, dict[str, Score]]]:
    """The scores along one axis, the base value included, sorted by the axis value."""
    curve = [(regime[axis], scores) for a, regime, scores in scored_regimes(data) if a in (axis, "base")]
    return sorted(curve, key=lambda c: c[0])


def crossover(data: Data, axis: str, a: str = "on-stop", b: str = "on-snapshot") -> float | None:
    """Where ``cost(a) - cost(b)`` changes sign along ``axis`` (interpolated linearly
    between the two swept values around it), or None when one strategy wins over the
    whole swept range."""
    curve = [(x, s[a].cost - s[b].cost) for x, s in axis_curve(data, axis) if a in s and b in s]
    for (x0, d0), (x1, d1) in itertools.pairwise(curve):
        if d0 == 0:
            return x0
        if (d0 < 0) != (d1 < 0):
            return round(x0 + (x1 - x0) * d0 / (d0 - d1), 4)
    return None


def break_even(scores: dict[str, Score], risk_weight_s: float) -> float | None:
    """The loss rate (per host per year) above which ``on-snapshot`` costs less than
    ``on-stop`` in a regime: the extra export wait of ``on-snapshot`` against the risk it
    removes. None when ``on-snapshot`` removes no risk (or one of them did not run)."""
    a, b = scores.get("on-stop"), scores.get("on-snapshot")
    if a is None or b is None:
        return None
    removed = risk_weight_s * (a.at_risk - b.at_risk) / 365
    if removed <= 0:
        return None
    extra = (b.wait_s - a.wait_s) + risk_weight_s * (b.lost_on_stop - a.lost_on_stop)
    return round(max(extra, 0.0) / removed, 4)


def break_even_chart(data: Data) -> Chart:
    """For each simulated axis: the break-even loss rate at each of its values, relative to
    the axis value's place in its range (one line per axis, log scale)."""
    series = []
    for axis in data["axes"]:
        if axis in data["analytic"]:
            continue
        pts: list[tuple[float, float]] = []
        for a, regime, scores in scored_regimes(data):
            even = break_even(scores, data["risk_weight_s"]) if a in (axis, "base") else None
            if even is not None:
                pts.append((float(regime[axis]), even))
        pts.sort()
        if pts:
            series.append(Series(LABELS.get(axis, axis), [x for x, _ in pts], [y for _, y in pts]))
    return Chart(
        "break-even",
        "Break-even loss rate: on-snapshot pays off above it",
        "the axis value (each line is one regime axis, the others at the base)",
        "host/storage losses per host per year",
        series,
        logx=True,
        logy=True,
        caption="Above a line, on-snapshot costs less than on-stop in that regime; below it, on-stop does.",
    )


def crossover_chart(data: Data, axis: str) -> Chart:
    curve = axis_curve(data, axis)
    xs = [float(x) for x, _ in curve]
    series = [
        Series(
            s,
            [x for x, (_, sc) in zip(xs, curve, strict=True) if s in sc],
            [round(sc[s].cost, 3) for _, sc in curve if s in sc],
        )
        for s in data["strategies"]
    ]
    cross = crossover(data, axis)
    marks = [Mark(cross, f"crossover {units.number(cross)}")] if cross is not None else []
    return Chart(
        f"crossover-{axis}",
        f"Cost per VM-day against {LABELS.get(axis, axis)}",
        LABELS.get(axis, axis),
        "cost, s per VM-day (log)",
        series,
        marks,
        logx=True,
        logy=True,
        caption="cost = seconds waiting on exports + risk weight x expected snapshots lost; lower is better.",
    )


# ---------------------------------------------------------------------- the answers


def _base_runs(data: Data) -> dict[str, list[Data]]:
    return runs_by_regime(data).get(_key(data["base"], data["analytic"]), {})


def _mean(runs: list[Data], read: Any) -> float | None:
    vals = [v for v in (read(run["result"]) for run in runs) if v is not None]
    return sum(vals) / len(vals) if vals else None


def _d(v: float | None) -> str:
    return units.duration(v)


def answers(data: Data) -> list[tuple[str, str, str]]:
    """``(spec item, question, answer)``: one measured sentence per pro, con and question."""
    runs = _base_runs(data)
    on_stop, on_snap, none = runs.get("on-stop", []), runs.get("on-snapshot", []), runs.get("none", [])
    seeds = ",".join(map(str, data["seeds"]))
    where = f"(base regime, seeds {seeds})"

    def m(rs: list[Data], name: str, key: str) -> float | None:
        return _mean(rs, lambda r: op(r, name, key))

    def per_day(rs: list[Data]) -> float | None:
        return _mean(rs, lambda r: r["bytes"]["exported"] / vm_days(r))

    def waited(rs: list[Data]) -> float | None:
        return _mean(rs, stop_wait_share)

    out: list[tuple[str, str, str]] = []
    bs, bn = per_day(on_stop), per_day(on_snap)
    ratio = f"{bn / bs:.3g} times" if bs and bn else "-"
    out.append(
        (
            "1. Pros a",
            "Export only when it cannot be avoided?",
            f"on-stop exports {units.size(bs)} per VM-day, on-snapshot {units.size(bn)}: on-snapshot copies {ratio} "
            f"as much {where}.",
        )
    )
    cs, cn = m(on_stop, "create", "p50"), m(on_snap, "create", "p50")
    out.append(
        (
            "1. Pros b",
            "VM snapshots stay fast (only differential data)?",
            f"Under on-stop a disk+memory snapshot takes {_d(cs)} (p50), {_d(m(on_stop, 'create', 'p95'))} (p95); "
            f"the same snapshot under on-snapshot takes {_d(cn)} (p50) {where}.",
        )
    )
    out.append(
        (
            "1. Cons a",
            "How much slower is stop, and how often does it wait?",
            f"Stop under on-stop: p50 {_d(m(on_stop, 'stop', 'p50'))}, p95 {_d(m(on_stop, 'stop', 'p95'))}, "
            f"p99 {_d(m(on_stop, 'stop', 'p99'))}; {_pct(waited(on_stop))} of stops waited for an export. "
            f"Without exports (none) a stop takes {_d(m(none, 'stop', 'p50'))} {where}.",
        )
    )
    probes = data.get("probes") or {}
    p = probes.get("start_during_export")
    if p:
        refused = p.get("refused") or {}
        out.append(
            (
                "1. Cons b",
                "What if the VM is started before the export has completed?",
                f'The start is refused at once with error {refused.get("errorcode", "-")} ("the VM is Stopping") and '
                f"nothing changes; it is accepted {_d(p['start_accepted_after_s'])} after the stop began, when the "
                f"export of the {units.number(p['vm_gib'])} GiB VM ends ({_d(p['export']['p50'])}); "
                f"the import-and-start "
                f"then takes {_d(p['start']['p50'])}, and all {p['snapshots_ready_after']} of {p['snapshots_taken']} "
                f"snapshots are Ready (probe seed {p['seed']}).",
            )
        )
    mid, before = probes.get("storage_down_mid_export"), probes.get("storage_down_before_export")
    if mid and before:
        out.append(
            (
                "1. Cons c",
                "What if primary storage goes down in the middle of an export, or before it starts?",
                f"Mid-export the stop fails with {_failure(mid)} and the VM stays Running (paused on the host); "
                f"before the export the stop fails the same way ({_failure(before)}). No snapshot is lost "
                f"({mid['lost_snapshots']} and {before['lost_snapshots']} lost, {mid['snapshots_ready_after']} of "
                f"{mid['snapshots_taken']} Ready); the VM runs on once the storage returns "
                f"({_d(mid['outage_s'])} later), and the next stop exports and completes in {_d(mid['stop']['p50'])} "
                f"(probe seed {mid['seed']}).",
            )
        )
    crash = probes.get("host_crash_mid_export")
    if crash:
        syncs = [s for s in crash["sync_runs"] if s["vms"] or s["settled"]]
        back = crash["stop_at_s"] + crash["fault_at_s"] + crash["outage_s"]
        after = f"done {_d(syncs[0]['t'] - back)} after the host came back" if syncs else "-"
        out.append(
            (
                "1. Cons c.i",
                "When the host or primary comes up: export the VM first, then delete it, if it has snapshots?",
                f"Sync does exactly that on reconnect: {'; '.join(syncs[0]['lines']) if syncs else 'nothing'} "
                f"({after}); {crash['lost_snapshots']} snapshots lost, {crash['snapshots_ready_after']} of "
                f"{crash['snapshots_taken']} Ready (probe seed {crash['seed']}).",
            )
        )
    if p and mid and crash:
        out.append(
            (
                "1. Cons c.ii",
                "What state does the host VM state report give meanwhile?",
                f"Export running: {_seen(p, 0)}. Storage down: {_seen(mid, 0)}. Host down: {_seen(crash, 0)}. "
                f"Host back and synced: {_seen(crash, -1)}.",
            )
        )
    share = _mean(on_snap, lambda r: busy_s(r, "export") / vm_days(r) / 86400 * 100)
    out.append(
        (
            "2. Pros a",
            "Stop is rarely affected (only when it meets an export in progress)?",
            f"Under on-snapshot {_pct(waited(on_snap))} of stops waited (p50 {_d(m(on_snap, 'stop', 'p50'))}, p99 "
            f"{_d(m(on_snap, 'stop', 'p99'))}); a stop requested at a random moment finds the VM exporting "
            f"{_pct(share)} of the time, and would then wait about half an export "
            f"({_d(_half(m(on_snap, 'export', 'p50')))}) "
            f"{where}.",
        )
    )
    slower = f"{cn / cs:.3g} times" if cs and cn else "-"
    out.append(
        (
            "2. Cons a",
            "VM snapshots will be slow?",
            f"Yes: create p50 {_d(cn)}, p95 {_d(m(on_snap, 'create', 'p95'))} under on-snapshot against {_d(cs)} under "
            f"on-stop ({slower} slower), and every delete of an old snapshot exports again {where}.",
        )
    )
    out.append(
        (
            "Note",
            "Importing is not costly when the export is kept on primary and imported in place?",
            f"Import takes {_d(m(on_stop, 'import', 'p50'))} (p50), a whole start {_d(m(on_stop, 'start', 'p50'))} "
            f"under on-stop, against {_d(m(none, 'start', 'p50'))} with no export to import {where}.",
        )
    )
    weight, rate = data["risk_weight_s"], data["base"]["losses_per_year"]
    risk = {s: _mean(rs, at_risk_per_vm) for s, rs in runs.items()}
    out.append(
        (
            "Risk",
            "Data at risk after an unplanned host or primary-storage loss?",
            f"Snapshots per VM whose only copy is the live registration: on-stop {units.number(risk.get('on-stop'))}, "
            f"on-snapshot {units.number(risk.get('on-snapshot'))}, none {units.number(risk.get('none'))}; at "
            f"{units.number(rate)} loss per host per year that is {_per_year(risk.get('on-stop'), rate)} lost "
            f"snapshots per VM-year under on-stop (a lost snapshot is weighed as {_d(weight)} of waiting) {where}.",
        )
    )
    return out


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.3g} %"


def _half(v: float | None) -> float | None:
    return None if v is None else v / 2


def _per_year(at_risk: float | None, rate: float) -> str:
    return "-" if at_risk is None else units.number(round(at_risk * rate, 3))


def _failure(probe: Data) -> str:
    return ", ".join(f"{k.split('.', 1)[-1]}" for k in probe["failures"]) or "no error"


def _seen(probe: Data, index: int) -> str:
    s = probe["seen"][index]
    status = f", status {s['host_status']}" if s["host_status"] not in ("-", "Operating normally") else ""
    return (
        f"{units.duration(s['t'])} after the stop began the host reports {s['host_reports']}{status} "
        f"while the database says {s['database']}"
    )


# ---------------------------------------------------------------------- the page


def recommendations(data: Data) -> list[tuple[str, dict[str, float], dict[str, Score], str]]:
    return [(axis, regime, scores, recommend(scores)) for axis, regime, scores in scored_regimes(data)]


def verdict(data: Data) -> list[str]:
    """The recommendation in a few sentences an operator acts on."""
    recs = recommendations(data)
    base = next(((sc, r) for a, _, sc, r in recs if a == "base"), None)
    if base is None:
        return ["The base regime did not run: no recommendation."]
    scores, rec = base
    out = [f"Use {rec} in the base regime ({_regime_text('base', data['base']).removeprefix('base: ')})."]
    flips = [(a, reg, r) for a, reg, _, r in recs if a != "base" and r != rec]
    if flips:
        out.append(
            "It changes to "
            + "; ".join(f"{r} at {LABELS.get(a, a)} = {units.number(reg[a])}" for a, reg, r in flips)
            + "."
        )
    else:
        out.append(f"{rec} stays the recommendation across every swept regime.")
    even = break_even(scores, data["risk_weight_s"])
    if even is not None:
        out.append(
            f"on-snapshot pays for its slower snapshots once unplanned host or primary-storage losses exceed "
            f"{units.number(even)} per host per year in the base regime (a lost snapshot weighed as "
            f"{units.duration(data['risk_weight_s'])} of waiting); below that, on-stop costs less."
        )
    none = scores.get("none")
    if none is not None and rec != "none":
        out.append(
            f"none is never worth it while snapshots matter: it lost {units.number(round(none.lost_on_stop, 2))} "
            "snapshots per VM-day at stops in the base regime."
        )
    return out


def _base_text(r: dict[str, float]) -> str:
    n = units.number
    return (
        f"{n(r['vm_gib'])} GiB VMs, {n(r['snapshots_per_day'])} snapshot(s) and {n(r['stops_per_day'])} stop(s) "
        f"per VM "
        f"per day, exports at {n(r['export_mbps'])} MB/s, {n(r['vms_per_host'])} VMs per host, "
        f"{n(r['losses_per_year'])} unplanned losses per host per year"
    )


def _regime_text(axis: str, regime: dict[str, float]) -> str:
    if axis == "base":
        return "base: " + _base_text(regime)
    return f"{LABELS.get(axis, axis)} = {units.number(regime[axis])}"


def render(data: Data) -> str:
    seeds = ",".join(map(str, data["seeds"]))
    page = Page(
        "When to export the VM: the decision report",
        f"{len(data['runs'])} simulated runs of {units.duration(data['duration_s'])} each, strategies "
        f"{', '.join(data['strategies'])}, seeds {seeds}; rebuild with `hvsnap decide --seeds {seeds} --report DIR`.",
    )
    recs = recommendations(data)
    page.h2("Recommendation")
    first, *rest = verdict(data)
    page.add(f'<p class="verdict">{esc(first)}</p>')
    for sentence in rest:
        page.p(sentence)
    if HEADLINE_AXIS in data["axes"]:
        page.add(figure(crossover_chart(data, HEADLINE_AXIS)))
    page.add(figure(break_even_chart(data)))
    rows = []
    for axis, regime, scores, rec in recs:
        row = [_regime_text(axis, regime), rec]
        for s in data["strategies"]:
            sc = scores.get(s)
            row.append(f"{units.number(round(sc.cost, 1))}" if sc else "-")
        even_here = break_even(scores, data["risk_weight_s"])
        row.append(units.number(even_here) if even_here is not None else "-")
        rows.append(row)
    page.add(
        table(
            ["regime", "recommended", *(f"{s} cost" for s in data["strategies"]), "break-even losses/yr"],
            rows,
            text_cols=2,
        )
    )
    page.p(
        "Cost per VM-day = seconds operations wait on exports + "
        f"{units.duration(data['risk_weight_s'])} x expected snapshots lost (on stop without an export, or to an "
        "unplanned host/storage loss at the regime's rate). Lower is better."
    )
    page.h2("The spec's questions, answered")
    for item, question, answer in answers(data):
        page.add(f'<div class="answer"><div class="q">{esc(item)}: {esc(question)}</div><div>{esc(answer)}</div></div>')
    page.h2("Crossover along each regime axis")
    cross_rows = []
    for axis in data["axes"]:
        c = crossover(data, axis)
        curve = axis_curve(data, axis)
        winners = sorted({recommend(s) for _, s in curve})
        cross_rows.append(
            [LABELS.get(axis, axis), units.number(c) if c is not None else "none in range", ", ".join(winners)]
        )
    page.add(table(["axis", "on-stop = on-snapshot at", "recommended somewhere"], cross_rows, text_cols=1))
    page.add(grid(figure(crossover_chart(data, a), small=True) for a in data["axes"] if a != HEADLINE_AXIS))
    page.h2("Measured per regime and strategy")
    detail = []
    for axis, regime, scores, _ in recs:
        for s, sc in scores.items():
            detail.append(
                [
                    _regime_text(axis, regime),
                    s,
                    units.duration(sc.wait_s),
                    units.number(round(sc.at_risk, 3)),
                    units.number(round(sc.lost_on_stop, 3)),
                    units.number(round(sc.expected_loss, 4)),
                    ",".join(map(str, sc.seeds)),
                ]
            )
    page.add(
        table(
            [
                "regime",
                "strategy",
                "export wait / VM-day",
                "at risk / VM",
                "lost on stop / VM-day",
                "expected loss / VM-day",
                "seeds",
            ],
            detail,
            text_cols=2,
        )
    )
    page.h2("Reproduce")
    page.add(
        f"<p><code>hvsnap decide --seeds {esc(seeds)} --report DIR</code> runs the campaign again; "
        "<code>hvsnap report --simulation DIR</code> rebuilds this page from DIR/decision.json. Each run is the "
        "scenario of its regime (simulator/campaigns/decision.py) with the seed shown beside its numbers.</p>"
    )
    return page.html()
