"""Ansible's ngine_io.cloudstack collection (bundled with the ``ansible`` package) against
``hvsnap serve``: one playbook run, every task's ``changed`` / ``failed`` read from the JSON
callback, and the end state checked through the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cs import CloudStack

from harness.api.server import Serving

PLAYBOOK = Path(__file__).parent / "ansible" / "vmsnapshots.yml"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"

#: task name -> (changed, failed)
EXPECTED = {
    "zone info": (False, False),
    "deploy with the hypervisor given": (True, False),
    "deploy without a hypervisor": (True, False),
    "deploy again (nothing to do)": (False, False),
    "instance info": (False, False),
    "snapshot with memory": (True, False),
    "snapshot with tags": (True, False),
    "snapshot again (nothing to do)": (False, False),
    "revert": (True, False),
    "remove": (True, False),
    "remove again (nothing to do)": (False, False),
    "tags updated": (True, False),
}


def test_the_playbook_runs_as_an_operator_expects(server: Serving, env_client: CloudStack, tmp_path: Path) -> None:
    admin = server.cloud.admin
    template = env_client.listTemplates(templatefilter="featured")["template"][0]["name"]
    env = {
        **os.environ,
        "CLOUDSTACK_ENDPOINT": server.endpoint,
        "CLOUDSTACK_KEY": admin.api_key or "",
        "CLOUDSTACK_SECRET": admin.secret_key or "",
        "CLOUDSTACK_TIMEOUT": "30",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_HOME": str(tmp_path / "home"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
    }
    done = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-e", f"template='{template}'", str(PLAYBOOK)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(done.stdout)
    results = {
        task["task"]["name"]: (
            task["hosts"]["localhost"].get("changed", False),
            task["hosts"]["localhost"].get("failed", False),
            task["hosts"]["localhost"].get("msg"),
        )
        for play in report["plays"]
        for task in play["tasks"]
    }
    assert {name: r[:2] for name, r in results.items()} == EXPECTED, {n: r for n, r in results.items() if r[2]}
    assert done.returncode == 0

    vms = {v["name"]: v for v in env_client.listVirtualMachines()["virtualmachine"]}
    assert {vms["web-hv"]["hypervisor"], vms["web-plain"]["hypervisor"]} == {"Hyperv"}
    (tagged,) = env_client.listVMSnapshot(virtualmachineid=vms["web-hv"]["id"])["vmSnapshot"]
    assert tagged["displayname"] == "tagged"
    assert [(t["key"], t["value"]) for t in tagged["tags"]] == [("env", "dev")]
