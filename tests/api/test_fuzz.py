"""Fuzz the four VM snapshot commands' parameters through the wire: whatever arrives,
the answer is never a server error (5xx other than CloudStack's 531 "permission denied"),
and a refused call leaves the database exactly as it was."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.api.registry import COMMANDS
from harness.api.server import Serving, serving
from tests.api.conftest import raw
from tests.service.conftest import World

#: CloudStack answers "permission denied" with 531: a refusal, not a server error.
PERMISSION_DENIED = 531
SNAPSHOT_COMMANDS = ("createVMSnapshot", "listVMSnapshot", "deleteVMSnapshot", "revertToVMSnapshot")
ODD = [
    "",
    " ",
    "true",
    "false",
    "TRUE",
    "1",
    "0",
    "-1",
    "2147483647",
    "2147483648",
    "99999999999999999999999",
    "%",
    "_",
    "\\",
    "' OR 1=1 --",
    "Ready",
    "Error",
    "Expunging",
    "Removed",
    "Allocated",
    "a" * 300,
    "1e3",
]
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


class Fixture:
    """A cloud with two users, each with a running VM and a snapshot of it."""

    def __init__(self, serving_: Serving) -> None:
        self.server = serving_
        self.world = World(serving_.cloud)
        w = self.world
        w.config("vmsnapshot.max", "1000")  # the 530 limit is a rule of its own, tested in tests/service
        self.callers = [w.admin, w.account("alice"), w.account("mallory")]
        self.refs: list[str] = []
        for caller in self.callers[1:]:
            vm = w.deploy(f"vm-of-{caller.name}", caller=caller)
            snap = w.snap(vm, caller=caller, name="s1")
            self.refs += [vm, snap["id"], caller.uuid]

    def refresh(self) -> None:
        self.current = self.refs + [s["id"] for s in self.world.snaps(pagesize=20)]

    def ref(self, index: int) -> str:
        """The ``index``-th of the ids that exist now (the draw itself never depends on state)."""
        return self.current[index % len(self.current)]

    def value(self) -> st.SearchStrategy[str]:
        return st.one_of(st.integers(0, 63).map(self.ref), st.sampled_from(ODD), TEXT, st.integers().map(str))

    def settle(self, jobid: str) -> dict[str, Any]:
        m = self.world.m
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            job = m.query_job(self.world.admin, jobid)
            if job["jobstatus"] != 0:
                return job
            time.sleep(0.005)
        raise AssertionError(f"job {jobid} did not finish")


def test_snapshot_commands_never_5xx_and_refusals_change_nothing(tmp_path: Path) -> None:
    with serving(tmp_path, driver="sim", port=0, state_file=None) as running:
        fx = Fixture(running)
        outcomes: dict[int, int] = {}

        @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(data=st.data())
        def one_request(data: st.DataObject) -> None:
            fx.refresh()
            command = data.draw(st.sampled_from(SNAPSHOT_COMMANDS), "command")
            names = [p.name for p in COMMANDS[command.lower()].params] + ["tags[0].key", "tags[0].value", "extra"]
            params = data.draw(st.dictionaries(st.sampled_from(names), fx.value(), max_size=6), "params")
            caller = data.draw(st.sampled_from(fx.callers), "caller")
            before = fx.world.dump()
            wire = {"command": command, "response": "json", "apiKey": caller.api_key or "", **params}
            resp = raw(fx.server, wire, caller.secret_key, data.draw(st.sampled_from(["get", "post"]), "method"))
            outcomes[resp.status_code] = outcomes.get(resp.status_code, 0) + 1
            assert resp.status_code < 500 or resp.status_code == PERMISSION_DENIED, resp.text
            body = resp.json()
            assert list(body) == [f"{command.lower()}response"]
            inner = body[f"{command.lower()}response"]
            if resp.status_code != 200:
                assert inner["errorcode"] == resp.status_code
                assert fx.world.dump() == before, f"a refused {command} changed the database"
                return
            if "jobid" in inner:
                job = fx.settle(inner["jobid"])
                assert job["jobresult"].get("errortext") != "Unexpected exception", job

        one_request()
        assert outcomes.get(200, 0) > 0, outcomes
        assert sum(n for code, n in outcomes.items() if code != 200) > 0, outcomes
