"""``hvsnap host check`` against the emulated host (open, a cluster node, and restricted as a
JEA role that hides cmdlets), and against a closed port."""

from __future__ import annotations

import ast
import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from live_driver.commands import CLUSTER_CMDLETS, CMDLETS
from simulator.host import HyperVHost
from simulator.psrp_endpoint.endpoint import EmulatedHost


def check(*args: str, password: str) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(main, ["host", "check", *args, "--json"], env={"HVSNAP_HYPERV_PASSWORD": password})
    return result.exit_code, json.loads(result.output)


def test_host_check_passes_on_the_emulated_host(endpoint: EmulatedHost) -> None:
    args = ("127.0.0.1", "--port", str(endpoint.port), "--no-tls", "--auth", "ntlm", "--user", endpoint.username)
    code, checks = check(*args, password=endpoint.password)
    assert code == 0, checks
    assert [c["name"] for c in checks] == ["connectivity", "authentication", "hyper-v module", "permissions", "cmdlets"]
    assert checks[-1]["detail"] == f"all {len(CMDLETS)} the driver sends are served"
    code, checks = check(*args, password="wrong")
    assert code == 1 and checks[-1] == {"name": "authentication", "ok": False, "detail": checks[-1]["detail"]}
    assert "wrong" not in json.dumps(checks)


def args_for(em: EmulatedHost) -> tuple[str, ...]:
    return ("127.0.0.1", "--port", str(em.port), "--no-tls", "--auth", "ntlm", "--user", em.username)


def test_host_check_names_the_cmdlets_a_restricted_endpoint_does_not_serve() -> None:
    hidden = ("Write-Error", "Where-Object")
    with EmulatedHost(HyperVHost(), username="tester", password="S3cret-pass", hidden_cmdlets=hidden) as em:
        code, checks = check(*args_for(em), password=em.password)
    assert code == 1
    assert checks[-1] == {
        "name": "cmdlets",
        "ok": False,
        "detail": "not served (a JEA role must expose them): Where-Object, Write-Error",
    }
    assert all(c["ok"] for c in checks[:-1])


def test_host_check_on_a_cluster_node_asks_for_the_cluster_cmdlets_too() -> None:
    nodes = ("HV-EMULATED", "HV-OTHER")
    with EmulatedHost(HyperVHost(), username="tester", password="S3cret-pass", cluster_nodes=nodes) as em:
        code, checks = check(*args_for(em), password=em.password)
    assert code == 0, checks
    assert checks[-1]["detail"] == f"all {len(CMDLETS) + len(CLUSTER_CMDLETS)} the driver sends are served"
    with EmulatedHost(
        HyperVHost(),
        username="tester",
        password="S3cret-pass",
        cluster_nodes=nodes,
        hidden_cmdlets=("Stop-ClusterGroup",),
    ) as em:
        code, checks = check(*args_for(em), password=em.password)
    assert code == 1 and checks[-1]["detail"].endswith(": Stop-ClusterGroup")


def test_the_cmdlet_list_is_every_cmdlet_the_driver_sends() -> None:
    sent = set()
    for path in (Path(__file__).resolve().parents[2] / "live_driver").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("cmd", "Cmdlet"):
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    sent.add(first.value)
    checks_only = {"Get-Module", "Get-Command"}  # host check's own questions
    assert sent - checks_only == set(CMDLETS) | set(CLUSTER_CMDLETS)
    assert len(CMDLETS) == len(set(CMDLETS))


def test_host_check_without_a_password_says_how_to_give_one(endpoint: EmulatedHost) -> None:
    # (not the emulator's own user: in this process its NTLM_USER_FILE would supply that one's password)
    args = ["host", "check", "127.0.0.1", "--port", str(endpoint.port), "--no-tls", "--auth", "ntlm", "--json"]
    result = CliRunner().invoke(main, [*args, "--user", "ops"], env={"HVSNAP_HYPERV_PASSWORD": None})
    assert result.exit_code == 1
    last = json.loads(result.output)[-1]
    assert last["name"] == "authentication" and not last["ok"]
    assert last["detail"].startswith("no password for ops: set HVSNAP_HYPERV_PASSWORD"), last


def test_host_check_reports_an_unreachable_host() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, checks = check("127.0.0.1", "--port", str(port), "--no-tls", password="x")
    assert code == 1 and checks[0]["name"] == "connectivity" and not checks[0]["ok"]


@pytest.mark.parametrize("argv", [["emulate-host", "--help"], ["host", "check", "--help"]])
def test_the_commands_are_registered(argv: list[str]) -> None:
    assert CliRunner().invoke(main, argv).exit_code == 0
