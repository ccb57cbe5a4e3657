"""The API as cmk and Marvin discover it: ``listApis`` alone tells every command, its
parameters (type, length, required, related) and its response fields. A client that knows
nothing else can call every command: valid values are answered with objects holding only
the fields listApis declared, invalid ones with a 431 naming the parameter; and the ``cs``
client works over GET and POST alike."""

from __future__ import annotations

import re
from typing import Any

import pytest
from cs import CloudStack

from harness.api.registry import COMMANDS
from harness.api.server import Serving
from tests.api.conftest import ClientFactory, deploy, raw

BAD_VALUES = {"boolean": "maybe", "integer": "12x", "short": "99999", "long": "1e9", "date": "last tuesday"}


@pytest.fixture
def apis(env_client: CloudStack) -> list[dict[str, Any]]:
    return env_client.listApis()["api"]  # type: ignore[no-any-return]


def test_listapis_gives_full_metadata(apis: list[dict[str, Any]], env_client: CloudStack) -> None:
    assert len(apis) == len(COMMANDS)
    for api in apis:
        assert {"name", "description", "isasync", "params", "response"} <= set(api), api["name"]
        assert api["description"], api["name"]
        for p in api["params"]:
            assert {"name", "description", "type", "length", "required"} <= set(p), (api["name"], p)
        for f in api["response"]:
            assert {"name", "description", "type"} <= set(f), (api["name"], f)
    by_name = {a["name"]: a for a in apis}
    snapshot = by_name["createVMSnapshot"]
    assert (snapshot["isasync"], snapshot["since"]) == (True, "4.2.0")
    assert set(snapshot["related"].split(",")) == {"listVMSnapshot"}
    vm_param = next(p for p in snapshot["params"] if p["name"] == "virtualmachineid")
    assert (vm_param["type"], vm_param["required"]) == ("uuid", True)
    assert "listVirtualMachines" in vm_param["related"].split(",")
    nic = next(f for f in by_name["listVirtualMachines"]["response"] if f["name"] == "nic")
    assert {"ipaddress", "isdefault", "networkid"} <= {f["name"] for f in nic["response"]}
    one = env_client.listApis(name="listvmsnapshot")["api"]
    assert [a["name"] for a in one] == ["listVMSnapshot"]


def test_every_command_driven_from_its_metadata(
    apis: list[dict[str, Any]], env_client: CloudStack, server: Serving
) -> None:
    """For each command: a missing required parameter, a value of the wrong type and a
    string over its length are 431s naming the parameter; each list command, called with
    values found through ``related``, answers objects holding only declared fields."""
    vm = deploy(env_client)
    env_client.createVMSnapshot(virtualmachineid=vm, fetch_result=True)
    secret = server.cloud.admin.secret_key
    by_name = {a["name"]: a for a in apis}

    def call(name: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        resp = raw(server, {"command": name, "apikey": server.cloud.admin.api_key or "", **params}, secret)
        body = resp.json()
        assert list(body) == [f"{name.lower()}response"], name
        assert resp.status_code < 500 or resp.status_code == 530, (name, params, body)
        return resp.status_code, body[f"{name.lower()}response"]

    def value_for(p: dict[str, Any]) -> str | None:
        if p["type"] == "uuid":
            for lister in p.get("related", "").split(","):
                if lister in by_name and not [q for q in by_name[lister]["params"] if q["required"]]:
                    found = next(
                        iter(v for v in call(lister, {"listall": "true"})[1].values() if isinstance(v, list)), []
                    )
                    if found and "id" in found[0]:
                        return str(found[0]["id"])
            return None
        if p["type"] == "string":
            choices = re.match(r"^(\w+), ", p["description"])
            return choices.group(1) if choices else "x"
        return {"boolean": "true", "integer": "1", "short": "1", "long": "1"}.get(p["type"])

    checked = 0
    for api in apis:
        name, params = api["name"], api["params"]
        required = {p["name"]: value_for(p) for p in params if p["required"]}
        for missing in required:
            status, body = call(name, {k: v or "x" for k, v in required.items() if k != missing})
            assert (status, body["errorcode"]) == (431, 431), (name, missing)
            assert missing in body["errortext"], (name, missing, body)
        if None in required.values():
            continue  # a required id nothing lists: the refusals above still ran
        base = {k: v for k, v in required.items() if v is not None}
        for p in params:
            bad = BAD_VALUES.get(p["type"]) or ("y" * (p["length"] + 1) if p["type"] == "string" else None)
            if bad is None:
                continue
            status, body = call(name, {**base, p["name"]: bad})
            assert status == 431 and p["name"] in body["errortext"], (name, p["name"], body)
            checked += 1
        if name.startswith("list") and not api["isasync"]:
            status, body = call(name, base)
            assert status == 200, (name, body)
            declared = {f["name"]: f for f in api["response"]}
            for items in (v for v in body.values() if isinstance(v, list)):
                for item in items:
                    assert set(item) <= set(declared), (name, set(item) - set(declared))
                    for key, value in item.items():
                        nested = declared[key].get("response")
                        if nested and isinstance(value, list):
                            names = {f["name"] for f in nested}
                            assert all(set(v) <= names for v in value), (name, key)
            if name in ("listVMSnapshot", "listVirtualMachines", "listZones", "listApis"):
                assert body.get("count"), name  # the fixtures are there to be shown
    assert checked > 100


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_cs_client_over_get_and_post(server: Serving, client: ClientFactory, method: str) -> None:
    admin = server.cloud.admin
    api = client(admin.api_key, admin.secret_key, method=method)
    vm = deploy(api, f"vm-{method}")
    snap = api.createVMSnapshot(virtualmachineid=vm, name=f"over {method} & más", fetch_result=True)["vmsnapshot"]
    assert snap["displayname"] == f"over {method} & más"
    api.createTags(
        resourcetype="VMSnapshot", resourceids=snap["id"], tags=[{"key": "via", "value": method}], fetch_result=True
    )
    assert api.listVMSnapshot(tags=[{"key": "via", "value": method}])["vmSnapshot"][0]["id"] == snap["id"]
    assert api.deleteVMSnapshot(vmsnapshotid=snap["id"], fetch_result=True)["success"] is True
