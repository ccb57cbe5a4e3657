"""The README's "Live hosts" section, run exactly as printed.

Each command of the section's code block runs in order, as a bash script: the install in a
fresh virtualenv (so ``[live]`` alone must carry what ``emulate-host`` needs), the rest in
a private network namespace (``unshare --net``, loopback only), so the fixed ports the
README prints (WinRM's 5985, the API's 8080) collide with nothing else on the machine.
The two servers (``emulate-host``, ``serve``) are started in the background, waited for,
used, and ended by the script; ``pytest features`` runs the features over the wire against
the emulated host, with the test environment's pytest.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVERS = {("hvsnap", "emulate-host"): "emulated Hyper-V host on", ("hvsnap", "serve"): "hvsnap API on"}

#: after ``serve`` is up: a VM and a snapshot through the API, over the live driver
PROBE = textwrap.dedent(
    """
    import json, subprocess, sys
    from cs import CloudStack
    keys = json.loads(subprocess.run(["hvsnap", "admin-keys", "--json"], capture_output=True, check=True).stdout)
    api = CloudStack(endpoint="http://127.0.0.1:8080/client/api", key=keys["apikey"], secret=keys["secretkey"],
                     poll_interval=0.05, job_timeout=60)
    zone = api.listZones()["zone"][0]["id"]
    template = api.listTemplates(templatefilter="featured")["template"][0]["id"]
    offering = api.listServiceOfferings(name="small")["serviceoffering"][0]["id"]
    vm = api.deployVirtualMachine(serviceofferingid=offering, templateid=template, zoneid=zone, name="readme",
                                  fetch_result=True)["virtualmachine"]
    snap = api.createVMSnapshot(virtualmachineid=vm["id"], snapshotmemory=True, fetch_result=True)["vmsnapshot"]
    print("probe", vm["state"], snap["state"], snap["type"])
    api.destroyVirtualMachine(id=vm["id"], expunge=True, fetch_result=True)  # the features reuse its name
    """
)


def live_section() -> list[str]:
    """The commands of the README's live section, continuation lines joined."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Live hosts\n", 1)[1].split("\n## ", 1)[0]
    lines = [line[4:] for line in section.splitlines() if line.startswith("    ")]
    commands: list[str] = []
    for line in lines:
        if commands and commands[-1].rstrip().endswith("\\"):
            commands[-1] = commands[-1].rstrip()[:-1] + " " + line.strip()
        else:
            commands.append(line)
    return commands


def words(command: str) -> list[str]:
    return shlex.split(command, comments=True)


def script(commands: list[str], logs: Path) -> str:
    """The section as a bash script: servers in the background until their banner shows."""
    out = ["set -euo pipefail", "ip link set lo up", "trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT"]
    for i, command in enumerate(commands):
        banner = SERVERS.get(tuple(words(command)[:2]))  # type: ignore[arg-type]
        if banner is None:
            out.append(command)
            continue
        log = logs / f"server-{i}.log"
        out += [
            f"{command.split('#', 1)[0].rstrip()} >{log} 2>&1 &",
            f"for _ in $(seq 300); do grep -qs {shlex.quote(banner)} {log} && break; sleep 0.1; done",
            f"grep -q {shlex.quote(banner)} {log} || {{ cat {log}; exit 1; }}",
        ]
        if words(command)[1] == "serve":
            out.append(f"{shlex.quote(sys.executable)} -c {shlex.quote(PROBE)}")
    return "\n".join(out) + "\n"


def test_the_live_section_lists_the_commands_it_promises() -> None:
    firsts = [tuple(words(c)[:2]) for c in live_section()]
    assert firsts == [
        ("pip", "install"),
        ("hvsnap", "emulate-host"),
        ("export", "HVSNAP_HYPERV_USERNAME=hvsnap"),
        ("hvsnap", "host"),
        ("hvsnap", "serve"),
        ("pytest", "features"),
    ]


def private_network() -> bool:
    """Root with ``unshare`` and ``ip``, allowed to make a network namespace."""
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "--net", "ip", "link", "set", "lo", "up"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not private_network(), reason="needs root, unshare and ip for a private network namespace")
def test_every_live_command_of_the_readme_works_as_printed(tmp_path: Path) -> None:
    commands = live_section()
    install, rest = commands[0], commands[1:]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # the fresh venv first: its hvsnap has only [live]; pytest (the test extra) is this one's
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HVSNAP_", "PYTEST_"))},
        "PATH": f"{venv / 'bin'}:{Path(sys.executable).parent}:{os.environ['PATH']}",
        "HVSNAP_HOME": str(tmp_path / "home"),
        "VIRTUAL_ENV": str(venv),
    }
    done = subprocess.run(["bash", "-c", install], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    missing = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import pytest"], capture_output=True, text=True, check=False
    )
    assert missing.returncode != 0, "the fresh venv must not have the test extra"

    body = script(rest, tmp_path)
    (tmp_path / "live.sh").write_text(body)
    done = subprocess.run(
        ["unshare", "--net", "bash", str(tmp_path / "live.sh")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    logs = "".join(p.read_text() for p in sorted(tmp_path.glob("server-*.log")))
    report = f"{done.stdout[-4000:]}\n{done.stderr[-3000:]}\n{logs[-2000:]}"
    assert done.returncode == 0, report
    assert "ok   connectivity" in done.stdout and "ok   permissions" in done.stdout, report
    assert "probe Running Ready DiskAndMemory" in done.stdout, report
    assert " passed" in done.stdout and " failed" not in done.stdout, report


def test_serve_names_its_hyperv_host_or_says_what_is_missing(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from harness.cli import main

    runner = CliRunner()
    missing = runner.invoke(main, ["--home", str(tmp_path), "serve", "--driver", "live"])
    assert missing.exit_code == 2 and "--driver live needs --hyperv-host HOST[:PORT]" in missing.output
    assert "Traceback" not in missing.output
    stray = runner.invoke(main, ["--home", str(tmp_path), "serve", "--hyperv-host", "hv01"])
    assert stray.exit_code == 2 and "--driver live only" in stray.output
