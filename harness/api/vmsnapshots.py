"""VM snapshot commands (cloudstack.md §5) and the async job queries."""

from __future__ import annotations

from datetime import UTC

from harness.api.params import P
from harness.api.params import ParamType as T
from harness.api.registry import Call, Obj, command, job, listing
from harness.api.shapes import ASYNC_JOB, SUCCESS, VM, VM_SNAPSHOT, VM_SNAPSHOT_SYNC
from harness.domain.model import AccountType
from harness.service.views import date

#: BaseListCmd's parameters
PAGING = (P("keyword", description="List by keyword"), P("page", T.INTEGER), P("pagesize", T.INTEGER))
#: BaseListDomainResourcesCmd's and BaseListAccountResourcesCmd's parameters
LISTING = (
    P("listall", T.BOOLEAN, description="true to list everything the caller may see, false (default) its own"),
    P("isrecursive", T.BOOLEAN, description="with domainid: the subdomains too"),
    P("account", description="list resources by account; must be used with domainid"),
    P("domainid", T.UUID, description="list only resources belonging to the domain specified", entity="domain"),
    *PAGING,
)
#: BaseListTaggedResourcesCmd adds tags; BaseListProjectAndAccountResourcesCmd projectid
TAGGED = (
    P("tags", T.MAP, description="List resources by tags (key/value pairs)"),
    P("projectid", T.UUID, description="list objects by project", entity="project"),
)
VM_ID = P("virtualmachineid", T.UUID, True, "the Instance", entity="virtualmachine")


def own_only(c: Call, *ids: str) -> bool:
    """CloudStack's rule for an admin's list: without ``listall=true`` (and naming no
    account, domain or resource id) it shows the caller's own account's resources only."""
    if c.caller.type == AccountType.User or c.get("listall"):
        return False
    return not any(c.get(name) for name in ("account", "domainid", *ids))


@command(
    "createVMSnapshot",
    P("virtualmachineid", T.UUID, True, "the Instance to snapshot", entity="virtualmachine"),
    P("name", description="the display name of the snapshot"),
    P("description", description="the description of the snapshot"),
    P("snapshotmemory", T.BOOLEAN, description="snapshot the memory too (the Instance must be Running)"),
    P("quiescevm", T.BOOLEAN, description="quiesce the Instance before a disk snapshot"),
    response=VM_SNAPSHOT,
    isasync=True,
    since="4.2.0",
)
def create_vm_snapshot(c: Call) -> Obj:
    """Creates a snapshot of an Instance's disks, and memory when asked."""
    snap, j = c.manager.create_vm_snapshot(
        c.caller,
        c["virtualmachineid"],
        c.get("name"),
        c.get("description"),
        c.get("snapshotmemory", False),
        c.get("quiescevm", False),
    )
    return job(j, snap.uuid)


@command(
    "listVMSnapshot",
    P("vmsnapshotid", T.UUID, description="The ID of the VM snapshot", entity="vmsnapshot"),
    P(
        "vmsnapshotids",
        T.LIST,
        description="the IDs of the vm snapshots, mutually exclusive with vmsnapshotid",
        since="4.9",
        entity="vmsnapshot",
    ),
    P("virtualmachineid", T.UUID, description="the ID of the vm", entity="virtualmachine"),
    P("state", description="state of the virtual machine snapshot"),
    P("name", description="lists snapshot by snapshot name or display name"),
    *TAGGED,
    *LISTING,
    response=VM_SNAPSHOT,
    since="4.2.0",
)
def list_vm_snapshots(c: Call) -> Obj:
    """Lists Instance snapshots, newest first."""
    count, items = c.manager.list_vm_snapshots(
        c.caller,
        snapshot_uuids=c.get("vmsnapshotids"),
        tag_filter=c.get("tags"),
        project_uuid=c.get("projectid"),
        own_only=own_only(c, "vmsnapshotid", "vmsnapshotids"),
        account_name=c.get("account"),
        snapshot_uuid=c.get("vmsnapshotid"),
        vm_uuid=c.get("virtualmachineid"),
        state=c.get("state"),
        name=c.get("name"),
        keyword=c.get("keyword"),
        domain_uuid=c.get("domainid"),
        page=c.get("page"),
        pagesize=c.get("pagesize"),
    )
    return listing("vmSnapshot", count, items)


@command(
    "deleteVMSnapshot",
    P("vmsnapshotid", T.UUID, True, "The ID of the VM snapshot", entity="vmsnapshot"),
    P(
        "includechildren",
        T.BOOLEAN,
        description="delete every snapshot below it too (hvsnap; Remove-VMSnapshot -IncludeAllChildSnapshots)",
        extension=True,
    ),
    response=SUCCESS,
    isasync=True,
    since="4.2.0",
)
def delete_vm_snapshot(c: Call) -> Obj:
    """Deletes an Instance snapshot (its children move to its parent, unless includechildren)."""
    return job(c.manager.delete_vm_snapshot(c.caller, c["vmsnapshotid"], c.get("includechildren", False)))


@command(
    "deleteVMSnapshots",
    P("virtualmachineid", T.UUID, True, "The ID of the Instance", entity="virtualmachine"),
    response=SUCCESS,
    isasync=True,
    extension=True,
)
def delete_vm_snapshots(c: Call) -> Obj:
    """Deletes every snapshot of an Instance in one job (hvsnap; what destroying it does first)."""
    return job(c.manager.delete_vm_snapshots(c.caller, c["virtualmachineid"]))


@command(
    "revertToVMSnapshot",
    P("vmsnapshotid", T.UUID, True, "The ID of the vm snapshot", entity="vmsnapshot"),
    response=VM,
    isasync=True,
    since="4.2.0",
)
def revert_to_vm_snapshot(c: Call) -> Obj:
    """Reverts an Instance to a snapshot; the job's result is the Instance."""
    return job(c.manager.revert_to_vm_snapshot(c.caller, c["vmsnapshotid"]))


@command(
    "queryAsyncJobResult",
    P("jobid", T.UUID, True, "the ID of the asynchronous job", entity="asyncjobs"),
    response=ASYNC_JOB,
)
def query_async_job_result(c: Call) -> Obj:
    """Retrieves the current status of an asynchronous job."""
    return c.manager.query_job(c.caller, c["jobid"])


@command(
    "listAsyncJobs",
    P("startdate", T.DATE, description="the start date of the async job (use format \"yyyy-MM-dd'T'HH:mm:ss'+'SSSS\")"),
    *LISTING,
    response=ASYNC_JOB,
)
def list_async_jobs(c: Call) -> Obj:
    """Lists the caller's asynchronous jobs (every job for the root admin), newest first;
    ``startdate``: those created at or after it."""
    since = c.get("startdate")
    if since is None:
        count, items = c.manager.list_jobs(c.caller, c.get("page"), c.get("pagesize"))
        return listing("asyncjobs", count, items)
    stamp = date(since.replace(tzinfo=None) if since.tzinfo is None else since.astimezone(UTC).replace(tzinfo=None))
    items = [j for j in c.manager.list_jobs(c.caller)[1] if (j.get("created") or "") >= (stamp or "")]
    size, page = c.get("pagesize"), c.get("page") or 1
    return listing("asyncjobs", len(items), items[(page - 1) * size : page * size] if size else items)


@command("syncVMSnapshot", response=VM_SNAPSHOT_SYNC, extension=True)
def sync_vm_snapshot(c: Call) -> Obj:
    """VMSnapshotSync now (root admin): takes over the jobs of dead management servers,
    settles snapshots and Instances left in flight, and reconciles with the host; returns
    what it settled (from, to, why)."""
    return {"vmsnapshotsync": c.manager.sync_vm_snapshots(c.caller)}
