"""Usage errors of ``serve`` and ``simulate``: one line saying what is wrong and what to do,
exit 2, no traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main

ROOT = Path(__file__).resolve().parents[1]
BASELINE = str(ROOT / "simulator" / "scenarios" / "baseline.yaml")


def _one_line_exit_2(args: list[str], *expected: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    for text in expected:
        assert text in lines[0]


def test_serve_on_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        _one_line_exit_2(["--home", str(tmp_path), "serve", "--port", str(port)], "in use", "--port 0")


def test_a_second_serve_on_the_same_home(tmp_path: Path) -> None:
    first = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "--home", str(tmp_path), "serve", "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert first.stdout is not None and " on " in first.stdout.readline()
        _one_line_exit_2(["--home", str(tmp_path), "serve", "--port", "0"], "another hvsnap serve", "--home")
    finally:
        first.terminate()
        first.wait(30)


@pytest.mark.parametrize(
    ("sweep", "says"),
    [
        ("bogus=1,2", "unknown scenario key(s): bogus"),
        ("strategy=bogus", "strategy must be one of"),
        ("costs.export_bps=abc", "export_bps takes a int, not 'abc'"),
        ("strategy", "KEY=V1,V2"),
    ],
)
def test_simulate_with_a_bad_sweep(sweep: str, says: str) -> None:
    _one_line_exit_2(["simulate", BASELINE, "--sweep", sweep], says)


@pytest.mark.parametrize("text", ["fleet: [\n  bad", "- just\n- a list\n"])
def test_simulate_on_malformed_yaml(tmp_path: Path, text: str) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(text)
    _one_line_exit_2(["simulate", str(scenario)], str(scenario))
