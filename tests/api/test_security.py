"""Signatures (missing, bad, expired), scoping across accounts, and no traceback ever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cs import CloudStack, CloudStackApiException

from harness.api.server import Serving
from harness.api.signing import signature, string_to_sign
from tests.api.conftest import ClientFactory, deploy, raw

AUTH_FAILED = "unable to verify user credentials and/or request signature"


def base(server: Serving, **extra: str) -> dict[str, str]:
    return {"command": "listZones", "response": "json", "apiKey": server.cloud.admin.api_key or "", **extra}


def expires(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%S%z")


def assert_401(resp: object, command: str = "listzones") -> None:
    assert resp.status_code == 401  # type: ignore[attr-defined]
    body = resp.json()  # type: ignore[attr-defined]
    assert body == {f"{command}response": {"errorcode": 401, "cserrorcode": 9999, "errortext": AUTH_FAILED}}


def test_a_signed_request_passes(server: Serving) -> None:
    secret = server.cloud.admin.secret_key
    resp = raw(server, base(server, signatureVersion="3", expires=expires(timedelta(minutes=5))), secret)
    assert resp.status_code == 200
    assert resp.json()["listzonesresponse"]["count"] == 1


def test_unsigned_request_is_refused(server: Serving) -> None:
    assert_401(raw(server, base(server)))
    assert_401(raw(server, {"command": "listZones", "response": "json"}))


def test_bad_signature_is_refused(server: Serving, client: ClientFactory) -> None:
    assert_401(raw(server, base(server), "not-the-secret"))
    assert_401(raw(server, base(server, signature="AAAA")))
    with pytest.raises(CloudStackApiException) as refused:
        client(server.cloud.admin.api_key, "wrong").listZones()
    assert refused.value.response.status_code == 401


def test_unknown_key_is_refused(server: Serving) -> None:
    params = base(server)
    params["apiKey"] = "nobody"
    assert_401(raw(server, params, server.cloud.admin.secret_key))


def test_expired_request_is_refused(server: Serving, client: ClientFactory) -> None:
    secret = server.cloud.admin.secret_key
    assert_401(raw(server, base(server, signatureVersion="3", expires=expires(-timedelta(seconds=1))), secret))
    assert_401(raw(server, base(server, signatureVersion="3"), secret))  # version 3 without expires
    assert_401(raw(server, base(server, signatureVersion="3", expires="tomorrow"), secret))
    stale = client(server.cloud.admin.api_key, secret, expiration=-1)  # cs: a negative expiration sends no expires
    assert stale.listZones()["count"] == 1  # legacy signing (no signatureVersion) has no expiry


def test_tampering_after_signing_is_refused(server: Serving) -> None:
    params = base(server, signatureVersion="3", expires=expires(timedelta(minutes=5)))
    params["signature"] = signature(params, server.cloud.admin.secret_key or "")
    params["command"] = "listApis"
    assert_401(raw(server, params), "listapis")


def test_cloudstack_sort_order_is_accepted_too(server: Serving) -> None:
    params = base(server, Zzz="1", aaa="2")  # a capital letter: cs and CloudStack sort differently
    secret = server.cloud.admin.secret_key or ""
    assert string_to_sign(params) != string_to_sign(params, lower_sort=True)
    params["signature"] = signature(params, secret, lower_sort=True)
    assert raw(server, params).status_code == 200


def test_values_with_spaces_stars_and_unicode(env_client: CloudStack) -> None:
    vm = deploy(env_client, "a b*c ~ é+&=")
    listed = env_client.listVirtualMachines(id=vm)["virtualmachine"][0]
    assert listed["displayname"] == "a b*c ~ é+&="


def test_oversized_body_is_refused(server: Serving) -> None:
    import requests

    resp = requests.post(server.endpoint, data=b"x" * (2 << 20), timeout=10)
    assert resp.status_code == 413
    assert resp.json()["errorresponse"]["errorcode"] == 413
    resp = requests.get(server.endpoint + "?" + "a" * 70_000, timeout=10)
    assert resp.status_code == 414
    assert resp.headers["Content-Type"].startswith("application/json")


def test_no_traceback_reaches_a_response(
    env_client: CloudStack, server: Serving, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(server.cloud.manager, "list_zones", boom)
    with pytest.raises(CloudStackApiException) as failed:
        env_client.listZones()
    assert failed.value.response.status_code == 530
    assert failed.value.error == {"errorcode": 530, "cserrorcode": 4250, "errortext": "Unexpected exception"}
    assert "Traceback" not in failed.value.response.text
    assert "internals" not in failed.value.response.text


# ---------------------------------------------------------------------------------- scoping


def users(server: Serving, env_client: CloudStack, client: ClientFactory) -> tuple[CloudStack, CloudStack]:
    def user(name: str) -> CloudStack:
        account = env_client.createAccount(username=name, accounttype=0)["account"]
        keys = env_client.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
        return client(keys["apikey"], keys["secretkey"])

    return user("alice"), user("mallory")


def code_of(call: object, **params: object) -> int:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)  # type: ignore[operator]
    assert refused.value.response.status_code == refused.value.error["errorcode"]
    return int(refused.value.error["errorcode"])


def test_a_second_user_gets_531_or_nothing_on_every_snapshot_api(
    server: Serving, env_client: CloudStack, client: ClientFactory
) -> None:
    alice, mallory = users(server, env_client, client)
    vm = deploy(alice, "alice-vm")
    started = alice.createVMSnapshot(virtualmachineid=vm, name="mine")
    snap = alice._jobresult(started["jobid"])["vmsnapshot"]

    assert code_of(mallory.createVMSnapshot, virtualmachineid=vm) == 531
    assert code_of(mallory.revertToVMSnapshot, vmsnapshotid=snap["id"]) == 531
    assert code_of(mallory.deleteVMSnapshot, vmsnapshotid=snap["id"]) == 531
    assert mallory.listVMSnapshot() == {}
    assert mallory.listVMSnapshot(vmsnapshotid=snap["id"]) == {}
    assert mallory.listVMSnapshot(virtualmachineid=vm) == {}
    assert mallory.listVMSnapshot(vmsnapshotids=[snap["id"]]) == {}
    assert mallory.listVMSnapshot(keyword="mine", listall=True) == {}
    assert code_of(mallory.queryAsyncJobResult, jobid=started["jobid"]) == 431
    assert mallory.listAsyncJobs() == {}
    assert mallory.listVirtualMachines() == {}
    assert code_of(mallory.writeGuestData, virtualmachineid=vm, key="k", value="v") == 531

    # alice still has everything, and the root admin sees it too
    assert alice.listVMSnapshot()["count"] == 1
    assert env_client.listVMSnapshot(vmsnapshotid=snap["id"])["count"] == 1


def test_a_domain_admin_sees_its_subtree_only(server: Serving, env_client: CloudStack, client: ClientFactory) -> None:
    sales = env_client.createDomain(name="sales")["domain"]
    east = env_client.createDomain(name="east", parentdomainid=sales["id"])["domain"]

    def member(name: str, domain: str, kind: int) -> CloudStack:
        account = env_client.createAccount(username=name, domainid=domain, accounttype=kind)["account"]
        keys = env_client.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
        return client(keys["apikey"], keys["secretkey"])

    boss = member("boss", sales["id"], 2)
    bob = member("bob", east["id"], 0)
    outsider, _ = users(server, env_client, client)
    bobs = deploy(bob, "bob-vm")
    snap = bob.createVMSnapshot(virtualmachineid=bobs, fetch_result=True)["vmsnapshot"]
    theirs = deploy(outsider, "outsider-vm")

    assert boss.listVMSnapshot() == {}  # its own account has none: listall shows the subtree
    assert boss.listVMSnapshot(listall=True)["vmSnapshot"][0]["id"] == snap["id"]
    assert boss.revertToVMSnapshot(vmsnapshotid=snap["id"], fetch_result=True)["virtualmachine"]["id"] == bobs
    assert code_of(boss.createVMSnapshot, virtualmachineid=theirs) == 531
    assert {d["name"] for d in boss.listDomains()["domain"]} == {"sales", "east"}
    assert code_of(bob.createDomain, name="nope") == 531
