"""``syncVMSnapshot``: VMSnapshotSync on demand over the API, for the root admin only, and
listed by ``listApis``."""

from __future__ import annotations

import time

import pytest
from cs import CloudStack, CloudStackApiException

from harness.api.server import Serving
from tests.api.conftest import ClientFactory, deploy


def test_sync_on_demand_is_listed_and_answers_the_admin(env_client: CloudStack) -> None:
    assert "syncVMSnapshot" in {a["name"] for a in env_client.listApis()["api"]}
    vm = deploy(env_client)
    env_client.createVMSnapshot(virtualmachineid=vm, fetch_result=True)
    done = env_client.syncVMSnapshot()["vmsnapshotsync"]
    assert (done["why"], done["settled"], done["jobs"], done["failed"]) == ("on demand", [], [], [])


def test_sync_on_demand_is_refused_to_a_user(server: Serving, env_client: CloudStack, client: ClientFactory) -> None:
    account = env_client.createAccount(username="alice", accounttype=0)["account"]
    keys = env_client.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    with pytest.raises(CloudStackApiException) as refused:
        client(keys["apikey"], keys["secretkey"]).syncVMSnapshot()
    assert refused.value.error["errorcode"] == 531


def test_serve_syncs_every_vmsnapshot_sync_interval(server: Serving, env_client: CloudStack) -> None:
    from harness.domain.states import VMSnapshotEvent

    vm = deploy(env_client)
    snap = env_client.createVMSnapshot(virtualmachineid=vm, fetch_result=True)["vmsnapshot"]
    manager = server.cloud.manager
    with manager.uow_factory() as uow:  # a revert cut short, with no job left to finish it
        row = uow.vm_snapshots.get_by_uuid(snap["id"])
        assert row is not None
        uow.vm_snapshots.transit(row, VMSnapshotEvent.RevertRequested)
        uow.commit()
    env_client.updateConfiguration(name="cluster.heartbeat.interval", value="100")
    env_client.updateConfiguration(name="vmsnapshot.sync.interval", value="1")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if env_client.listVMSnapshot(vmsnapshotid=snap["id"])["vmSnapshot"][0]["state"] == "Ready":
            break
        time.sleep(0.1)
    assert env_client.listVMSnapshot(vmsnapshotid=snap["id"])["vmSnapshot"][0]["state"] == "Ready"


def test_sync_reports_a_vm_made_on_the_host_outside_hvsnap_and_leaves_it_alone(
    server: Serving, env_client: CloudStack
) -> None:
    ours = env_client.listVirtualMachines(id=deploy(env_client))["virtualmachine"][0]["instancename"]
    server.cloud.driver.host.register("made-in-hyperv-manager", 512, 1, [])  # type: ignore[attr-defined]
    done = env_client.syncVMSnapshot()["vmsnapshotsync"]
    assert (done["unknownvms"], done["settled"], done["failed"]) == (["made-in-hyperv-manager"], [], [])
    assert [vm["instancename"] for vm in env_client.listVirtualMachines()["virtualmachine"]] == [ours]
