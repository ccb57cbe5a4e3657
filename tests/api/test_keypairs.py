"""SSH key pairs over HTTP with ``cs``: registerSSHKeyPair answers CloudStack's
SSHKeyPairResponse, listSSHKeyPairs shows an account its own, a bad key is 431 and stores
nothing, deploy's ``keypair`` shows on the VM, and a passwordenabled template's deploy
answers the VM's ``password`` in the job result only."""

from __future__ import annotations

import asyncssh
import pytest
from cs import CloudStack, CloudStackApiException

from tests.api.conftest import ClientFactory, deploy
from tests.api.test_fidelity import user


def public_key() -> str:
    return asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh").decode().strip()


def test_register_list_deploy_with_and_delete_a_key_pair(env_client: CloudStack, client: ClientFactory) -> None:
    api = env_client
    pair = api.registerSSHKeyPair(name="ops", publickey=public_key() + " ops@example")["keypair"]
    assert pair["name"] == "ops" and pair["account"] == "admin" and {"id", "domainid", "domain"} <= set(pair)
    assert len(pair["fingerprint"].split(":")) == 16
    listed = api.listSSHKeyPairs()
    assert listed["count"] == 1 and listed["sshkeypair"][0]["fingerprint"] == pair["fingerprint"]
    with pytest.raises(CloudStackApiException) as bad:
        api.registerSSHKeyPair(name="bad", publickey="ssh-rsa not-a-key")
    assert bad.value.error["errorcode"] == 431
    assert api.listSSHKeyPairs(name="bad") == {}
    assert user(api, client, "lee").listSSHKeyPairs() == {}  # an account sees its own only
    vm = deploy(api, "keyed", keypair="ops")
    assert api.listVirtualMachines(id=vm)["virtualmachine"][0]["keypair"] == "ops"
    with pytest.raises(CloudStackApiException) as unknown:
        deploy(api, "nokey", keypair="nope")
    assert unknown.value.error["errorcode"] == 431
    assert api.deleteSSHKeyPair(name="ops")["success"] in (True, "true")
    assert api.listSSHKeyPairs() == {}


def test_a_password_enabled_deploy_answers_its_password_in_the_job_result(env_client: CloudStack) -> None:
    api = env_client
    template = next(t for t in api.listTemplates(templatefilter="featured")["template"] if t["passwordenabled"])
    zone = api.listZones()["zone"][0]["id"]
    offering = api.listServiceOfferings(name="small")["serviceoffering"][0]["id"]
    vm = api.deployVirtualMachine(
        serviceofferingid=offering, templateid=template["id"], zoneid=zone, name="pw", fetch_result=True
    )["virtualmachine"]
    assert vm["passwordenabled"] is True and vm["password"]
    assert "password" not in api.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
