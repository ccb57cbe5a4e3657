"""``hvsnap limit set|list``: VM snapshot resource limits of accounts and domains."""

from __future__ import annotations

import click

from harness.cli.client import Api
from harness.cli.common import Listing, Obj, command, group

limit_group = group(
    "limit",
    "VM snapshot limits of accounts and domains (resource type 100)",
    "hvsnap limit set --account alice --max 20",
)


@command(limit_group, "set", "hvsnap limit set --account alice --max 20")
@click.option("--max", "max_", type=int, required=True, help="The limit; -1 is unlimited")
@click.option("--account", "account_name", help="An account's limit (default: the domain's)")
@click.option("--domain-id", "domain_uuid", help="The domain (or the account's domain)")
@click.option("--type", "resourcetype", default="vmsnapshot", show_default=True)
def limit_set(api: Api, max_: int, account_name: str | None, domain_uuid: str | None, resourcetype: str) -> Obj:
    """Set an account's or a domain's VM snapshot limit.

    As CloudStack's updateResourceLimit; -1 is unlimited."""
    reply = api.call(
        "updateResourceLimit", resourcetype=resourcetype, max=max_, account=account_name, domainid=domain_uuid
    )
    return dict(reply["resourcelimit"])


@command(limit_group, "list", "hvsnap limit list --account alice")
@click.option("--account", "account_name", help="An account's limit (default: yours)")
@click.option("--domain-id", "domain_uuid", help="A domain's limit")
def limit_list(api: Api, account_name: str | None, domain_uuid: str | None) -> Listing:
    """Show the effective VM snapshot limit and usage (listResourceLimits)."""
    items = api.list("listResourceLimits", "resourcelimit", account=account_name, domainid=domain_uuid)
    return Listing("resource limits", items)
