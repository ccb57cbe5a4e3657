"""Instance, volume and volume-snapshot commands, and the simulator's guest-data pair."""

from __future__ import annotations

from harness.api.params import P
from harness.api.params import ParamType as T
from harness.api.registry import Call, Obj, command, job, listing
from harness.api.vmsnapshots import LISTING


@command(
    "deployVirtualMachine",
    P("serviceofferingid", T.UUID, True),
    P("templateid", T.UUID, True),
    P("zoneid", T.UUID, True),
    P("name"),
    P("displayname"),
    P("startvm", T.BOOLEAN, description="start the Instance once created (default true)"),
    isasync=True,
)
def deploy_virtual_machine(c: Call) -> Obj:
    """Creates and, by default, starts an Instance."""
    vm, j = c.manager.deploy_vm_in(
        c.caller,
        c.get("displayname") or c.get("name"),
        c["serviceofferingid"],
        c.get("startvm", True),
        c["zoneid"],
        c["templateid"],
    )
    return job(j, vm.uuid)


@command("startVirtualMachine", P("id", T.UUID, True), isasync=True)
def start_virtual_machine(c: Call) -> Obj:
    """Starts an Instance."""
    return job(c.manager.start_vm(c.caller, c["id"]))


@command("stopVirtualMachine", P("id", T.UUID, True), P("forced", T.BOOLEAN), isasync=True)
def stop_virtual_machine(c: Call) -> Obj:
    """Stops an Instance."""
    return job(c.manager.stop_vm(c.caller, c["id"]))


@command("destroyVirtualMachine", P("id", T.UUID, True), P("expunge", T.BOOLEAN), isasync=True)
def destroy_virtual_machine(c: Call) -> Obj:
    """Destroys an Instance, and expunges it when asked."""
    return job(c.manager.destroy_vm(c.caller, c["id"], c.get("expunge", False)))


@command("expungeVirtualMachine", P("id", T.UUID, True), isasync=True)
def expunge_virtual_machine(c: Call) -> Obj:
    """Expunges a Destroyed Instance."""
    return job(c.manager.expunge_vm(c.caller, c["id"]))


@command("listVirtualMachines", P("id", T.UUID), P("state"), P("keyword"), P("name"), *LISTING)
def list_virtual_machines(c: Call) -> Obj:
    """Lists Instances."""
    count, items = c.manager.search_vms(
        c.caller, c.get("id"), c.get("state"), c.get("keyword") or c.get("name"), c.get("page"), c.get("pagesize")
    )
    return listing("virtualmachine", count, items)


@command(
    "changeServiceForVirtualMachine",
    P("id", T.UUID, True),
    P("serviceofferingid", T.UUID, True),
)
def change_service_for_virtual_machine(c: Call) -> Obj:
    """Changes the service offering of a stopped Instance (memory snapshots are discarded)."""
    return {"virtualmachine": c.manager.change_offering_now(c.caller, c["id"], c["serviceofferingid"])}


@command(
    "createVolume",
    P("name", required=True),
    P("size", T.LONG, True, "size in GB"),
    P("diskofferingid", T.UUID),
    P("zoneid", T.UUID),
    isasync=True,
)
def create_volume(c: Call) -> Obj:
    """Creates a data volume (allocated until first attached to a running Instance)."""
    vol, j = c.manager.create_volume_job(c.caller, c["name"], c["size"])
    return job(j, vol.uuid)


@command(
    "attachVolume", P("id", T.UUID, True), P("virtualmachineid", T.UUID, True), P("deviceid", T.LONG), isasync=True
)
def attach_volume(c: Call) -> Obj:
    """Attaches a data volume to an Instance."""
    return job(c.manager.attach_volume(c.caller, c["id"], c["virtualmachineid"], attach=True))


@command("detachVolume", P("id", T.UUID, True), isasync=True)
def detach_volume(c: Call) -> Obj:
    """Detaches a data volume from its Instance."""
    return job(c.manager.detach_volume(c.caller, c["id"]))


@command("listVolumes", P("id", T.UUID), P("virtualmachineid", T.UUID), P("type"), *LISTING)
def list_volumes(c: Call) -> Obj:
    """Lists volumes."""
    count, items = c.manager.list_volumes(c.caller, c.get("virtualmachineid"))
    return _filtered("volume", count, items, c)


@command("createSnapshot", P("volumeid", T.UUID, True), P("name"), isasync=True)
def create_snapshot(c: Call) -> Obj:
    """Creates a snapshot of a volume, backed up off the host."""
    return job(c.manager.create_volume_snapshot(c.caller, c["volumeid"], c.get("name")))


@command("listSnapshots", P("id", T.UUID), P("volumeid", T.UUID), *LISTING)
def list_snapshots(c: Call) -> Obj:
    """Lists volume snapshots."""
    count, items = c.manager.list_volume_snapshots(c.caller, c.get("volumeid"))
    return _filtered("snapshot", count, items, c)


def _filtered(key: str, count: int, items: list[Obj], c: Call) -> Obj:
    wanted = {k: v for k, v in (("id", c.get("id")), ("type", c.get("type"))) if v is not None}
    if wanted:
        items = [i for i in items if all(i.get(k) == v for k, v in wanted.items())]
        count = len(items)
    size = c.get("pagesize")
    if size:
        start = (max(c.get("page") or 1, 1) - 1) * size
        items = items[start : start + size]
    return listing(key, count, items)


@command("writeGuestData", P("virtualmachineid", T.UUID, True), P("key", required=True), P("value", required=True))
def write_guest_data(c: Call) -> Obj:
    """Simulated hosts only: writes a key and value on the Instance's disk."""
    return {"guestdata": c.manager.write_guest_data(c.caller, c["virtualmachineid"], c["key"], c["value"])}


@command("readGuestData", P("virtualmachineid", T.UUID, True), P("key", required=True))
def read_guest_data(c: Call) -> Obj:
    """Simulated hosts only: reads a key from the Instance's disk."""
    return {"guestdata": c.manager.read_guest_data(c.caller, c["virtualmachineid"], c["key"])}
