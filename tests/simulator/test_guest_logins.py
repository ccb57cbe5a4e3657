"""Logging in to a simulated guest as a deploy set it up: with the key pair named by
``keypair`` (that VM's only, kept across stop and start, replaced by
resetSSHKeyForVirtualMachine) and with the password a ``passwordenabled`` template's deploy
answered (the template's fixed one refused for it)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import asyncssh
import paramiko
import pytest

from harness.domain.errors import CloudError
from harness.pytest_plugin import GuestAccess
from harness.service import catalogue, keypairs
from harness.service.cloud import Cloud
from simulator.guests.network import TEMPLATE_PASSWORD
from tests.simulator.test_guests import Guests, Obj, sh


def key_pair() -> tuple[str, paramiko.PKey]:
    """An Ed25519 key: its OpenSSH public line and paramiko's private key."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    private = key.export_private_key("openssh").decode()
    return key.export_public_key("openssh").decode().strip(), paramiko.Ed25519Key.from_private_key(io.StringIO(private))


@pytest.fixture
def guests(hvsnap_cloud: Cloud, hvsnap_guests: GuestAccess | None) -> Iterator[Guests]:
    assert hvsnap_guests is not None
    g = Guests(hvsnap_cloud, hvsnap_guests)
    yield g
    for client in g.clients:
        client.close()


def restart(g: Guests, vm: Obj) -> None:
    g.done(g.m.stop_vm(g.admin, vm["id"]))
    g.done(g.m.start_vm(g.admin, vm["id"]))


def test_a_key_pair_logs_in_to_its_vm_only_and_survives_a_restart(guests: Guests) -> None:
    g = guests
    line, key = key_pair()
    _, other = key_pair()
    keypairs.register(g.m.uow_factory, g.admin, "ops", line)
    _, job = g.m.deploy_vm(g.admin, "keyed", "small", True, None, "ops")
    keyed = g.done(job)["virtualmachine"]
    plain = g.deploy("plain")
    assert sh(g.login(keyed, key=key), "whoami") == (0, "root\n", "")
    with pytest.raises(paramiko.AuthenticationException):
        g.login(keyed, key=other)
    with pytest.raises(paramiko.AuthenticationException):
        g.login(plain, key=key)  # per VM: another guest does not take it
    restart(g, keyed)  # registered afresh from its disks: the host is given the key again
    assert sh(g.login(keyed, key=key), "echo ok")[:2] == (0, "ok\n")


def test_reset_ssh_key_on_a_stopped_vm_swaps_the_key_at_its_next_start(guests: Guests) -> None:
    g = guests
    old_line, old = key_pair()
    new_line, new = key_pair()
    keypairs.register(g.m.uow_factory, g.admin, "old", old_line)
    keypairs.register(g.m.uow_factory, g.admin, "new", new_line)
    _, job = g.m.deploy_vm(g.admin, "keyed", "small", True, None, "old")
    vm = g.done(job)["virtualmachine"]
    with pytest.raises(CloudError) as running:
        g.m.reset_ssh_key(g.admin, vm["id"], ["new"])
    assert running.value.errorcode == 431 and "should be stopped" in running.value.errortext
    g.done(g.m.stop_vm(g.admin, vm["id"]))
    assert g.done(g.m.reset_ssh_key(g.admin, vm["id"], ["new"]))["virtualmachine"]["keypair"] == "new"
    g.done(g.m.start_vm(g.admin, vm["id"]))
    assert sh(g.login(vm, key=new), "whoami")[0] == 0
    with pytest.raises(paramiko.AuthenticationException):
        g.login(vm, key=old)


def test_a_password_enabled_deploy_s_password_logs_in_and_the_fixed_one_does_not(guests: Guests) -> None:
    g = guests
    template = next(t for t in catalogue.TEMPLATES if t.password_enabled)
    zone = g.m.list_zones()[0]["id"]
    _, job = g.m.deploy_vm(g.admin, "pw", "small", True, template.uuid, zone_uuid=zone)
    vm = g.done(job)["virtualmachine"]
    assert sh(g.login(vm, password=vm["password"]), "whoami") == (0, "root\n", "")
    with pytest.raises(paramiko.AuthenticationException):
        g.login(vm, password=TEMPLATE_PASSWORD)
    restart(g, vm)  # the guest keeps its password, as its disk would
    assert sh(g.login(vm, password=vm["password"]), "whoami")[0] == 0
    plain = g.deploy("plain")  # a template without passwordenabled keeps the fixed one
    assert sh(g.login(plain, password=TEMPLATE_PASSWORD), "whoami")[0] == 0


def test_reset_password_on_a_stopped_vm_is_the_guest_s_after_its_next_start(guests: Guests) -> None:
    g = guests
    template = next(t for t in catalogue.TEMPLATES if t.password_enabled)
    zone = g.m.list_zones()[0]["id"]
    _, job = g.m.deploy_vm(g.admin, "pw", "small", True, template.uuid, zone_uuid=zone)
    vm = g.done(job)["virtualmachine"]
    plain = g.deploy("plain")
    for target, why in ((vm, "should be stopped"), (plain, "not password enabled")):
        with pytest.raises(CloudError) as refused:
            g.m.reset_password(g.admin, target["id"])
        assert refused.value.errorcode == 431 and why in refused.value.errortext
    g.done(g.m.stop_vm(g.admin, vm["id"]))
    new = g.done(g.m.reset_password(g.admin, vm["id"]))["virtualmachine"]["password"]
    assert new and new != vm["password"]
    g.done(g.m.start_vm(g.admin, vm["id"]))
    assert sh(g.login(vm, password=new), "whoami")[0] == 0
    with pytest.raises(paramiko.AuthenticationException):
        g.login(vm, password=vm["password"])
    with g.m.uow_factory(readonly=True) as uow:  # the pending password went with the start
        row = uow.vms.get_by_uuid(vm["id"])
        assert row is not None and keypairs.PENDING_PASSWORD not in uow.vm_details.of_vm(row.id)
