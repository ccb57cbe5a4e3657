"""SSH key pairs through the manager's use cases, on both stores: registered per account
with CloudStack's fingerprint, listed in the caller's scope, deleted by name; a bad key, a
taken name or an unknown deploy ``keypair`` is 431 and stores nothing; a VM deployed with
one shows it, and a ``passwordenabled`` template's deploy answers the guest's password."""

from __future__ import annotations

import base64
import hashlib

import asyncssh
import pytest

from harness.service import catalogue, keypairs
from tests.service.conftest import World, refused


def public_key() -> str:
    key = asyncssh.generate_private_key("ssh-ed25519")
    return key.export_public_key("openssh").decode().strip()


def test_register_list_delete_per_account(world: World) -> None:
    m, uf = world.m, world.m.uow_factory
    line = public_key() + " ops@example"
    pair = keypairs.register(uf, world.admin, "ops", line)
    blob = base64.b64decode(line.split()[1])
    assert pair.fingerprint == ":".join(f"{b:02x}" for b in hashlib.md5(blob).digest())
    assert pair.public_key == " ".join(line.split()[:2])  # the comment is not kept
    lee = world.account("lee")
    keypairs.register(uf, lee, "ops", public_key())  # the same name in another account
    mine = keypairs.search(uf, world.admin).items
    assert [(k.name, k.account_id) for k in mine] == [("ops", world.admin.id)]
    assert len(keypairs.search(uf, world.admin, listall=True).items) == 2
    assert keypairs.search(uf, lee, fingerprint=pair.fingerprint).items == []
    keypairs.delete(uf, world.admin, "ops")
    assert keypairs.search(uf, world.admin).items == []
    refused(world, 431, keypairs.delete, uf, world.admin, "ops")
    world._done(m.delete_account(world.admin, lee.uuid))  # an account's key pairs go with it
    assert keypairs.search(uf, world.admin, listall=True).items == []


@pytest.mark.parametrize(
    "bad",
    ["", "not a key", "ssh-rsa", "ssh-rsa AAAA!!!notbase64", "ssh-ed25519 " + base64.b64encode(b"junk").decode()],
)
def test_a_bad_public_key_is_431_and_stores_nothing(world: World, bad: str) -> None:
    assert "Public key is invalid" in refused(world, 431, keypairs.register, world.m.uow_factory, world.admin, "k", bad)


def test_a_taken_name_or_key_is_431(world: World) -> None:
    uf, line = world.m.uow_factory, public_key()
    keypairs.register(uf, world.admin, "k", line)
    assert "already exists" in refused(world, 431, keypairs.register, uf, world.admin, "k", public_key())
    assert "already exists" in refused(world, 431, keypairs.register, uf, world.admin, "k2", line)


def test_deploy_with_a_key_pair_records_it_and_an_unknown_one_is_431(world: World) -> None:
    m = world.m
    keypairs.register(m.uow_factory, world.admin, "ops", public_key())
    assert "was not found" in refused(world, 431, m.deploy_vm, world.admin, "vm", "small", True, None, "nope")
    vm, job = m.deploy_vm(world.admin, "vm", "small", True, None, "ops")
    shown = world._done(job)["virtualmachine"]
    assert shown["keypair"] == "ops" and "password" not in shown
    keypairs.delete(m.uow_factory, world.admin, "ops")  # the VM keeps its key, as CloudStack's does
    assert world.vm(vm.uuid)["keypair"] == "ops"


def test_a_password_enabled_template_answers_a_fresh_password_once(world: World) -> None:
    m = world.m
    template = next(t for t in catalogue.TEMPLATES if t.password_enabled)
    zone = m.list_zones()[0]["id"]
    shown = []
    for name in ("a", "b"):
        _, job = m.deploy_vm(world.admin, name, "small", True, template.uuid, zone_uuid=zone)
        shown.append(world._done(job)["virtualmachine"])
    assert all(v["passwordenabled"] is True and len(v["password"]) >= 12 for v in shown)
    assert shown[0]["password"] != shown[1]["password"]
    assert "password" not in world.vm(shown[0]["id"])  # listed VMs never show it
    holding = {table for table, rows in world.dump().items() if shown[0]["password"] in repr(rows)}
    assert holding == {"async_job"}  # only the deploy job's result holds it, as in CloudStack
