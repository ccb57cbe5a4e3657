"""The answers the clients people use depend on, as CloudStack gives them: Instances with
NICs and tags, templates with their hypervisor and format, accounts with their users,
resource tags, the event log, async job records, paging and listall, and the commands a
Basic zone answers empty."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cs import CloudStack, CloudStackApiException

from harness.api.server import Serving, serving
from tests.api.conftest import ClientFactory, admin_client, deploy
from tests.api.test_security import code_of

GUEST = ipaddress.IPv4Network("127.10.0.0/16")


def user(env_client: CloudStack, client: ClientFactory, name: str) -> CloudStack:
    account = env_client.createAccount(username=name, accounttype=0, firstname="A", lastname="B", email="a@b")
    keys = env_client.registerUserKeys(id=account["account"]["user"][0]["id"])["userkeys"]
    return client(keys["apikey"], keys["secretkey"])


def test_an_instance_carries_a_default_nic_and_what_clients_read(env_client: CloudStack) -> None:
    api = env_client
    first, second = deploy(api, "web1"), deploy(api, "web2")
    vm = api.listVirtualMachines(id=first)["virtualmachine"][0]
    assert {
        k: vm[k] for k in ("hypervisor", "templatename", "serviceofferingname", "cpunumber", "memory", "haenable")
    } == {
        "hypervisor": "Hyperv",
        "templatename": "Windows Server 2019 (Hyper-V)",
        "serviceofferingname": "small",
        "cpunumber": 1,
        "memory": 512,
        "haenable": False,
    }
    assert (vm["account"], vm["domain"], vm["zonename"], vm["tags"]) == ("admin", "ROOT", "zone1", [])
    (nic,) = vm["nic"]
    assert nic["isdefault"] is True and nic["traffictype"] == "Guest"
    assert ipaddress.IPv4Address(nic["ipaddress"]) in GUEST
    assert nic["gateway"] == "127.10.0.1" and nic["netmask"] == "255.255.0.0"
    assert nic["networkid"] == api.listVirtualMachines(id=second)["virtualmachine"][0]["nic"][0]["networkid"]
    other = api.listVirtualMachines(id=second)["virtualmachine"][0]["nic"][0]["ipaddress"]
    assert other != nic["ipaddress"]
    # expunge gives the address back; the next Instance takes the lowest free one
    assert api.destroyVirtualMachine(id=first, expunge=True, fetch_result=True)
    third = deploy(api, "web3")
    assert api.listVirtualMachines(id=third)["virtualmachine"][0]["nic"][0]["ipaddress"] == nic["ipaddress"]
    assert api.listZones(name="zone1")["zone"][0]["guestcidraddress"] == "127.10.0.0/16"


def test_a_full_guest_range_refuses_a_deploy_and_records_nothing(env_client: CloudStack) -> None:
    api = env_client
    api.updateConfiguration(name="guest.network.cidr", value="127.20.0.0/30")  # gateway + one address
    deploy(api, "only")
    before = api.listVirtualMachines(listall=True)["count"]
    with pytest.raises(CloudStackApiException) as full:
        deploy(api, "one-too-many")
    assert full.value.error["errorcode"] == 530
    assert "Insufficient address capacity" in full.value.error["errortext"]
    assert api.listVirtualMachines(listall=True)["count"] == before
    assert code_of(api.updateConfiguration, name="guest.network.cidr", value="not-a-network") == 431


def test_templates_zones_hypervisors_and_storage(env_client: CloudStack, client: ClientFactory) -> None:
    api = env_client
    templates = api.listTemplates(templatefilter="executable")["template"]
    assert {(t["hypervisor"], t["format"], t["isready"], t["ispublic"], t["isfeatured"]) for t in templates} == {
        ("Hyperv", "VHDX", True, True, True)
    }
    assert {"ostypeid", "ostypename", "templatetype", "passwordenabled", "zoneid", "zonename"} <= set(templates[0])
    named = api.listTemplates(templatefilter="featured", name=templates[1]["name"])
    assert [t["id"] for t in named["template"]] == [templates[1]["id"]]
    assert api.listTemplates(templatefilter="featured", hypervisor="KVM") == {}
    assert api.listTemplates(templatefilter="community") == {}
    assert api.listTemplates(templatefilter="self") == {}
    assert api.listTemplates(templatefilter="all")["count"] == 3  # one zone, three catalogue templates
    alice = user(api, client, "alice")
    assert code_of(alice.listTemplates, templatefilter="all") == 431
    assert code_of(api.listTemplates, templatefilter="mine") == 431

    zone = api.listZones()["zone"][0]
    assert zone["networktype"] == "Basic"
    assert api.listZones(id=zone["id"])["count"] == 1
    assert api.listZones(name="nowhere") == {}
    assert api.listHypervisors()["hypervisor"] == [{"name": "Hyperv"}]
    assert api.listHypervisors(zoneid=zone["id"])["count"] == 1

    vm = deploy(api)
    pool = api.listStoragePools()["storagepool"][0]
    assert pool["hypervisor"] == "Hyperv" and pool["state"] == "Up" and pool["zoneid"] == zone["id"]
    assert pool["disksizetotal"] > pool["disksizeallocated"] >= 20 << 30
    root = api.listVolumes(virtualmachineid=vm)["volume"][0]
    assert (root["storageid"], root["storage"]) == (pool["id"], pool["name"])
    assert code_of(alice.listStoragePools) == 531


def test_a_basic_zone_has_no_public_addresses_rules_or_projects(env_client: CloudStack) -> None:
    api = env_client
    for name in ("listPublicIpAddresses", "listPortForwardingRules", "listIpForwardingRules", "listProjects"):
        assert getattr(api, name)(listall=True) == {}
    assert code_of(api.listPublicIpAddresses, zoneid="6b1a2f39-0000-4000-8000-000000000000") == 431
    assert code_of(api.listPortForwardingRules, domainid="6b1a2f39-0000-4000-8000-000000000000") == 431
    caps = api.listCapabilities()["capability"]
    assert caps["securitygroupsenabled"] is False and caps["cloudstackversion"]


def test_accounts_answer_with_their_users_and_delete_takes_everything(
    env_client: CloudStack, client: ClientFactory
) -> None:
    api = env_client
    created = api.createAccount(username="carol", firstname="Carol", lastname="C", email="c@x", accounttype=0)
    account = created["account"]
    (carol_user,) = account["user"]
    assert (carol_user["username"], carol_user["firstname"], carol_user["accountid"]) == (
        "carol",
        "Carol",
        account["id"],
    )
    assert code_of(api.registerUserKeys, id=account["id"]) == 431  # an account id is not a user id
    keys = api.registerUserKeys(id=carol_user["id"])["userkeys"]
    carol = client(keys["apikey"], keys["secretkey"])
    assert [u["id"] for u in carol.listUsers()["user"]] == [carol_user["id"]]
    assert {u["username"] for u in api.listUsers(listall=True)["user"]} == {"admin", "carol"}

    vm = deploy(carol, "carol-vm")
    snap = carol.createVMSnapshot(virtualmachineid=vm, fetch_result=True)["vmsnapshot"]
    deleted = api.deleteAccount(id=account["id"], fetch_result=True)
    assert deleted["success"] is True
    assert api.listAccounts(name="carol") == {}
    assert api.listVirtualMachines(id=vm) == {}
    assert api.listVMSnapshot(vmsnapshotid=snap["id"]) == {}
    with pytest.raises(CloudStackApiException) as gone:
        carol.listZones()
    assert gone.value.error["errorcode"] == 401
    admin = api.listAccounts(name="admin")["account"][0]
    assert code_of(api.deleteAccount, id=admin["id"]) == 431


def test_admins_deploy_for_an_account_and_list_it_with_listall(env_client: CloudStack, client: ClientFactory) -> None:
    api = env_client
    alice = user(api, client, "alice")
    domain = api.listDomains()["domain"][0]["id"]
    vm = deploy(api, "for-alice", account="alice", domainid=domain)
    assert alice.listVirtualMachines()["virtualmachine"][0]["id"] == vm
    assert api.listVirtualMachines() == {}  # the admin's own account has none
    assert api.listVirtualMachines(listall=True)["count"] == 1
    assert api.listVirtualMachines(account="alice", domainid=domain)["count"] == 1
    assert api.listVirtualMachines(id=vm)["count"] == 1
    assert code_of(alice.deployVirtualMachine, **_deploy_args(api), account="admin", domainid=domain) == 531


def _deploy_args(api: CloudStack) -> dict[str, str]:
    return {
        "zoneid": api.listZones()["zone"][0]["id"],
        "templateid": api.listTemplates(templatefilter="featured")["template"][0]["id"],
        "serviceofferingid": api.listServiceOfferings(name="small")["serviceoffering"][0]["id"],
    }


def test_pagesize_minus_one_lists_everything(env_client: CloudStack) -> None:
    api = env_client
    vm = deploy(api)
    for n in range(3):
        api.createVMSnapshot(virtualmachineid=vm, name=f"s{n}", fetch_result=True)
    assert len(api.listVMSnapshot(pagesize=1, page=2)["vmSnapshot"]) == 1
    everything = api.listVMSnapshot(pagesize=-1, page=5)
    assert (everything["count"], len(everything["vmSnapshot"])) == (3, 3)
    assert code_of(api.listVMSnapshot, pagesize=0) == 431


def test_tags_on_snapshots_and_instances(env_client: CloudStack, client: ClientFactory) -> None:
    api = env_client
    vm = deploy(api)
    snap = api.createVMSnapshot(virtualmachineid=vm, name="tagged", fetch_result=True)["vmsnapshot"]
    plain = api.createVMSnapshot(virtualmachineid=vm, name="plain", fetch_result=True)["vmsnapshot"]
    done = api.createTags(
        resourcetype="VMSnapshot", resourceids=snap["id"], tags=[{"key": "env", "value": "prod"}], fetch_result=True
    )
    assert done["success"] is True
    api.createTags(resourcetype="UserVm", resourceids=vm, tags=[{"key": "role", "value": "web"}], fetch_result=True)

    shown = api.listVMSnapshot(vmsnapshotid=snap["id"])["vmSnapshot"][0]["tags"]
    assert [(t["key"], t["value"], t["resourcetype"], t["resourceid"]) for t in shown] == [
        ("env", "prod", "VMSnapshot", snap["id"])
    ]
    assert api.listVirtualMachines(id=vm)["virtualmachine"][0]["tags"][0]["key"] == "role"
    by_tag = api.listVMSnapshot(tags=[{"key": "env", "value": "prod"}])
    assert [s["id"] for s in by_tag["vmSnapshot"]] == [snap["id"]]
    assert api.listVMSnapshot(tags=[{"key": "env", "value": "dev"}]) == {}
    assert api.listVMSnapshot(vmsnapshotid=plain["id"], tags=[{"key": "env", "value": "prod"}]) == {}
    assert api.listTags(resourcetype="VMSnapshot")["tag"][0]["value"] == "prod"
    assert api.listTags(key="role")["count"] == 1

    # refusals change nothing
    assert (
        code_of(api.createTags, resourcetype="VMSnapshot", resourceids=snap["id"], tags=[{"key": "env", "value": "x"}])
        == 431
    )
    assert (
        code_of(api.createTags, resourcetype="VMSnapshot", resourceids=snap["id"], tags=[{"key": "", "value": "x"}])
        == 431
    )
    assert (
        code_of(api.createTags, resourcetype="Volume", resourceids=snap["id"], tags=[{"key": "a", "value": "b"}]) == 431
    )
    assert (
        code_of(
            api.createTags, resourcetype="VMSnapshot", resourceids=snap["id"], tags=[{"key": "k" * 256, "value": "b"}]
        )
        == 431
    )
    mallory = user(api, client, "mallory")
    assert code_of(mallory.createTags, resourcetype="UserVm", resourceids=vm, tags=[{"key": "a", "value": "b"}]) == 531
    assert mallory.listTags(listall=True) == {}
    assert api.listTags(listall=True)["count"] == 2

    api.deleteTags(resourcetype="VMSnapshot", resourceids=snap["id"], tags=[{"key": "env"}], fetch_result=True)
    assert api.listVMSnapshot(vmsnapshotid=snap["id"])["vmSnapshot"][0]["tags"] == []
    api.createTags(
        resourcetype="VMSnapshot", resourceids=snap["id"], tags=[{"key": "env", "value": "dev"}], fetch_result=True
    )
    assert api.listVMSnapshot(tags=[{"key": "env", "value": "dev"}])["count"] == 1


def test_events_record_the_snapshot_lifecycle(env_client: CloudStack, client: ClientFactory) -> None:
    api = env_client
    vm = deploy(api)
    snap = api.createVMSnapshot(virtualmachineid=vm, snapshotmemory=True, fetch_result=True)["vmsnapshot"]
    api.revertToVMSnapshot(vmsnapshotid=snap["id"], fetch_result=True)
    api.deleteVMSnapshot(vmsnapshotid=snap["id"], fetch_result=True)

    created = api.listEvents(type="VMSNAPSHOT.CREATE")["event"]
    assert [e["state"] for e in created] == ["Completed", "Started", "Scheduled"]  # newest first
    assert {(e["level"], e["account"], e["resourcetype"], e["resourceid"]) for e in created} == {
        ("INFO", "admin", "VmSnapshot", snap["id"])
    }
    assert created[0]["description"].startswith("Successfully completed")
    for kind in ("VMSNAPSHOT.REVERTTO", "VMSNAPSHOT.DELETE", "VM.CREATE"):
        assert api.listEvents(type=kind)["count"] == 3, kind
    assert api.listEvents(level="ERROR") == {}
    assert code_of(api.listEvents, level="LOUD") == 431
    assert user(api, client, "eve").listEvents() == {}
    one = created[1]
    assert api.listEvents(id=one["id"])["event"] == [one]


def test_a_snapshot_lost_on_stop_is_an_error_event_of_its_owner(env_client: CloudStack) -> None:
    api = env_client
    api.updateConfiguration(name="hyperv.vmsnapshot.export.strategy", value="none")
    vm = deploy(api)
    snap = api.createVMSnapshot(virtualmachineid=vm, snapshotmemory=True, fetch_result=True)["vmsnapshot"]
    assert api.listEvents(type="VMSNAPSHOT.LOST") == {}
    api.stopVirtualMachine(id=vm, fetch_result=True)  # no export: the checkpoint goes with the VM
    assert api.listVMSnapshot(vmsnapshotid=snap["id"])["vmSnapshot"][0]["state"] == "Error"
    (lost,) = api.listEvents(type="VMSNAPSHOT.LOST")["event"]
    assert (lost["level"], lost["state"], lost["account"], lost["resourcetype"], lost["resourceid"]) == (
        "ERROR",
        "Completed",
        "admin",
        "VmSnapshot",
        snap["id"],
    )
    assert "without an export" in lost["description"]
    assert api.listEvents(level="ERROR")["event"] == [lost]  # the stop itself succeeded


def test_a_failed_job_records_an_error_event(env_client: CloudStack) -> None:
    api = env_client
    vm = deploy(api)
    api.stopVirtualMachine(id=vm, fetch_result=True)
    with pytest.raises(CloudStackApiException):
        api.rebootVirtualMachine(id=vm, fetch_result=True)  # refused before any job: no event
    assert api.listEvents(type="VM.REBOOT") == {}
    api.startVirtualMachine(id=vm, fetch_result=True)
    rebooted = api.rebootVirtualMachine(id=vm, fetch_result=True)["virtualmachine"]
    assert rebooted["state"] == "Running"
    assert api.listEvents(type="VM.REBOOT")["count"] == 3


def test_destroyed_instances_expunge_and_offerings_delete(env_client: CloudStack) -> None:
    api = env_client
    vm = deploy(api)
    api.destroyVirtualMachine(id=vm, fetch_result=True)
    assert api.listVirtualMachines(id=vm)["virtualmachine"][0]["state"] == "Destroyed"
    assert api.expungeVirtualMachine(id=vm, fetch_result=True)["success"] is True
    assert api.listVirtualMachines(id=vm) == {}
    assert code_of(api.expungeVirtualMachine, id=vm) == 431
    offering = api.createServiceOffering(name="tmp", displaytext="tmp", cpunumber=1, cpuspeed=500, memory=256)
    assert api.deleteServiceOffering(id=offering["serviceoffering"]["id"])["success"] is True
    assert api.listServiceOfferings(name="tmp") == {}
    assert code_of(api.deleteServiceOffering, id=offering["serviceoffering"]["id"]) == 431


def test_deleting_a_deleted_snapshot_is_a_431(env_client: CloudStack) -> None:
    api = env_client
    vm = deploy(api)
    snap = api.createVMSnapshot(virtualmachineid=vm, fetch_result=True)["vmsnapshot"]
    api.deleteVMSnapshot(vmsnapshotid=snap["id"], fetch_result=True)
    assert code_of(api.deleteVMSnapshot, vmsnapshotid=snap["id"]) == 431


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[Serving]:
    """The timed host at one simulated second per wall second: a memory checkpoint of the
    small VM takes about a second, long enough to see its job pending."""
    with serving(tmp_path, driver="sim-timed", port=0, state_file=None, time_scale=1.0) as running:
        yield running


def test_a_pending_job_has_no_jobresult(slow_server: Serving) -> None:
    api = admin_client(slow_server, job_timeout=60)
    vm = deploy(api, "slow")
    started = api.createVMSnapshot(virtualmachineid=vm, snapshotmemory=True)
    pending = api.queryAsyncJobResult(jobid=started["jobid"])
    assert pending["jobstatus"] == 0
    assert "jobresult" not in pending and "jobresulttype" not in pending and "completed" not in pending
    assert (pending["cmd"], pending["jobinstancetype"], pending["jobinstanceid"]) == (
        "createVMSnapshot",
        "VmSnapshot",
        started["id"],
    )
    assert pending["jobprocstatus"] == 0 and pending["created"]
    deadline = time.monotonic() + 30
    while api.queryAsyncJobResult(jobid=started["jobid"])["jobstatus"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    done = api.queryAsyncJobResult(jobid=started["jobid"])
    assert (done["jobstatus"], done["jobresultcode"], done["jobresulttype"]) == (1, 0, "object")
    assert done["jobresult"]["vmsnapshot"]["id"] == started["id"] and done["completed"]


def test_list_filters_are_honoured_not_dropped(env_client: CloudStack) -> None:
    api = env_client
    web, db = deploy(api, "web-1"), deploy(api, "db-1")
    api.createTags(resourcetype="UserVm", resourceids=web, tags=[{"key": "tier", "value": "web"}], fetch_result=True)
    assert [v["id"] for v in api.listVirtualMachines(tags=[{"key": "tier", "value": "web"}])["virtualmachine"]] == [web]
    assert api.listVirtualMachines(tags=[{"key": "tier", "value": "db"}]) == {}
    assert [v["id"] for v in api.listVirtualMachines(keyword="db-")["virtualmachine"]] == [db]
    assert [o["name"] for o in api.listServiceOfferings(keyword="med")["serviceoffering"]] == ["medium"]
    assert api.listVolumes(tags=[{"key": "tier", "value": "web"}]) == {}
    assert api.listVolumes(keyword="ROOT")["count"] == 2
    assert code_of(api.listVirtualMachines, projectid="6b1a2f39-0000-4000-8000-000000000000") == 431
    assert code_of(api.listZones, page=0) == 431


def test_jobs_since_a_date_and_volumes_of_the_callers_own_account(
    env_client: CloudStack, client: ClientFactory
) -> None:
    api = env_client
    deploy(api)
    assert api.listAsyncJobs(startdate="2000-01-01")["count"] >= 1
    assert api.listAsyncJobs(startdate="2999-01-01") == {}
    assert code_of(api.listAsyncJobs, startdate="yesterday") == 431
    alice = user(api, client, "alice")
    deploy(alice, "alice-vm")
    assert {v["account"] for v in api.listVolumes()["volume"]} == {"admin"}
    assert {v["account"] for v in api.listVolumes(listall=True)["volume"]} == {"admin", "alice"}
    assert {v["account"] for v in alice.listVolumes()["volume"]} == {"alice"}


def test_events_by_resource_and_by_the_event_that_started_them(env_client: CloudStack) -> None:
    api = env_client
    vm = deploy(api)
    snap = api.createVMSnapshot(virtualmachineid=vm, fetch_result=True)["vmsnapshot"]
    mine = api.listEvents(resourceid=snap["id"])["event"]
    assert {e["type"] for e in mine} == {"VMSNAPSHOT.CREATE"} and len(mine) == 3
    scheduled = next(e for e in mine if e["state"] == "Scheduled")
    family = api.listEvents(startid=scheduled["id"])["event"]
    assert sorted(e["state"] for e in family) == ["Completed", "Scheduled", "Started"]
    assert {e.get("parentid") for e in family if e["state"] != "Scheduled"} == {scheduled["id"]}
    assert api.listEvents(resourcetype="VirtualMachine", pagesize=2)["count"] == 3


def test_instances_by_zone_and_template(env_client: CloudStack) -> None:
    api = env_client
    zone = api.listZones()["zone"][0]["id"]
    first, second = api.listTemplates(templatefilter="featured")["template"][:2]
    vm = deploy(api)  # from the first featured template
    assert [v["id"] for v in api.listVirtualMachines(zoneid=zone)["virtualmachine"]] == [vm]
    assert api.listVirtualMachines(templateid=first["id"])["count"] == 1
    assert api.listVirtualMachines(templateid=second["id"]) == {}
    assert api.listVirtualMachines(zoneid="6b1a2f39-0000-4000-8000-000000000000") == {}
