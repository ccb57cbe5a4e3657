"""listVirtualMachines: the Instances a caller may see, filtered as CloudStack filters them."""

from __future__ import annotations

from typing import Any

from harness.domain.errors import InvalidParameterValue
from harness.domain.model import Account
from harness.domain.states import VMState
from harness.service import tags, views
from harness.service.access import check_access, scope_of
from harness.store.ports import Scope, UowFactory

Obj = dict[str, Any]


def search(
    uow_factory: UowFactory,
    caller: Account,
    vm_uuid: str | None = None,
    state: str | None = None,
    keyword: str | None = None,
    page: int | None = None,
    pagesize: int | None = None,
    own_only: bool = False,
    tag_filter: list[dict[str, str]] | None = None,
) -> tuple[int, list[Obj]]:
    """The count and one page of Instances. ``own_only``: the caller's own account's (an
    admin's list without ``listall``); ``tag_filter``: those carrying every key=value
    given; an expunged Instance is never listed, one the caller may not see is 531."""
    if (page is not None and page < 1) or (pagesize is not None and pagesize < 1):
        raise InvalidParameterValue("page and pagesize must be positive whole numbers")
    if state is not None and state not in VMState.__members__:
        raise InvalidParameterValue(f"Invalid state {state!r}; one of {', '.join(VMState)}")
    if tag_filter:
        keep = tags.matching_uuids(uow_factory, "UserVm", tag_filter)
        matched = [
            v for v in search(uow_factory, caller, vm_uuid, state, keyword, own_only=own_only)[1] if v["id"] in keep
        ]
        start = ((page or 1) - 1) * (pagesize or 0)
        return len(matched), matched[start : start + pagesize] if pagesize else matched
    with uow_factory(readonly=True) as uow:
        if vm_uuid is None:
            scope = Scope(account_id=caller.id) if own_only else scope_of(uow, caller)
            found = uow.vms.search(
                scope, state=VMState(state) if state else None, keyword=keyword, page=page, pagesize=pagesize
            )
            return found.count, views.vms(uow, found.items)
        vm = uow.vms.get_by_uuid(vm_uuid)
        if vm is None or vm.state == VMState.Expunging or (state is not None and vm.state != VMState(state)):
            return 0, []
        check_access(uow, caller, vm, f"Instance {vm_uuid}")
        return 1, views.vms(uow, [vm])
