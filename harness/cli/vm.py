"""``hvsnap vm ...``: instances and their volumes.

A VM is named by its id, a unique leading part of it, or its name (:mod:`harness.cli.names`).
"""

from __future__ import annotations

import click

from harness.cli.client import Api, ApiRefusal
from harness.cli.common import Listing, Obj, Output, command, group, one
from harness.cli.names import vm_id, volume_id

vm = group("vm", "VMs: deploy, list, show, start, stop, destroy, expunge", "hvsnap vm deploy --name web1")


def _placement(api: Api) -> tuple[str, str]:
    """The zone and template a deploy needs (the cloud has one of each)."""
    zone = api.list("listZones", "zone")
    template = api.list("listTemplates", "template", templatefilter="featured")
    if not zone or not template:
        raise ApiRefusal({"errorcode": 431, "errortext": "The cloud has no zone or no featured template"})
    return str(zone[0]["id"]), str(template[0]["id"])


@command(vm, "deploy", "hvsnap vm deploy --name web1 --offering small", mutating=True)
@click.option("--name", required=True, help="The VM's name")
@click.option("--offering", default="small", show_default=True, help="Offering name or id")
@click.option("--stopped", is_flag=True, help="Do not start it")
def vm_deploy(api: Api, name: str, offering: str, stopped: bool) -> Obj:
    """Deploy a VM, running unless --stopped."""
    zone, template = _placement(api)
    return api.job(
        "deployVirtualMachine",
        "virtualmachine",
        name=name,
        serviceofferingid=offering,
        zoneid=zone,
        templateid=template,
        startvm=not stopped,
    )


@command(vm, "list", "hvsnap vm list --state Running")
@click.option("--state", help="Running, Stopped, Destroyed, ...")
@click.option("--keyword", help="Part of the name")
def vm_list(api: Api, state: str | None, keyword: str | None) -> Listing:
    """List the VMs you can see."""
    return Listing("VMs", api.list("listVirtualMachines", "virtualmachine", state=state, keyword=keyword))


@command(vm, "show", "hvsnap vm show web1")
@click.argument("vm_ref", metavar="VM")
def vm_show(api: Api, vm_ref: str) -> Output:
    """Show every field of one VM."""
    return one(api.list("listVirtualMachines", "virtualmachine", id=vm_id(api, vm_ref)), "Instance", vm_ref)


def _vm_action(name: str, api_command: str, doc: str, example: str) -> None:
    @command(vm, name, example, mutating=True, help=doc)
    @click.argument("vm_ref", metavar="VM")
    def run(api: Api, vm_ref: str) -> Obj:
        return api.job(api_command, "virtualmachine", id=vm_id(api, vm_ref))


_vm_action("start", "startVirtualMachine", "Start a stopped VM (importing its snapshots).", "hvsnap vm start web1")
_vm_action("stop", "stopVirtualMachine", "Stop a VM: export it if needed, then unregister it.", "hvsnap vm stop web1")


@command(vm, "destroy", "hvsnap vm destroy web1 --expunge", mutating=True)
@click.argument("vm_ref", metavar="VM")
@click.option("--expunge", is_flag=True, help="Expunge it at once (also for a VM destroyed earlier)")
def vm_destroy(api: Api, vm_ref: str, expunge: bool) -> Obj:
    """Destroy a VM and all its VM snapshots."""
    return api.job("destroyVirtualMachine", "virtualmachine", id=vm_id(api, vm_ref), expunge=expunge)


@command(vm, "expunge", "hvsnap vm expunge web1", mutating=True)
@click.argument("vm_ref", metavar="VM")
def vm_expunge(api: Api, vm_ref: str) -> Obj:
    """Expunge a destroyed VM: it is gone for good."""
    return api.job("expungeVirtualMachine", None, id=vm_id(api, vm_ref))


@command(vm, "change-offering", "hvsnap vm change-offering web1 large")
@click.argument("vm_ref", metavar="VM")
@click.argument("offering")
def vm_change_offering(api: Api, vm_ref: str, offering: str) -> Obj:
    """Change a stopped VM's offering.

    Its disk-and-memory snapshots are discarded: their memory no longer fits."""
    reply = api.call("changeServiceForVirtualMachine", id=vm_id(api, vm_ref), serviceofferingid=offering)
    return dict(reply.get("virtualmachine") or reply)


@command(vm, "attach-volume", "hvsnap vm attach-volume web1 data", mutating=True)
@click.argument("vm_ref", metavar="VM")
@click.argument("volume_ref", metavar="VOLUME")
def vm_attach(api: Api, vm_ref: str, volume_ref: str) -> Obj:
    """Attach a data volume to the VM.

    Refused while the VM has VM snapshots (the spec's disk-layout rule)."""
    return api.job("attachVolume", "volume", id=volume_id(api, volume_ref), virtualmachineid=vm_id(api, vm_ref))


@command(vm, "detach-volume", "hvsnap vm detach-volume web1 data", mutating=True)
@click.argument("vm_ref", metavar="VM")
@click.argument("volume_ref", metavar="VOLUME")
def vm_detach(api: Api, vm_ref: str, volume_ref: str) -> Obj:
    """Detach a data volume from the VM."""
    vm_id(api, vm_ref)  # the VM must exist and be yours; detachVolume needs only the volume
    return api.job("detachVolume", "volume", id=volume_id(api, volume_ref))
