"""The policy and resource limit commands over HTTP with the ``cs`` client."""

from __future__ import annotations

import pytest
from cs import CloudStack, CloudStackApiException

from harness.api.server import Serving
from tests.api.conftest import ClientFactory, deploy


def test_policy_commands(env_client: CloudStack) -> None:
    api = env_client
    vm = deploy(api, "pol-vm")
    made = api.createVMSnapshotPolicy(
        virtualmachineid=vm,
        intervaltype="HOURLY",
        schedule="15",
        timezone="America/New_York",
        maxsnaps=4,
        snapshotmemory=True,
    )["vmsnapshotpolicy"]
    assert (made["virtualmachineid"], made["maxsnaps"], made["snapshotmemory"]) == (vm, 4, True)
    listed = api.listVMSnapshotPolicies(virtualmachineid=vm)
    assert listed["count"] == 1 and listed["vmsnapshotpolicy"][0]["id"] == made["id"]
    changed = api.updateVMSnapshotPolicy(id=made["id"], maxsnaps=2, timezone="Europe/Paris")["vmsnapshotpolicy"]
    assert (changed["maxsnaps"], changed["timezone"]) == (2, "Europe/Paris")
    assert api.deleteVMSnapshotPolicies(ids=made["id"])["success"] is True
    assert api.listVMSnapshotPolicies() == {}


@pytest.mark.parametrize(
    ("params", "code", "says"),
    [
        ({"intervaltype": "DAILY", "schedule": "10", "timezone": "UTC", "maxsnaps": 2}, 431, "expected 'MM:HH'"),
        ({"intervaltype": "HOURLY", "schedule": "10", "timezone": "Atlantis", "maxsnaps": 2}, 431, "Invalid timezone"),
        (
            {"intervaltype": "HOURLY", "schedule": "10", "timezone": "UTC", "maxsnaps": 9},
            431,
            "maxSnaps exceeds limit: 8 for interval type: HOURLY",
        ),
    ],
)
def test_policy_refusals(env_client: CloudStack, params: dict[str, object], code: int, says: str) -> None:
    vm = deploy(env_client, "pol-bad")
    with pytest.raises(CloudStackApiException) as info:
        env_client.createVMSnapshotPolicy(virtualmachineid=vm, **params)
    err = info.value.error
    assert err["errorcode"] == code and says in err["errortext"]


def test_resource_limits(env_client: CloudStack, server: Serving, client: ClientFactory) -> None:
    api = env_client
    root = api.listDomains()["domain"][0]["id"]
    account = api.createAccount(
        accounttype=0, username="carol", firstname="c", lastname="c", email="c@x", password="p", account="carol"
    )["account"]
    keys = api.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    carol = client(keys["apikey"], keys["secretkey"])
    limit = api.updateResourceLimit(resourcetype=100, max=1, account="carol", domainid=root)["resourcelimit"]
    assert (limit["resourcetypename"], limit["max"], limit["account"]) == ("vmsnapshot", 1, "carol")
    vm = deploy(carol, "carol-vm")
    carol.createVMSnapshot(virtualmachineid=vm, fetch_result=True)
    with pytest.raises(CloudStackApiException) as info:
        carol.createVMSnapshot(virtualmachineid=vm)
    assert info.value.error["errorcode"] == 535
    assert "for account name=carol" in info.value.error["errortext"]
    assert carol.listResourceLimits(resourcetype=100)["resourcelimit"][0]["used"] == 1
    with pytest.raises(CloudStackApiException) as denied:
        carol.updateResourceLimit(resourcetype="vmsnapshot", max=9, account="carol", domainid=root)
    assert denied.value.error["errorcode"] == 531
