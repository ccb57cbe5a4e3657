"""What a user may type for a VM, a volume or a VM snapshot: its id, a unique leading part of the id
(as ``snapshot tree`` prints them), or its display name where that is unique (for a
snapshot: within ``--vm VM``). A full id goes to the API untouched, so access errors stay
the API's (531); anything else is looked up among what the caller can see, and an unknown
or ambiguous reference is a 431 that says which ids match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from harness.cli.client import Api, ApiRefusal, Obj, pages

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
#: A leading part of an id: hex digits (and dashes), at least this long.
PREFIX = re.compile(r"[0-9a-fA-F][0-9a-fA-F-]{3,35}")
SHORT = 8


def vm_id(api: Api, ref: str) -> str:
    """The id of the VM ``ref`` names."""
    if UUID.fullmatch(ref):
        return ref
    named = [v for v in pages(api, "listVirtualMachines", "virtualmachine", keyword=ref) if v.get("name") == ref]
    return _one(("VM", "VMs"), ref, named, _prefixed(api, "listVirtualMachines", "virtualmachine", ref, named))


def volume_id(api: Api, ref: str) -> str:
    """The id of the volume ``ref`` names."""
    if UUID.fullmatch(ref):
        return ref
    seen = api.list("listVolumes", "volume")
    named = [v for v in seen if v.get("name") == ref]
    return _one(("volume", "volumes"), ref, named, [] if named else _starting(seen, ref))


def snapshot_id(api: Api, ref: str, vm: str | None = None) -> str:
    """The id of the VM snapshot ``ref`` names, among the snapshots of ``vm`` if given."""
    if UUID.fullmatch(ref):
        return ref
    vmid = vm_id(api, vm) if vm is not None else None
    named = list(pages(api, "listVMSnapshot", "vmSnapshot", virtualmachineid=vmid, name=ref))
    prefixed = _prefixed(api, "listVMSnapshot", "vmSnapshot", ref, named, virtualmachineid=vmid)
    where = f" of VM {vm}" if vm is not None else ""
    kind = (f"VM snapshot{where}", f"VM snapshots{where}")
    hint = "give the id" if vm is not None else "name the VM with --vm VM, or give the id"
    return _one(kind, ref, named, prefixed, hint)


def _prefixed(api: Api, command: str, key: str, ref: str, named: list[Obj], **params: Any) -> list[Obj]:
    """What has an id starting ``ref``: looked for only when nothing is named ``ref``."""
    if named or not PREFIX.fullmatch(ref):
        return []
    return _starting(pages(api, command, key, **params), ref)


def _starting(items: Iterable[Obj], ref: str) -> list[Obj]:
    if not PREFIX.fullmatch(ref):
        return []
    return [i for i in items if str(i.get("id", "")).startswith(ref.lower())]


def _one(kind: tuple[str, str], ref: str, named: list[Obj], prefixed: list[Obj], hint: str = "give the id") -> str:
    found = named or prefixed
    if len(found) == 1:
        return str(found[0]["id"])
    if not found:
        raise ApiRefusal(
            {"errorcode": 431, "errortext": f"No {kind[0]} is named {ref!r} or has an id starting {ref!r}"}
        )
    how = "are named" if named else "have ids starting"
    ids = ", ".join(str(i["id"]) for i in found[:5]) + (", ..." if len(found) > 5 else "")
    raise ApiRefusal({"errorcode": 431, "errortext": f"{len(found)} {kind[1]} {how} {ref!r} ({ids}): {hint}"})


def short_ids(ids: Iterable[str], minimum: int = SHORT) -> dict[str, str]:
    """The shortest leading part (at least ``minimum`` characters) that tells the ids apart."""
    full = list(ids)
    length = minimum
    while length < 36 and len({i[:length] for i in full}) < len(full):
        length += 1
    return {i: i[:length] for i in full}
