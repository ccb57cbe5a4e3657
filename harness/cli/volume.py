"""``hvsnap volume ...``: data volumes and volume snapshots."""

from __future__ import annotations

import click

from harness.cli.client import Api
from harness.cli.common import Listing, Obj, command, group
from harness.cli.names import vm_id, volume_id

volume = group("volume", "Data volumes and volume snapshots", "hvsnap volume create --name data --size 20")


@command(volume, "create", "hvsnap volume create --name data --size 20", mutating=True)
@click.option("--name", required=True)
@click.option("--size", "size_gb", type=int, default=10, show_default=True, help="GB")
def volume_create(api: Api, name: str, size_gb: int) -> Obj:
    """Create a data volume.

    It stays Allocated until it is attached to a running VM."""
    return api.job("createVolume", "volume", name=name, size=size_gb)


@command(volume, "list", "hvsnap volume list --vm web1")
@click.option("--vm", "vm_ref", metavar="VM", help="One VM's volumes")
def volume_list(api: Api, vm_ref: str | None) -> Listing:
    """List volumes."""
    vmid = vm_id(api, vm_ref) if vm_ref is not None else None
    return Listing("volumes", api.list("listVolumes", "volume", virtualmachineid=vmid))


@command(volume, "snapshot", "hvsnap volume snapshot data --name nightly", mutating=True)
@click.argument("volume_ref", metavar="VOLUME")
@click.option("--name")
def volume_snapshot(api: Api, volume_ref: str, name: str | None) -> Obj:
    """Take a volume snapshot.

    Refused while a VM snapshot operation runs on its VM."""
    return api.job("createSnapshot", "snapshot", volumeid=volume_id(api, volume_ref), name=name)


@command(volume, "snapshots", "hvsnap volume snapshots --volume data")
@click.option("--volume", "volume_ref", metavar="VOLUME", help="One volume's snapshots")
def volume_snapshots(api: Api, volume_ref: str | None) -> Listing:
    """List volume snapshots."""
    volid = volume_id(api, volume_ref) if volume_ref is not None else None
    return Listing("volume snapshots", api.list("listSnapshots", "snapshot", volumeid=volid))
