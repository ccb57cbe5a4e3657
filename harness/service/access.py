"""Who may see and touch what, as CloudStack scopes it.

A user sees and operates only its own account's resources; a domain admin those of every
account in its domain subtree; the root admin everything. Looking up a resource the caller
may not see answers 531, the same whether or not it exists below someone else's account
would reveal nothing more than CloudStack does.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from harness.domain.errors import InvalidParameterValue, PermissionDenied
from harness.domain.model import VM, Account, AccountType, VolumeSnapshot
from harness.domain.states import VMState
from harness.store.ports import EVERYTHING, Scope, UnitOfWork, UowFactory, existing


class Owned(Protocol):
    @property
    def account_id(self) -> int: ...

    @property
    def domain_id(self) -> int: ...


OwnedT = TypeVar("OwnedT", bound=Owned)


def scope_of(uow: UnitOfWork, caller: Account) -> Scope:
    """The listing scope of ``caller``."""
    if caller.type == AccountType.Admin:
        return EVERYTHING
    if caller.type == AccountType.DomainAdmin:
        domain = existing(uow.domains.get(caller.domain_id), "domain", caller.domain_id)
        return Scope(domain_ids=uow.domains.subtree_ids(domain))
    return Scope(account_id=caller.id)


def check_access(uow: UnitOfWork, caller: Account, resource: Owned, what: str) -> None:
    """Raise 531 unless ``caller`` may operate on ``resource`` (CloudStack ``checkAccess``)."""
    if caller.type == AccountType.Admin or resource.account_id == caller.id:
        return
    if caller.type == AccountType.DomainAdmin:
        domain = uow.domains.get(caller.domain_id)
        if domain is not None and resource.domain_id in uow.domains.subtree_ids(domain):
            return
    raise PermissionDenied(f"Account {caller.name} does not have permission to operate on {what}")


def require(found: OwnedT | None, kind: str, uuid: str, uow: UnitOfWork, caller: Account) -> OwnedT:
    """``found`` when it exists and ``caller`` may use it; 431 when missing, 531 when not allowed."""
    if found is None:
        raise InvalidParameterValue(f"Unable to find {kind} with specified id: {uuid}")
    check_access(uow, caller, found, f"{kind} {uuid}")
    return found


def listing_scope(
    uow: UnitOfWork,
    caller: Account,
    listall: bool = False,
    domain_uuid: str | None = None,
    isrecursive: bool = False,
    account_name: str | None = None,
) -> Scope:
    """What a list command shows, as CloudStack's ``buildACLSearchParameters`` decides:
    ``account`` (with ``domainid``) one account; ``domainid`` that domain (and below with
    ``isrecursive``); ``listall=true`` everything the caller may see; otherwise the
    caller's own account, admins included. Naming what the caller may not see is 531."""
    domain = None
    if domain_uuid is not None:
        domain = uow.domains.get_by_uuid(domain_uuid)
        if domain is None:
            raise InvalidParameterValue(f"Unable to find domain with specified id: {domain_uuid}")
        if domain.id != caller.domain_id:
            check_access(uow, caller, _InDomain(domain.id), f"domain {domain.name}")
    if account_name is not None:
        account = uow.accounts.by_name(account_name, domain.id if domain is not None else None)
        if account is None:
            raise InvalidParameterValue(f"Unable to find account {account_name}")
        check_access(uow, caller, account, f"account {account_name}")
        return Scope(account_id=account.id)
    if domain is not None:
        if caller.type == AccountType.User:
            return Scope(account_id=caller.id)
        ids = uow.domains.subtree_ids(domain) if isrecursive or listall else frozenset({domain.id})
        return Scope(domain_ids=ids)
    if listall:
        return scope_of(uow, caller)
    return Scope(account_id=caller.id)


class _InDomain:
    def __init__(self, domain_id: int) -> None:
        self.account_id = -1
        self.domain_id = domain_id


def listing_scope_owner(uow: UnitOfWork, caller: Account, account_name: str, domain_uuid: str | None) -> Account:
    """The account an admin acts for (``account`` + ``domainid``), which it must administer."""
    domain = uow.domains.get_by_uuid(domain_uuid) if domain_uuid is not None else None
    if domain_uuid is not None and domain is None:
        raise InvalidParameterValue(f"Unable to find domain with specified id: {domain_uuid}")
    account = uow.accounts.by_name(account_name, domain.id if domain is not None else None)
    if account is None:
        raise InvalidParameterValue(f"Unable to find account {account_name}")
    check_access(uow, caller, account, f"account {account_name}")
    return account


def check_listing(uow_factory: UowFactory, caller: Account, **scope_args: Any) -> None:
    """Validate what a list command names of its scope (for lists that are always empty)."""
    with uow_factory(readonly=True) as uow:
        listing_scope(uow, caller, **scope_args)


# --------------------------------------------------------------------------- job targets
# What a request acts on, found before its job is queued: every mutating job runs on the
# queue of the VM it changes (its uuid is the queue key), so two jobs on one VM never
# overlap, on one manager or across managers.


def vm_key(uow_factory: UowFactory, vm_id: int) -> str:
    """The queue key of the VM with database id ``vm_id``."""
    with uow_factory(readonly=True) as uow:
        return existing(uow.vms.get(vm_id), "Instance", vm_id).uuid


def visible_vm(uow_factory: UowFactory, caller: Account, vm_uuid: str) -> VM:
    """The Instance ``vm_uuid`` (431 if there is none, 531 if the caller may not see it)."""
    with uow_factory(readonly=True) as uow:
        return require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller)


def attached_vm(uow_factory: UowFactory, caller: Account, volume_uuid: str) -> VM:
    """detachVolume by volume id: the Instance the volume is attached to."""
    with uow_factory(readonly=True) as uow:
        vol = require(uow.volumes.get_by_uuid(volume_uuid), "volume", volume_uuid, uow, caller)
        vm = uow.vms.get(vol.vm_id) if vol.vm_id is not None else None
    if vm is None:
        raise InvalidParameterValue(f"Volume {volume_uuid} is not attached to an Instance")
    return vm


def volume_snapshot_key(uow_factory: UowFactory, snap: VolumeSnapshot, volume_uuid: str) -> str:
    """A volume snapshot's queue: its volume's VM, or the volume itself when detached."""
    with uow_factory(readonly=True) as uow:
        vol = uow.volumes.get(snap.volume_id)
        vm = uow.vms.get(vol.vm_id) if vol and vol.vm_id else None
    return vm.uuid if vm else volume_uuid


def guest_vm(uow_factory: UowFactory, caller: Account, vm_uuid: str, guest_data: bool) -> VM:
    """The Running Instance whose guest data is read or written (simulated hosts only:
    ``guest_data`` is the driver's capability)."""
    if not guest_data:
        raise InvalidParameterValue("Guest data is available on simulated hosts only")
    vm = visible_vm(uow_factory, caller, vm_uuid)
    if vm.state != VMState.Running:
        raise InvalidParameterValue(
            f"Instance {vm_uuid} is in state {vm.state}; guest data is read and written on a Running Instance"
        )
    return vm
