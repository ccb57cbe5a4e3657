"""``hvsnap capabilities ...``: hypervisor capabilities (``vm_snapshot_enabled``)."""

from __future__ import annotations

from typing import Any

import click

from harness.cli.common import Obj, command
from harness.service.cloud import Cloud


@click.group("capabilities")
def capabilities() -> None:
    """Hypervisor capabilities (vm_snapshot_enabled)."""


@command(capabilities, "list")
def capabilities_list(cloud: Cloud, caller: Any) -> list[Obj]:
    return cloud.manager.list_capabilities()


@command(capabilities, "set")
@click.option("--vm-snapshot-enabled", "enabled", type=click.BOOL, required=True)
@click.option("--id", "caps_uuid")
def capabilities_set(cloud: Cloud, caller: Any, enabled: bool, caps_uuid: str | None) -> Obj:
    return cloud.manager.set_vm_snapshot_enabled(caller, enabled, caps_uuid)
