"""``hvsnap volume ...``: volumes and volume snapshots."""

from __future__ import annotations

from typing import Any

import click

from harness.cli.common import Obj, command, finish
from harness.service.cloud import Cloud


@click.group("volume")
def volume() -> None:
    """Volumes and volume snapshots."""


@command(volume, "create")
@click.option("--name", required=True)
@click.option("--size", "size_gb", type=int, default=10, show_default=True, help="GB")
def volume_create(cloud: Cloud, caller: Any, name: str, size_gb: int) -> Obj:
    return cloud.manager.create_volume(caller, name, size_gb)


@command(volume, "list")
@click.option("--vm", "vm_uuid")
def volume_list(cloud: Cloud, caller: Any, vm_uuid: str | None) -> list[Obj]:
    return cloud.manager.list_volumes(caller, vm_uuid)[1]


@command(volume, "snapshot")
@click.argument("volumeid")
@click.option("--name")
def volume_snapshot(cloud: Cloud, caller: Any, volumeid: str, name: str | None) -> Obj:
    """Take a volume snapshot (refused while a VM snapshot operation runs on its VM)."""
    return finish(cloud, cloud.manager.create_volume_snapshot(caller, volumeid, name))["snapshot"]


@command(volume, "snapshots")
@click.option("--volume", "volume_uuid")
def volume_snapshots(cloud: Cloud, caller: Any, volume_uuid: str | None) -> list[Obj]:
    return cloud.manager.list_volume_snapshots(caller, volume_uuid)[1]
