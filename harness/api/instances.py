"""Instance, volume and volume-snapshot commands, and the simulator's guest-data pair."""

from __future__ import annotations

from harness.api.params import P
from harness.api.params import ParamType as T
from harness.api.registry import Call, Obj, command, job, keyword_match, listing
from harness.api.shapes import GUEST_DATA, SUCCESS, VM, VOLUME, VOLUME_SNAPSHOT
from harness.api.vmsnapshots import LISTING, TAGGED, own_only
from harness.domain.errors import InvalidParameterValue

VM_ID = P("id", T.UUID, True, "The ID of the virtual machine", entity="virtualmachine")


@command(
    "deployVirtualMachine",
    P(
        "serviceofferingid",
        T.UUID,
        True,
        "the ID of the service offering for the virtual machine",
        entity="serviceoffering",
    ),
    P("templateid", T.UUID, True, "the ID of the template for the virtual machine", entity="template"),
    P("zoneid", T.UUID, True, "availability zone for the virtual machine", entity="zone"),
    P("name", description="host name for the virtual machine"),
    P("displayname", description="an optional user generated name for the virtual machine"),
    P("hypervisor", description="the hypervisor on which to deploy the virtual machine"),
    P("account", description="an optional account for the virtual machine. Must be used with domainId."),
    P("domainid", T.UUID, description="an optional domainId for the virtual machine", entity="domain"),
    P(
        "startvm",
        T.BOOLEAN,
        description="true if start vm after creating; defaulted to true if not specified",
    ),
    P("keypair", description="name of the ssh key pair used to login to the virtual machine"),
    response=VM,
    isasync=True,
)
def deploy_virtual_machine(c: Call) -> Obj:
    """Creates and automatically starts a virtual machine based on a service offering,
    disk offering, and template."""
    if c.get("hypervisor") is not None and c["hypervisor"].lower() != "hyperv":
        raise InvalidParameterValue(f"Hypervisor {c['hypervisor']} is not available in this zone (Hyperv is)")
    vm, j = c.manager.deploy_vm(
        c.caller,
        c.get("displayname") or c.get("name"),
        c["serviceofferingid"],
        c.get("startvm", True),
        template_uuid=c["templateid"],
        keypair=c.get("keypair"),
        zone_uuid=c["zoneid"],
        account_name=c.get("account"),
        domain_uuid=c.get("domainid"),
    )
    return job(j, vm.uuid)


@command(
    "resetPasswordForVirtualMachine",
    VM_ID,
    P(
        "password",
        description="The new password of the virtual machine. If null, a random password will be generated for the VM.",
        since="4.19.0",
    ),
    response=VM,
    isasync=True,
)
def reset_password_for_virtual_machine(c: Call) -> Obj:
    """Resets the password for the Instance. The Instance must be in a "Stopped" state and the
    Template must already support this feature for this command to take effect."""
    return job(c.manager.reset_password(c.caller, c["id"], c.get("password")))


@command("startVirtualMachine", VM_ID, response=VM, isasync=True)
def start_virtual_machine(c: Call) -> Obj:
    """Starts an Instance."""
    return job(c.manager.start_vm(c.caller, c["id"]))


@command(
    "stopVirtualMachine",
    VM_ID,
    P(
        "forced",
        T.BOOLEAN,
        description="Force stop the VM (vm is marked as Stopped even when command fails to be send "
        "to the backend, otherwise a force poweroff is attempted).",
    ),
    response=VM,
    isasync=True,
)
def stop_virtual_machine(c: Call) -> Obj:
    """Stops an Instance."""
    return job(c.manager.stop_vm(c.caller, c["id"]))


@command(
    "destroyVirtualMachine",
    VM_ID,
    P("expunge", T.BOOLEAN, description="If true is passed, the vm is expunged immediately.", since="4.2.1"),
    response=VM,
    isasync=True,
)
def destroy_virtual_machine(c: Call) -> Obj:
    """Destroys an Instance, and expunges it when asked."""
    return job(c.manager.destroy_vm(c.caller, c["id"], c.get("expunge", False)))


@command("rebootVirtualMachine", VM_ID, response=VM, isasync=True)
def reboot_virtual_machine(c: Call) -> Obj:
    """Reboots a virtual machine."""
    return job(c.manager.reboot_vm(c.caller, c["id"]))


@command("expungeVirtualMachine", VM_ID, response=SUCCESS, isasync=True)
def expunge_virtual_machine(c: Call) -> Obj:
    """Expunge a virtual machine. Once expunged, it cannot be recoverd."""
    return job(c.manager.expunge_vm(c.caller, c["id"]))


@command(
    "listVirtualMachines",
    P("id", T.UUID, description="the ID of the virtual machine", entity="virtualmachine"),
    P("state", description="state of the virtual machine."),
    P("name", description="name of the virtual machine (a substring of it, as keyword)"),
    P("zoneid", T.UUID, description="the availability zone ID", entity="zone"),
    P("templateid", T.UUID, description="list vms by template", entity="template"),
    *TAGGED,
    *LISTING,
    response=VM,
)
def list_virtual_machines(c: Call) -> Obj:
    """List the virtual machines owned by the account."""
    narrowed = c.get("zoneid") is not None or c.get("templateid") is not None
    count, items = c.manager.list_vms(
        c.caller,
        vm_uuid=c.get("id"),
        state=c.get("state"),
        keyword=c.get("keyword") or c.get("name"),
        page=None if narrowed else c.get("page"),
        pagesize=None if narrowed else c.get("pagesize"),
        own_only=own_only(c, "id"),
        tag_filter=c.get("tags"),
    )
    if not narrowed:
        return listing("virtualmachine", count, items)
    wanted = {k: c.get(k) for k in ("zoneid", "templateid") if c.get(k) is not None}
    items = [v for v in items if all(v.get(k) == want for k, want in wanted.items())]
    size, number = c.get("pagesize"), c.get("page") or 1
    return listing("virtualmachine", len(items), items[(number - 1) * size : number * size] if size else items)


@command(
    "changeServiceForVirtualMachine",
    VM_ID,
    P(
        "serviceofferingid",
        T.UUID,
        True,
        "the service offering ID to apply to the virtual machine",
        entity="serviceoffering",
    ),
    response=VM,
)
def change_service_for_virtual_machine(c: Call) -> Obj:
    """Changes the service offering of a stopped Instance (memory snapshots are discarded)."""
    # synchronous in CloudStack: the answer waits for the job
    done = c.manager.job_outcome(c.manager.change_offering(c.caller, c["id"], c["serviceofferingid"]))
    return {"virtualmachine": done["virtualmachine"]}


@command(
    "createVolume",
    P("name", required=True, description="the name of the disk volume"),
    P("size", T.LONG, True, "Arbitrary volume size, in GB"),
    P("diskofferingid", T.UUID, description="the ID of the disk offering", entity="diskoffering"),
    P("zoneid", T.UUID, description="the ID of the availability zone", entity="zone"),
    response=VOLUME,
    isasync=True,
)
def create_volume(c: Call) -> Obj:
    """Creates a data volume (allocated until first attached to a running Instance)."""
    vol, j = c.manager.create_volume(c.caller, c["name"], c["size"])
    return job(j, vol.uuid)


@command(
    "attachVolume",
    P("id", T.UUID, True, "the ID of the disk volume", entity="volume"),
    P("virtualmachineid", T.UUID, True, "the ID of the virtual machine", entity="virtualmachine"),
    P("deviceid", T.LONG, description="The ID of the device to map the volume to the guest OS."),
    response=VOLUME,
    isasync=True,
)
def attach_volume(c: Call) -> Obj:
    """Attaches a data volume to an Instance."""
    return job(c.manager.attach_volume(c.caller, c["id"], c["virtualmachineid"], attach=True))


@command(
    "detachVolume",
    P("id", T.UUID, True, "the ID of the disk volume", entity="volume"),
    response=VOLUME,
    isasync=True,
)
def detach_volume(c: Call) -> Obj:
    """Detaches a data volume from its Instance."""
    return job(c.manager.detach_volume(c.caller, c["id"]))


@command(
    "listVolumes",
    P("id", T.UUID, description="the ID of the disk volume", entity="volume"),
    P("virtualmachineid", T.UUID, description="the ID of the virtual machine", entity="virtualmachine"),
    P("type", description="the type of disk volume"),
    *TAGGED,
    *LISTING,
    response=VOLUME,
)
def list_volumes(c: Call) -> Obj:
    """Lists volumes."""
    count, items = c.manager.list_volumes(c.caller, c.get("virtualmachineid"))
    return _filtered("volume", count, items, c)


@command(
    "createSnapshot",
    P("volumeid", T.UUID, True, "The ID of the disk volume", entity="volume"),
    P("name", description="the name of the snapshot"),
    response=VOLUME_SNAPSHOT,
    isasync=True,
)
def create_snapshot(c: Call) -> Obj:
    """Creates a snapshot of a volume, backed up off the host."""
    return job(c.manager.create_volume_snapshot(c.caller, c["volumeid"], c.get("name")))


@command(
    "listSnapshots",
    P("id", T.UUID, description="lists snapshot by snapshot ID", entity="snapshot"),
    P("volumeid", T.UUID, description="the ID of the disk volume", entity="volume"),
    *TAGGED,
    *LISTING,
    response=VOLUME_SNAPSHOT,
)
def list_snapshots(c: Call) -> Obj:
    """Lists volume snapshots."""
    count, items = c.manager.list_volume_snapshots(c.caller, c.get("volumeid"))
    return _filtered("snapshot", count, items, c)


def _filtered(key: str, count: int, items: list[Obj], c: Call) -> Obj:
    """id, type, keyword, owner (account, domainid, and an admin's own account without
    listall) and tags over a listing (volumes and their snapshots carry no tags in hvsnap,
    so a tags filter matches none)."""
    owner = c.caller.name if own_only(c, "id") else c.get("account")
    pairs = (("id", c.get("id")), ("type", c.get("type")), ("account", owner), ("domainid", c.get("domainid")))
    wanted = {k: v for k, v in pairs if v is not None}
    if c.get("tags"):
        return {}
    if wanted or c.get("keyword"):
        items = keyword_match([i for i in items if all(i.get(k) == v for k, v in wanted.items())], c)
        count = len(items)
    size = c.get("pagesize")
    if size:
        start = (max(c.get("page") or 1, 1) - 1) * size
        items = items[start : start + size]
    return listing(key, count, items)


@command(
    "writeGuestData",
    P("virtualmachineid", T.UUID, True, "the Instance", entity="virtualmachine"),
    P("key", required=True, description="the key"),
    P("value", required=True, description="the value", length=10_000),
    response=GUEST_DATA,
    extension=True,
)
def write_guest_data(c: Call) -> Obj:
    """Simulated hosts only: writes a key and value on the Instance's disk."""
    return {"guestdata": c.manager.write_guest_data(c.caller, c["virtualmachineid"], c["key"], c["value"])}


@command(
    "readGuestData",
    P("virtualmachineid", T.UUID, True, "the Instance", entity="virtualmachine"),
    P("key", required=True, description="the key"),
    response=GUEST_DATA,
    extension=True,
)
def read_guest_data(c: Call) -> Obj:
    """Simulated hosts only: reads a key from the Instance's disk."""
    return {"guestdata": c.manager.read_guest_data(c.caller, c["virtualmachineid"], c["key"])}
