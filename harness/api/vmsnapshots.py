"""VM snapshot commands (cloudstack.md §5) and the async job queries."""

from __future__ import annotations

from harness.api.params import P
from harness.api.params import ParamType as T
from harness.api.registry import Call, Obj, command, job, listing

PAGING = (P("page", T.INTEGER), P("pagesize", T.INTEGER))
LISTING = (P("listall", T.BOOLEAN), P("isrecursive", T.BOOLEAN), P("account"), P("domainid", T.UUID), *PAGING)


@command(
    "createVMSnapshot",
    P("virtualmachineid", T.UUID, True, "the Instance to snapshot"),
    P("name", description="the display name of the snapshot"),
    P("description", description="the description of the snapshot"),
    P("snapshotmemory", T.BOOLEAN, description="snapshot the memory too (the Instance must be Running)"),
    P("quiescevm", T.BOOLEAN, description="quiesce the Instance before a disk snapshot"),
    isasync=True,
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
    P("vmsnapshotid", T.UUID),
    P("vmsnapshotids", T.LIST),
    P("virtualmachineid", T.UUID),
    P("state"),
    P("name"),
    P("keyword"),
    P("tags", T.MAP),
    P("projectid", T.UUID),
    *LISTING,
)
def list_vm_snapshots(c: Call) -> Obj:
    """Lists Instance snapshots, newest first."""
    count, items = c.manager.search_vm_snapshots(
        c.caller,
        snapshot_uuids=c.get("vmsnapshotids"),
        tags=c.get("tags"),
        project_uuid=c.get("projectid"),
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


@command("deleteVMSnapshot", P("vmsnapshotid", T.UUID, True), isasync=True)
def delete_vm_snapshot(c: Call) -> Obj:
    """Deletes an Instance snapshot."""
    return job(c.manager.delete_vm_snapshot(c.caller, c["vmsnapshotid"]))


@command("revertToVMSnapshot", P("vmsnapshotid", T.UUID, True), isasync=True)
def revert_to_vm_snapshot(c: Call) -> Obj:
    """Reverts an Instance to a snapshot; the job's result is the Instance."""
    return job(c.manager.revert_to_vm_snapshot(c.caller, c["vmsnapshotid"]))


@command("queryAsyncJobResult", P("jobid", T.UUID, True))
def query_async_job_result(c: Call) -> Obj:
    """Retrieves the current status of an asynchronous job."""
    return c.manager.query_job(c.caller, c["jobid"])


@command("listAsyncJobs", P("startdate"), *LISTING)
def list_async_jobs(c: Call) -> Obj:
    """Lists the caller's asynchronous jobs (every job for the root admin), newest first."""
    count, items = c.manager.list_jobs(c.caller, c.get("page"), c.get("pagesize"))
    return listing("asyncjobs", count, items)


@command("syncVMSnapshot")
def sync_vm_snapshot(c: Call) -> Obj:
    """VMSnapshotSync now (root admin): takes over the jobs of dead management servers,
    settles snapshots and Instances left in flight, and reconciles with the host; returns
    what it settled (from, to, why)."""
    return {"vmsnapshotsync": c.manager.sync_vm_snapshots(c.caller)}
