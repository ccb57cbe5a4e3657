"""Marvin's test_vm_snapshots flow, driven by the PyPI ``cs`` client configured through
CLOUDSTACK_ENDPOINT / CLOUDSTACK_KEY / CLOUDSTACK_SECRET, with its own job polling."""

from __future__ import annotations

import pytest
import requests
from cs import CloudStack, CloudStackApiException

from harness.api.server import Serving
from harness.drivers import RevertToVMSnapshot
from harness.jobs.runners import ThreadRunner
from tests.api.conftest import deploy, raw
from tests.service.conftest import Failing, World


def guest(api: CloudStack, vm: str, key: str = "data") -> str | None:
    return api.readGuestData(virtualmachineid=vm, key=key)["guestdata"]["value"]  # type: ignore[no-any-return]


def test_create_change_revert_delete_like_marvin(env_client: CloudStack) -> None:
    api = env_client
    vm = deploy(api, "marvin-vm")
    api.writeGuestData(virtualmachineid=vm, key="data", value="random-data-1")

    snap = api.createVMSnapshot(
        virtualmachineid=vm, name="snap1", description="marvin", snapshotmemory=True, fetch_result=True
    )["vmsnapshot"]
    assert snap["state"] == "Ready"
    assert snap["type"] == "DiskAndMemory"
    assert snap["displayname"] == "snap1"
    listed = api.listVMSnapshot(virtualmachineid=vm, listall=True)
    assert listed["count"] == 1
    assert [s["id"] for s in listed["vmSnapshot"]] == [snap["id"]]

    api.writeGuestData(virtualmachineid=vm, key="data", value="random-data-2")
    assert guest(api, vm) == "random-data-2"

    reverted = api.revertToVMSnapshot(vmsnapshotid=snap["id"], fetch_result=True)["virtualmachine"]
    assert reverted["id"] == vm
    assert reverted["state"] == "Running"  # a disk-and-memory snapshot ends Running
    assert guest(api, vm) == "random-data-1"

    assert api.deleteVMSnapshot(vmsnapshotid=snap["id"], fetch_result=True)["success"] is True
    assert api.listVMSnapshot(virtualmachineid=vm, listall=True) == {}


def test_async_answers_and_job_records(env_client: CloudStack) -> None:
    api = env_client
    vm = deploy(api)
    started = api.createVMSnapshot(virtualmachineid=vm, name="s")
    assert set(started) == {"id", "jobid"}
    job = api._jobresult(started["jobid"])  # the client's own poller
    assert job["vmsnapshot"]["id"] == started["id"]
    result = api.queryAsyncJobResult(jobid=started["jobid"])
    assert result["jobstatus"] == 1
    assert result["jobresultcode"] == 0
    assert result["jobinstancetype"] == "VmSnapshot"
    assert result["jobinstanceid"] == started["id"]
    jobs = api.listAsyncJobs()
    assert started["jobid"] in {j["jobid"] for j in jobs["asyncjobs"]}
    deleted = api.deleteVMSnapshot(vmsnapshotid=started["id"])
    assert set(deleted) == {"jobid"}


def test_failed_job_shows_in_query_async_job_result(env_client: CloudStack, server: Serving) -> None:
    api = env_client
    vm = deploy(api)
    snap = api.createVMSnapshot(virtualmachineid=vm, fetch_result=True)["vmsnapshot"]
    manager = server.cloud.manager
    manager.runner = ThreadRunner(Failing(World(server.cloud), RevertToVMSnapshot))
    with pytest.raises(CloudStackApiException) as failed:
        api.revertToVMSnapshot(vmsnapshotid=snap["id"], fetch_result=True)
    assert failed.value.args[0] == "Job failure"
    assert failed.value.error["errorcode"] == 530
    job = api.listAsyncJobs(pagesize=1)["asyncjobs"][0]
    assert (job["cmd"], job["jobstatus"], job["jobresultcode"]) == ("revertToVMSnapshot", 2, 530)
    assert set(job["jobresult"]) == {"errorcode", "errortext"}
    assert api.listVMSnapshot(vmsnapshotid=snap["id"])["vmSnapshot"][0]["state"] == "Ready"


def test_envelope_list_keys_and_errors(env_client: CloudStack, server: Serving) -> None:
    api = env_client
    admin = server.cloud.admin
    vm = deploy(api)
    api.createVMSnapshot(virtualmachineid=vm, name="a", fetch_result=True)
    resp = raw(
        server, {"command": "listVMSnapshot", "response": "json", "apiKey": admin.api_key or ""}, admin.secret_key
    )
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert list(body) == ["listvmsnapshotresponse"]
    assert body["listvmsnapshotresponse"]["count"] == 1
    assert "vmSnapshot" in body["listvmsnapshotresponse"]

    keys = {
        "listVirtualMachines": "virtualmachine",
        "listVolumes": "volume",
        "listServiceOfferings": "serviceoffering",
        "listZones": "zone",
        "listHypervisorCapabilities": "hypervisorCapabilities",
        "listConfigurations": "configuration",
        "listDomains": "domain",
        "listAccounts": "account",
        "listAsyncJobs": "asyncjobs",
        "listApis": "api",
    }
    for command, key in keys.items():
        listed = getattr(api, command)()
        assert listed["count"] == len(listed[key]) or listed["count"] > len(listed[key]), command
    assert api.listSnapshots() == {}
    assert api.listTemplates(templatefilter="self") == {}
    page2 = api.listVMSnapshot(page=2, pagesize=20)
    assert page2 == {"count": 1}

    resp = raw(
        server, {"command": "deleteVMSnapshot", "response": "json", "apiKey": admin.api_key or ""}, admin.secret_key
    )
    assert resp.status_code == 431
    assert resp.json() == {
        "deletevmsnapshotresponse": {
            "errorcode": 431,
            "cserrorcode": 4350,
            "errortext": "Unable to execute API command deletevmsnapshot due to missing parameter vmsnapshotid",
        }
    }
    resp = raw(
        server, {"command": "noSuchCommand", "response": "json", "apiKey": admin.api_key or ""}, admin.secret_key
    )
    assert resp.status_code == 432
    assert list(resp.json()) == ["nosuchcommandresponse"]


def test_sync_commands_of_the_spec(env_client: CloudStack) -> None:
    api = env_client
    caps = api.listHypervisorCapabilities(hypervisor="Hyperv")["hypervisorCapabilities"][0]
    off = api.updateHypervisorCapabilities(id=caps["id"], vmsnapshotenabled=False)["hypervisorcapabilities"]
    assert off["vmsnapshotenabled"] is False
    vm = deploy(api)
    with pytest.raises(CloudStackApiException) as refused:
        api.createVMSnapshot(virtualmachineid=vm)
    assert refused.value.error["errorcode"] == 431
    api.updateHypervisorCapabilities(id=caps["id"], vmsnapshotenabled=True)

    conf = api.updateConfiguration(name="vmsnapshot.max", value="3")["configuration"]
    assert conf == {"name": "vmsnapshot.max", "value": "3"}
    assert api.listConfigurations(name="vmsnapshot.max")["configuration"][0]["value"] == "3"

    offering = api.createServiceOffering(name="xl", displaytext="xl", cpunumber=8, cpuspeed=2000, memory=8192)
    api.stopVirtualMachine(id=vm, fetch_result=True)
    changed = api.changeServiceForVirtualMachine(id=vm, serviceofferingid=offering["serviceoffering"]["id"])
    assert changed["virtualmachine"]["serviceofferingname"] == "xl"
    started = api.startVirtualMachine(id=vm, fetch_result=True)["virtualmachine"]
    assert started["state"] == "Running"

    volume = api.createVolume(name="data1", size=5, fetch_result=True)["volume"]
    attached = api.attachVolume(id=volume["id"], virtualmachineid=vm, fetch_result=True)["volume"]
    assert attached["virtualmachineid"] == vm
    snapshot = api.createSnapshot(volumeid=volume["id"], fetch_result=True)["snapshot"]
    assert api.listSnapshots(volumeid=volume["id"])["snapshot"][0]["id"] == snapshot["id"]
    assert api.listVolumes(virtualmachineid=vm)["count"] == 2
    detached = api.detachVolume(id=volume["id"], fetch_result=True)["volume"]
    assert "virtualmachineid" not in detached  # absent values are omitted, as CloudStack omits them

    domain = api.createDomain(name="d1")["domain"]
    account = api.createAccount(username="u1", domainid=domain["id"], accounttype=0)["account"]
    keys = api.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    assert set(keys) == {"apikey", "secretkey"}
    assert {d["name"] for d in api.listDomains()["domain"]} == {"ROOT", "d1"}
    assert "u1" in {a["name"] for a in api.listAccounts()["account"]}
    assert "createVMSnapshot" in {a["name"] for a in api.listApis()["api"]}


def test_post_form_and_unknown_path(server: Serving, client: object) -> None:
    admin = server.cloud.admin
    api = CloudStack(endpoint=server.endpoint, key=admin.api_key, secret=admin.secret_key, method="post")
    assert api.listZones()["count"] == 1
    resp = requests.get(server.endpoint.replace("/client/api", "/nowhere"), timeout=10)
    assert resp.status_code == 404
    assert resp.headers["Content-Type"].startswith("application/json")
