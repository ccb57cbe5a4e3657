"""What the cloud offers beside offerings: the template catalogue, the hypervisors, the
primary storage and the cloud's capabilities (listTemplates, listHypervisors,
listStoragePools, listCapabilities).

The templates are a fixed Hyper-V catalogue (no template store is modelled): public,
featured, ready VHDX images in every zone, owned by the root admin. ``templatefilter``
keeps CloudStack's meaning per caller: ``featured`` and ``executable`` show them,
``community`` (public, not featured) and the caller's own (``self``, ``selfexecutable``,
``sharedexecutable``) show none, and ``all`` is for the root admin.

The primary storage is one pool per host, sized nominally (:data:`POOL_CAPACITY`); its
allocation is the live volumes' virtual sizes, its use their VM-snapshot chains as the
host reported them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from harness.domain.errors import InvalidParameterValue, PermissionDenied
from harness.domain.model import Account, AccountType, Host
from harness.store.ports import UowFactory

Obj = dict[str, Any]

HYPERVISOR = "Hyperv"
#: the nominal size of a host's primary storage pool
POOL_CAPACITY = 4 << 40
TEMPLATE_FILTERS = ("featured", "self", "selfexecutable", "sharedexecutable", "executable", "community", "all")
TEMPLATE_SIZE = 20 << 30


def _uuid(kind: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hvsnap:{kind}:{name}"))


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    display_text: str
    os_type: str
    #: CloudStack's ``passwordenabled``: deploy generates the guest's root password
    password_enabled: bool = False

    @property
    def uuid(self) -> str:
        return _uuid("template", self.name)

    @property
    def os_type_uuid(self) -> str:
        return _uuid("ostype", self.os_type)


TEMPLATES = (
    Template("Windows Server 2019 (Hyper-V)", "Windows Server 2019 Datacenter", "Windows Server 2019 (64-bit)"),
    Template("Ubuntu 22.04 (Hyper-V)", "Ubuntu 22.04 LTS", "Ubuntu 22.04 LTS"),
    Template("CentOS 7 (Hyper-V, password enabled)", "CentOS 7 with password reset", "CentOS 7 (64-bit)", True),
)


def template_by_uuid(template_uuid: str | None) -> Template | None:
    return next((t for t in TEMPLATES if t.uuid == template_uuid), None)


def list_templates(
    uow_factory: UowFactory,
    caller: Account,
    template_filter: str,
    template_uuid: str | None = None,
    name: str | None = None,
    hypervisor: str | None = None,
    zone_uuid: str | None = None,
    keyword: str | None = None,
) -> list[Obj]:
    if template_filter not in TEMPLATE_FILTERS:
        raise InvalidParameterValue(f"templatefilter must be one of {', '.join(TEMPLATE_FILTERS)}")
    if template_filter == "all" and caller.type != AccountType.Admin:
        raise InvalidParameterValue("Filter all can be specified by admin only")
    with uow_factory(readonly=True) as uow:
        zones = uow.zones.all()
        admin = uow.accounts.by_name("admin")
        root = uow.domains.root()
    if zone_uuid is not None:
        zones = [z for z in zones if z.uuid == zone_uuid]
        if not zones:
            raise InvalidParameterValue(f"Unable to find zone with specified id: {zone_uuid}")
    if template_filter in ("self", "selfexecutable", "sharedexecutable", "community"):
        return []
    if hypervisor is not None and hypervisor.lower() != HYPERVISOR.lower():
        return []
    out = []
    for t in TEMPLATES:
        if template_uuid not in (None, t.uuid) or name not in (None, t.name):
            continue
        if keyword and keyword.lower() not in t.name.lower():
            continue
        for z in zones:
            out.append(
                {
                    "id": t.uuid,
                    "name": t.name,
                    "displaytext": t.display_text,
                    "ostypeid": t.os_type_uuid,
                    "ostypename": t.os_type,
                    "hypervisor": HYPERVISOR,
                    "format": "VHDX",
                    "isready": True,
                    "ispublic": True,
                    "isfeatured": True,
                    "isextractable": False,
                    "crossZones": False,
                    "templatetype": "USER",
                    "passwordenabled": t.password_enabled,
                    "bootable": True,
                    "size": TEMPLATE_SIZE,
                    "status": "Download Complete",
                    "zoneid": z.uuid,
                    "zonename": z.name,
                    "account": admin.name if admin else None,
                    "domainid": root.uuid if root else None,
                    "domain": root.name if root else None,
                    "created": "2024-01-01T00:00:00+0000",
                    "tags": [],
                }
            )
    return out


def check_template(template_uuid: str | None) -> None:
    if template_uuid is not None and template_by_uuid(template_uuid) is None:
        raise InvalidParameterValue(f"Unable to find template with specified id: {template_uuid}")


def list_hypervisors(uow_factory: UowFactory, zone_uuid: str | None = None) -> list[Obj]:
    with uow_factory(readonly=True) as uow:
        zones = [z for z in uow.zones.all() if zone_uuid in (None, z.uuid)]
        if zone_uuid is not None and not zones:
            raise InvalidParameterValue(f"Unable to find zone with specified id: {zone_uuid}")
        found = {h.hypervisor_type for z in zones for h in uow.hosts.in_zone(z.id)}
    return [{"name": name} for name in sorted(found)]


def pool_uuid(host: Host) -> str:
    return _uuid("storagepool", host.uuid)


def pool_name(host: Host) -> str:
    return f"{host.name}-primary"


def list_storage_pools(
    uow_factory: UowFactory, caller: Account, pool_uuid_: str | None = None, name: str | None = None
) -> list[Obj]:
    """listStoragePools (root admin): each host's primary storage with its usage."""
    if caller.type != AccountType.Admin:
        raise PermissionDenied(f"Account {caller.name} may not list storage pools (root admin only)")
    out = []
    with uow_factory(readonly=True) as uow:
        volumes = uow.volumes.search().items
        allocated = sum(v.size for v in volumes)
        used = sum(v.vm_snapshot_chain_size for v in volumes)
        for z in uow.zones.all():
            for h in uow.hosts.in_zone(z.id):
                pool = {
                    "id": pool_uuid(h),
                    "name": pool_name(h),
                    "zoneid": z.uuid,
                    "zonename": z.name,
                    "type": "SMB",
                    "path": f"\\\\{h.name}\\primary",
                    "state": "Up",
                    "scope": "ZONE",
                    "hypervisor": h.hypervisor_type,
                    "disksizetotal": POOL_CAPACITY,
                    "disksizeallocated": allocated,
                    "disksizeused": used,
                }
                if pool_uuid_ in (None, pool["id"]) and name in (None, pool["name"]):
                    out.append(pool)
    return out


def capabilities() -> Obj:
    """listCapabilities: what this cloud supports, as CloudStack's capability object."""
    return {
        "cloudstackversion": "4.20.0.0-hvsnap",
        "securitygroupsenabled": False,
        "userpublictemplateenabled": False,
        "allowusercreateprojects": False,
        "projectinviterequired": False,
        "kvmsnapshotenabled": False,
        "apilimitinterval": 1,
        "apilimitmax": 0,
        "allowuserviewdestroyedvm": True,
        "allowuserexpungerecovervm": True,
    }
