"""The commands a user expects and what they print: names and short ids as references,
user text printed literally, integers and negative numbers as the API takes them, help with
an example everywhere, subtree deletes and expunges."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from harness.cli import main
from tests.test_cli import Cli

HOSTILE = ["[/]", "[bold]x", "[link=https://example.com]y[/link]", "red\x1b[31m!", "two\nlines", ":smile: \u202eevil"]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def human(cli: Cli, *args: str, width: int = 80) -> str:
    """The command's output for people (no --json), ``width`` columns wide."""
    result = CliRunner(env={"COLUMNS": str(width)}).invoke(main, ["--home", str(cli.home), *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("name", HOSTILE)
def test_user_text_prints_literally_with_control_characters_escaped(cli: Cli, name: str) -> None:
    vm = cli("vm", "deploy", "--name", name)
    snap = cli("snapshot", "create", vm["id"], "--name", name, "--description", name)
    assert (vm["name"], snap["displayname"]) == (name, name)  # --json: the text itself, JSON-escaped
    shown = name.replace("\x1b", "\\x1b").replace("\n", "\\n").replace("\u202e", "\\u202e")
    views = (["vm", "list"], ["snapshot", "list"], ["snapshot", "tree", vm["id"]], ["snapshot", "show", snap["id"]])
    for args in views:
        out = human(cli, *args, width=200)
        assert "\x1b" not in out and "\u202e" not in out
        assert shown in out, (args, out)
    assert cli("snapshot", "show", "--vm", vm["id"], name)["id"] == snap["id"]  # and usable as a name


def test_ids_are_whole_and_names_or_short_ids_work_where_unique(cli: Cli) -> None:
    web = cli("vm", "deploy", "--name", "web1")["id"]
    db = cli("vm", "deploy", "--name", "db1")["id"]
    a = cli("snapshot", "create", "web1", "--name", "A")
    b = cli("snapshot", "create", "web1", "--name", "B")
    cli("snapshot", "create", "db1", "--name", "A")
    for width in (80, 50):  # a table, then each id on a line of its own
        listing = human(cli, "snapshot", "list", width=width)
        assert a["id"] in listing and b["id"] in listing, listing
        assert all(len(line) <= width for line in listing.splitlines()), listing
    assert any(line == b["id"] for line in human(cli, "snapshot", "list", width=50).splitlines())
    assert f"  {web}" in human(cli, "vm", "show", "web1", width=50).splitlines()  # a card, stacked

    text = human(cli, "snapshot", "tree", "web1")
    short = re.search(r"B\s+([0-9a-f]{8,})\s+Disk\s+Ready\s+<- current", text)
    assert short and b["id"].startswith(short.group(1)), text
    assert cli("snapshot", "revert", short.group(1))["id"] == web  # the short id, typed back
    assert "named 'A'" in cli.refused(431, "snapshot", "revert", "A")  # on two VMs: ambiguous
    assert "--vm VM" in cli.refused(431, "snapshot", "revert", "A")
    assert cli("snapshot", "revert", "--vm", "web1", "A")["id"] == web
    assert cli("snapshot", "show", "B")["id"] == b["id"]  # unique everywhere: no --vm needed
    cli("snapshot", "create", "web1", "--name", "B")
    assert "2 VM snapshots of VM web1 are named 'B'" in cli.refused(431, "snapshot", "delete", "--vm", "web1", "B")
    assert "No VM is named 'nope'" in cli.refused(431, "vm", "show", "nope")
    assert cli("vm", "show", db[:8])["name"] == "db1"


def test_tree_json_nests_children_and_subtree_delete_takes_them(cli: Cli) -> None:
    cli("vm", "deploy", "--name", "v")
    for name in ("A", "B", "C"):
        cli("snapshot", "create", "v", "--name", name)  # A <- B <- C
    cli("snapshot", "revert", "--vm", "v", "A")
    cli("vm", "start", "v")
    cli("snapshot", "create", "v", "--name", "D")  # A <- D, current
    tree = cli("snapshot", "tree", "v")
    [a] = tree["children"]
    assert [c["displayname"] for c in a["children"]] == ["B", "D"]
    assert [c["displayname"] for c in a["children"][0]["children"]] == ["C"]

    cli("snapshot", "delete", "--vm", "v", "B", "--subtree")
    left = {s["displayname"]: s for s in cli("snapshot", "list", "--vm", "v")}
    assert set(left) == {"A", "D"} and left["D"]["current"] and left["D"]["parentName"] == "A"
    cli("snapshot", "delete", "--vm", "v", "A", "--subtree")
    assert cli("snapshot", "list", "--vm", "v") == [] and "no VM snapshots" in human(cli, "snapshot", "tree", "v")


@pytest.mark.parametrize("strategy", ["on-stop", "on-snapshot"])
def test_subtree_delete_of_a_stopped_vm_leaves_host_and_database_alike(cli: Cli, strategy: str) -> None:
    cli("config", "set", "hyperv.vmsnapshot.export.strategy", strategy)
    vm = cli("vm", "deploy", "--name", "v")
    cli("guest", "write", "v", "k", "a")
    cli("snapshot", "create", "v", "--name", "A")
    cli("guest", "write", "v", "k", "b")
    for name in ("B", "C"):
        cli("snapshot", "create", "v", "--name", name)  # A <- B <- C, exported when stopped
    cli("vm", "stop", "v")
    cli("snapshot", "delete", "--vm", "v", "B", "--subtree")  # on the exported VM, registered for it
    cli("vm", "start", "v")
    [a] = cli("snapshot", "list", "--vm", "v")
    host = json.loads((cli.home / "host.json").read_text())["vms"][vm["instancename"]]
    assert set(host["checkpoints"]) == {a["name"]} and a["current"]
    cli("snapshot", "revert", "--vm", "v", "A")
    cli("vm", "start", "v")
    assert cli("guest", "read", "v", "k")["value"] == "a"


def test_expunge_a_destroyed_vm(cli: Cli) -> None:
    cli("vm", "deploy", "--name", "gone")
    cli("vm", "deploy", "--name", "later")
    assert "only a Destroyed one" in cli.refused(431, "vm", "expunge", "gone")
    assert cli("vm", "destroy", "gone")["state"] == "Destroyed"
    assert cli("vm", "expunge", "gone") == {"success": True, "displaytext": "success"}
    cli("vm", "destroy", "later")
    cli("vm", "destroy", "later", "--expunge")  # destroyed earlier: the expunge is what is left
    assert cli("vm", "list") == [] and human(cli, "vm", "list").strip() == "no VMs"


def test_integers_go_to_the_api_and_negative_numbers_are_values(cli: Cli) -> None:
    cli("vm", "deploy", "--name", "v")
    cli("account", "create", "alice")
    assert "out of range" in cli.refused(431, "snapshot", "list", "--pagesize", "99999999999999999999")
    assert "out of range" in cli.refused(431, "limit", "set", "--account", "alice", "--max", "99999999999999999999")
    assert "must not be negative" in cli.refused(431, "config", "set", "vmsnapshot.max", "-5")
    assert cli("limit", "set", "--account", "alice", "--max", "-1")["max"] == -1
    assert cli.raw("config", "set", "vmsnapshot.max", "-5", "--bogus").exit_code == 2  # still a usage error


def test_account_keys_and_admin_keys(cli: Cli) -> None:
    alice = cli("account", "create", "alice")
    cli("account", "create", "bob")
    mine = cli("account", "keys", "alice", account="alice")
    assert mine["account"] == "alice" and mine["apikey"] and mine["secretkey"]
    assert cli("account", "keys", "alice")["apikey"] == mine["apikey"]  # the admin may see them
    cli.refused(431, "account", "keys", "alice", account="bob")  # bob cannot see alice
    fresh = cli("account", "keys", "alice", "--register")
    assert fresh["apikey"] != mine["apikey"]
    assert [a["name"] for a in cli("account", "list")] == ["admin", "alice", "bob"]
    assert [a["id"] for a in cli("account", "list", account="alice")] == [alice["id"]]
    wrong = CliRunner().invoke(main, ["--home", str(cli.home), "--account", "alice", "admin-keys", "--json"])
    assert wrong.exit_code == 2 and "hvsnap account keys alice" in wrong.output


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    out = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        out.append(((*path, name), cmd))
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, (*path, name)))
    return out


#: Commands other parts of hvsnap own (their help is theirs).
ELSEWHERE = {"serve", "host", "emulate-host", "simulate", "report"}


def test_every_group_and_command_has_a_one_line_help_and_an_example() -> None:
    runner = CliRunner(env={"COLUMNS": "80"})
    top = runner.invoke(main, ["--help"]).output
    for path, cmd in _commands(main):
        if len(path) == 1:  # hvsnap --help: every group with its purpose, on one line, not cut
            assert re.search(rf"^  {re.escape(path[0])}\s+\S.*[^.]\n  \S", top, re.M), (path, top)
        if path[0] in ELSEWHERE:
            continue
        text = runner.invoke(main, [*path, "--help"]).output
        assert (cmd.help or "").strip(), path
        assert re.search(r"Example:\n\s+hvsnap ", text), (path, text)
        if isinstance(cmd, click.Group):  # its commands' one-line help, not cut
            assert not re.search(r"^  \S+\s+.*\.\.\.$", text, re.M), (path, text)


def test_json_everywhere_and_empty_lists_say_no(cli: Cli) -> None:
    cli("init")
    for args, noun in (
        (["vm", "list"], "no VMs"),
        (["snapshot", "list"], "no VM snapshots"),
        (["volume", "list"], "no volumes"),
        (["policy", "list"], "no VM snapshot policies"),
        (["job", "list"], "no jobs"),
    ):
        assert cli(*args) == []
        assert human(cli, *args).strip() == noun
    report = cli("policy", "run-due")
    assert report["launched"] == [] and human(cli, "policy", "run-due").strip() == "no policy was due"
    assert json.loads(CliRunner().invoke(main, ["--home", str(cli.home), "offering", "list", "--json"]).output)
