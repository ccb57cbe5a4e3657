"""``hvsnap host check`` against the emulated host, and against a closed port."""

from __future__ import annotations

import json
import socket

import pytest
from click.testing import CliRunner

from harness.cli import main
from simulator.psrp_endpoint.endpoint import EmulatedHost


def check(*args: str, password: str) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(main, ["host", "check", *args, "--json"], env={"HVSNAP_HYPERV_PASSWORD": password})
    return result.exit_code, json.loads(result.output)


def test_host_check_passes_on_the_emulated_host(endpoint: EmulatedHost) -> None:
    args = ("127.0.0.1", "--port", str(endpoint.port), "--no-tls", "--auth", "ntlm", "--user", endpoint.username)
    code, checks = check(*args, password=endpoint.password)
    assert code == 0, checks
    assert [c["name"] for c in checks] == ["connectivity", "authentication", "hyper-v module", "permissions"]
    code, checks = check(*args, password="wrong")
    assert code == 1 and checks[-1] == {"name": "authentication", "ok": False, "detail": checks[-1]["detail"]}
    assert "wrong" not in json.dumps(checks)


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
