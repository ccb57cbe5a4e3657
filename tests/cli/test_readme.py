"""The README's examples, run as printed: the tour and the policy example in order on one
fresh home (in-process, at 80 columns), and the server section in a real shell beside a
real ``hvsnap serve``."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def examples(section: str) -> list[str]:
    """The indented command lines of one README section."""
    body = README.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [line[4:] for line in body.splitlines() if line.startswith("    ") and line.strip()]


def test_the_tour_and_the_policy_example_run_as_printed(tmp_path: Path) -> None:
    tour, policies = examples("A short tour of the CLI"), examples("Policies and limits")
    assert len(tour) > 20 and all(line.startswith("hvsnap ") for line in tour + policies)
    runner = CliRunner(env={"HVSNAP_HOME": str(tmp_path), "COLUMNS": "80"})
    outputs = {}
    for line in tour + policies:
        argv = shlex.split(line, comments=True)[1:]
        result = runner.invoke(main, argv)
        assert result.exit_code == 0, f"$ {line}\n{result.output}"
        assert all(len(row) <= 80 for row in result.output.splitlines()), f"$ {line}\n{result.output}"
        assert "…" not in result.output and "\x1b" not in result.output
        outputs[" ".join(argv)] = result.output
    assert re.search(r"value\s+v1", outputs["guest read web1 motd"])
    tree = outputs["snapshot tree web1"].splitlines()
    assert UUID.search(tree[0])  # the VM with its id in full
    assert tree[1].split()[1] == "A" and re.fullmatch(r"[0-9a-f]{8,}", tree[1].split()[2])  # a short id
    current = next(row for row in tree if "<- current" in row)
    assert " C " in current and "Disk" in current
    assert "no pending jobs" in outputs["job list --pending"]
    assert "no VMs" in outputs["--account alice vm list"]
    assert "secretkey" in outputs["account keys alice"]
    assert "DAILY" not in outputs["policy list --vm db1"] and "HOURLY" in outputs["policy list --vm db1"]


def test_run_sh_runs_the_tour_and_passes_arguments_to_hvsnap(tmp_path: Path) -> None:
    env = {**os.environ, "HVSNAP_HOME": str(tmp_path / "home"), "COLUMNS": "80"}
    done = subprocess.run(["bash", "scripts/run.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    shown = [line for line in done.stdout.splitlines() if line.startswith("$ hvsnap ")]
    tour = examples("A short tour of the CLI")
    assert shown == [f"$ {shlex.join(shlex.split(line, comments=True))}" for line in tour]
    args = subprocess.run(["bash", "scripts/run.sh", "vm", "list", "--json"], cwd=ROOT, env=env, capture_output=True)
    assert args.returncode == 0 and [vm["name"] for vm in json.loads(args.stdout)] == ["web1"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_server_section_runs_as_printed_in_a_shell(tmp_path: Path) -> None:
    serve, *beside = examples("Serve the CloudStack API")
    assert serve.split("#")[0].strip() == "hvsnap serve"
    env = {**os.environ, "HVSNAP_HOME": str(tmp_path), "HVSNAP_PORT": str(_free_port())}
    env["PATH"] = f"{BIN}:{os.environ['PATH']}"
    server = subprocess.Popen(["bash", "-c", f"exec {serve}"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        assert "hvsnap API on" in server.stdout.readline()
        script = "set -euo pipefail\n" + "\n".join(beside)
        done = subprocess.run(
            ["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "no VMs" in done.stdout  # `hvsnap vm list`, answered by the server
        assert (tmp_path / "serve.json").exists()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    assert not (tmp_path / "serve.json").exists()
