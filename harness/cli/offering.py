"""``hvsnap offering ...``: service offerings."""

from __future__ import annotations

from harness.cli.client import Api
from harness.cli.common import Listing, command, group

offering = group("offering", "Service offerings (CPU and memory sizes)", "hvsnap offering list")


@command(offering, "list", "hvsnap offering list")
def offering_list(api: Api) -> Listing:
    """List the service offerings a VM can have."""
    return Listing("service offerings", api.list("listServiceOfferings", "serviceoffering"))
