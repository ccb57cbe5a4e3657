"""The export-strategy decision report: the recommendation flips when a regime crosses the
line (a test per side), every question of the spec gets a measured answer, and the
crossover is where the scores cross."""

from __future__ import annotations

from typing import Any

from reports import decision

from .conftest import SMALL_BASE


def _recommended(data: dict[str, Any], axis: str, value: float) -> str:
    for a, regime, _, rec in decision.recommendations(data):
        if a in (axis, "base") and regime[axis] == value:
            return rec
    raise LookupError((axis, value))


def _break_even(data: dict[str, Any], axis: str, value: float) -> float:
    for a, regime, scores in decision.scored_regimes(data):
        if a in (axis, "base") and regime[axis] == value:
            even = decision.break_even(scores, data["risk_weight_s"])
            assert even is not None
            return even
    raise LookupError((axis, value))


def test_rare_host_losses_recommend_export_on_stop(small_decision: dict[str, Any]) -> None:
    assert _break_even(small_decision, "losses_per_year", 1) > 1
    assert _recommended(small_decision, "losses_per_year", 1) == "on-stop"


def test_frequent_host_losses_recommend_export_on_snapshot(small_decision: dict[str, Any]) -> None:
    assert _break_even(small_decision, "losses_per_year", 365) < 365
    assert _recommended(small_decision, "losses_per_year", 365) == "on-snapshot"


def test_slow_export_storage_recommends_export_on_stop(small_decision: dict[str, Any]) -> None:
    # at 52 losses a year, exporting every snapshot at 50 MB/s still costs more than it saves
    assert _break_even(small_decision, "export_mbps", 50) > SMALL_BASE["losses_per_year"]
    assert _recommended(small_decision, "export_mbps", 50) == "on-stop"


def test_fast_export_storage_recommends_export_on_snapshot(small_decision: dict[str, Any]) -> None:
    assert _break_even(small_decision, "export_mbps", 800) < SMALL_BASE["losses_per_year"]
    assert _recommended(small_decision, "export_mbps", 800) == "on-snapshot"


def test_crossover_lies_between_the_swept_values_where_the_scores_cross(small_decision: dict[str, Any]) -> None:
    cross = decision.crossover(small_decision, "losses_per_year")
    assert cross is not None and 1 < cross < 365
    assert abs(cross - _break_even(small_decision, "losses_per_year", 52)) / cross < 0.05
    chart = decision.crossover_chart(small_decision, "losses_per_year")
    assert [s.label for s in chart.series] == ["on-stop", "on-snapshot", "none"]
    assert chart.series[0].x == [1.0, 52.0, 365.0] and [m.x for m in chart.marks] == [cross]
    on_stop, on_snap = chart.series[0].y, chart.series[1].y
    assert on_stop[0] < on_snap[0] and on_stop[-1] > on_snap[-1]


def test_every_question_of_the_spec_gets_a_measured_answer(small_decision: dict[str, Any]) -> None:
    got = {item: text for item, _, text in decision.answers(small_decision)}
    assert list(got) == [
        "1. Pros a",
        "1. Pros b",
        "1. Cons a",
        "1. Cons b",
        "1. Cons c",
        "1. Cons c.i",
        "1. Cons c.ii",
        "2. Pros a",
        "2. Cons a",
        "Note",
        "Risk",
    ]
    assert all(any(ch.isdigit() for ch in text) and " - " not in text for text in got.values())
    assert "error 431" in got["1. Cons b"] and "Ready" in got["1. Cons b"]
    assert "StorageUnavailable" in got["1. Cons c"] and "0 and 0 lost" in got["1. Cons c"]
    assert "exported as the strategy asks" in got["1. Cons c.i"] and "unregistered" in got["1. Cons c.i"]
    assert "ExportingVirtualMachine" in got["1. Cons c.ii"] and "Paused" in got["1. Cons c.ii"]
    assert "seeds 1" in got["1. Pros a"]


def test_probes_lose_no_snapshot_and_keep_the_trees_equal(small_decision: dict[str, Any]) -> None:
    probes = small_decision["probes"]
    assert set(probes) == {
        "start_during_export",
        "storage_down_mid_export",
        "storage_down_before_export",
        "host_crash_mid_export",
    }
    for name, p in probes.items():
        assert p["lost_snapshots"] == 0 and p["snapshots_ready_after"] == 3 and p["invariants_ok"], name
    start = probes["start_during_export"]
    assert start["refused"]["errorcode"] == 431
    assert start["start_accepted_after_s"] >= start["export"]["p50"]


def test_page_recommends_per_regime_and_names_the_seeds(small_decision: dict[str, Any]) -> None:
    page = decision.render(small_decision)
    assert "hvsnap decide --seeds 1 --report DIR" in page
    assert page.count('<figure class="chart"') == 1 + 1 + 1  # headline, break-even, export axis
    for item, question, _ in decision.answers(small_decision):
        assert question.replace("'", "&#x27;") in page, item
