"""The CLI beside a running ``hvsnap serve`` on the same home: every command answers at
once (no wait on the host the server holds), jobs run on the server under its rules (one
operation per VM), and the home is the CLI's own again once the server stops."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.api import discovery
from tests.test_cli import Cli

ROOT = Path(__file__).resolve().parents[2]
#: Simulated seconds per wall second: a disk snapshot of the small VM takes ~2 s of wall.
SCALE = "3"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    argv = [sys.executable, "-m", "harness.cli", "--home", str(tmp_path), "serve", "--port", "0", "--time-scale", SCALE]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        yield banner.split(" on ", 1)[1].split()[0]
    finally:
        proc.terminate()
        proc.wait(30)


def on_a_terminal(home: Path, *args: str) -> tuple[int, str]:
    """The console script on a pseudo-terminal: its exit status and what the screen showed."""
    main_fd, term_fd = pty.openpty()
    hvsnap = Path(sys.executable).parent / "hvsnap"
    proc = subprocess.Popen([hvsnap, "--home", str(home), *args], stdin=term_fd, stdout=term_fd, stderr=term_fd)
    os.close(term_fd)
    screen = b""
    with contextlib.suppress(OSError):  # EIO once the process has closed the terminal
        while chunk := os.read(main_fd, 4096):
            screen += chunk
    os.close(main_fd)
    return proc.wait(60), screen.decode(errors="replace")


def test_every_command_works_beside_a_server_with_its_rules(tmp_path: Path, served: str) -> None:
    cli = Cli(tmp_path)
    assert json.loads((tmp_path / "serve.json").read_text())["endpoint"] == served
    deployed, screen = on_a_terminal(tmp_path, "vm", "deploy", "--name", "web1")
    assert deployed == 0 and "deployVirtualMachine: waiting for job" in screen  # the spinner
    assert cli("vm", "show", "web1")["state"] == "Running"  # it waited for the server's job
    started = cli("snapshot", "create", "web1", "--name", "B", "--no-wait")
    assert set(started) == {"id", "jobid"}

    assert started["jobid"] in [j["jobid"] for j in cli("job", "list", "--pending")]
    busy = cli.raw("snapshot", "create", "web1", "--name", "C")  # the server's one-operation-per-VM rule
    assert busy.exit_code == 3 and json.loads(busy.output)["errorcode"] == 431, busy.output
    assert "other active" in json.loads(busy.output)["errortext"]
    reads = (["vm", "list"], ["config", "get", "vmsnapshot.max"], ["snapshot", "tree", "web1"], ["account", "list"])
    for read in reads:
        begun = time.monotonic()
        cli(*read)
        assert time.monotonic() - begun < 5, f"{read} waited"
    assert cli("policy", "run-due")["servedby"] == served

    deadline = time.monotonic() + 60
    while (job := cli("job", "show", started["jobid"]))["jobstatus"] == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job["jobstatus"] == 1 and job["jobresult"]["vmsnapshot"]["state"] == "Ready"
    [node] = cli("snapshot", "tree", "web1")["children"]
    assert (node["displayname"], node["current"], node["children"]) == ("B", True, [])


def test_the_record_is_the_owners_alone(tmp_path: Path) -> None:
    path = discovery.publish(tmp_path, "http://127.0.0.1:1/client/api")
    assert path.stat().st_mode & 0o777 == 0o600
    assert discovery.served(tmp_path) == discovery.Served("http://127.0.0.1:1/client/api", os.getpid())
    path.write_text(json.dumps({"endpoint": "http://127.0.0.1:2/client/api", "pid": 1}))  # another server's now
    discovery.withdraw(tmp_path)
    assert path.exists()  # not ours to remove
    path.write_text("{not json")
    assert discovery.served(tmp_path) is None


def test_a_stale_record_of_a_killed_server_is_ignored(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "serve.json").write_text(json.dumps({"endpoint": "http://127.0.0.1:9/client/api", "pid": dead.pid}))
    assert cli("vm", "list") == []  # in-process, not sent to a server that is gone
