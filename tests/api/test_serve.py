"""``hvsnap serve`` on the embedded default: starts with no setup, answers ``cs``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from cs import CloudStack

from harness.cli import main
from harness.service import accounts
from harness.store.uow import make_engine, uow_factory

ROOT = Path(__file__).resolve().parents[2]


def test_serve_starts_on_a_fresh_home_and_answers_cs(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "--home", str(tmp_path), "serve", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        endpoint = proc.stdout.readline().split(" on ", 1)[1].split()[0]
        engine = make_engine(f"sqlite:///{tmp_path / 'hvsnap.db'}")
        admin = accounts.bootstrap(uow_factory(engine))  # the server created it: this only reads
        engine.dispose()
        api = CloudStack(endpoint=endpoint, key=admin.api_key, secret=admin.secret_key)
        assert api.listZones()["zone"][0]["name"] == "zone1"
    finally:
        proc.terminate()
        proc.wait(30)


def test_only_time_scale_zero_is_available_yet(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "serve", "--time-scale", "10"])
    assert result.exit_code == 2
    assert "--time-scale" in result.output
    assert "only 0 (instant)" in result.output
