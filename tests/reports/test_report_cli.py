"""`hvsnap report`'s refusals and the Allure builder's lookup (the README's report commands
run in test_readme_reports.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cli import main
from reports import allure


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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seeds", "x"], "Invalid value for --seeds: comma-separated integers, not 'x'"),
        (["--seeds", ","], "Invalid value for --seeds: give at least one seed"),
        (["--duration", "0"], "Invalid value for --duration: a run needs a positive duration"),
        (["--duration", "soon"], "Invalid value for --duration: not a duration: 'soon'"),
    ],
)
def test_decide_refuses_bad_values_before_running_anything(args: list[str], message: str, tmp_path: Path) -> None:
    done = CliRunner().invoke(main, ["decide", *args, "--report", str(tmp_path / "d")])
    assert done.exit_code == 2 and message in done.output
    assert not (tmp_path / "d").exists()
