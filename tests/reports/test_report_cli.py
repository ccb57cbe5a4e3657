"""`hvsnap simulate --report`, `--sweep ... --report`, `hvsnap report --simulation`, and
the Allure builder's lookup, through the installed console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cli import main
from reports import allure

from .conftest import SCENARIOS

HVSNAP = str(Path(sys.executable).parent / "hvsnap")


def hvsnap(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HVSNAP, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def _short(tmp_path: Path, name: str, duration: str) -> Path:
    text = (SCENARIOS / f"{name}.yaml").read_text()
    scenario = tmp_path / f"{name}.yaml"
    scenario.write_text(
        text.replace("duration: 2d", f"duration: {duration}").replace("duration: 12h", f"duration: {duration}")
    )
    return scenario


def test_simulate_report_writes_a_page_that_report_rebuilds_identically(tmp_path: Path) -> None:
    scenario, out = _short(tmp_path, "outage", "3h"), tmp_path / "r"
    done = hvsnap("simulate", str(scenario), "--seed", "3", "--report", str(out))
    assert done.returncode == 0, done.stderr
    assert f"report: {out / 'index.html'}" in done.stderr
    assert "{'" not in done.stdout and "event log" in done.stdout
    page = (out / "index.html").read_text()
    result = json.loads((out / "result.json").read_text())
    assert result["seed"] == 3 and "series" in result and (out / "events.log").stat().st_size > 0
    assert result["event_log_sha256"] in page
    (out / "index.html").unlink()
    again = hvsnap("report", "--simulation", str(out))
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == str(out / "index.html")
    assert (out / "index.html").read_text() == page


def test_sweep_report_has_a_comparison_page_and_a_page_per_run(tmp_path: Path) -> None:
    scenario, out = _short(tmp_path, "baseline", "2h"), tmp_path / "s"
    done = hvsnap(
        "simulate", str(scenario), "--sweep", "strategy=on-stop,on-snapshot", "--workers", "1", "--report", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "on-snapshot" in done.stdout and "…" not in done.stdout
    runs = json.loads((out / "campaign.json").read_text())
    assert [(r["point"]["strategy"], r["seed"]) for r in runs] == [("on-stop", 1), ("on-snapshot", 1)]
    page = (out / "index.html").read_text()
    assert page.count('href="runs/') == 2 and (out / "runs" / "001.html").is_file()
    assert "Spread across seeds" in page and page.count('<figure class="chart"') == 6


def test_report_of_a_folder_without_results_is_a_clear_error(tmp_path: Path) -> None:
    def report(*args: str) -> Result:
        return CliRunner().invoke(main, ["report", *args])

    done = report("--simulation", str(tmp_path))
    assert done.exit_code == 1 and "holds no result.json" in done.output and done.exception is not None
    assert isinstance(done.exception, SystemExit)  # a ClickException: no traceback reaches the user
    (tmp_path / "result.json").write_text("{not json")
    done = report("--simulation", str(tmp_path))
    assert done.exit_code == 1 and "not a readable result" in done.output
    (tmp_path / "result.json").write_text('{"scenario": "x"}')
    done = report("--simulation", str(tmp_path))
    assert done.exit_code == 1 and "is not a campaign result" in done.output
    done = report("--results", str(tmp_path / "none"), "--output", str(tmp_path / "out"))
    assert done.exit_code == 1 and "allure" in done.output.lower() and isinstance(done.exception, SystemExit)


def test_allure_binary_is_found_from_any_folder_below_a_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HVSNAP_ALLURE", raising=False)
    fake = tmp_path / "node_modules" / ".bin" / "allure"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert allure.find_allure(deep) == fake
    monkeypatch.setenv("HVSNAP_ALLURE", str(fake))
    assert allure.find_allure(Path("/")) == fake
    results = tmp_path / "results"
    results.mkdir()
    (results / "x-result.json").write_text("{}")
    with pytest.raises(allure.AllureError, match=r"allure generate failed \(3\)"):
        allure.generate(results, tmp_path / "out" / "report", "t")
