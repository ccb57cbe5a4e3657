"""Async jobs: ``async_job`` rows, and a per-VM serial queue that runs them.

Every mutating use case is a job, as in CloudStack: the synchronous checks run first (a
rejected request creates no job), then :meth:`AsyncJobs.submit` writes an ``async_job`` row
(``job_status`` 0) and queues the work under the VM's key. Work for one VM runs strictly in
submission order, one item at a time (CloudStack's ``VmWorkJobQueue``); different VMs run in
parallel on the executor. When the work ends the row records the outcome: status 1 with the
result object, or status 2 with ``{"errorcode", "errortext"}``. An unexpected exception is
logged with its traceback and reported as 530 "Unexpected exception": no traceback ever
reaches a caller.

Without an executor (the CLI), :meth:`AsyncJobs.submit` runs the work inline and returns the
finished job.

Transactions: a job's database steps are batched (:func:`harness.store.uow.batch`), so a
workflow writes one transaction before its host command (the job's claim and start, the
workflow's checks and transient state) and one after it (the outcome, the job's result).
Inline, with the caller's checks batched too (:func:`batched`), the job row joins the first
of them; queued, the row commits at submit so that the caller can query it at once.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from contextlib import nullcontext
from functools import wraps
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from harness.domain.errors import CloudError, InvalidParameterValue
from harness.domain.model import Account, AsyncJob
from harness.drivers import HostError
from harness.store.batch import batch, flush, unbatched
from harness.store.ports import UowFactory, existing

log = logging.getLogger("hvsnap.jobs")
P = ParamSpec("P")
R = TypeVar("R")

SUCCEEDED, FAILED = 1, 2
#: How long a job waits for another manager's job on the same VM before it is refused.
CLAIM_WAIT_S = 30.0


class SerialQueues:
    """Per-key FIFO execution on an executor: one item per key at a time."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self._lock = threading.Lock()
        self._pending: dict[str, deque[Callable[[], None]]] = {}

    def put(self, key: str, work: Callable[[], None]) -> None:
        with self._lock:
            queue = self._pending.get(key)
            if queue is not None:
                queue.append(work)
                return
            self._pending[key] = deque([work])
        self.executor.submit(self._drain, key)

    def keys(self) -> set[str]:
        with self._lock:
            return set(self._pending)

    def _drain(self, key: str) -> None:
        while True:
            with self._lock:
                queue = self._pending[key]
                if not queue:
                    del self._pending[key]
                    return
                work = queue[0]
            try:
                work()
            finally:
                with self._lock:
                    queue.popleft()


class _HasStore(Protocol):
    uow_factory: UowFactory


S = TypeVar("S", bound=_HasStore)


def batched(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """A use-case method whose units of work share transactions (its synchronous checks, the
    job row, and inline the job itself): see :func:`harness.store.uow.batch`."""

    @wraps(method)
    def run(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with batch(self.uow_factory):
            return method(self, *args, **kwargs)

    return run


class AsyncJobs:
    """Creates job rows and runs their work, serially per VM."""

    def __init__(self, uow_factory: UowFactory, executor: Executor | None = None, msid: int | None = None) -> None:
        self.uow_factory = uow_factory
        self.msid = msid  # this manager's mshost id, recorded on every job it accepts
        self.queues = SerialQueues(executor) if executor is not None else None
        self.futures: dict[str, Future[AsyncJob]] = {}

    def submit(
        self,
        caller: Account,
        cmd: str,
        key: str,
        work: Callable[[], Any],
        present: Callable[[Any], dict[str, Any]],
        instance: tuple[str, int] | None = None,
        info: dict[str, Any] | None = None,
        abandon: Callable[[], None] | None = None,
        batched: bool = False,
    ) -> AsyncJob:
        """Record a job for ``cmd`` and queue ``work`` under ``key`` (a VM uuid).
        ``abandon()`` runs when the job is refused before its work starts (another manager
        kept the VM busy too long): it undoes what the synchronous check wrote.
        ``batched``: ``work`` runs a workflow through a runner (it waits on nothing but host
        commands, before which the runner commits), so its steps share transactions with
        the job's claim and result; other work runs unbatched, as it may wait holding none.

        ``work()`` returns the use case's result, which ``present`` turns into the job's
        result object (e.g. ``{"vmsnapshot": {...}}``).
        """
        queues = self.queues
        with batch(self.uow_factory):  # inline: the row, the claim and the work's first steps at once
            job = self._add(caller, cmd, key, instance, info, claim=queues is None and batched)
            if queues is None:
                with nullcontext() if batched else unbatched():
                    self._run(job, work, present, abandon)
                return job
            flush()  # the row is there for the caller to query, and for the worker to claim
        future: Future[AsyncJob] = Future()
        self.futures[job.uuid] = future

        def run() -> None:
            with batch(self.uow_factory) if batched else nullcontext():
                self._run(job, work, present, abandon)
            future.set_result(job)
            self.futures.pop(job.uuid, None)

        queues.put(key, run)
        return job

    def _add(
        self,
        caller: Account,
        cmd: str,
        key: str,
        instance: tuple[str, int] | None,
        info: dict[str, Any] | None,
        claim: bool = False,
    ) -> AsyncJob:
        """The job's row; ``claim``: the job runs now, in the row's own transaction, so it is
        added running when no other manager runs a job on its VM (the check of
        :meth:`_claim`, under the same row lock), else pending for :meth:`_claim` to wait on."""
        with self.uow_factory() as uow:
            if claim and key:
                uow.vms.lock_uuid(key)
                claim = not uow.jobs.running(key)
            job = uow.jobs.add(
                AsyncJob(
                    id=0,
                    uuid=str(uuid.uuid4()),
                    account_id=caller.id,
                    cmd=cmd,
                    cmd_info=json.dumps(info or {}, default=str),
                    instance_type=instance[0] if instance else None,
                    instance_id=instance[1] if instance else None,
                    init_msid=self.msid,
                    executing_msid=self.msid,
                    queue_key=key,
                    process_status=1 if claim else 0,
                )
            )
            uow.commit()
        return job

    def pending_keys(self) -> set[str]:
        """The queue keys (VM uuids) with work of this manager queued or running."""
        if self.queues is None:
            return set()
        return self.queues.keys()

    def _claim(self, job: AsyncJob) -> None:
        """Mark ``job`` running once no other manager runs a job on the same VM: this
        manager's queues keep its own jobs on one VM in order, and this (under the VM's row
        lock) does the same across managers, as CloudStack's VM work job queue does. It waits
        up to :data:`CLAIM_WAIT_S` for the other job to end, then refuses with a 431 (the
        job never starts)."""
        deadline, pause = time.monotonic() + CLAIM_WAIT_S, 0.02
        while True:
            with self.uow_factory() as uow:
                if job.queue_key:
                    uow.vms.lock_uuid(job.queue_key)
                busy = [j for j in uow.jobs.running(job.queue_key) if j.id != job.id] if job.queue_key else []
                if not busy:
                    uow.jobs.set_running(job)
                    uow.commit()
                    return
            flush()  # hold no lock while the other job runs
            if time.monotonic() >= deadline:
                raise InvalidParameterValue(
                    f"There is other active Instance Snapshot tasks on the instance (job {busy[0].uuid}, "
                    f"{busy[0].cmd}), please try again later"
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.5)

    def _run(
        self,
        job: AsyncJob,
        work: Callable[[], Any],
        present: Callable[[Any], dict[str, Any]],
        abandon: Callable[[], None] | None = None,
    ) -> None:
        try:
            try:
                if not job.process_status:  # else claimed when it was added
                    self._claim(job)
            except CloudError:
                if abandon is not None:
                    abandon()
                raise
            outcome = present(work())
            status, code = SUCCEEDED, 0
        except CloudError as err:
            outcome, status, code = {"errorcode": err.errorcode, "errortext": err.errortext}, FAILED, err.errorcode
        except HostError as err:  # a workflow that let one through: the host's words, not a traceback
            log.warning("job %s (%s): host error %s", job.uuid, job.cmd, err)
            outcome, status, code = {"errorcode": 530, "errortext": str(err)}, FAILED, 530
        except Exception:
            log.exception("job %s (%s) failed unexpectedly", job.uuid, job.cmd)
            outcome, status, code = {"errorcode": 530, "errortext": "Unexpected exception"}, FAILED, 530
        with self.uow_factory() as uow:
            uow.jobs.finish(job, status, code, json.dumps(outcome, default=str))
            uow.commit()

    def wait(self, job: AsyncJob, timeout: float | None = None) -> AsyncJob:
        """Block until ``job`` has finished (immediately for inline jobs)."""
        future = self.futures.get(job.uuid)
        if future is not None:
            future.result(timeout)
        with self.uow_factory(readonly=True) as uow:
            return existing(uow.jobs.get(job.id), "async job", job.uuid)

    @staticmethod
    def result(job: AsyncJob) -> dict[str, Any]:
        return json.loads(job.job_result) if job.job_result else {}
