"""``hvsnap policy ...`` and ``hvsnap limit ...``: the happy path, and refusals
with their code, exit status 3 and nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import Cli


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def test_policy_create_list_update_run_delete(cli: Cli) -> None:
    vm = cli("vm", "deploy", "--name", "web")["id"]
    created = cli(
        "policy",
        "create",
        vm,
        "--interval",
        "daily",
        "--schedule",
        "30:01",
        "--timezone",
        "America/New_York",
        "--maxsnaps",
        "5",
        "--memory",
    )
    assert (created["intervaltype"], created["schedule"], created["maxsnaps"]) == ("DAILY", "30:01", 5)
    assert created["snapshotmemory"] is True and created["nextrun"].endswith(":30:00+0000")
    [listed] = cli("policy", "list", "--vm", vm)
    assert listed["id"] == created["id"]
    updated = cli("policy", "update", created["id"], "--interval", "weekly", "--schedule", "0:12:1", "--no-memory")
    assert (updated["intervaltype"], updated["schedule"], updated["snapshotmemory"]) == ("WEEKLY", "00:12:01", False)
    assert cli("policy", "run-due")["launched"] == []  # nothing due yet
    assert cli("policy", "delete", created["id"])["success"] is True
    assert cli("policy", "list") == []


def test_policy_refusals(cli: Cli) -> None:
    vm = cli("vm", "deploy", "--name", "web")["id"]
    assert "expected 'MM:HH'" in cli.refused(
        431, "policy", "create", vm, "--interval", "DAILY", "--schedule", "7", "--maxsnaps", "3"
    )
    assert "Invalid timezone" in cli.refused(
        431,
        "policy",
        "create",
        vm,
        "--interval",
        "HOURLY",
        "--schedule",
        "0",
        "--timezone",
        "Nowhere/City",
        "--maxsnaps",
        "3",
    )
    assert "maxSnaps exceeds limit: 8 for interval type: HOURLY" in cli.refused(
        431, "policy", "create", vm, "--interval", "HOURLY", "--schedule", "0", "--maxsnaps", "9"
    )
    cli("policy", "create", vm, "--interval", "HOURLY", "--schedule", "0", "--maxsnaps", "3")
    assert "one policy per Instance" in cli.refused(
        431, "policy", "create", vm, "--interval", "HOURLY", "--schedule", "30", "--maxsnaps", "3"
    )
    cli("account", "create", "bob")
    cli.refused(
        531, "policy", "create", vm, "--interval", "HOURLY", "--schedule", "0", "--maxsnaps", "3", account="bob"
    )


def test_limit_set_list_and_an_account_at_its_limit(cli: Cli) -> None:
    cli("account", "create", "alice")
    vm = cli("vm", "deploy", "--name", "a1", account="alice")["id"]
    limit = cli("limit", "set", "--account", "alice", "--max", "1")
    assert (limit["account"], limit["resourcetype"], limit["max"], limit["used"]) == ("alice", "100", 1, 0)
    cli("snapshot", "create", vm, account="alice")
    text = cli.refused(535, "snapshot", "create", vm, account="alice")
    assert "type 'vmsnapshot' for account name=alice" in text and "its limit is 1" in text
    [mine] = cli("limit", "list", account="alice")
    assert (mine["max"], mine["used"]) == (1, 1)
    cli.refused(531, "limit", "set", "--account", "alice", "--max", "5", account="alice")
    cli.refused(431, "limit", "set", "--account", "alice", "--max", "-7")
    cli.refused(431, "limit", "set", "--account", "alice", "--max", "5", "--type", "3")
