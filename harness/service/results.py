"""Async jobs as their callers see them: the result object each use case's job answers
(queryAsyncJobResult's ``jobresult``), the job views, and the small workflows of jobs
that send at most one host command.

A *presenter* turns what a workflow returned (a snapshot, a VM, a volume, a count) into
the job's result object, read in its own read-only unit of work once the job is done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.domain import config
from harness.domain.errors import CloudError, InvalidParameterValue
from harness.domain.model import Account, AccountType, VMSnapshot
from harness.drivers import A, Command
from harness.jobs.queue import AsyncJobs
from harness.jobs.runners import Workflow, ask
from harness.service import views
from harness.service.listings import check_paging
from harness.store.uow import UowFactory

Obj = dict[str, Any]
Presenter = Callable[[Any], Obj]


def success(_: Any) -> Obj:
    """The result of a job that answers only that it worked."""
    return {"success": True, "displaytext": "success"}


def entity(uow_factory: UowFactory, view: Callable[..., Obj], key: str) -> Presenter:
    """The job's result is ``{key: view(uow, entity)}``."""

    def present(found: Any) -> Obj:
        with uow_factory(readonly=True) as uow:
            return {key: view(uow, found)}

    return present


def listed(uow_factory: UowFactory, view: Callable[..., list[Obj]], key: str) -> Presenter:
    """The job's result is ``{key: view(uow, [entity])[0]}`` (a view built for lists)."""
    return entity(uow_factory, lambda uow, found: view(uow, [found])[0], key)


def vm(uow_factory: UowFactory, password: str | None = None) -> Presenter:
    """The VM as a job's result, with the guest's new ``password`` when there is one."""
    present = entity(uow_factory, views.vm, "virtualmachine")
    if password is None:
        return present

    def with_password(found: Any) -> Obj:
        out = present(found)
        out["virtualmachine"]["password"] = password
        return out

    return with_password


def created_snapshot(uow_factory: UowFactory) -> Presenter:
    """createVMSnapshot's job result: the snapshot, and a ``warning`` when its chain is
    deeper than ``vmsnapshot.chain.depth.warn``."""

    def present(snap: VMSnapshot) -> Obj:
        with uow_factory(readonly=True) as uow:
            out: Obj = {"vmsnapshot": views.vm_snapshot(uow, snap)}
            limit = config.parse(config.VMSNAPSHOT_CHAIN_WARN, uow.config.get(config.VMSNAPSHOT_CHAIN_WARN))
        depth = out["vmsnapshot"]["chaindepth"]
        if limit and depth > limit:
            out["warning"] = (
                f"VM snapshot chain depth {depth} exceeds {config.VMSNAPSHOT_CHAIN_WARN.name}={limit}: "
                "reads slow down as the chain grows; delete or consolidate older snapshots"
            )
        return out

    return present


def outcome(done: Obj) -> Obj:
    """A finished job's ``jobresult``; a failed job's error raised as the CloudError it was."""
    if done["jobstatus"] != 1:
        raise CloudError.coded(done["jobresult"]["errorcode"], done["jobresult"]["errortext"])
    return done["jobresult"]


def query(uow_factory: UowFactory, jobs: AsyncJobs, caller: Account, job_uuid: str) -> Obj:
    """queryAsyncJobResult: the caller's own job (any job for the root admin)."""
    with uow_factory(readonly=True) as uow:
        job = uow.jobs.get_by_uuid(job_uuid)
        if job is None or not (caller.type == AccountType.Admin or job.account_id == caller.id):
            raise InvalidParameterValue(f"Unable to find async job with specified id: {job_uuid}")
        return views.job(job, jobs.result(job), views.job_refs(uow, job))


def search(
    uow_factory: UowFactory, jobs: AsyncJobs, caller: Account, page: int | None = None, pagesize: int | None = None
) -> tuple[int, list[Obj]]:
    """listAsyncJobs: the root admin sees every job, anyone else its own account's (as
    queryAsyncJobResult decides); newest first."""
    check_paging(page, pagesize)
    with uow_factory(readonly=True) as uow:
        found = uow.jobs.search(None if caller.type == AccountType.Admin else frozenset({caller.id}), page, pagesize)
        return found.count, [views.job(j, jobs.result(j), views.job_refs(uow, j)) for j in found.items]


def one_command(command: Command[A]) -> Workflow[A]:
    """A workflow that sends ``command`` and returns its answer."""
    return (yield from ask(command))


def returning(value: Any) -> Workflow[Any]:
    """A workflow with no host command: its result is ``value``."""
    return value
    yield  # a generator, never reached
