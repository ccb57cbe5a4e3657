"""Resource limits for VM snapshots: CloudStack's ``updateResourceLimit`` and
``listResourceLimits`` with one resource type of hvsnap's own, ``vmsnapshot`` (number 100).

- An account's limit is its ``resource_limit`` row, else ``max.account.vmsnapshots``; a
  domain's is its row, else ``max.domain.vmsnapshots``. ``-1`` means unlimited (the default).
- What counts: every VM snapshot that is not removed, in any state (as ``vmsnapshot.max``
  counts), manual and scheduled alike. A domain's usage is that of every account in its
  subtree, and a new snapshot must fit the account's limit and the limit of every domain from
  the account's up to ROOT.
- As in CloudStack, the root admin's own account is never limited.
- Going over is refused before anything is written with 535 (CloudStack's
  ``ResourceAllocationException``, ``RESOURCE_ALLOCATION_ERROR``), whose text names the
  limit, the owner and the count: CloudStack's VM-snapshot limit (``vmsnapshot.max``, per VM)
  answers 530, and the two errors stay distinguishable.
"""

from __future__ import annotations

from typing import Any

from harness.domain import config
from harness.domain.errors import InvalidParameterValue, PermissionDenied, ResourceAllocationError
from harness.domain.model import Account, AccountType, Domain
from harness.domain.policy import UNLIMITED, VMSNAPSHOT_RESOURCE_NAME, VMSNAPSHOT_RESOURCE_TYPE
from harness.service.access import check_access
from harness.store.ports import UnitOfWork, UowFactory, existing

Obj = dict[str, Any]
#: the accepted spellings of the resource type
_TYPES = {str(VMSNAPSHOT_RESOURCE_TYPE), VMSNAPSHOT_RESOURCE_NAME}


def resource_type(value: str | int | None) -> str:
    """``100`` or ``vmsnapshot`` -> ``vmsnapshot``; 431 for anything else."""
    text = str(value).strip().lower() if value is not None else ""
    if text not in _TYPES:
        raise InvalidParameterValue(
            f"Invalid resourcetype {value!r}: hvsnap manages resource type {VMSNAPSHOT_RESOURCE_TYPE} "
            f"({VMSNAPSHOT_RESOURCE_NAME}, VM snapshots)"
        )
    return VMSNAPSHOT_RESOURCE_NAME


def _config_int(uow: UnitOfWork, key: config.ConfigKey) -> int:
    return int(config.parse(key, uow.config.get(key)))


def account_limit(uow: UnitOfWork, account: Account) -> int:
    row = uow.resource_limits.of_account(VMSNAPSHOT_RESOURCE_NAME, account.id)
    return row.max if row is not None else _config_int(uow, config.MAX_ACCOUNT_VMSNAPSHOTS)


def domain_limit(uow: UnitOfWork, domain: Domain) -> int:
    row = uow.resource_limits.of_domain(VMSNAPSHOT_RESOURCE_NAME, domain.id)
    return row.max if row is not None else _config_int(uow, config.MAX_DOMAIN_VMSNAPSHOTS)


def check_vm_snapshot(uow: UnitOfWork, owner: Account, adding: int = 1) -> None:
    """Refuse (535) when ``adding`` more VM snapshots would take ``owner`` or one of its
    domains past its limit. The rule ``vmsnapshots.allocate`` applies to every create."""
    if owner.type == AccountType.Admin:
        return
    limit = account_limit(uow, owner)
    if limit != UNLIMITED:
        used = uow.resource_limits.vm_snapshots_of_account(owner.id)
        if used + adding > limit:
            raise ResourceAllocationError(
                f"Maximum number of resources of type '{VMSNAPSHOT_RESOURCE_NAME}' for account name="
                f"{owner.name} in domain id={owner.domain_id} has been exceeded: the account stores {used} "
                f"VM snapshots and its limit is {limit}. Delete VM snapshots or ask an administrator to raise "
                "the limit"
            )
    domain = uow.domains.get(owner.domain_id)
    while domain is not None:
        limit = domain_limit(uow, domain)
        if limit != UNLIMITED:
            used = uow.resource_limits.vm_snapshots_in_domains(uow.domains.subtree_ids(domain))
            if used + adding > limit:
                raise ResourceAllocationError(
                    f"Maximum number of resources of type '{VMSNAPSHOT_RESOURCE_NAME}' for domain id="
                    f"{domain.uuid} (name={domain.name}) has been exceeded: its accounts store {used} VM "
                    f"snapshots and the domain's limit is {limit}. Delete VM snapshots or ask an administrator "
                    "to raise the limit"
                )
        domain = uow.domains.get(domain.parent_id) if domain.parent_id is not None else None


# --------------------------------------------------------------------------- the API's use cases


def _target(
    uow: UnitOfWork, caller: Account, account_name: str | None, domain_uuid: str | None
) -> tuple[Account | None, Domain]:
    """The account (``account`` needs its ``domainid``, as in CloudStack, unless the name is
    unique) or the domain a limit call is about; the caller's own account by default."""
    domain = None
    if domain_uuid is not None:
        domain = uow.domains.get_by_uuid(domain_uuid)
        if domain is None:
            raise InvalidParameterValue(f"Unable to find domain with specified id: {domain_uuid}")
    if account_name is not None:
        account = uow.accounts.by_name(account_name, domain.id if domain else None)
        if account is None:
            raise InvalidParameterValue(f"Unable to find account {account_name}")
        check_access(uow, caller, account, f"account {account.name}")
        owner_domain = existing(uow.domains.get(account.domain_id), "domain", account.domain_id)
        return account, owner_domain
    if domain is not None:
        check_access(uow, caller, _DomainOwner(domain), f"domain {domain.name}")
        return None, domain
    own = existing(uow.domains.get(caller.domain_id), "domain", caller.domain_id)
    return caller, own


class _DomainOwner:
    def __init__(self, domain: Domain) -> None:
        self.account_id = -1
        self.domain_id = domain.id


def update_limit(
    uow_factory: UowFactory,
    caller: Account,
    resourcetype: str | int,
    max_: int | None,
    account_name: str | None = None,
    domain_uuid: str | None = None,
) -> Obj:
    """updateResourceLimit: set an account's (``account`` + ``domainid``) or a domain's
    (``domainid``) VM snapshot limit; ``max`` -1 is unlimited. Root admins set any limit, a
    domain admin those of accounts and sub-domains below its own domain; users none."""
    kind = resource_type(resourcetype)
    if max_ is None:
        max_ = UNLIMITED
    if max_ < UNLIMITED:
        raise InvalidParameterValue(f"Invalid max {max_}: a limit is -1 (unlimited) or a whole number from 0")
    if caller.type == AccountType.User:
        raise PermissionDenied(f"Account {caller.name} may not update resource limits")
    if account_name is None and domain_uuid is None:
        raise InvalidParameterValue("updateResourceLimit needs domainid, and account with it for an account's limit")
    with uow_factory() as uow:
        account, domain = _target(uow, caller, account_name, domain_uuid)
        if account is not None:
            if account.type == AccountType.Admin:
                raise InvalidParameterValue(f"Account {account.name} is a root admin account, which is never limited")
            if caller.type == AccountType.DomainAdmin and account.id == caller.id:
                raise PermissionDenied("A domain admin may not change its own account's limits")
            uow.resource_limits.put(kind, max_, account_id=account.id)
        else:
            if caller.type == AccountType.DomainAdmin and domain.id == caller.domain_id:
                raise PermissionDenied("A domain admin may not change its own domain's limits")
            uow.resource_limits.put(kind, max_, domain_id=domain.id)
        uow.commit()
        return _view(uow, kind, account, domain)


def list_limits(
    uow_factory: UowFactory,
    caller: Account,
    resourcetype: str | int | None = None,
    account_name: str | None = None,
    domain_uuid: str | None = None,
) -> list[Obj]:
    """listResourceLimits: the effective VM snapshot limit of the caller's account, of the
    named account, or of a domain (``domainid`` alone)."""
    kind = resource_type(resourcetype if resourcetype is not None else VMSNAPSHOT_RESOURCE_NAME)
    with uow_factory(readonly=True) as uow:
        account, domain = _target(uow, caller, account_name, domain_uuid)
        return [_view(uow, kind, account, domain)]


def _view(uow: UnitOfWork, kind: str, account: Account | None, domain: Domain) -> Obj:
    """CloudStack's ``resourcelimit`` object, with the stored count beside the limit."""
    out: Obj = {
        "resourcetype": str(VMSNAPSHOT_RESOURCE_TYPE),
        "resourcetypename": kind,
        "domainid": domain.uuid,
        "domain": domain.name,
        "domainpath": domain.path,
    }
    if account is not None:
        out["account"] = account.name
        out["max"] = UNLIMITED if account.type == AccountType.Admin else account_limit(uow, account)
        out["used"] = uow.resource_limits.vm_snapshots_of_account(account.id)
    else:
        out["max"] = domain_limit(uow, domain)
        out["used"] = uow.resource_limits.vm_snapshots_in_domains(uow.domains.subtree_ids(domain))
    return out
