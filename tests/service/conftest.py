"""A cloud on a fresh store and an in-memory simulated host, and a small vocabulary over
the manager for the service tests.

The ``world`` fixture runs every service test twice, once per store: ``sql`` (a fresh
SQLite database) and ``memory`` (:mod:`harness.store.memory`). Passing on both is the
proof that the simulations, which use the memory store, run the manager the CLI runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from harness.domain.errors import CloudError
from harness.domain.model import Account, AccountType
from harness.drivers import (
    A,
    Command,
    GetInventory,
    HostError,
    Inventory,
    OperationFailed,
    VMInventory,
    VMRef,
)
from harness.service import accounts
from harness.service.cloud import Cloud, open_cloud
from harness.service.manager import Manager
from harness.store import tables
from harness.store.memory import MemoryUowFactory

STORES = ["sql", "memory"]

Obj = dict[str, Any]


class World:
    """The manager as a test talks to it: every call waits for its job and returns the
    job's result object, or raises the CloudError the caller would see."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.m = cloud.manager
        self.admin = cloud.admin

    def _done(self, job: Any) -> Obj:
        result = self.m.job_result(job)
        if result["jobstatus"] != 1:
            raise CloudError.coded(result["jobresult"]["errorcode"], result["jobresult"]["errortext"])
        return result["jobresult"]  # type: ignore[no-any-return]

    def deploy(self, name: str = "vm", start: bool = True, caller: Account | None = None) -> str:
        _, job = self.m.deploy_vm(caller or self.admin, name, "small", start)
        return self._done(job)["virtualmachine"]["id"]  # type: ignore[no-any-return]

    def snap(
        self, vm: str, memory: bool = False, name: str | None = None, caller: Account | None = None, **kw: Any
    ) -> Obj:
        _, job = self.m.create_vm_snapshot(
            caller or self.admin, vm, name, kw.get("description"), memory, kw.get("quiesce", False)
        )
        return self._done(job)["vmsnapshot"]  # type: ignore[no-any-return]

    def revert(self, snap: str, caller: Account | None = None) -> Obj:
        return self._done(self.m.revert_to_vm_snapshot(caller or self.admin, snap))["virtualmachine"]  # type: ignore[no-any-return]

    def delete(self, snap: str, caller: Account | None = None) -> Obj:
        return self._done(self.m.delete_vm_snapshot(caller or self.admin, snap))

    def delete_all(self, vm: str) -> Obj:
        return self._done(self.m.delete_vm_snapshots(self.admin, vm))

    def start(self, vm: str) -> Obj:
        return self._done(self.m.start_vm(self.admin, vm))["virtualmachine"]  # type: ignore[no-any-return]

    def stop(self, vm: str) -> Obj:
        return self._done(self.m.stop_vm(self.admin, vm))["virtualmachine"]  # type: ignore[no-any-return]

    def destroy(self, vm: str) -> Obj:
        return self._done(self.m.destroy_vm(self.admin, vm))["virtualmachine"]  # type: ignore[no-any-return]

    def change_offering(self, vm: str, offering: str) -> Obj:
        return self._done(self.m.change_offering(self.admin, vm, offering))["virtualmachine"]  # type: ignore[no-any-return]

    def write(self, vm: str, key: str, value: str) -> None:
        self.m.write_guest_data(self.admin, vm, key, value)

    def read(self, vm: str, key: str) -> str | None:
        return self.m.read_guest_data(self.admin, vm, key)["value"]  # type: ignore[no-any-return]

    def snaps(self, caller: Account | None = None, **filters: Any) -> list[Obj]:
        return self.m.list_vm_snapshots(caller or self.admin, **filters)[1]

    def by_name(self, vm: str) -> dict[str, Obj]:
        return {s["displayname"]: s for s in self.snaps(vm_uuid=vm)}

    def snapshot_id(self, uuid: str) -> int:
        """The database id of the snapshot ``uuid`` (workflows take ids)."""
        with self.m.uow_factory(readonly=True) as uow:
            snap = uow.vm_snapshots.get_by_uuid(uuid)
        assert snap is not None
        return snap.id

    def vm(self, vm: str) -> Obj:
        return next(v for v in self.m.list_vms(self.admin)[1] if v["id"] == vm)

    def host_vm(self, vm: str) -> VMInventory | None:
        inventory = self.cloud.driver.execute(GetInventory(VMRef("*")))
        assert isinstance(inventory, Inventory)
        return inventory.vm(self.vm(vm)["instancename"])

    def account(self, name: str, kind: AccountType = AccountType.User, domain: str | None = None) -> Account:
        return accounts.create_account(self.m.uow_factory, self.admin, name, kind, domain)

    def config(self, name: str, value: str) -> None:
        self.m.set_config(self.admin, name, value)

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table: compare before and after a refused request. ``mshost``
        is left out: a serving manager's heartbeat updates it all the time."""
        if isinstance(self.m.uow_factory, MemoryUowFactory):
            return {k: v for k, v in self.m.uow_factory.store.dump().items() if k != "mshost"}
        with self.m.uow_factory(readonly=True) as uow:
            conn = uow.vms.conn
            return {
                t.name: [tuple(r) for r in conn.execute(select(t))]
                for t in tables.metadata.sorted_tables
                if t.name != "mshost"
            }


class Failing:
    """The world's simulated host, except that commands of one kind fail as Hyper-V fails."""

    def __init__(self, world: World, kind: type[Command], error: type[HostError] = OperationFailed) -> None:
        self.inner, self.kind, self.error = world.cloud.driver, kind, error

    def execute(self, command: Command[A]) -> A:
        if isinstance(command, self.kind):
            raise self.error("The operation failed.")
        return self.inner.execute(command)


@pytest.fixture(params=STORES)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with open_cloud(tmp_path, driver="sim", state_file=None, store=request.param) as cloud:
        yield World(cloud)


def refused(world: World, code: int, call: Any, *args: Any, **kw: Any) -> str:
    """Assert ``call`` is refused with ``code`` and that nothing in the database changed."""
    before = world.dump()
    with pytest.raises(CloudError) as info:
        call(*args, **kw)
    assert info.value.errorcode == code, info.value.errortext
    assert world.dump() == before, "a refused request changed the database"
    return info.value.errortext


def user_id(m: Manager, account: Account) -> str:
    """The uuid of ``account``'s one user (updateUser and set_password take a user's id)."""
    return str(m.list_accounts(account, account.uuid)[0]["user"][0]["id"])
