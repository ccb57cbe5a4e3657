"""``hvsnap snapshot ...``: VM snapshots and their tree."""

from __future__ import annotations

from typing import Any

import click
from rich.tree import Tree

from harness.cli.common import Obj, command, finish
from harness.service.cloud import Cloud


@click.group("snapshot")
def snapshot() -> None:
    """VM snapshots: create, list, revert, delete, tree."""


@command(snapshot, "create")
@click.argument("vmid")
@click.option("--memory", is_flag=True, help="Disk and memory (VM must be running)")
@click.option("--quiesce", is_flag=True, help="Application-consistent disk snapshot")
@click.option("--name")
@click.option("--description")
def snapshot_create(
    cloud: Cloud, caller: Any, vmid: str, memory: bool, quiesce: bool, name: str | None, description: str | None
) -> Obj:
    _, job = cloud.manager.create_vm_snapshot(caller, vmid, name, description, memory, quiesce)
    return finish(cloud, job)["vmsnapshot"]


@command(snapshot, "list")
@click.option("--id", "snapshot_uuid")
@click.option("--vm", "vm_uuid")
@click.option("--state")
@click.option("--name")
@click.option("--keyword")
@click.option("--account-id", "account_uuid")
@click.option("--domain-id", "domain_uuid")
@click.option("--page", type=int)
@click.option("--pagesize", type=int)
def snapshot_list(cloud: Cloud, caller: Any, **filters: Any) -> list[Obj]:
    return cloud.manager.list_vm_snapshots(caller, **filters)[1]


@command(snapshot, "revert")
@click.argument("snapshotid")
def snapshot_revert(cloud: Cloud, caller: Any, snapshotid: str) -> Obj:
    return finish(cloud, cloud.manager.revert_to_vm_snapshot(caller, snapshotid))["virtualmachine"]


@command(snapshot, "delete")
@click.argument("snapshotid")
def snapshot_delete(cloud: Cloud, caller: Any, snapshotid: str) -> Obj:
    return finish(cloud, cloud.manager.delete_vm_snapshot(caller, snapshotid))


@command(snapshot, "delete-all")
@click.argument("vmid")
def snapshot_delete_all(cloud: Cloud, caller: Any, vmid: str) -> Obj:
    return finish(cloud, cloud.manager.delete_vm_snapshots(caller, vmid))


@command(snapshot, "tree")
@click.argument("vmid")
def snapshot_tree(cloud: Cloud, caller: Any, vmid: str) -> Any:
    """Draw the VM's snapshot tree; the current snapshot is marked."""
    _, snaps = cloud.manager.list_vm_snapshots(caller, vm_uuid=vmid)
    if not snaps:
        cloud.manager.list_vms(caller)  # access errors surface through the list above
    return _tree(vmid, sorted(snaps, key=lambda s: s["created"] or ""))


def _tree(vmid: str, snaps: list[Obj]) -> Tree:
    root = Tree(f"[bold]{vmid}[/]")
    nodes: dict[str | None, Tree] = {None: root}
    pending = list(snaps)
    ids = {s["id"] for s in snaps}
    while pending:
        progressed = False
        for s in list(pending):
            parent = s["parent"] if s["parent"] in ids else None
            if parent in nodes:
                mark = "  [green]<- current[/]" if s["current"] else ""
                nodes[s["id"]] = nodes[parent].add(f"{s['displayname']} [dim]{s['type']} {s['state']}[/]{mark}")
                pending.remove(s)
                progressed = True
        if not progressed:
            break
    return root
