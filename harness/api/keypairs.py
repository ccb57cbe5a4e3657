"""SSH key pairs: ``registerSSHKeyPair``, ``listSSHKeyPairs``, ``deleteSSHKeyPair``.

A key pair belongs to an account (the caller's, or ``account`` + ``domainid`` for an
admin); ``deployVirtualMachine keypair=NAME`` gives its key to the VM's guest.
"""

from __future__ import annotations

from harness.api.params import P
from harness.api.params import ParamType as T
from harness.api.registry import Call, Obj, command, job, listing, listing_scope
from harness.api.shapes import SSH_KEYPAIR, SUCCESS, VM
from harness.api.vmsnapshots import LISTING, TAGGED

PROJECT = P("projectid", T.UUID, description="an optional project for the key pair", entity="project")


@command(
    "registerSSHKeyPair",
    P("name", required=True, description="Name of the keypair"),
    P("publickey", required=True, description="Public key material of the keypair", length=5120),
    P("account", description="an optional account for the ssh key. Must be used with domainId."),
    P("domainid", T.UUID, description="an optional domainId for the ssh key", entity="domain"),
    PROJECT,
    response=SSH_KEYPAIR,
)
def register_ssh_key_pair(c: Call) -> Obj:
    """Register a public key in a keypair under a certain name"""
    pair = c.manager.register_key_pair(c.caller, c["name"], c["publickey"], c.get("account"), c.get("domainid"))
    return {"keypair": pair}


@command(
    "listSSHKeyPairs",
    P("id", T.UUID, description="the ID of the ssh keypair", entity="sshkeypair"),
    P("name", description="A key pair name to look for"),
    P("fingerprint", description="A public key fingerprint to look for"),
    TAGGED[1],
    *LISTING,
    response=SSH_KEYPAIR,
)
def list_ssh_key_pairs(c: Call) -> Obj:
    """List registered keypairs"""
    count, items = c.manager.list_key_pairs(
        c.caller,
        **listing_scope(c),
        uuid=c.get("id"),
        name=c.get("name"),
        fingerprint=c.get("fingerprint"),
        keyword=c.get("keyword"),
        page=c.get("page"),
        pagesize=c.get("pagesize"),
    )
    return listing("sshkeypair", count, items)


@command(
    "deleteSSHKeyPair",
    P("name", required=True, description="Name of the keypair"),
    P("account", description="the account associated with the keypair. Must be used with the domainId parameter."),
    P("domainid", T.UUID, description="the domain ID associated with the keypair", entity="domain"),
    PROJECT,
    response=SUCCESS,
)
def delete_ssh_key_pair(c: Call) -> Obj:
    """Deletes a keypair by name"""
    c.manager.delete_key_pair(c.caller, c["name"], c.get("account"), c.get("domainid"))
    return {"success": True}


@command(
    "resetSSHKeyForVirtualMachine",
    P("id", T.UUID, True, "The ID of the virtual machine", entity="virtualmachine"),
    P("keypair", description="name of the ssh key pair used to login to the virtual machine"),
    P(
        "keypairs",
        T.LIST,
        description="names of the ssh key pairs to be used to login to the virtual machine",
        since="4.17",
    ),
    P("account", description="an optional account for the ssh key. Must be used with domainId."),
    P("domainid", T.UUID, description="an optional domainId for the virtual machine", entity="domain"),
    PROJECT,
    response=VM,
    isasync=True,
)
def reset_ssh_key_for_virtual_machine(c: Call) -> Obj:
    """Resets the SSH Key for virtual machine. The virtual machine must be in a "Stopped" state."""
    names = [*(c.get("keypairs") or []), *([c["keypair"]] if c.get("keypair") else [])]
    return job(c.manager.reset_ssh_key(c.caller, c["id"], names))
