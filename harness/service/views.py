"""CloudStack response objects (cloudstack.md §5.5) built from domain entities.

The CLI's ``--json``, the HTTP API and job results all speak these shapes, so a field is
named once, here. Lists look up related rows in batches, never once per item.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from harness.domain.model import (
    VM,
    Account,
    AsyncJob,
    Domain,
    Event,
    Host,
    HypervisorCapabilities,
    Nic,
    ResourceTag,
    ServiceOffering,
    SSHKeyPair,
    User,
    VMSnapshot,
    Volume,
    VolumeSnapshot,
    Zone,
    chain_depths,
    depths_in,
)
from harness.domain.states import VMState
from harness.service import catalogue, keypairs, nics
from harness.store.ports import UnitOfWork

Obj = dict[str, Any]


def date(moment: datetime | None) -> str | None:
    """CloudStack's date format: ``2020-08-18T11:12:11+0000``."""
    if moment is None:
        return None
    if moment.year >= 1000:  # isoformat is twice as fast and pads the year the same way from 1000
        return moment.isoformat("T", "seconds") + "+0000"
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


class _Names:
    """Per-call caches of the rows responses refer to."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.accounts: dict[int, Account | None] = {}
        self.domains: dict[int, Domain | None] = {}
        self.vms: dict[int, VM | None] = {}
        self.zones: dict[int, Zone | None] = {}

    def account(self, id_: int) -> Account | None:
        if id_ not in self.accounts:
            self.accounts[id_] = self.uow.accounts.get(id_)
        return self.accounts[id_]

    def domain(self, id_: int) -> Domain | None:
        if id_ not in self.domains:
            self.domains[id_] = self.uow.domains.get(id_)
        return self.domains[id_]

    def vm(self, id_: int) -> VM | None:
        if id_ not in self.vms:
            self.vms[id_] = self.uow.vms.get(id_)
        return self.vms[id_]

    def zone(self, id_: int) -> Zone | None:
        if id_ not in self.zones:
            self.zones[id_] = self.uow.zones.get(id_)
        return self.zones[id_]

    def owner(self, account_id: int, domain_id: int) -> Obj:
        account, domain = self.account(account_id), self.domain(domain_id)
        return {
            "account": account.name if account else None,
            "domainid": domain.uuid if domain else None,
            "domain": domain.name if domain else None,
        }


def vm_snapshots(uow: UnitOfWork, snaps: Sequence[VMSnapshot]) -> list[Obj]:
    names = _Names(uow)
    # One query for the page's ancestors: their parents' names and the chain depths.
    ancestry = uow.vm_snapshots.ancestry([s.id for s in snaps] + [s.parent for s in snaps if s.parent is not None])
    depths = depths_in({i: parent for i, (parent, _, _) in ancestry.items()})
    # The VM and owner fields repeat across a VM's snapshots: build them once per VM / owner.
    vm_fields: dict[int, Obj] = {}
    owner_fields: dict[tuple[int, int], Obj] = {}
    tagged = tags_by_resource(uow, "VMSnapshot", [s.id for s in snaps])
    offerings = {o.id: o for o in uow.offerings.all()} if snaps else {}
    out = []
    for s in snaps:
        offering = offerings.get(s.service_offering_id)  # the offering at snapshot time
        parent = ancestry.get(s.parent) if s.parent is not None else None
        obj: Obj = {
            "id": s.uuid,
            "name": s.name,
            "displayname": s.display_name,
            "description": s.description,
            "state": s.state.value,
            "type": s.type.value,
            "current": s.current,
            "parent": parent[1] if parent else None,
            "parentName": parent[2] if parent else None,
            "created": date(s.created),
            "tags": tagged.get(s.id, []),
            "serviceofferingid": offering.uuid if offering else None,
            "serviceofferingname": offering.name if offering else None,
            "chaindepth": depths.get(s.id, 0),
        }
        fields = vm_fields.get(s.vm_id)
        if fields is None:
            vm = names.vm(s.vm_id)
            fields = vm_fields[s.vm_id] = {
                "virtualmachineid": vm.uuid if vm else None,
                "virtualmachinename": vm.display_name if vm else None,
                "hypervisor": "Hyperv",
            }
            if vm is not None:
                zone = names.zone(vm.zone_id)
                fields["zoneid"], fields["zonename"] = (zone.uuid, zone.name) if zone else (None, None)
        obj.update(fields)
        owner = owner_fields.get((s.account_id, s.domain_id))
        if owner is None:
            owner = owner_fields[(s.account_id, s.domain_id)] = names.owner(s.account_id, s.domain_id)
        obj.update(owner)
        out.append(obj)
    return out


def vm_snapshot(uow: UnitOfWork, snap: VMSnapshot) -> Obj:
    return vm_snapshots(uow, [snap])[0]


def vms(uow: UnitOfWork, items: Sequence[VM]) -> list[Obj]:
    names = _Names(uow)
    offerings = {o.id: o for o in uow.offerings.all()}
    hosts: dict[int, Host] = {}
    vm_ids = [vm.id for vm in items]
    tagged = tags_by_resource(uow, "UserVm", vm_ids)
    nics_of: dict[int, list[Nic]] = {}
    for n in uow.nics.of_vms(vm_ids):
        nics_of.setdefault(n.vm_id, []).append(n)
    users = {u.account_id: u for u in uow.users.of_accounts({vm.account_id for vm in items})}
    keypair_names = uow.vm_details.value_of_vms(vm_ids, keypairs.KEYPAIR_NAMES)
    out = []
    for vm in items:
        offering = offerings.get(vm.service_offering_id)
        zone = names.zone(vm.zone_id)
        if zone is not None and zone.id not in hosts:
            hosts.update({h.id: h for h in uow.hosts.in_zone(zone.id)})
        host = hosts.get(vm.host_id) if vm.host_id is not None and vm.state == VMState.Running else None
        template = catalogue.template_by_uuid(vm.template_uuid)
        user = users.get(vm.account_id)
        obj: Obj = {
            "id": vm.uuid,
            "name": vm.display_name,
            "displayname": vm.display_name,
            "instancename": vm.instance_name,
            "state": vm.state.value,
            "serviceofferingid": offering.uuid if offering else None,
            "serviceofferingname": offering.name if offering else None,
            "cpunumber": offering.cpu if offering else None,
            "cpuspeed": offering.speed if offering else None,
            "memory": offering.ram_size if offering else None,
            "zoneid": zone.uuid if zone else None,
            "zonename": zone.name if zone else None,
            "hypervisor": "Hyperv",
            "haenable": False,
            "templateid": template.uuid if template else None,
            "templatename": template.name if template else None,
            "templatedisplaytext": template.display_text if template else None,
            "passwordenabled": template.password_enabled if template else None,
            "keypair": keypair_names.get(vm.id),
            "ostypeid": template.os_type_uuid if template else None,
            "guestosid": template.os_type_uuid if template else None,
            "hostid": host.uuid if host else None,
            "hostname": host.name if host else None,
            "rootdeviceid": 0,
            "rootdevicetype": "ROOT",
            "userid": user.uuid if user else None,
            "username": user.username if user else None,
            "created": date(vm.created),
            "nic": [nic(n, vm, zone) for n in nics_of.get(vm.id, [])],
            "tags": tagged.get(vm.id, []),
            "chaindepth": vm_chain_depth(uow, vm.id),
        }
        obj.update(names.owner(vm.account_id, vm.domain_id))
        out.append(obj)
    return out


def nic(n: Nic, vm: VM, zone: Zone | None) -> Obj:
    return {
        "id": n.uuid,
        "networkid": nics.network_uuid(zone) if zone else None,
        "networkname": nics.network_name(zone) if zone else None,
        "netmask": n.netmask,
        "gateway": n.gateway,
        "ipaddress": n.ip4_address,
        "broadcasturi": "vlan://untagged",
        "isolationuri": "ec2://untagged",
        "traffictype": "Guest",
        "type": "Shared",
        "isdefault": n.default_nic,
        "macaddress": n.mac_address,
        "deviceid": str(n.device_id),
        "virtualmachineid": vm.uuid,
    }


def tags_by_resource(uow: UnitOfWork, resource_type: str, ids: Sequence[int]) -> dict[int, list[Obj]]:
    """The ``tags`` lists of many resources, loaded at once."""
    if not ids:
        return {}
    names = _Names(uow)
    out: dict[int, list[Obj]] = {}
    for t in uow.tags.of_resources(resource_type, ids):
        out.setdefault(t.resource_id, []).append(tag(names, t))
    return out


def tag(names: _Names, t: ResourceTag) -> Obj:
    obj: Obj = {
        "key": t.key,
        "value": t.value,
        "resourcetype": t.resource_type,
        "resourceid": t.resource_uuid,
        "customer": t.customer,
    }
    obj.update(names.owner(t.account_id, t.domain_id))
    return obj


def tags(uow: UnitOfWork, items: Sequence[ResourceTag]) -> list[Obj]:
    names = _Names(uow)
    return [tag(names, t) for t in items]


def events(uow: UnitOfWork, items: Sequence[Event]) -> list[Obj]:
    names = _Names(uow)
    users = {u.account_id: u for u in uow.users.of_accounts({e.account_id for e in items})}
    starts: dict[int, str | None] = {e.id: e.uuid for e in items}
    out = []
    for e in items:
        user = users.get(e.account_id)
        if e.start_id is not None and e.start_id not in starts:
            parent = uow.events.get(e.start_id)
            starts[e.start_id] = parent.uuid if parent else None
        obj: Obj = {
            "id": e.uuid,
            "username": user.username if user else None,
            "type": e.type,
            "level": e.level,
            "description": e.description,
            "state": e.state,
            "resourcetype": e.resource_type,
            "resourceid": e.resource_uuid,
            "parentid": starts.get(e.start_id) if e.start_id is not None else None,
            "created": date(e.created),
        }
        obj.update(names.owner(e.account_id, e.domain_id))
        out.append(obj)
    return out


def user(uow: UnitOfWork, u: User, a: Account) -> Obj:
    domain = uow.domains.get(a.domain_id)
    return {
        "id": u.uuid,
        "username": u.username,
        "firstname": u.firstname,
        "lastname": u.lastname,
        "email": u.email,
        "state": u.state,
        "account": a.name,
        "accountid": a.uuid,
        "accounttype": int(a.type),
        "domainid": domain.uuid if domain else None,
        "domain": domain.name if domain else None,
        "isdefault": a.name == "admin",
        "created": date(u.created),
    }


def vm_chain_depth(uow: UnitOfWork, vm_id: int) -> int:
    """The depth of the VM's current snapshot (0 without one): the chain its disks run on."""
    snaps = uow.vm_snapshots.by_vm(vm_id)
    current = next((s.id for s in snaps if s.current), None)
    return chain_depths(snaps).get(current, 0) if current is not None else 0


def ssh_keypairs(uow: UnitOfWork, items: Sequence[SSHKeyPair]) -> list[Obj]:
    names = _Names(uow)
    return [
        {"id": k.uuid, "name": k.name, "fingerprint": k.fingerprint, **names.owner(k.account_id, k.domain_id)}
        for k in items
    ]


def vm(uow: UnitOfWork, item: VM) -> Obj:
    return vms(uow, [item])[0]


def volumes(uow: UnitOfWork, items: Sequence[Volume]) -> list[Obj]:
    names = _Names(uow)
    zone = next(iter(uow.zones.all()), None)
    host = next(iter(uow.hosts.in_zone(zone.id)), None) if zone else None
    pool_fields: Obj = {
        "storageid": catalogue.pool_uuid(host) if host else None,
        "storage": catalogue.pool_name(host) if host else None,
        "zoneid": zone.uuid if zone else None,
        "zonename": zone.name if zone else None,
    }
    out = []
    for v in items:
        attached = names.vm(v.vm_id) if v.vm_id is not None else None
        obj: Obj = {
            "id": v.uuid,
            "name": v.name,
            "type": v.type.value,
            "size": v.size,
            "state": v.state,
            "path": v.path,
            "vmsnapshotchainsize": v.vm_snapshot_chain_size,
            "virtualmachineid": attached.uuid if attached else None,
            "vmname": attached.display_name if attached else None,
            "deviceid": v.device_id,
            "vmdisplayname": attached.display_name if attached else None,
            "vmstate": attached.state.value if attached else None,
            "hypervisor": "Hyperv",
            "storagetype": "shared",
            "destroyed": v.removed is not None,
            "created": date(v.created),
        }
        obj.update(pool_fields)
        obj.update(names.owner(v.account_id, v.domain_id))
        out.append(obj)
    return out


def volume_snapshots(uow: UnitOfWork, items: Sequence[VolumeSnapshot]) -> list[Obj]:
    names = _Names(uow)
    out = []
    for s in items:
        vol = uow.volumes.get(s.volume_id)
        obj: Obj = {
            "id": s.uuid,
            "name": s.name,
            "state": s.state.value,
            "volumeid": vol.uuid if vol else None,
            "volumename": vol.name if vol else None,
            "volumetype": vol.type.value if vol else None,
            "physicalsize": s.size,
            "created": date(s.created),
        }
        obj.update(names.owner(s.account_id, s.domain_id))
        out.append(obj)
    return out


def offering(o: ServiceOffering) -> Obj:
    return {
        "id": o.uuid,
        "name": o.name,
        "displaytext": o.name,
        "cpunumber": o.cpu,
        "cpuspeed": o.speed,
        "memory": o.ram_size,
    }


def capabilities(c: HypervisorCapabilities) -> Obj:
    return {
        "id": c.uuid,
        "hypervisor": c.hypervisor_type,
        "hypervisorversion": c.hypervisor_version,
        "maxguestslimit": c.max_guests_limit,
        "maxdatavolumeslimit": c.max_data_volumes_limit,
        "vmsnapshotenabled": c.vm_snapshot_enabled,
    }


ROLE_TYPES = {0: "User", 1: "Admin", 2: "DomainAdmin"}


def account(uow: UnitOfWork, a: Account) -> Obj:
    domain = uow.domains.get(a.domain_id)
    return {
        "id": a.uuid,
        "name": a.name,
        "accounttype": int(a.type),
        "roletype": ROLE_TYPES[int(a.type)],
        "domainid": domain.uuid if domain else None,
        "domain": domain.name if domain else None,
        "state": "enabled",
        "user": [user(uow, u, a) for u in uow.users.of_accounts([a.id])],
    }


def domain(uow: UnitOfWork, d: Domain) -> Obj:
    parent = uow.domains.get(d.parent_id) if d.parent_id else None
    return {
        "id": d.uuid,
        "name": d.name,
        "path": "ROOT" + d.path.rstrip("/"),
        "parentdomainid": parent.uuid if parent else None,
        "parentdomainname": parent.name if parent else None,
        "level": d.path.count("/") - 1,
    }


def job(a: AsyncJob, result: Obj | None, refs: Obj | None = None) -> Obj:
    """queryAsyncJobResult's object; ``refs`` adds the uuids of ``job_refs``."""
    obj: Obj = {
        "jobid": a.uuid,
        "cmd": a.cmd,
        "jobstatus": a.job_status,
        "jobprocstatus": 0,
        "jobresultcode": a.job_result_code,
        "jobresulttype": "object" if a.job_status != 0 else None,
        "jobresult": result if a.job_status != 0 else None,  # a pending job has none
        "jobinstancetype": a.instance_type,
        "created": date(a.created),
        "completed": date(a.completed),
    }
    if refs:
        obj.update(refs)
    return obj


_JOB_INSTANCES = {
    "VmSnapshot": "vm_snapshots",
    "VirtualMachine": "vms",
    "Volume": "volumes",
    "Snapshot": "volume_snapshots",
    "Account": "accounts",
}


def job_refs(uow: UnitOfWork, a: AsyncJob) -> Obj:
    """The uuids a job refers to: its account (and user) and the instance it works on."""
    owner = uow.accounts.get(a.account_id)
    users = uow.users.of_accounts([a.account_id])
    refs: Obj = {
        "accountid": owner.uuid if owner else None,
        "userid": users[0].uuid if users else None,
        "jobinstanceid": instance_uuid(uow, a.instance_type, a.instance_id),
    }
    return refs


def instance_uuid(uow: UnitOfWork, instance_type: str | None, instance_id: int | None) -> str | None:
    repo_name = _JOB_INSTANCES.get(instance_type or "")
    if repo_name is None or instance_id is None:
        return None
    instance = getattr(uow, repo_name).get(instance_id)
    return instance.uuid if instance is not None else None


def zone(z: Zone) -> Obj:
    return {
        "id": z.uuid,
        "name": z.name,
        "allocationstate": "Enabled",
        "networktype": "Basic",
        "localstorageenabled": False,
        "securitygroupsenabled": False,
    }
