"""``hvsnap vm ...``: instances and their volumes."""

from __future__ import annotations

from typing import Any

import click

from harness.cli.common import Obj, command, finish
from harness.domain.errors import CloudError
from harness.service.cloud import Cloud


@click.group("vm")
def vm() -> None:
    """Instances: deploy, start, stop, destroy, list, volumes, offering."""


@command(vm, "deploy")
@click.option("--name", required=True)
@click.option("--offering", default="small", show_default=True, help="Offering name or id")
@click.option("--stopped", is_flag=True, help="Do not start it")
def vm_deploy(cloud: Cloud, caller: Any, name: str, offering: str, stopped: bool) -> Obj:
    _, job = cloud.manager.deploy_vm(caller, name, offering, start=not stopped)
    return finish(cloud, job)["virtualmachine"]


def _vm_action(name: str, method: str, doc: str, **extra: Any) -> None:
    @command(vm, name, help=doc)
    @click.argument("vmid")
    def run(cloud: Cloud, caller: Any, vmid: str, **kw: Any) -> Obj:
        return finish(cloud, getattr(cloud.manager, method)(caller, vmid, **kw))["virtualmachine"]


_vm_action("start", "start_vm", "Start a stopped VM (importing it with its snapshots).")
_vm_action("stop", "stop_vm", "Stop a VM: export it if needed, then unregister it from Hyper-V.")


@command(vm, "destroy")
@click.argument("vmid")
@click.option("--expunge", is_flag=True)
def vm_destroy(cloud: Cloud, caller: Any, vmid: str, expunge: bool) -> Obj:
    """Destroy a VM and all its VM snapshots."""
    return finish(cloud, cloud.manager.destroy_vm(caller, vmid, expunge))["virtualmachine"]


@command(vm, "change-offering")
@click.argument("vmid")
@click.argument("offering")
def vm_change_offering(cloud: Cloud, caller: Any, vmid: str, offering: str) -> Obj:
    """Change a stopped VM's offering; its memory snapshots are discarded."""
    return finish(cloud, cloud.manager.change_offering(caller, vmid, offering))["virtualmachine"]


@command(vm, "list")
@click.option("--state")
@click.option("--keyword")
def vm_list(cloud: Cloud, caller: Any, state: str | None, keyword: str | None) -> list[Obj]:
    from harness.domain.states import VMState

    if state is not None and state not in VMState.__members__:
        raise CloudError(f"Invalid state {state}") from None
    return cloud.manager.list_vms(caller, state=VMState(state) if state else None, keyword=keyword)[1]


@command(vm, "attach-volume")
@click.argument("vmid")
@click.argument("volumeid")
def vm_attach(cloud: Cloud, caller: Any, vmid: str, volumeid: str) -> Obj:
    return finish(cloud, cloud.manager.attach_volume(caller, volumeid, vmid, True))["volume"]


@command(vm, "detach-volume")
@click.argument("vmid")
@click.argument("volumeid")
def vm_detach(cloud: Cloud, caller: Any, vmid: str, volumeid: str) -> Obj:
    return finish(cloud, cloud.manager.attach_volume(caller, volumeid, vmid, False))["volume"]
