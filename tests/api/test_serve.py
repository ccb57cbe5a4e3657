"""``hvsnap serve`` on the embedded default: starts with no setup, answers ``cs``; with
``--time-scale X`` jobs take the timed host's simulated time, X simulated seconds per wall
second, and end as on the instant host."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from cs import CloudStack

from harness.api.server import Serving, serving
from harness.cli import main
from harness.service import accounts
from harness.store.uow import make_engine, uow_factory
from simulator.realtime import RealtimeHyperVDriver
from tests.api.conftest import admin_client, deploy

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("scale", ["0", "600"])
def test_serve_starts_on_a_fresh_home_and_answers_cs(tmp_path: Path, scale: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "--home", str(tmp_path), "serve", "--port", "0", "--time-scale", scale],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        endpoint = banner.split(" on ", 1)[1].split()[0]
        assert ("time scale 600" in banner) == (scale == "600")
        engine = make_engine(f"sqlite:///{tmp_path / 'hvsnap.db'}")
        admin = accounts.bootstrap(uow_factory(engine))  # the server created it: this only reads
        engine.dispose()
        api = CloudStack(endpoint=endpoint, key=admin.api_key, secret=admin.secret_key)
        assert api.listZones()["zone"][0]["name"] == "zone1"
    finally:
        proc.terminate()
        proc.wait(30)


def test_a_time_scale_needs_the_simulated_host(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "serve", "--driver", "live", "--time-scale", "10"])
    assert result.exit_code == 2
    assert "--time-scale" in result.output
    assert "simulated host only" in result.output


#: A disk-and-memory checkpoint of the small (512 MiB) VM costs ~1.1 simulated seconds; at
#: 10x that is ~110 ms of wall, long enough to see the job pending at the first poll.
SCALE = 10.0


@pytest.fixture
def timed_server(tmp_path: Path) -> Iterator[Serving]:
    with serving(tmp_path, driver="sim-timed", port=0, state_file=None, time_scale=SCALE) as running:
        yield running


def test_a_snapshot_job_runs_to_completion_in_scaled_time(timed_server: Serving) -> None:
    assert isinstance(timed_server.cloud.driver, RealtimeHyperVDriver)
    api = admin_client(timed_server)
    vm = deploy(api, "timed-vm")
    api.writeGuestData(virtualmachineid=vm, key="data", value="one")

    started = api.createVMSnapshot(virtualmachineid=vm, name="s1", snapshotmemory=True)
    wall = time.monotonic()
    statuses = []
    while True:
        result = api.queryAsyncJobResult(jobid=started["jobid"])
        statuses.append(result["jobstatus"])
        if result["jobstatus"] != 0 or time.monotonic() - wall > 20:
            break
        time.sleep(0.01)
    assert statuses[0] == 0  # the checkpoint takes simulated time: still pending at first
    assert statuses[-1] == 1, result
    assert result["jobresult"]["vmsnapshot"]["id"] == started["id"]
    assert result["jobresult"]["vmsnapshot"]["state"] == "Ready"
    assert time.monotonic() - wall < 10

    api.writeGuestData(virtualmachineid=vm, key="data", value="two")
    api.revertToVMSnapshot(vmsnapshotid=started["id"], fetch_result=True)
    assert api.readGuestData(virtualmachineid=vm, key="data")["guestdata"]["value"] == "one"
