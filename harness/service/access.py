"""Who may see and touch what, as CloudStack scopes it.

A user sees and operates only its own account's resources; a domain admin those of every
account in its domain subtree; the root admin everything. Looking up a resource the caller
may not see answers 531, the same whether or not it exists below someone else's account
would reveal nothing more than CloudStack does.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from harness.domain.errors import InvalidParameterValue, PermissionDenied
from harness.domain.model import Account, AccountType
from harness.store.repository import EVERYTHING, Scope, existing
from harness.store.uow import UnitOfWork


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
