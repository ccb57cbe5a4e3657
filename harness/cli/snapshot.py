"""``hvsnap snapshot ...``: VM snapshots and their tree.

A snapshot is named by its id, a unique leading part of it (``snapshot tree`` prints the
shortest unambiguous one), or its display name where that is unique; ``--vm VM`` narrows
the search to one VM's snapshots (:mod:`harness.cli.names`).
"""

from __future__ import annotations

import click
from rich.text import Text
from rich.tree import Tree

from harness.cli.client import Api, pages
from harness.cli.common import Listing, Obj, Output, command, group, literal, one, printable
from harness.cli.names import short_ids, snapshot_id, vm_id

snapshot = group(
    "snapshot",
    "VM snapshots: create, list, show, tree, revert, delete",
    "hvsnap snapshot create web1 --memory --name A\nhvsnap snapshot revert --vm web1 A",
)
VM_OPTION = click.option("--vm", "vm_ref", metavar="VM", help="The VM whose snapshot NAME is")


@command(snapshot, "create", "hvsnap snapshot create web1 --memory --name before-upgrade", mutating=True)
@click.argument("vm_ref", metavar="VM")
@click.option("--memory", is_flag=True, help="Disk and memory (the VM must be running)")
@click.option("--quiesce", is_flag=True, help="Application-consistent disk snapshot (a production checkpoint)")
@click.option("--name", help="Display name (default: the snapshot's internal name)")
@click.option("--description")
def snapshot_create(
    api: Api, vm_ref: str, memory: bool, quiesce: bool, name: str | None, description: str | None
) -> Obj:
    """Take a VM snapshot; it becomes the current one.

    A warning on stderr says when its chain grows past vmsnapshot.chain.depth.warn."""
    result = api.job(
        "createVMSnapshot",
        None,
        virtualmachineid=vm_id(api, vm_ref),
        name=name,
        description=description,
        snapshotmemory=memory,
        quiescevm=quiesce,
    )
    if "warning" in result:
        click.echo(f"warning: {printable(str(result['warning']))}", err=True)
    return dict(result.get("vmsnapshot") or result) if api.wait else result


@command(snapshot, "list", "hvsnap snapshot list --vm web1 --state Ready")
@click.option("--id", "snapshot_ref", metavar="SNAPSHOT", help="One snapshot (id or name)")
@click.option("--vm", "vm_ref", metavar="VM", help="One VM's snapshots")
@click.option("--state", help="Ready, Error, Creating, ...")
@click.option("--name", help="Exactly this display name")
@click.option("--keyword", help="Part of the name or description")
@click.option("--owner", help="One account's snapshots (account name)")
@click.option("--domain-id", "domainid")
@click.option("--page", type=int)
@click.option("--pagesize", type=int)
def snapshot_list(
    api: Api, snapshot_ref: str | None, vm_ref: str | None, owner: str | None, **filters: object
) -> Listing:
    """List VM snapshots, newest first."""
    vmid = vm_id(api, vm_ref) if vm_ref is not None else None
    snapid = snapshot_id(api, snapshot_ref, vm_ref) if snapshot_ref is not None else None
    items = api.list(
        "listVMSnapshot", "vmSnapshot", vmsnapshotid=snapid, virtualmachineid=vmid, account=owner, **filters
    )
    return Listing("VM snapshots", items)


@command(snapshot, "show", "hvsnap snapshot show --vm web1 A")
@click.argument("snapshot_ref", metavar="SNAPSHOT")
@VM_OPTION
def snapshot_show(api: Api, snapshot_ref: str, vm_ref: str | None) -> Output:
    """Show every field of one VM snapshot."""
    snapid = snapshot_id(api, snapshot_ref, vm_ref)
    return one(api.list("listVMSnapshot", "vmSnapshot", vmsnapshotid=snapid), "Instance Snapshot", snapid)


@command(snapshot, "revert", "hvsnap snapshot revert --vm web1 A", mutating=True)
@click.argument("snapshot_ref", metavar="SNAPSHOT")
@VM_OPTION
def snapshot_revert(api: Api, snapshot_ref: str, vm_ref: str | None) -> Obj:
    """Revert the VM to a snapshot.

    To a disk-and-memory snapshot the VM ends Running; to a disk-only one, Stopped."""
    return api.job("revertToVMSnapshot", "virtualmachine", vmsnapshotid=snapshot_id(api, snapshot_ref, vm_ref))


@command(snapshot, "delete", "hvsnap snapshot delete --vm web1 A --subtree", mutating=True)
@click.argument("snapshot_ref", metavar="SNAPSHOT")
@VM_OPTION
@click.option("--subtree", is_flag=True, help="Delete the snapshots below it too (else they move up to its parent)")
def snapshot_delete(api: Api, snapshot_ref: str, vm_ref: str | None, subtree: bool) -> Obj:
    """Delete a snapshot; the host merges its disk files."""
    snapid = snapshot_id(api, snapshot_ref, vm_ref)
    return api.job("deleteVMSnapshot", None, vmsnapshotid=snapid, includechildren=subtree or None)


@command(snapshot, "delete-all", "hvsnap snapshot delete-all web1", mutating=True)
@click.argument("vm_ref", metavar="VM")
def snapshot_delete_all(api: Api, vm_ref: str) -> Obj:
    """Delete every snapshot of a VM."""
    return api.job("deleteVMSnapshots", None, virtualmachineid=vm_id(api, vm_ref))


@command(snapshot, "tree", "hvsnap snapshot tree web1")
@click.argument("vm_ref", metavar="VM")
def snapshot_tree(api: Api, vm_ref: str) -> Output:
    """Draw a VM's snapshot tree, the current one marked.

    Each snapshot shows its name, the shortest unambiguous start of its id, its type and
    state; --json prints the VM with its snapshots nested under "children"."""
    vmid = vm_id(api, vm_ref)
    vm = one(api.list("listVirtualMachines", "virtualmachine", id=vmid), "Instance", vmid).data
    newest_first = list(pages(api, "listVMSnapshot", "vmSnapshot", virtualmachineid=vmid))
    rank = {s["id"]: i for i, s in enumerate(newest_first)}
    snaps = sorted(newest_first, key=lambda s: (s.get("created") or "", -rank[s["id"]]))  # oldest first
    nested = nest(snaps)
    data = {"id": vm["id"], "name": vm["name"], "children": nested}
    return Output(data, draw(vm, nested, short_ids(s["id"] for s in snaps)))


def nest(snaps: list[Obj]) -> list[Obj]:
    """The snapshots as a forest: each object gets ``children``, oldest first."""
    nodes = {s["id"]: {**s, "children": []} for s in snaps}
    roots: list[Obj] = []
    for s in snaps:
        parent = nodes.get(s["parent"]) if s.get("parent") else None
        (parent["children"] if parent is not None else roots).append(nodes[s["id"]])
    return roots


def draw(vm: Obj, roots: list[Obj], short: dict[str, str]) -> Tree:
    tree = Tree(Text.assemble(literal(vm["name"]), " ", (vm["id"], "dim")), guide_style="dim")
    if not roots:
        tree.add(Text("no VM snapshots"))

    def add(under: Tree, node: Obj) -> None:
        label = Text.assemble(
            (literal(node.get("displayname") or node.get("name", "")).plain, "bold"),
            "  ",
            (short[node["id"]], "cyan"),
            f"  {node['type']}  {node['state']}",
            ("  <- current" if node.get("current") else "", "green"),
        )
        branch = under.add(label)
        for child in node["children"]:
            add(branch, child)

    for root in roots:
        add(tree, root)
    return tree
