"""Recurring VM snapshot policy and resource limit commands.

The policy commands mirror CloudStack's volume ``createSnapshotPolicy`` family for a VM:
``intervaltype`` HOURLY/DAILY/WEEKLY/MONTHLY, ``schedule`` "MM", "MM:HH", "MM:HH:D",
"MM:HH:DD", ``timezone`` and ``maxsnaps``, plus ``snapshotmemory`` and ``quiescevm``; the
object is ``vmsnapshotpolicy``. ``updateResourceLimit`` / ``listResourceLimits`` take
``resourcetype`` 100 (or ``vmsnapshot``), hvsnap's VM snapshot resource type; the object is
CloudStack's ``resourcelimit``, with ``used`` beside ``max``.
"""

from __future__ import annotations

from harness.api.params import P
from harness.api.params import ParamType as T
from harness.api.registry import Call, Obj, command, listing, paged
from harness.api.shapes import RESOURCE_LIMIT, SUCCESS, VM_SNAPSHOT_POLICY
from harness.api.vmsnapshots import LISTING

SCHEDULE = (
    P("intervaltype", description="HOURLY, DAILY, WEEKLY or MONTHLY"),
    P("schedule", description='"MM", "MM:HH", "MM:HH:D" (1 = Sunday) or "MM:HH:DD" (1-28), per intervaltype'),
    P("timezone", description="an IANA time zone, e.g. America/New_York"),
    P("maxsnaps", T.INTEGER, description="how many scheduled snapshots to keep"),
    P("snapshotmemory", T.BOOLEAN, description="snapshot the memory too while the Instance runs"),
    P("quiescevm", T.BOOLEAN, description="quiesce the Instance for disk snapshots"),
)


@command(
    "createVMSnapshotPolicy",
    P("virtualmachineid", T.UUID, True, "the Instance"),
    *(
        p
        if p.name not in ("intervaltype", "schedule", "timezone", "maxsnaps")
        else P(p.name, p.type, True, p.description)
        for p in SCHEDULE
    ),
    response=VM_SNAPSHOT_POLICY,
    extension=True,
)
def create_vm_snapshot_policy(c: Call) -> Obj:
    """Creates a recurring VM snapshot policy (one per Instance)."""
    return {
        "vmsnapshotpolicy": c.manager.create_vm_snapshot_policy(
            c.caller,
            c["virtualmachineid"],
            c["intervaltype"],
            c["schedule"],
            c["timezone"],
            c["maxsnaps"],
            c.get("snapshotmemory", False),
            c.get("quiescevm", False),
        )
    }


@command(
    "listVMSnapshotPolicies",
    P("id", T.UUID),
    P("virtualmachineid", T.UUID),
    *LISTING,
    response=VM_SNAPSHOT_POLICY,
    extension=True,
)
def list_vm_snapshot_policies(c: Call) -> Obj:
    """Lists recurring VM snapshot policies."""
    return paged(
        "vmsnapshotpolicy", c.manager.list_vm_snapshot_policies(c.caller, c.get("id"), c.get("virtualmachineid")), c
    )


@command("updateVMSnapshotPolicy", P("id", T.UUID, True), *SCHEDULE, response=VM_SNAPSHOT_POLICY, extension=True)
def update_vm_snapshot_policy(c: Call) -> Obj:
    """Updates a recurring VM snapshot policy; a new schedule starts from now."""
    changes = {
        "intervaltype": c.get("intervaltype"),
        "schedule": c.get("schedule"),
        "timezone": c.get("timezone"),
        "maxsnaps": c.get("maxsnaps"),
        "memory": c.get("snapshotmemory"),
        "quiesce": c.get("quiescevm"),
    }
    return {"vmsnapshotpolicy": c.manager.update_vm_snapshot_policy(c.caller, c["id"], **changes)}


@command(
    "deleteVMSnapshotPolicies",
    P("id", T.UUID),
    P("ids", T.LIST),
    P("virtualmachineid", T.UUID),
    response=SUCCESS,
    extension=True,
)
def delete_vm_snapshot_policies(c: Call) -> Obj:
    """Deletes recurring VM snapshot policies; the snapshots they took stay."""
    ids = ([c["id"]] if c.get("id") else []) + list(c.get("ids") or [])
    return c.manager.delete_vm_snapshot_policies(c.caller, ids or None, c.get("virtualmachineid"))


@command(
    "updateResourceLimit",
    P("resourcetype", required=True, description="100 (vmsnapshot): VM snapshots"),
    P("max", T.LONG, description="the limit; -1 is unlimited"),
    P("account", description="the account (with domainid)"),
    P("domainid", T.UUID, description="the domain, or the account's domain"),
    response=RESOURCE_LIMIT,
)
def update_resource_limit(c: Call) -> Obj:
    """Updates an account's or a domain's VM snapshot limit."""
    return {
        "resourcelimit": c.manager.update_resource_limit(
            c.caller, c["resourcetype"], c.get("max"), c.get("account"), c.get("domainid")
        )
    }


@command(
    "listResourceLimits",
    P("resourcetype"),
    P("resourcetypename"),
    P("account"),
    P("domainid", T.UUID),
    P("id", T.LONG),
    *LISTING[2:],
    response=RESOURCE_LIMIT,
)
def list_resource_limits(c: Call) -> Obj:
    """Lists the VM snapshot limit of the caller's account, an account or a domain."""
    items = c.manager.list_resource_limits(
        c.caller, c.get("resourcetype") or c.get("resourcetypename"), c.get("account"), c.get("domainid")
    )
    return listing("resourcelimit", len(items), items)
