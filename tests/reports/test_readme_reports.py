"""The README's "Reports" commands, run exactly as printed (from a folder where
``simulator/scenarios`` is the checkout's), and what each of them writes."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

HVSNAP = str(Path(sys.executable).parent / "hvsnap")


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Reports", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for line in section.splitlines() if line.startswith("    hvsnap ")]


def test_readme_report_commands_write_what_they_say(tmp_path: Path) -> None:
    commands = readme_commands()
    assert [c.split()[1] for c in commands] == ["simulate", "report", "simulate", "decide"]
    (tmp_path / "simulator").symlink_to(ROOT / "simulator")
    outputs = []
    for command in commands:
        argv = shlex.split(command)
        done = subprocess.run(
            [HVSNAP, *argv[1:]], cwd=tmp_path, capture_output=True, text=True, check=False, timeout=600
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
        assert "Traceback" not in done.stderr and "{'" not in done.stdout
        outputs.append(done)
    out = tmp_path / "reports" / "out"
    # simulate --report, then report --simulation: the page rebuilt from result.json is the same
    run = json.loads((out / "outage" / "result.json").read_text())
    assert run["scenario_file"] == "simulator/scenarios/outage.yaml" and "series" in run
    assert outputs[1].stdout.strip() == str(Path("reports/out/outage/index.html"))
    page = (out / "outage" / "index.html").read_text()
    assert "hvsnap simulate simulator/scenarios/outage.yaml --seed 11 --report DIR" in page
    assert run["event_log_sha256"] in page and "storage_down_mid_export" in page
    # the sweep: a comparison page and a page per run
    sweep = out / "sweep"
    assert len(json.loads((sweep / "campaign.json").read_text())) == 4
    assert (sweep / "index.html").read_text().count('href="runs/') == 4
    assert sorted(p.name for p in (sweep / "runs").iterdir()) == ["000.html", "001.html", "002.html", "003.html"]
    # decide: the recommendation and the answers in the terminal and on the page
    assert "Use on-stop in the base regime" in outputs[3].stdout and "1. Cons c.ii" in outputs[3].stdout
    decided = (out / "decision" / "index.html").read_text()
    assert "When to export the VM" in decided and "break-even" in decided
    assert json.loads((out / "decision" / "decision.json").read_text())["seeds"] == [1]
