"""The list commands' rules: who sees what, CloudStack's filters, and paging.

Every filter (ids, tags, VM, name, state, account scope) goes into the repository's query
and every page is cut there (``LIMIT``/``OFFSET`` beside one ``COUNT``); the views then
build the response objects of that one page. :func:`check_paging` is the one check of
``page`` and ``pagesize``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.domain.errors import InvalidParameterValue
from harness.domain.model import Account
from harness.domain.states import LISTED_VM_SNAPSHOT_STATES, VMSnapshotState, VMState
from harness.service import accounts, events, keypairs, nics, tags, views
from harness.service.access import check_access, require, scope_of
from harness.store.repository import Scope
from harness.store.uow import UnitOfWork, UowFactory

Obj = dict[str, Any]
Listed = tuple[int, list[Obj]]


def check_paging(page: int | None, pagesize: int | None) -> None:
    """``page`` and ``pagesize``, when given, are positive (431 otherwise)."""
    if (page is not None and page < 1) or (pagesize is not None and pagesize < 1):
        raise InvalidParameterValue("page and pagesize must be positive whole numbers")


def _tag_pairs(tag_filter: Sequence[dict[str, str]] | None) -> list[tuple[str, str]] | None:
    return tags.filter_pairs(tag_filter) if tag_filter else None


def vm_snapshots(
    uow_factory: UowFactory,
    caller: Account,
    *,
    snapshot_uuid: str | None = None,
    snapshot_uuids: Sequence[str] | None = None,
    vm_uuid: str | None = None,
    state: str | None = None,
    name: str | None = None,
    keyword: str | None = None,
    account_uuid: str | None = None,
    account_name: str | None = None,
    domain_uuid: str | None = None,
    project_uuid: str | None = None,
    tag_filter: Sequence[dict[str, str]] | None = None,
    own_only: bool = False,
    page: int | None = None,
    pagesize: int | None = None,
) -> Listed:
    """listVMSnapshot: the snapshots the caller may see, newest first, deleted ones never.
    ``vmsnapshotids`` (exclusive with ``vmsnapshotid``), ``account`` by name, ``tags``
    (the snapshots carrying every key=value given) and ``projectid`` (no projects exist);
    ``own_only``: the caller's own account's (an admin's list without ``listall``)."""
    if project_uuid is not None:
        raise InvalidParameterValue(f"Unable to find project with specified id: {project_uuid}")
    if snapshot_uuid is not None and snapshot_uuids is not None:
        raise InvalidParameterValue("vmsnapshotid and vmsnapshotids are mutually exclusive")
    check_paging(page, pagesize)
    if state is not None and state not in VMSnapshotState.__members__:
        raise InvalidParameterValue(f"Invalid state {state!r}; one of {', '.join(VMSnapshotState)}")
    if account_name is not None and account_uuid is None:
        account_uuid = accounts.account_named(uow_factory, account_name).uuid
    tagged = _tag_pairs(tag_filter)
    uuids = [snapshot_uuid] if snapshot_uuid is not None else snapshot_uuids
    with uow_factory(readonly=True) as uow:
        scope = _snapshot_scope(uow, caller, account_uuid, domain_uuid)
        if own_only:
            scope = Scope(account_id=caller.id, domain_ids=scope.domain_ids)
        vm_id = None
        if vm_uuid is not None:
            vm = uow.vms.get_by_uuid(vm_uuid)
            vm_id = vm.id if vm else -1
        states = [VMSnapshotState(state)] if state else sorted(LISTED_VM_SNAPSHOT_STATES)
        found = uow.vm_snapshots.search(
            scope,
            uuids=None if uuids is None else list(dict.fromkeys(uuids)),
            vm_id=vm_id,
            states=states,
            name=name,
            keyword=keyword,
            tagged=tagged,
            page=page,
            pagesize=pagesize,
        )
        return found.count, views.vm_snapshots(uow, found.items)


def _snapshot_scope(uow: UnitOfWork, caller: Account, account_uuid: str | None, domain_uuid: str | None) -> Scope:
    """The caller's scope narrowed to ``account_uuid`` and to the subtree of ``domain_uuid``."""
    scope = scope_of(uow, caller)
    if account_uuid is not None:
        account = require(uow.accounts.get_by_uuid(account_uuid), "account", account_uuid, uow, caller)
        scope = Scope(account_id=account.id, domain_ids=scope.domain_ids)
    if domain_uuid is not None:
        domain = uow.domains.get_by_uuid(domain_uuid)
        if domain is None:
            raise InvalidParameterValue(f"Unable to find domain with specified id: {domain_uuid}")
        subtree = uow.domains.subtree_ids(domain)
        allowed = subtree if scope.domain_ids is None else subtree & scope.domain_ids
        scope = Scope(account_id=scope.account_id, domain_ids=frozenset(allowed))
    return scope


def vms(
    uow_factory: UowFactory,
    caller: Account,
    vm_uuid: str | None = None,
    state: str | None = None,
    keyword: str | None = None,
    page: int | None = None,
    pagesize: int | None = None,
    own_only: bool = False,
    tag_filter: Sequence[dict[str, str]] | None = None,
) -> Listed:
    """listVirtualMachines: the count and one page of Instances. ``own_only``: the caller's
    own account's (an admin's list without ``listall``); ``tag_filter``: those carrying
    every key=value given; an expunged Instance is never listed, one the caller may not
    see is 531."""
    check_paging(page, pagesize)
    if state is not None and state not in VMState.__members__:
        raise InvalidParameterValue(f"Invalid state {state!r}; one of {', '.join(VMState)}")
    tagged = _tag_pairs(tag_filter)
    with uow_factory(readonly=True) as uow:
        if vm_uuid is None:
            scope = Scope(account_id=caller.id) if own_only else scope_of(uow, caller)
            found = uow.vms.search(
                scope,
                state=VMState(state) if state else None,
                keyword=keyword,
                tagged=tagged,
                page=page,
                pagesize=pagesize,
            )
            return found.count, views.vms(uow, found.items)
        vm = uow.vms.get_by_uuid(vm_uuid)
        if vm is None or vm.state == VMState.Expunging or (state is not None and vm.state != VMState(state)):
            return 0, []
        check_access(uow, caller, vm, f"Instance {vm_uuid}")
        carried = {(t.key, t.value) for t in uow.tags.of_resources("UserVm", [vm.id])}
        if tagged and not set(tagged) <= carried:
            return 0, []
        return 1, views.vms(uow, [vm])


def volumes(uow_factory: UowFactory, caller: Account, vm_uuid: str | None = None) -> Listed:
    """listVolumes: the caller's visible volumes, those of ``vm_uuid`` when given."""
    with uow_factory(readonly=True) as uow:
        vm_id = None
        if vm_uuid is not None:
            vm_id = require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller).id
        found = uow.volumes.search(scope_of(uow, caller), vm_id=vm_id)
        return found.count, views.volumes(uow, found.items)


def volume_snapshots(uow_factory: UowFactory, caller: Account, volume_uuid: str | None = None) -> Listed:
    """listSnapshots: the caller's visible volume snapshots, those of ``volume_uuid`` when given."""
    with uow_factory(readonly=True) as uow:
        volume_id = None
        if volume_uuid is not None:
            volume_id = require(uow.volumes.get_by_uuid(volume_uuid), "volume", volume_uuid, uow, caller).id
        found = uow.volume_snapshots.search(scope_of(uow, caller), volume_id=volume_id)
        return found.count, views.volume_snapshots(uow, found.items)


def zones(uow_factory: UowFactory, zone_uuid: str | None = None, name: str | None = None) -> list[Obj]:
    """listZones, each zone with the guest network's CIDR."""
    with uow_factory(readonly=True) as uow:
        cidr = str(nics.guest_network(uow))
        return [
            {**views.zone(z), "guestcidraddress": cidr}
            for z in uow.zones.all()
            if zone_uuid in (None, z.uuid) and name in (None, z.name)
        ]


def domains(
    uow_factory: UowFactory, caller: Account, domain_uuid: str | None = None, name: str | None = None
) -> list[Obj]:
    """listDomains: the domains the caller sees (:func:`accounts.visible_domains`), filtered."""
    found = accounts.visible_domains(uow_factory, caller)
    with uow_factory(readonly=True) as uow:
        return [
            views.domain(uow, d)
            for d in found
            if (domain_uuid is None or d.uuid == domain_uuid) and (name is None or d.name == name)
        ]


def account_list(
    uow_factory: UowFactory, caller: Account, account_uuid: str | None = None, name: str | None = None
) -> list[Obj]:
    """listAccounts: the accounts the caller sees (:func:`accounts.visible_accounts`), filtered."""
    found = accounts.visible_accounts(uow_factory, caller)
    with uow_factory(readonly=True) as uow:
        return [
            views.account(uow, a)
            for a in found
            if (account_uuid is None or a.uuid == account_uuid) and (name is None or a.name == name)
        ]


def _paged(items: list[Obj], page: int | None, pagesize: int | None) -> Listed:
    """The count and one page of a list filtered after its views were built."""
    start = ((page or 1) - 1) * (pagesize or 0)
    return len(items), items[start : start + pagesize] if pagesize else items


def tag_list(uow_factory: UowFactory, caller: Account, **filters: Any) -> Listed:
    """listTags: the tags in the caller's listing scope (:func:`tags.search`), as views."""
    found = tags.search(uow_factory, caller, **filters)
    with uow_factory(readonly=True) as uow:
        return found.count, views.tags(uow, found.items)


def key_pairs(uow_factory: UowFactory, caller: Account, **filters: Any) -> Listed:
    """listSSHKeyPairs: the key pairs in the caller's listing scope, as views."""
    found = keypairs.search(uow_factory, caller, **filters)
    with uow_factory(readonly=True) as uow:
        return found.count, views.ssh_keypairs(uow, found.items)


def event_list(
    uow_factory: UowFactory,
    caller: Account,
    *,
    event_uuid: str | None = None,
    resource_uuid: str | None = None,
    resource_type: str | None = None,
    start_uuid: str | None = None,
    page: int | None = None,
    pagesize: int | None = None,
    **filters: Any,
) -> Listed:
    """listEvents (:func:`events.search`); ``event_uuid``, ``resource_uuid`` and
    ``resource_type`` match the view's fields, ``start_uuid`` lists an event and the
    events it started."""
    exact = {"id": event_uuid, "resourceid": resource_uuid, "resourcetype": resource_type}
    narrowed = start_uuid is not None or any(v is not None for v in exact.values())
    found = events.search(
        uow_factory, caller, **filters, page=None if narrowed else page, pagesize=None if narrowed else pagesize
    )
    with uow_factory(readonly=True) as uow:
        items = views.events(uow, found.items)
    if not narrowed:
        return found.count, items
    items = [
        e
        for e in items
        if all(v is None or e.get(k) == v for k, v in exact.items())
        and (start_uuid is None or start_uuid in (e["id"], e.get("parentid")))
    ]
    return _paged(items, page, pagesize)


def users(uow_factory: UowFactory, caller: Account, keyword: str | None = None, **wanted: Any) -> list[Obj]:
    """listUsers: the users the caller sees, those whose view fields equal ``wanted``
    (``None``: any) and whose username holds ``keyword``."""
    found = accounts.visible_users(uow_factory, caller)
    with uow_factory(readonly=True) as uow:
        items = [views.user(uow, u, a) for u, a in found]
    items = [u for u in items if all(v is None or u.get(k) == v for k, v in wanted.items())]
    return [u for u in items if keyword in u["username"]] if keyword else items
