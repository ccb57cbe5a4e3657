"""The cloud's catalogue: first-start bootstrap, domains, accounts and their API keys,
offerings, hypervisor capabilities and configuration."""

from __future__ import annotations

import secrets
import uuid

from harness.domain import config
from harness.domain.errors import InvalidParameterValue, PermissionDenied
from harness.domain.model import (
    Account,
    AccountType,
    Domain,
    Host,
    HypervisorCapabilities,
    ServiceOffering,
    User,
    Zone,
)
from harness.service import catalogue, passwords
from harness.service.access import check_access, listing_scope_owner
from harness.store.ports import Scope, UowFactory

ADMIN = "admin"
#: offerings every new cloud starts with: name, cpus, MHz, MiB
DEFAULT_OFFERINGS = (("small", 1, 500, 512), ("medium", 2, 1000, 2048), ("large", 4, 2000, 4096))


def _new_id() -> str:
    return str(uuid.uuid4())


def bootstrap(uow_factory: UowFactory) -> Account:
    """Create the ROOT domain, the admin account with API keys, a zone with one Hyper-V
    host, the default offerings and the Hyper-V capability row, once. Returns the admin."""
    with uow_factory() as uow:
        existing = uow.accounts.by_name(ADMIN)
        if existing is not None:
            return existing
        root = uow.domains.add(Domain(0, _new_id(), "ROOT", None, "/"))
        admin = uow.accounts.add(Account(0, _new_id(), ADMIN, AccountType.Admin, root.id, _key(), _key()), _new_id())
        zone = uow.zones.add(Zone(0, _new_id(), "zone1"))
        uow.hosts.add(Host(0, _new_id(), "hyperv-01", zone.id, "Hyperv", "2019"))
        for name, cpu, speed, ram in DEFAULT_OFFERINGS:
            uow.offerings.add(ServiceOffering(0, _new_id(), name, cpu, speed, ram))
        # The spec's "Set vm_snapshot_enabled = 1"; the manager reads the "default" row.
        uow.capabilities.add(HypervisorCapabilities(0, _new_id(), "Hyperv", "default", 1024, 64, True))
        uow.commit()
    return admin


def _key() -> str:
    return secrets.token_urlsafe(48)


def account_named(uow_factory: UowFactory, name: str) -> Account:
    with uow_factory(readonly=True) as uow:
        found = uow.accounts.by_name(name)
    if found is None:
        raise InvalidParameterValue(f"Unable to find account {name}")
    return found


def create_domain(uow_factory: UowFactory, caller: Account, name: str, parent_uuid: str | None = None) -> Domain:
    if caller.type == AccountType.User:
        raise PermissionDenied(f"Account {caller.name} may not create domains")
    if not name or len(name) > 255 or "/" in name:
        raise InvalidParameterValue("A domain name must have 1 to 255 characters and no '/'")
    with uow_factory() as uow:
        parent = uow.domains.get_by_uuid(parent_uuid) if parent_uuid else uow.domains.get(caller.domain_id)
        if parent is None:
            raise InvalidParameterValue(f"Unable to find domain with specified id: {parent_uuid}")
        check_access(uow, caller, _DomainOwner(parent), f"domain {parent.name}")
        if uow.domains.child_named(parent, name) is not None:
            raise InvalidParameterValue(f"Domain {name} already exists under {parent.name}")
        domain = uow.domains.add(Domain(0, _new_id(), name, parent.id, f"{parent.path}{name}/"))
        uow.commit()
    return domain


class _DomainOwner:
    """Lets ``check_access`` judge a domain like any owned resource (no account owns it)."""

    def __init__(self, domain: Domain) -> None:
        self.account_id = -1
        self.domain_id = domain.id


def create_account(
    uow_factory: UowFactory,
    caller: Account,
    name: str,
    account_type: AccountType = AccountType.User,
    domain_uuid: str | None = None,
    password_hash: str | None = None,
) -> Account:
    """A new account with API keys, in ``domain_uuid`` (default: the caller's domain), its
    user's password hash when given (``harness.service.passwords``)."""
    if caller.type == AccountType.User:
        raise PermissionDenied(f"Account {caller.name} may not create accounts")
    if caller.type == AccountType.DomainAdmin and account_type == AccountType.Admin:
        raise PermissionDenied("A domain admin may not create root admins")
    if not name or len(name) > 100:
        raise InvalidParameterValue("An account name must have 1 to 100 characters")
    with uow_factory() as uow:
        domain = uow.domains.get_by_uuid(domain_uuid) if domain_uuid else uow.domains.get(caller.domain_id)
        if domain is None:
            raise InvalidParameterValue(f"Unable to find domain with specified id: {domain_uuid}")
        check_access(uow, caller, _DomainOwner(domain), f"domain {domain.name}")
        if uow.accounts.by_name(name) is not None:
            raise InvalidParameterValue(f"Account {name} already exists")
        account = Account(0, _new_id(), name, account_type, domain.id, _key(), _key(), password_hash=password_hash)
        uow.accounts.add(account, _new_id())
        uow.commit()
    return account


def open_account(
    uow_factory: UowFactory,
    caller: Account,
    name: str,
    type_value: int | None = None,
    domain_uuid: str | None = None,
    password: str | None = None,
    firstname: str | None = None,
    lastname: str | None = None,
    email: str | None = None,
) -> Account:
    """createAccount: the account with its one user, its names and password checked
    before anything is written."""
    kind = account_type(type_value)
    _check_user_names(firstname, lastname, email)
    hashed = None
    if password is not None:
        passwords.check_new_password(password)
        hashed = passwords.hash_password(password)
    account = create_account(uow_factory, caller, name, kind, domain_uuid, hashed)
    set_user_names(uow_factory, account, firstname, lastname, email)
    return account


def _check_user_names(firstname: str | None, lastname: str | None, email: str | None) -> None:
    for label, value in (("firstname", firstname), ("lastname", lastname), ("email", email)):
        if value is not None and len(value) > 255:
            raise InvalidParameterValue(f"{label} must have at most 255 characters")


def set_user_names(
    uow_factory: UowFactory, account: Account, firstname: str | None, lastname: str | None, email: str | None
) -> None:
    """Record createAccount's names and e-mail on the account's user."""
    _check_user_names(firstname, lastname, email)
    with uow_factory() as uow:
        for user in uow.users.of_accounts([account.id]):
            uow.users.set_names(user.uuid, firstname, lastname, email)
        uow.commit()


def register_keys(uow_factory: UowFactory, caller: Account, user_uuid: str) -> Account:
    """New API keys for a user (registerUserKeys takes the user's id, as CloudStack's does);
    returns the user's account, holding them."""
    with uow_factory() as uow:
        user = uow.users.get_by_uuid(user_uuid)
        account = uow.accounts.get(user.account_id) if user is not None else None
        if account is None:
            raise InvalidParameterValue(f"Unable to find user with specified id: {user_uuid}")
        check_access(uow, caller, account, f"user {user_uuid}")
        uow.accounts.set_keys(account, _key(), _key())
        uow.commit()
    return account


def register_account_keys(uow_factory: UowFactory, caller: Account, account_name: str) -> Account:
    """New API keys for the (one) user of the account called ``account_name``: what a
    front end that knows accounts by name (``hvsnap account keys NAME``) asks for."""
    account = account_named(uow_factory, account_name)
    with uow_factory(readonly=True) as uow:
        users = uow.users.of_accounts([account.id])
    if not users:
        raise InvalidParameterValue(f"Account {account_name} has no user")
    return register_keys(uow_factory, caller, users[0].uuid)


def visible_users(uow_factory: UowFactory, caller: Account) -> list[tuple[User, Account]]:
    """listUsers: the users of the accounts the caller may see."""
    seen = {a.id: a for a in visible_accounts(uow_factory, caller)}
    with uow_factory(readonly=True) as uow:
        return [(u, seen[u.account_id]) for u in uow.users.of_accounts(seen)]


def check_delete_account(uow_factory: UowFactory, caller: Account, account_uuid: str) -> Account:
    """deleteAccount's checks: an admin over the account, never the caller's own account
    nor the root admin's."""
    if caller.type == AccountType.User:
        raise PermissionDenied(f"Account {caller.name} may not delete accounts")
    with uow_factory(readonly=True) as uow:
        account = uow.accounts.get_by_uuid(account_uuid)
        if account is None:
            raise InvalidParameterValue(f"Unable to find account with specified id: {account_uuid}")
        check_access(uow, caller, account, f"account {account.name}")
    if account.id == caller.id:
        raise InvalidParameterValue("Deletion of your own account is not allowed")
    if account.name == ADMIN:
        raise InvalidParameterValue(f"The account {ADMIN} is the system's root admin and cannot be deleted")
    return account


def remove_account(uow_factory: UowFactory, account_id: int) -> Account:
    """The last step of deleteAccount, once its VMs are gone: the account, its users (and
    their keys), its SSH key pairs and its free volumes are removed."""
    with uow_factory() as uow:
        account = uow.accounts.get(account_id)
        if account is None:
            raise InvalidParameterValue("The account is gone already")
        for volume in uow.volumes.search(Scope(account_id=account_id)).items:
            uow.volumes.soft_delete(volume.id)
        uow.users.remove_of_account(account_id)
        uow.keypairs.remove_of_account(account_id)
        uow.accounts.soft_delete(account_id)
        uow.commit()
    return account


def create_offering(
    uow_factory: UowFactory, caller: Account, name: str, cpu: int, speed: int, ram: int
) -> ServiceOffering:
    _root_admin(caller)
    if not name or len(name) > 255:
        raise InvalidParameterValue("An offering name must have 1 to 255 characters")
    if not (1 <= cpu <= 240 and 100 <= speed <= 10_000 and 32 <= ram <= 12 * 1024 * 1024):
        raise InvalidParameterValue("cpunumber 1-240, cpuspeed 100-10000 MHz, memory 32 MiB-12 TiB")
    with uow_factory() as uow:
        if uow.offerings.by_name(name) is not None:
            raise InvalidParameterValue(f"Service offering {name} already exists")
        offering = uow.offerings.add(ServiceOffering(0, _new_id(), name, cpu, speed, ram))
        uow.commit()
    return offering


def delete_offering(uow_factory: UowFactory, caller: Account, offering_uuid: str) -> None:
    """deleteServiceOffering (root admin): the offering is removed; VMs on it keep running."""
    _root_admin(caller)
    with uow_factory() as uow:
        offering = uow.offerings.get_by_uuid(offering_uuid)
        if offering is None:
            raise InvalidParameterValue(f"Unable to find service offering with specified id: {offering_uuid}")
        uow.offerings.soft_delete(offering.id)
        uow.commit()


def set_vm_snapshot_enabled(
    uow_factory: UowFactory, caller: Account, caps_uuid: str | None, enabled: bool
) -> HypervisorCapabilities:
    """updateHypervisorCapabilities: switch VM snapshots on or off (default: the Hyper-V row)."""
    _root_admin(caller)
    with uow_factory() as uow:
        caps = uow.capabilities.get_by_uuid(caps_uuid) if caps_uuid else uow.capabilities.lookup("Hyperv")
        if caps is None:
            raise InvalidParameterValue(f"Unable to find hypervisor capabilities with specified id: {caps_uuid}")
        uow.capabilities.set_vm_snapshot_enabled(caps, enabled)
        uow.commit()
    return caps


def set_config(uow_factory: UowFactory, caller: Account, name: str, value: str) -> tuple[str, str]:
    """updateConfiguration: a known key and a value of its type, or 431 and nothing stored."""
    _root_admin(caller)
    key = config.lookup(name)
    config.parse(key, value)
    with uow_factory() as uow:
        uow.config.set(key, value)
        uow.commit()
    return key.name, value


def get_config(uow_factory: UowFactory, name: str | None = None) -> list[tuple[config.ConfigKey, str]]:
    keys = [config.lookup(name)] if name else list(config.KEYS.values())
    with uow_factory(readonly=True) as uow:
        return [(k, uow.config.get(k)) for k in keys]


def _root_admin(caller: Account) -> None:
    if caller.type != AccountType.Admin:
        raise PermissionDenied(f"Account {caller.name} is not a root admin")


require_root_admin = _root_admin


# ------------------------------------------------------------------ listings for the HTTP API


def check_placement(uow_factory: UowFactory, zone_uuid: str | None, template_uuid_: str | None) -> None:
    """deployVirtualMachine's zone and template, when given, must exist."""
    catalogue.check_template(template_uuid_)
    if zone_uuid is not None:
        with uow_factory(readonly=True) as uow:
            if uow.zones.get_by_uuid(zone_uuid) is None:
                raise InvalidParameterValue(f"Unable to find zone with specified id: {zone_uuid}")


def visible_domains(uow_factory: UowFactory, caller: Account) -> list[Domain]:
    """listDomains: everything for the root admin, the subtree for a domain admin, and a
    user's own domain for a user."""
    with uow_factory(readonly=True) as uow:
        domains = uow.domains.all()
        if caller.type == AccountType.Admin:
            return domains
        own = uow.domains.get(caller.domain_id)
        if own is None:
            return []
        if caller.type == AccountType.User:
            return [own]
        subtree = uow.domains.subtree_ids(own)
        return [d for d in domains if d.id in subtree]


def visible_accounts(uow_factory: UowFactory, caller: Account) -> list[Account]:
    """listAccounts: every account for the root admin, the subtree's for a domain admin,
    the caller's own for a user."""
    if caller.type == AccountType.User:
        return [caller]
    with uow_factory(readonly=True) as uow:
        if caller.type == AccountType.Admin:
            return uow.accounts.in_domains(None)
        own = uow.domains.get(caller.domain_id)
        return uow.accounts.in_domains(uow.domains.subtree_ids(own) if own else frozenset())


def account_type(value: int | None) -> AccountType:
    """createAccount's ``accounttype`` (0 user, 1 root admin, 2 domain admin; default user)."""
    if value is None:
        return AccountType.User
    try:
        return AccountType(value)
    except ValueError:
        raise InvalidParameterValue("accounttype must be 0 (user), 1 (root admin) or 2 (domain admin)") from None


def deploy_owner(
    uow_factory: UowFactory,
    caller: Account,
    zone_uuid: str | None,
    template_uuid: str | None,
    account_name: str | None,
    domain_uuid: str | None,
) -> Account:
    """deployVirtualMachine's zone and template checked, and whose VM it is: the caller's,
    or ``account`` (in ``domainid``) when an admin deploys on its behalf."""
    check_placement(uow_factory, zone_uuid, template_uuid)
    if account_name is None:
        return caller
    with uow_factory(readonly=True) as uow:
        return listing_scope_owner(uow, caller, account_name, domain_uuid)
