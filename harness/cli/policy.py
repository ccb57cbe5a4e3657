"""``hvsnap policy create|list|update|delete|run-due`` and ``hvsnap limit set|list``.

Recurring VM snapshot policies and VM snapshot resource limits, with the conventions of
:mod:`harness.cli.common`: ``--json`` prints CloudStack response objects, a refusal prints
``{"errorcode", "errortext"}`` and exits 3.

Without ``hvsnap serve`` running, nothing takes the scheduled snapshots: ``policy run-due``
runs what is due once (from cron, say), and any run missed meanwhile is taken once, logged.
"""

from __future__ import annotations

from typing import Any

import click

from harness.cli.common import Obj, command

INTERVALS = click.Choice(["HOURLY", "DAILY", "WEEKLY", "MONTHLY"], case_sensitive=False)


@click.group("policy")
def policy_group() -> None:
    """Recurring VM snapshot policies (one per VM) and their retention."""


@command(policy_group, "create")
@click.argument("vmid")
@click.option("--interval", "intervaltype", type=INTERVALS, required=True, help="HOURLY, DAILY, WEEKLY, MONTHLY")
@click.option("--schedule", required=True, help='"MM", "MM:HH", "MM:HH:D" (D: 1 Sunday..7) or "MM:HH:DD" (DD: 1-28)')
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone, e.g. America/New_York")
@click.option("--maxsnaps", type=int, required=True, help="How many scheduled snapshots to keep")
@click.option("--memory", is_flag=True, help="Disk and memory snapshots while the VM runs")
@click.option("--quiesce", is_flag=True, help="Quiesce the VM for disk snapshots")
def policy_create(cloud: Any, caller: Any, vmid: str, **opts: Any) -> Obj:
    """Give a VM a recurring snapshot policy."""
    return cloud.manager.create_vm_snapshot_policy(
        caller,
        vmid,
        opts["intervaltype"].upper(),
        opts["schedule"],
        opts["timezone"],
        opts["maxsnaps"],
        opts["memory"],
        opts["quiesce"],
    )


@command(policy_group, "list")
@click.option("--id", "policy_uuid")
@click.option("--vm", "vm_uuid")
def policy_list(cloud: Any, caller: Any, policy_uuid: str | None, vm_uuid: str | None) -> list[Obj]:
    return cloud.manager.list_vm_snapshot_policies(caller, policy_uuid, vm_uuid)


@command(policy_group, "update")
@click.argument("policyid")
@click.option("--interval", "intervaltype", type=INTERVALS)
@click.option("--schedule")
@click.option("--timezone")
@click.option("--maxsnaps", type=int)
@click.option("--memory/--no-memory", default=None)
@click.option("--quiesce/--no-quiesce", default=None)
def policy_update(cloud: Any, caller: Any, policyid: str, **opts: Any) -> Obj:
    """Change a policy; a new schedule starts from now."""
    interval = opts["intervaltype"].upper() if opts["intervaltype"] else None
    return cloud.manager.update_vm_snapshot_policy(
        caller,
        policyid,
        intervaltype=interval,
        schedule=opts["schedule"],
        timezone=opts["timezone"],
        maxsnaps=opts["maxsnaps"],
        memory=opts["memory"],
        quiesce=opts["quiesce"],
    )


@command(policy_group, "delete")
@click.argument("policyids", nargs=-1)
@click.option("--vm", "vm_uuid", help="Delete this VM's policy")
def policy_delete(cloud: Any, caller: Any, policyids: tuple[str, ...], vm_uuid: str | None) -> Obj:
    """Delete policies; the snapshots they took stay."""
    return cloud.manager.delete_vm_snapshot_policies(caller, list(policyids) or None, vm_uuid)


@command(policy_group, "run-due")
def policy_run_due(cloud: Any, caller: Any) -> Obj:
    """Take every scheduled snapshot that is due now, once (what `hvsnap serve` does itself)."""
    return cloud.manager.run_due_policies(caller)


@click.group("limit")
def limit_group() -> None:
    """VM snapshot resource limits of accounts and domains (resource type 100, vmsnapshot)."""


@command(limit_group, "set")
@click.option("--max", "max_", type=int, required=True, help="The limit; -1 is unlimited")
@click.option("--account", "account_name", help="An account's limit (default: the domain's)")
@click.option("--domain-id", "domain_uuid", help="The domain (or the account's domain)")
@click.option("--type", "resourcetype", default="vmsnapshot", show_default=True)
def limit_set(
    cloud: Any, caller: Any, max_: int, account_name: str | None, domain_uuid: str | None, resourcetype: str
) -> Obj:
    """Set an account's or a domain's VM snapshot limit (updateResourceLimit)."""
    return cloud.manager.update_resource_limit(caller, resourcetype, max_, account_name, domain_uuid)


@command(limit_group, "list")
@click.option("--account", "account_name")
@click.option("--domain-id", "domain_uuid")
def limit_list(cloud: Any, caller: Any, account_name: str | None, domain_uuid: str | None) -> list[Obj]:
    """Show the effective VM snapshot limit and usage (listResourceLimits)."""
    return cloud.manager.list_resource_limits(caller, None, account_name, domain_uuid)
