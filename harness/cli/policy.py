"""``hvsnap policy create|list|update|delete|run-due``: recurring VM snapshot policies.

Without ``hvsnap serve`` running, nothing takes the scheduled snapshots: ``policy run-due``
runs what is due once (from cron, say), and any run missed meanwhile is taken once, logged.
"""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from harness.cli.client import Api
from harness.cli.common import Listing, Obj, Output, command, group, literal
from harness.cli.names import vm_id

INTERVALS = click.Choice(["HOURLY", "DAILY", "WEEKLY", "MONTHLY"], case_sensitive=False)


policy_group = group(
    "policy",
    "Recurring VM snapshot policies and their retention",
    "hvsnap policy create web1 --interval hourly --schedule 15 --maxsnaps 8",
)


@command(policy_group, "create", "hvsnap policy create web1 --interval daily --schedule 30:01 --maxsnaps 7")
@click.argument("vm_ref", metavar="VM")
@click.option("--interval", "intervaltype", type=INTERVALS, required=True, help="HOURLY, DAILY, WEEKLY, MONTHLY")
@click.option("--schedule", required=True, help='"MM", "MM:HH", "MM:HH:D" (D: 1 Sunday..7) or "MM:HH:DD" (DD: 1-28)')
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone, e.g. America/New_York")
@click.option("--maxsnaps", type=int, required=True, help="How many scheduled snapshots to keep")
@click.option("--memory", is_flag=True, help="Disk and memory snapshots while the VM runs")
@click.option("--quiesce", is_flag=True, help="Quiesce the VM for disk snapshots")
def policy_create(api: Api, vm_ref: str, **opts: Any) -> Obj:
    """Give a VM a recurring snapshot policy."""
    reply = api.call("createVMSnapshotPolicy", virtualmachineid=vm_id(api, vm_ref), **_policy_fields(opts))
    return dict(reply["vmsnapshotpolicy"])


def _policy_fields(opts: dict[str, Any]) -> dict[str, Any]:
    """The policy's API parameters from the command's options (None: not given)."""
    interval = opts["intervaltype"]
    return {
        "intervaltype": interval.upper() if interval else None,
        "schedule": opts["schedule"],
        "timezone": opts["timezone"],
        "maxsnaps": opts["maxsnaps"],
        "snapshotmemory": opts["memory"],
        "quiescevm": opts["quiesce"],
    }


@command(policy_group, "list", "hvsnap policy list --vm web1")
@click.option("--id", "policy_uuid", help="One policy")
@click.option("--vm", "vm_ref", metavar="VM", help="One VM's policy")
def policy_list(api: Api, policy_uuid: str | None, vm_ref: str | None) -> Listing:
    """List recurring VM snapshot policies."""
    vmid = vm_id(api, vm_ref) if vm_ref is not None else None
    items = api.list("listVMSnapshotPolicies", "vmsnapshotpolicy", id=policy_uuid, virtualmachineid=vmid)
    return Listing("VM snapshot policies", items)


@command(policy_group, "update", "hvsnap policy update POLICYID --maxsnaps 4 --no-memory")
@click.argument("policyid")
@click.option("--interval", "intervaltype", type=INTERVALS)
@click.option("--schedule")
@click.option("--timezone")
@click.option("--maxsnaps", type=int)
@click.option("--memory/--no-memory", default=None)
@click.option("--quiesce/--no-quiesce", default=None)
def policy_update(api: Api, policyid: str, **opts: Any) -> Obj:
    """Change a policy; a new schedule starts from now."""
    reply = api.call("updateVMSnapshotPolicy", id=policyid, **_policy_fields(opts))
    return dict(reply["vmsnapshotpolicy"])


@command(policy_group, "delete", "hvsnap policy delete --vm web1")
@click.argument("policyids", nargs=-1)
@click.option("--vm", "vm_ref", metavar="VM", help="Delete this VM's policy")
def policy_delete(api: Api, policyids: tuple[str, ...], vm_ref: str | None) -> Obj:
    """Delete policies; the snapshots they took stay."""
    vmid = vm_id(api, vm_ref) if vm_ref is not None else None
    return api.call("deleteVMSnapshotPolicies", ids=",".join(policyids) or None, virtualmachineid=vmid)


@command(policy_group, "run-due", "hvsnap policy run-due")
def policy_run_due(api: Api) -> Output:
    """Take every scheduled snapshot that is due now, once.

    hvsnap serve does this itself; run-due is for a home without a server (from cron)."""
    if api.cloud is None:  # a server runs its own scheduler: nothing is left for this run
        report: Obj = {"launched": [], "retried": [], "refused": {}, "missed": {}, "removed": []}
        report["servedby"] = api.endpoint
        return Output(report, literal(f"hvsnap serve at {api.endpoint} runs due policies itself; nothing to do"))
    report = api.cloud.manager.run_due_policies(api.caller)
    return Output(report, _tick(report))


def _tick(report: Obj) -> Table | Any:
    """One line per policy touched, or "no policy was due"."""
    rows = [(uuid, "launched", "") for uuid in report["launched"]]
    rows += [(uuid, "retried later", "") for uuid in report["retried"]]
    rows += [(uuid, "refused", why) for uuid, why in report["refused"].items()]
    rows += [(uuid, "missed runs", str(n)) for uuid, n in report["missed"].items()]
    rows += [(uuid, "snapshot pruned", "") for uuid in report["removed"]]
    if not rows:
        return literal("no policy was due")
    out = Table("policy", "outcome", "detail", box=None, pad_edge=False)
    out.columns[0].no_wrap = True
    for row in rows:
        out.add_row(*(literal(cell) for cell in row))
    return out
