"""What a workflow costs the database, and what it has made durable when the host acts.

Through the manager (jobs inline, as the CLI runs them) a snapshot create, revert or delete
of a Running VM writes two transactions: the synchronous checks, the job's row and claim and
the transient state before the host command; the outcome and the job's result after it. At
the moment the host receives the command, another connection already sees the transient
state and the started job: a crash there leaves what sync on start settles."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from harness.domain.errors import CloudError
from harness.drivers import A, Command, HyperVDriver
from harness.jobs.runners import ThreadRunner
from harness.service.cloud import Cloud, open_cloud
from harness.store.batch import Tally, tally
from harness.store.uow import SqlUowFactory
from tests.service.conftest import World


class Witness:
    """A host wrapper that, as each command arrives, reads from its own connection what the
    manager has committed: the live snapshots' states and the jobs' (cmd, started, status)."""

    def __init__(self, host: HyperVDriver, url: str) -> None:
        self.host = host
        self.reader = create_engine(url)
        self.seen: list[tuple[str, list[str], list[tuple[str, int, int]]]] = []

    def execute(self, command: Command[A]) -> A:
        with self.reader.connect() as conn:
            live = text("SELECT state FROM vm_snapshots WHERE removed IS NULL ORDER BY id")
            states = [r[0] for r in conn.execute(live)]
            jobs = [
                (r[0], r[1], r[2])
                for r in conn.execute(text("SELECT job_cmd, job_process_status, job_status FROM async_job ORDER BY id"))
            ]
        self.seen.append((type(command).__name__, states, jobs))
        return self.host.execute(command)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.host, name)


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    with open_cloud(tmp_path, driver="sim", state_file=None) as cloud:
        yield cloud


def _engine(cloud: Cloud) -> Engine:
    factory = cloud.manager.uow_factory
    assert isinstance(factory, SqlUowFactory)
    return factory.engine


def _watched(cloud: Cloud) -> Witness:
    witness = Witness(cloud.driver, str(_engine(cloud).url))
    cloud.manager.runner = ThreadRunner(witness)  # type: ignore[arg-type]
    return witness


def _costs(cloud: Cloud, call: Any) -> tuple[Tally, Any]:
    with tally(_engine(cloud)) as counts:
        out = call()
    return counts, out


def test_create_is_two_transactions_and_the_first_is_durable_before_the_host_acts(cloud: Cloud) -> None:
    world = World(cloud)
    vm = world.deploy()
    witness = _watched(cloud)
    counts, (_, job) = _costs(cloud, lambda: cloud.manager.create_vm_snapshot(cloud.admin, vm))
    assert job.job_status == 1, job.job_result
    assert (counts.transactions, counts.commits) == (2, 2)
    [(command, states, jobs)] = witness.seen
    assert command == "CreateVMSnapshot"
    assert states == ["Creating"]
    assert jobs[-1] == ("createVMSnapshot", 1, 0)  # claimed, not finished
    assert world.snaps(vm_uuid=vm)[0]["state"] == "Ready"


def test_revert_and_delete_are_two_transactions_each(cloud: Cloud) -> None:
    world = World(cloud)
    vm = world.deploy()
    snap = world.snap(vm, memory=True)["id"]
    kept = world.snap(vm)["id"]  # the delete below is not of the last one (that reclaims storage too)
    witness = _watched(cloud)
    counts, job = _costs(cloud, lambda: cloud.manager.revert_to_vm_snapshot(cloud.admin, snap))
    assert job.job_status == 1, job.job_result
    assert (counts.transactions, counts.commits) == (2, 2)
    assert witness.seen[-1][:2] == ("RevertToVMSnapshot", ["Reverting", "Ready"])
    counts, job = _costs(cloud, lambda: cloud.manager.delete_vm_snapshot(cloud.admin, snap))
    assert job.job_status == 1, job.job_result
    assert (counts.transactions, counts.commits) == (2, 2)
    assert witness.seen[-1][:2] == ("DeleteVMSnapshot", ["Expunging", "Ready"])
    assert witness.seen[-1][2][-1] == ("deleteVMSnapshot", 1, 0)
    assert [s["id"] for s in world.snaps(vm_uuid=vm)] == [kept]


def test_a_refused_request_writes_nothing_in_one_transaction(cloud: Cloud) -> None:
    world = World(cloud)
    vm = world.deploy()
    with pytest.raises(CloudError) as info:
        _costs(cloud, lambda: cloud.manager.create_vm_snapshot(cloud.admin, vm, "x" * 256))
    assert info.value.errorcode == 431
    with tally(_engine(cloud)) as counts, pytest.raises(CloudError):
        cloud.manager.create_vm_snapshot(cloud.admin, vm, "x" * 256)
    assert (counts.transactions, counts.commits) == (1, 0)
    with cloud.manager.uow_factory(readonly=True) as uow:
        assert uow.jobs.pending() == []
    assert world.snaps(vm_uuid=vm) == []


def test_queued_jobs_commit_the_row_at_submit(tmp_path: Path) -> None:
    """With an executor the job's row is committed when the request returns (the caller
    queries it at once); the job itself then costs its two transactions."""
    busy = threading.Event()
    with ThreadPoolExecutor(1) as pool, open_cloud(tmp_path, driver="sim", state_file=None, executor=pool) as cloud:
        world = World(cloud)
        vm = world.deploy()
        pool.submit(busy.wait, 30)  # the one worker is busy: the job waits until the request is measured
        with tally(_engine(cloud)) as counts:
            _, job = cloud.manager.create_vm_snapshot(cloud.admin, vm)
            request = counts.commits  # the checks, the Allocated row and the job row, at once
            with cloud.manager.uow_factory(readonly=True) as uow:
                queued = uow.jobs.get_by_uuid(job.uuid)
            busy.set()
            done = cloud.manager.job_result(job)
        assert queued is not None and queued.job_status == 0
        assert done["jobstatus"] == 1, done
        assert request == 1
        assert counts.commits == 1 + 2  # the request's, then the job's before and after its command
