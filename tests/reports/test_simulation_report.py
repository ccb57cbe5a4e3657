"""The simulation report over seeded campaign JSON: the numbers on the page and the data
behind every plot (not pixels)."""

from __future__ import annotations

from typing import Any

from reports import units
from reports.charts import svg
from reports.simulation import charts, render

GiB = 2**30


def _by_id(result: dict[str, Any]) -> dict[str, Any]:
    return {c.id: c for c in charts(result)}


def test_latency_cdfs_mark_the_percentiles_of_the_result(outage: dict[str, Any]) -> None:
    c = _by_id(outage)
    assert {"cdf-create", "cdf-delete", "cdf-stop", "cdf-start", "cdf-export", "cdf-import"} <= set(c)
    stop = c["cdf-stop"]
    (line,) = stop.series
    assert line.x == outage["latency_cdf"]["stop"] and len(line.x) == 101
    assert line.y[0] == 0.0 and line.y[50] == 50.0 and line.y[-1] == 100.0
    assert [(m.label, m.x) for m in stop.marks] == [("p50", 25.928694), ("p95", 113.332825), ("p99", 113.332825)]
    assert line.x == sorted(line.x) and line.x[0] >= 1.5  # a stop is never faster than power-off + unregister


def test_time_series_charts_carry_the_sampled_values(outage: dict[str, Any]) -> None:
    c, s = _by_id(outage), outage["series"]
    hours = [t / 3600 for t in s["t"]]
    assert c["chain-depth"].series[0].x == [round(h, 4) for h in hours]
    assert c["chain-depth"].series[1].y == s["chain_depth_max"]
    exported = c["bytes"].series[2]
    assert exported.label == "exported" and exported.y[-1] == round(59653553752 / GiB, 4) == 55.5567
    assert exported.y == sorted(exported.y)  # cumulative
    used = c["storage"].series[0]
    assert used.y == [round(v / GiB, 4) for v in s["storage_used"]["hyperv-01"]]
    assert [x.label for x in c["in-flight"].series] == ["hyperv-01"]
    assert c["storage-queue"].series[0].y == s["storage_queue"]["hyperv-01"]
    assert c["data-at-risk"].series[0].y == [round(v / GiB, 4) for v in s["at_risk_bytes"]]
    read = c["read-latency"].series[0]
    assert read.y == sorted(read.y) and read.x[0] == 0.0


def test_fault_chart_marks_each_fault_and_each_sync(outage: dict[str, Any]) -> None:
    faults = _by_id(outage)["faults"]
    assert [(m.x, m.label) for m in faults.marks] == [
        (round(496 / 3600, 4), "manager_crash"),
        (round(6131 / 3600, 4), "storage_down_mid_export"),
    ]
    settled = faults.series[1]
    assert settled.x == [round(r["t"] / 3600, 4) for r in outage["sync_runs"]]
    assert settled.y == [r["settled"] + r["vms"] for r in outage["sync_runs"]]


def test_policy_chart_counts_the_schedule(policies: dict[str, Any]) -> None:
    chart = _by_id(policies)["policy"]
    taken, pruned = chart.series
    assert (
        (taken.y[-1], pruned.y[-1]) == (75, 48) == (policies["policies"]["snapshots"], policies["policies"]["pruned"])
    )
    assert chart.xlabel == "simulated hours"


def test_page_shows_human_numbers_reproduction_and_every_chart(outage: dict[str, Any]) -> None:
    page = render(outage, "simulator/scenarios/outage.yaml")
    assert page.startswith("<!doctype html>") and "<script" not in page and "http" not in page.split("<svg")[0]
    for text in ("55.6 GiB", "25.9 s", "113 s", "4 of 7 stops (57.1 %)", "4.97 min"):
        assert text in page, text
    assert "hvsnap simulate simulator/scenarios/outage.yaml --seed 5 --report DIR" in page
    assert outage["event_log_sha256"] in page
    assert "storage_down_mid_export" in page and "manager start" in page
    assert page.count('<figure class="chart"') == len(charts(outage)) == 14
    assert page.count("<svg") == 14


def test_user_text_is_escaped(outage: dict[str, Any]) -> None:
    outage["scenario"] = "<img src=x onerror=alert(1)>"
    outage["sync_runs"][0]["lines"] = ["<script>alert(1)</script>"]
    page = render(outage)
    assert "<img src=x" not in page and "<script>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_result_without_series_still_renders_its_latencies(outage: dict[str, Any]) -> None:
    del outage["series"]
    ids = [c.id for c in charts(outage)]
    assert ids and all(i.startswith("cdf-") or i == "read-latency" for i in ids)
    assert "no time series" in render(outage)


def test_svg_is_deterministic_and_text_stays_text(outage: dict[str, Any]) -> None:
    chart = _by_id(outage)["cdf-export"]
    a, b = svg(chart), svg(chart)
    assert a == b and a.startswith("<svg") and "export: latency CDF" in a


def test_units_read_like_an_operator_writes_them() -> None:
    assert units.size(3469699548498) == "3.16 TiB"
    assert units.size(59653553752) == "55.6 GiB"
    assert units.size(512) == "512 B"
    assert units.duration(0.0123) == "12.3 ms"
    assert units.duration(48.3) == "48.3 s"
    assert units.duration(5400) == "90 min"
    assert units.duration(3 * 86400) == "3 d"
    assert units.share(39, 54) == "72.2 %"
    assert units.number(1234567) == "1,234,567"


def test_sweep_spread_runs_across_seeds(outage: dict[str, Any]) -> None:
    from reports.sweep import charts as sweep_charts
    from reports.sweep import spread

    def run(point: float, seed: int, stop_p50: float) -> dict[str, Any]:
        ops = {**outage["operations"], "stop": {**outage["operations"]["stop"], "p50": stop_p50}}
        return {**outage, "point": {"fleet.vms": point}, "seed": seed, "operations": ops}

    runs = [run(2, 1, 10.0), run(2, 2, 30.0), run(4, 1, 50.0)]
    groups = spread(runs)
    assert [(g["point"], g["seeds"]) for g in groups] == [({"fleet.vms": 2}, [1, 2]), ({"fleet.vms": 4}, [1])]
    assert groups[0]["metrics"]["stop_p50"] == {"mean": 20.0, "min": 10.0, "max": 30.0}
    stop = next(c for c in sweep_charts(runs) if c.id == "sweep-fleet.vms-stop_p95")
    assert stop.series[0].x == [2.0, 4.0]
