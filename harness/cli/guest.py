"""``hvsnap guest ...``: guest data on a simulated VM's disk, to check what a revert brings back."""

from __future__ import annotations

import click

from harness.cli.client import Api
from harness.cli.common import Obj, command, group
from harness.cli.names import vm_id

guest = group("guest", "Guest data on a simulated VM's disk", "hvsnap guest read web1 motd")


@command(guest, "write", "hvsnap guest write web1 motd v1")
@click.argument("vm_ref", metavar="VM")
@click.argument("key")
@click.argument("value")
def guest_write(api: Api, vm_ref: str, key: str, value: str) -> Obj:
    """Write KEY=VALUE on the VM's disk (simulated hosts only)."""
    return dict(api.call("writeGuestData", virtualmachineid=vm_id(api, vm_ref), key=key, value=value)["guestdata"])


@command(guest, "read", "hvsnap guest read web1 motd")
@click.argument("vm_ref", metavar="VM")
@click.argument("key")
def guest_read(api: Api, vm_ref: str, key: str) -> Obj:
    """Read KEY from the VM's disk (simulated hosts only)."""
    return dict(api.call("readGuestData", virtualmachineid=vm_id(api, vm_ref), key=key)["guestdata"])
