"""``hvsnap config ...``: configuration keys."""

from __future__ import annotations

import click

from harness.cli.client import Api
from harness.cli.common import Listing, Obj, command, group

config = group("config", "Configuration keys: limits, export strategy", "hvsnap config set vmsnapshot.max 20")


@command(config, "get", "hvsnap config get vmsnapshot.max")
@click.argument("name", required=False)
def config_get(api: Api, name: str | None) -> Listing:
    """Show one configuration key, or all of them."""
    return Listing("configuration keys", api.list("listConfigurations", "configuration", name=name))


@command(config, "set", "hvsnap config set hyperv.vmsnapshot.export.strategy on-snapshot")
@click.argument("name")
@click.argument("value")
def config_set(api: Api, name: str, value: str) -> Obj:
    """Set a configuration key (root admin)."""
    return dict(api.call("updateConfiguration", name=name, value=value)["configuration"])
