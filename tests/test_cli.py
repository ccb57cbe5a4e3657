"""The ``hvsnap`` command line: what the tour does (its states and guest data), and every refusal with its
CloudStack error code, exit status 3 and nothing changed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from harness.cli import main
from harness.store import tables

HVSNAP = str(Path(sys.executable).parent / "hvsnap")


def run(home: Path, *args: str) -> Any:
    """One command in-process; the parsed ``--json`` output."""
    result = CliRunner().invoke(main, ["--home", str(home), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_installed_console_script_runs() -> None:
    done = subprocess.run([HVSNAP, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "snapshot" in done.stdout, done.stderr


def test_tour_semantics(tmp_path: Path) -> None:
    """Deploy; v1; A with memory; v2; B disk-only; revert to A; C; delete A; revert to B."""
    vm = run(tmp_path, "vm", "deploy", "--name", "web1")["id"]
    run(tmp_path, "guest", "write", vm, "motd", "v1")
    a = run(tmp_path, "snapshot", "create", vm, "--memory", "--name", "A")
    run(tmp_path, "guest", "write", vm, "motd", "v2")
    b = run(tmp_path, "snapshot", "create", vm, "--name", "B")
    assert (a["type"], b["type"], b["parentName"]) == ("DiskAndMemory", "Disk", "A")

    assert run(tmp_path, "snapshot", "revert", a["id"])["state"] == "Running"
    assert run(tmp_path, "guest", "read", vm, "motd")["value"] == "v1"
    current = [s["displayname"] for s in run(tmp_path, "snapshot", "list", "--vm", vm) if s["current"]]
    assert current == ["A"]

    c = run(tmp_path, "snapshot", "create", vm, "--name", "C")
    parents = {s["displayname"]: s.get("parentName") for s in run(tmp_path, "snapshot", "list", "--vm", vm)}
    assert parents == {"A": None, "B": "A", "C": "A"}

    run(tmp_path, "snapshot", "delete", a["id"])
    after = {s["displayname"]: s for s in run(tmp_path, "snapshot", "list", "--vm", vm)}
    assert set(after) == {"B", "C"}
    assert after["B"].get("parent") is None and after["C"].get("parent") is None
    assert after["C"]["current"] is True and c["id"] == after["C"]["id"]

    assert run(tmp_path, "snapshot", "revert", b["id"])["state"] == "Stopped"
    run(tmp_path, "vm", "start", vm)
    assert run(tmp_path, "guest", "read", vm, "motd")["value"] == "v2"

    tree = CliRunner().invoke(main, ["--home", str(tmp_path), "snapshot", "tree", vm]).output
    assert "B" in tree and "current" in tree.split("B", 1)[1].splitlines()[0]


# ------------------------------------------------------------------------------- refusals


class Cli:
    """The CLI in-process (click's runner) on one state folder."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.runner = CliRunner()

    def __call__(self, *args: str, account: str | None = None) -> Any:
        result = self.raw(*args, account=account)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    def raw(self, *args: str, account: str | None = None) -> Any:
        pre = ["--home", str(self.home)] + (["--account", account] if account else [])
        return self.runner.invoke(main, [*pre, *args, "--json"])

    def state(self) -> tuple[dict[str, list[tuple[Any, ...]]], str]:
        engine = create_engine(f"sqlite:///{self.home / 'hvsnap.db'}")
        with engine.connect() as conn:
            rows = {t.name: [tuple(r) for r in conn.execute(select(t))] for t in tables.metadata.sorted_tables}
        engine.dispose()
        return rows, (self.home / "host.json").read_text()

    def refused(self, code: int, *args: str, account: str | None = None) -> str:
        before = self.state()
        result = self.raw(*args, account=account)
        assert result.exit_code == 3, result.output
        error = json.loads(result.output)
        assert error["errorcode"] == code, error
        assert self.state() == before, "a refused command changed the database or the host"
        return error["errortext"]  # type: ignore[no-any-return]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def test_create_rules(cli: Cli) -> None:
    running = cli("vm", "deploy", "--name", "r")["id"]
    stopped = cli("vm", "deploy", "--name", "s", "--stopped")["id"]
    assert "Running state" in cli.refused(431, "snapshot", "create", stopped, "--memory")
    cli.refused(431, "snapshot", "create", running, "--name", "n" * 256)
    cli.refused(431, "snapshot", "create", running, "--description", "d" * 256)
    cli.refused(431, "snapshot", "create", "00000000-0000-0000-0000-000000000000")
    cli("capabilities", "set", "--vm-snapshot-enabled", "false")
    assert "not enabled" in cli.refused(431, "snapshot", "create", running)
    cli("capabilities", "set", "--vm-snapshot-enabled", "true")
    cli("config", "set", "vmsnapshot.max", "2")
    cli("snapshot", "create", running)
    cli("snapshot", "create", stopped)
    cli("snapshot", "create", running)
    assert "can just have : 2" in cli.refused(530, "snapshot", "create", running)


def test_permissions(cli: Cli) -> None:
    cli("account", "create", "alice")
    cli("account", "create", "bob")
    vm = cli("vm", "deploy", "--name", "mine", account="alice")["id"]
    snap = cli("snapshot", "create", vm, account="alice")["id"]
    cli.refused(531, "snapshot", "create", vm, account="bob")
    cli.refused(531, "snapshot", "revert", snap, account="bob")
    cli.refused(531, "snapshot", "delete", snap, account="bob")
    cli.refused(531, "snapshot", "delete-all", vm, account="bob")
    cli.refused(531, "vm", "stop", vm, account="bob")
    cli.refused(531, "guest", "read", vm, "k", account="bob")
    cli.refused(531, "config", "set", "vmsnapshot.max", "3", account="bob")
    assert cli("snapshot", "list", account="bob") == []
    assert [s["id"] for s in cli("snapshot", "list", account="alice")] == [snap]


def test_revert_delete_and_layout_rules(cli: Cli) -> None:
    vm = cli("vm", "deploy", "--name", "v")["id"]
    vol = cli("volume", "create", "--name", "data")["id"]
    snap = cli("snapshot", "create", vm)["id"]
    assert "VM snapshots" in cli.refused(431, "vm", "attach-volume", vm, vol)
    assert "stop it first" in cli.refused(431, "vm", "change-offering", vm, "large")
    cli("snapshot", "delete", snap)
    cli.refused(431, "snapshot", "delete", snap)
    cli.refused(431, "snapshot", "revert", snap)
    cli("vm", "attach-volume", vm, vol)
    cli("vm", "destroy", vm)
    cli.refused(431, "snapshot", "create", vm)


def test_bad_configuration_and_usage(cli: Cli) -> None:
    cli("init")
    cli.refused(431, "config", "set", "hyperv.vmsnapshot.export.strategy", "sometimes")
    cli.refused(431, "config", "set", "vmsnapshot.max", "1.5")
    cli.refused(431, "snapshot", "list", "--state", "Bogus")
    assert cli.raw("snapshot", "create").exit_code == 2  # missing VMID
    assert cli.raw("snapshot", "list", "--page", "x").exit_code == 2


@pytest.mark.parametrize(
    "name",
    ["x'; Remove-VM -Name * -Force; '$(whoami)", "semi;colon", "back`tick`", "ünïcödé ✓ 快照", 'quote "double"'],
)
def test_hostile_names_are_kept_verbatim(cli: Cli, name: str) -> None:
    vm = cli("vm", "deploy", "--name", "v")["id"]
    snap = cli("snapshot", "create", vm, "--name", name, "--description", name)
    assert (snap["displayname"], snap["description"]) == (name, name)
    assert [s["id"] for s in cli("snapshot", "list", "--name", name)] == [snap["id"]]


def test_a_busy_host_is_refused_clearly_and_admin_keys_still_work(cli: Cli) -> None:
    """A process that holds the simulated host without serving it (a server would publish
    itself and take the commands) makes a second driver refuse clearly instead of hanging;
    admin-keys needs only the database."""
    from simulator.driver import SimulatedHyperVDriver

    cli("init")
    holder = SimulatedHyperVDriver(cli.home / "host.json")
    try:
        keys = cli.runner.invoke(main, ["--home", str(cli.home), "admin-keys", "--json"])
        assert keys.exit_code == 0 and set(json.loads(keys.output)) == {"apikey", "secretkey"}
        with pytest.raises(Exception, match="in use by another hvsnap process"):
            SimulatedHyperVDriver(cli.home / "host.json", lock_wait=0.2)
    finally:
        holder.close()
    assert cli("vm", "list") == []
