"""Who may see and touch what, as CloudStack scopes it.

A user sees and operates only its own account's resources; a domain admin those of every
account in its domain subtree; the root admin everything. Looking up a resource the caller
may not see answers 531, the same whether or not it exists below someone else's account
would reveal nothing more than CloudStack does.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from harness.domain.errors import InvalidParameterValue, PermissionDenied
from harness.domain.model import Account, AccountType
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
