"""`hvsnap simulate`'s terminal output: human units, 80 columns, no raw dicts or cut cells."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from reports.terminal import summary, sweep_table


def _text(renderable: Any, width: int = 80) -> str:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    text: str = console.export_text()
    console.file.close()
    return text


def test_run_summary_fits_80_columns_in_human_units(outage: dict[str, Any]) -> None:
    out = _text(summary(outage))
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80
    assert "{" not in out and "…" not in out
    assert "55.6 GiB" in out and "4 of 7 (57.1 %), 4.97 min" in out
    assert "25.9 s" in out and "manager_crash" in out
    assert outage["event_log_sha256"] in out  # on one line, whole


def test_policy_summary_shows_snapshots_taken_and_pruned(policies: dict[str, Any]) -> None:
    out = _text(summary(policies))
    assert "75 taken, 48 pruned, 27 kept (2 policies)" in out
    assert "scheduled" in out  # the policy runs' latencies have a row


def test_sweep_table_wraps_headers_and_never_cuts_a_value(outage: dict[str, Any]) -> None:
    runs = [{**outage, "point": {"strategy": s, "costs.export_bps": 2e8}} for s in ("on-stop", "on-snapshot")]
    out = _text(sweep_table(runs))
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80
    assert "on-snapshot" in out and "200000000.0" in out and "…" not in out
