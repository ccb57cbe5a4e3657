"""``hvsnap guest ...``: guest data on a simulated VM's disk."""

from __future__ import annotations

from typing import Any

import click

from harness.cli.common import Obj, command
from harness.service.cloud import Cloud


@click.group("guest")
def guest() -> None:
    """Guest data on a simulated VM's disk, to check what a revert brings back."""


@command(guest, "write")
@click.argument("vmid")
@click.argument("key")
@click.argument("value")
def guest_write(cloud: Cloud, caller: Any, vmid: str, key: str, value: str) -> Obj:
    return cloud.manager.write_guest_data(caller, vmid, key, value)


@command(guest, "read")
@click.argument("vmid")
@click.argument("key")
def guest_read(cloud: Cloud, caller: Any, vmid: str, key: str) -> Obj:
    return cloud.manager.read_guest_data(caller, vmid, key)
