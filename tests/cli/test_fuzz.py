"""Fuzz the CLI the way the API is fuzzed: hypothesis picks commands and fills their
arguments with names, ids, hostile text and numbers far out of range. Whatever it types,
no traceback, the exit status is 0, 2 (usage) or 3 (refused), and a refusal changes
nothing (a job that ran and failed may leave its failed ``async_job`` row, nothing else)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cli import main
from harness.store import tables
from tests.test_cli import Cli

#: How many command lines one run tries (HVSNAP_CLI_FUZZ_EXAMPLES for a longer hunt).
EXAMPLES = int(os.environ.get("HVSNAP_CLI_FUZZ_EXAMPLES", "40"))
JOB_STATUS = list(tables.async_job.columns.keys()).index("job_status")

ODD = [
    "",
    "-",
    "--",
    "-5",
    "-1",
    "0",
    "2147483648",
    "99999999999999999999",
    "-99999999999999999999",
    "1e3",
    "[/]",
    "[bold]x",
    "[link=https://example.com]y",
    ":smile:",
    "\x1b[2J",
    "a\nb",
    "\u202e",
    "%",
    "' OR 1=1 --",
    "true",
    "Ready",
    "HOURLY",
    "00000000-0000-0000-0000-000000000000",
]
TEXT = st.one_of(st.sampled_from(ODD), st.text(st.characters(blacklist_categories=["Cs"]), max_size=8))
NUMBER = st.one_of(st.integers(-(10**22), 10**22).map(str), st.sampled_from(ODD))
#: The command lines, with placeholders: V a VM, S a snapshot, N a number, T any text.
TEMPLATES = [
    "vm list --state T",
    "vm show V",
    "vm deploy --name T --offering T",
    "vm start V",
    "vm stop V --no-wait",
    "vm destroy V",
    "vm expunge V",
    "vm change-offering V T",
    "snapshot create V --name T --memory",
    "snapshot list --vm V --pagesize N --page N",
    "snapshot show S --vm V",
    "snapshot revert S",
    "snapshot delete S --subtree",
    "snapshot tree V",
    "config set vmsnapshot.max N",
    "config get T",
    "limit set --account T --max N",
    "policy create V --interval T --schedule T --maxsnaps N",
    "guest write V T T",
    "guest read V T",
    "job show T",
    "account keys T",
    "volume create --name T --size N",
    "capabilities set --vm-snapshot-enabled T",
]


def argv_for(known: dict[str, list[str]]) -> st.SearchStrategy[list[str]]:
    fill = {
        "V": st.one_of(st.sampled_from(known["V"]), TEXT),
        "S": st.one_of(st.sampled_from(known["S"]), TEXT),
        "N": NUMBER,
        "T": TEXT,
    }

    @st.composite
    def build(draw: Any) -> list[str]:
        words = draw(st.sampled_from(TEMPLATES)).split()
        argv = [draw(fill[w]) if w in fill else w for w in words]
        if draw(st.booleans()):
            argv.append("--json")
        if draw(st.integers(0, 4)) == 0:
            argv.insert(draw(st.integers(0, len(argv))), draw(TEXT))  # a stray word anywhere
        if draw(st.integers(0, 5)) == 0:
            argv = ["--account", draw(st.sampled_from(["alice", *ODD])), *argv]
        return argv

    return build()


def test_whatever_is_typed_the_cli_answers_0_2_or_3_and_a_refusal_changes_nothing(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli("account", "create", "alice")
    vm = cli("vm", "deploy", "--name", "web1")["id"]
    snap = cli("snapshot", "create", "web1", "--name", "A")["id"]
    cli("snapshot", "create", "web1", "--name", "B")
    known = {"V": [vm, "web1", vm[:8]], "S": [snap, "A", "B", snap[:8]]}

    def state() -> tuple[dict[str, list[tuple[Any, ...]]], str]:
        rows, host = cli.state()
        return {k: v for k, v in rows.items() if k != "async_job"}, host

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(argv=argv_for(known))
    def one(argv: list[str]) -> None:
        before, jobs = state(), cli.state()[0]["async_job"]
        result = cli.runner.invoke(main, ["--home", str(tmp_path), *argv])
        assert result.exception is None or isinstance(result.exception, SystemExit), (argv, result.output)
        assert "Traceback" not in result.output
        assert result.exit_code in (0, 2, 3), (argv, result.exit_code, result.output)
        if result.exit_code == 3:
            error = json.loads(result.output)
            assert error["errorcode"] in (431, 530, 531, 535), (argv, error)
            assert error["errortext"] != "Unexpected exception (see hvsnap.log)", (argv, error)
        if result.exit_code != 0:
            assert state() == before, f"{argv} was refused but changed something"
            new_jobs = [row for row in cli.state()[0]["async_job"] if row not in jobs]
            assert all(row[JOB_STATUS] == 2 for row in new_jobs), new_jobs  # only failed jobs

    one()
