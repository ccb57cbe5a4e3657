"""``hvsnap capabilities ...``: hypervisor capabilities (``vm_snapshot_enabled``)."""

from __future__ import annotations

import click

from harness.cli.client import Api
from harness.cli.common import Listing, Obj, command, group

capabilities = group(
    "capabilities",
    "Hypervisor capabilities: VM snapshots on or off",
    "hvsnap capabilities set --vm-snapshot-enabled false",
)


@command(capabilities, "list", "hvsnap capabilities list")
def capabilities_list(api: Api) -> Listing:
    """List hypervisor capabilities."""
    return Listing("hypervisor capabilities", api.list("listHypervisorCapabilities", "hypervisorCapabilities"))


@command(capabilities, "set", "hvsnap capabilities set --vm-snapshot-enabled false")
@click.option("--vm-snapshot-enabled", "enabled", type=click.BOOL, required=True, help="true or false")
@click.option("--id", "caps_uuid", help="The capability row (default: Hyper-V's)")
def capabilities_set(api: Api, enabled: bool, caps_uuid: str | None) -> Obj:
    """Enable or disable VM snapshots for Hyper-V (root admin)."""
    reply = api.call("updateHypervisorCapabilities", vmsnapshotenabled=enabled, id=caps_uuid)
    return dict(reply["hypervisorcapabilities"])
