"""Console passwords from the command line: ``hvsnap init`` prints the admin's once, and
``hvsnap account password NAME --password-stdin`` sets one; both then log in over the API."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from harness.api.app import ApiApp
from harness.service.cloud import open_cloud
from tests.test_cli import HVSNAP


def hvsnap(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HVSNAP, "--home", str(home), *args, "--json"], input=stdin, capture_output=True, text=True, check=False
    )


def can_log_in(home: Path, username: str, password: str) -> bool:
    with open_cloud(home, state_file=None) as cloud:
        app = ApiApp(cloud.manager)
        reply = app.handle({"command": "login", "username": username, "password": password}, post=True)
        return reply.status == 200


def test_init_prints_the_admin_password_once_and_it_logs_in(tmp_path: Path) -> None:
    first = json.loads(hvsnap(tmp_path, "init").stdout)
    assert len(first["password"]) >= 16
    assert "password" not in json.loads(hvsnap(tmp_path, "init").stdout)
    assert first["password"] not in (tmp_path / "hvsnap.log").read_text(errors="replace")
    assert can_log_in(tmp_path, "admin", first["password"])


def test_account_password_from_stdin(tmp_path: Path) -> None:
    assert hvsnap(tmp_path, "account", "create", "ivy").returncode == 0
    done = hvsnap(tmp_path, "account", "password", "ivy", "--password-stdin", stdin="ivy's new pw\n")
    assert done.returncode == 0, done.stderr
    assert "ivy's new pw" not in done.stdout
    assert can_log_in(tmp_path, "ivy", "ivy's new pw") and not can_log_in(tmp_path, "ivy", "ivy's new pw\n")
    refused = hvsnap(tmp_path, "--account", "ivy", "account", "password", "admin", "--password-stdin", stdin="x\n")
    # ivy cannot see the admin's account, so to her it does not exist (nothing leaks that it does)
    assert refused.returncode == 3 and json.loads(refused.stdout)["errorcode"] == 431
    empty = hvsnap(tmp_path, "account", "password", "ivy", "--password-stdin", stdin="\n")
    assert empty.returncode == 3 and json.loads(empty.stdout)["errorcode"] == 431


def test_the_readme_console_commands_run_as_printed(tmp_path: Path) -> None:
    """The README's console lines, verbatim, in a shell with the venv's ``hvsnap``."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## The web console", 1)[1].split("\n## ", 1)[0]
    lines = [line[4:].split("  #", 1)[0].rstrip() for line in section.splitlines() if line.startswith("    hvsnap")]
    lines += [line[4:] for line in section.splitlines() if line.startswith("    printf")]
    assert len(lines) == 2, lines
    env = {"PATH": f"{Path(HVSNAP).parent}:/usr/bin:/bin", "HVSNAP_HOME": str(tmp_path), "NEW_PASSWORD": "from a pipe"}
    assert subprocess.run([HVSNAP, "account", "create", "alice"], env=env, capture_output=True).returncode == 0
    for line in lines:
        done = subprocess.run(["bash", "-c", line], env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{line}: {done.stdout}{done.stderr}"
    assert can_log_in(tmp_path, "alice", "from a pipe")
