"""SSH key pairs: registerSSHKeyPair / listSSHKeyPairs / deleteSSHKeyPair, and the key a
VM is deployed with.

A key pair is an OpenSSH public key registered under a name in an account (the caller's,
or the one an admin names with ``account`` + ``domainid``); the name and the key are each
unique in the account, as CloudStack has them. The fingerprint is CloudStack's: the MD5 of
the key blob as colon-separated hex. A VM deployed with ``keypair`` keeps the key in its
details (``SSH.PublicKey``, ``SSH.KeyPairNames``), so every start hands it to the host
again; deleting the key pair later does not take it from the VM (CloudStack neither).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from collections.abc import Sequence

import asyncssh

from harness.domain.errors import InvalidParameterValue
from harness.domain.model import Account, Page, SSHKeyPair
from harness.service.access import listing_scope, listing_scope_owner
from harness.store.ports import UnitOfWork, UowFactory

#: the details a VM keeps its key pair in (CloudStack's ``VmDetailConstants``)
PUBLIC_KEY = "SSH.PublicKey"
KEYPAIR_NAMES = "SSH.KeyPairNames"
#: a reset password waiting for the VM's next registration (CloudStack's ``password`` detail)
PENDING_PASSWORD = "password"
MAX_NAME = 256


def fingerprint(public_key: str) -> str:
    """CloudStack's fingerprint of an OpenSSH public key line: MD5 of the key blob."""
    blob = base64.b64decode(public_key.split()[1])
    return ":".join(f"{b:02x}" for b in hashlib.md5(blob, usedforsecurity=False).digest())


def normalised(public_key: str) -> str:
    """``public_key`` as ``<type> <base64>`` (comment dropped), or 431 when it is not an
    OpenSSH public key."""
    try:
        key = asyncssh.import_public_key(public_key.strip())
        line = key.export_public_key("openssh").decode().split()
    except (asyncssh.KeyImportError, ValueError, binascii.Error, UnicodeError) as err:
        raise InvalidParameterValue("Public key is invalid") from err
    return f"{line[0]} {line[1]}"


def _owner(uow: UnitOfWork, caller: Account, account_name: str | None, domain_uuid: str | None) -> Account:
    if account_name is None:
        return caller
    return listing_scope_owner(uow, caller, account_name, domain_uuid)


def register(
    uow_factory: UowFactory,
    caller: Account,
    name: str,
    public_key: str,
    account_name: str | None = None,
    domain_uuid: str | None = None,
) -> SSHKeyPair:
    """registerSSHKeyPair: a bad key, a taken name or an already registered key is 431."""
    if not name.strip() or len(name) > MAX_NAME:
        raise InvalidParameterValue(f"A key pair name must have 1 to {MAX_NAME} characters")
    key = normalised(public_key)
    with uow_factory() as uow:
        owner = _owner(uow, caller, account_name, domain_uuid)
        if uow.keypairs.by_name(owner.id, name) is not None:
            raise InvalidParameterValue(f"A key pair with name '{name}' already exists for this account.")
        fp = fingerprint(key)
        if uow.keypairs.by_fingerprint(owner.id, fp) is not None:
            raise InvalidParameterValue("A key pair with this public key already exists for this account.")
        pair = uow.keypairs.add(SSHKeyPair(0, str(uuid.uuid4()), name, owner.id, owner.domain_id, key, fp))
        uow.commit()
    return pair


def search(uow_factory: UowFactory, caller: Account, **filters: object) -> Page:
    """listSSHKeyPairs: the key pairs in the caller's listing scope, filtered."""
    keys = ("listall", "domain_uuid", "isrecursive", "account_name")
    scope_args = {k: filters.pop(k) for k in keys if k in filters}
    with uow_factory(readonly=True) as uow:
        return uow.keypairs.search(listing_scope(uow, caller, **scope_args), **filters)  # type: ignore[arg-type]


def delete(
    uow_factory: UowFactory, caller: Account, name: str, account_name: str | None = None, domain_uuid: str | None = None
) -> None:
    with uow_factory() as uow:
        owner = _owner(uow, caller, account_name, domain_uuid)
        pair = uow.keypairs.by_name(owner.id, name)
        if pair is None:
            raise InvalidParameterValue(f"A key pair with name '{name}' does not exist for account {owner.name}")
        uow.keypairs.remove(pair.id)
        uow.commit()


def for_vm(uow: UnitOfWork, owner: Account, names: Sequence[str]) -> dict[str, str]:
    """The VM details naming the owner's key pairs ``names`` (keys one a line, names
    comma-separated, as CloudStack 4.17+ keeps several); 431 for a name the owner lacks."""
    pairs = []
    for name in dict.fromkeys(names):
        pair = uow.keypairs.by_name(owner.id, name)
        if pair is None:
            raise InvalidParameterValue(f"A key pair with name '{name}' was not found for account {owner.name}")
        pairs.append(pair)
    return {PUBLIC_KEY: "\n".join(p.public_key for p in pairs), KEYPAIR_NAMES: ",".join(p.name for p in pairs)}


def authorized_keys(uow: UnitOfWork, vm_id: int) -> tuple[str, ...]:
    """The public keys the VM's guest accepts (from its details)."""
    return tuple(line for line in uow.vm_details.of_vm(vm_id).get(PUBLIC_KEY, "").splitlines() if line)
