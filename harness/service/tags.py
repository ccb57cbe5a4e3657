"""Resource tags on VMs and VM snapshots (CloudStack's ``createTags`` / ``deleteTags`` /
``listTags``, resource types ``UserVm`` and ``VMSnapshot``).

A tag belongs to its resource's owner, so who may tag a resource is who may operate on it,
and tags list in the resource's account scope. A resource has one value per key: tagging a
key it has already is a 431, as in CloudStack. Keys and values are 1 to 255 characters;
nothing of a refused request is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from harness.domain.errors import InvalidParameterValue
from harness.domain.model import Account, Page, ResourceTag
from harness.domain.states import VMState
from harness.service.access import check_access, listing_scope
from harness.store.ports import UnitOfWork, UowFactory

#: resourcetype -> (unit-of-work repository, the name errors use)
RESOURCE_TYPES = {"UserVm": ("vms", "Instance"), "VMSnapshot": ("vm_snapshots", "VM snapshot")}
#: other names clients send: Ansible's cs_vmsnapshot tags VM snapshots as "Snapshot", and
#: hvsnap tags no volume snapshots, so the name can only mean a VM snapshot here
ALIASES = {"snapshot": "VMSnapshot"}
MAX_TAG = 255


def resource_type(name: str) -> str:
    """CloudStack's name for a resource type, matched case-insensitively; 431 if unknown."""
    lowered = name.strip().lower()
    if lowered in ALIASES:
        return ALIASES[lowered]
    for known in RESOURCE_TYPES:
        if known.lower() == lowered:
            return known
    raise InvalidParameterValue(f"Invalid resource type {name!r}: one of {', '.join(RESOURCE_TYPES)}")


def _resources(uow: UnitOfWork, caller: Account, kind: str, uuids: Sequence[str]) -> list[Any]:
    repo_name, label = RESOURCE_TYPES[kind]
    if not uuids:
        raise InvalidParameterValue("resourceids must name at least one resource")
    found = []
    for one in dict.fromkeys(uuids):
        resource = getattr(uow, repo_name).get_by_uuid(one)
        if resource is None or getattr(resource, "state", None) in (VMState.Destroyed, VMState.Expunging):
            raise InvalidParameterValue(f"Unable to find {label} with specified id: {one}")
        check_access(uow, caller, resource, f"{label} {one}")
        found.append(resource)
    return found


def _pairs(tags: Sequence[dict[str, str]], values_required: bool) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    for entry in tags:
        key, value = entry.get("key"), entry.get("value")
        if key is None or not key.strip() or len(key) > MAX_TAG:
            raise InvalidParameterValue(f"A tag key must have 1 to {MAX_TAG} characters, not {key!r}")
        if values_required and (value is None or not value.strip()):
            raise InvalidParameterValue(f"Value for the key {key} is either null or empty")
        if value is not None and len(value) > MAX_TAG:
            raise InvalidParameterValue(f"A tag value must have at most {MAX_TAG} characters")
        pairs.append((key, value))
    return pairs


def create(
    uow_factory: UowFactory,
    caller: Account,
    kind: str,
    resource_uuids: Sequence[str],
    tags: Sequence[dict[str, str]],
    customer: str | None = None,
) -> list[ResourceTag]:
    kind = resource_type(kind)
    pairs = _pairs(tags, values_required=True)
    if not pairs:
        raise InvalidParameterValue("tags must hold at least one key and value")
    if len({k for k, _ in pairs}) != len(pairs):
        raise InvalidParameterValue("A key may be given once per request")
    made = []
    with uow_factory() as uow:
        for resource in _resources(uow, caller, kind, resource_uuids):
            have = {t.key for t in uow.tags.of_resources(kind, [resource.id])}
            for key, value in pairs:
                if key in have:
                    raise InvalidParameterValue(
                        f"A tag with key {key} already exists for the {kind} {resource.uuid}; delete it first"
                    )
                tag = ResourceTag(
                    0,
                    str(uuid.uuid4()),
                    key,
                    value or "",
                    kind,
                    resource.id,
                    resource.uuid,
                    resource.account_id,
                    resource.domain_id,
                    customer,
                )
                made.append(uow.tags.add(tag))
        uow.commit()
    return made


def delete(
    uow_factory: UowFactory,
    caller: Account,
    kind: str,
    resource_uuids: Sequence[str],
    tags: Sequence[dict[str, str]] | None = None,
) -> int:
    """Remove the resources' tags matching ``tags`` (a key, or a key and its value); all of
    their tags when ``tags`` is empty. Returns how many went."""
    kind = resource_type(kind)
    pairs = _pairs(tags or [], values_required=False)
    with uow_factory() as uow:
        resources = _resources(uow, caller, kind, resource_uuids)
        doomed = [
            t
            for t in uow.tags.of_resources(kind, [r.id for r in resources])
            if not pairs or any(t.key == k and (v is None or t.value == v) for k, v in pairs)
        ]
        uow.tags.remove(t.id for t in doomed)
        uow.commit()
    return len(doomed)


def search(uow_factory: UowFactory, caller: Account, **filters: Any) -> Page:
    """listTags: the tags in the caller's listing scope, filtered."""
    scope_args = {k: filters.pop(k) for k in ("listall", "domain_uuid", "isrecursive", "account_name") if k in filters}
    if filters.get("resource_type") is not None:
        filters["resource_type"] = resource_type(filters["resource_type"])
    with uow_factory(readonly=True) as uow:
        return uow.tags.search(listing_scope(uow, caller, **scope_args), **filters)


def filter_pairs(tags: Sequence[dict[str, str]]) -> list[tuple[str, str]]:
    """A list command's ``tags`` filter as (key, value) pairs, checked (a missing value
    matches the empty one)."""
    return [(k, v or "") for k, v in _pairs(tags, values_required=False)]


def matching_uuids(uow_factory: UowFactory, kind: str, tags: Sequence[dict[str, str]]) -> set[str]:
    """The uuids of the live resources carrying every key=value of ``tags`` (list filters)."""
    pairs = filter_pairs(tags)
    repo_name, _ = RESOURCE_TYPES[kind]
    with uow_factory(readonly=True) as uow:
        found = (getattr(uow, repo_name).get(i) for i in uow.tags.matching(kind, pairs))
        return {r.uuid for r in found if r is not None}
