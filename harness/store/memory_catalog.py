"""In-memory repositories for the catalogue (:mod:`harness.store.catalog`) and for policies
and resource limits (:mod:`harness.store.policies`).

As in :mod:`harness.store.memory_repos`, each class implements its port of
:mod:`harness.store.ports` beside the SQL repository of that port.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from harness.domain.config import ConfigKey
from harness.domain.errors import InvalidParameterValue
from harness.domain.model import (
    Account,
    AsyncJob,
    Domain,
    Host,
    HypervisorCapabilities,
    ManagementServer,
    Page,
    ServiceOffering,
    User,
    VMSnapshot,
    Zone,
)
from harness.domain.policy import ResourceLimit, VMSnapshotPolicy
from harness.store.memory_tables import MemoryRepo, MemoryStore, cloner, like, page_of
from harness.store.ports import Scope


class MemoryDomains(MemoryRepo[Domain]):
    table_name = "domain"
    entity = Domain

    def add(self, d: Domain) -> Domain:
        d.id = self._add_row(d, removed=None)
        return d

    def root(self) -> Domain | None:
        return next((self.clone(r) for r in self.rows_table.live() if r.parent_id is None), None)

    def subtree_ids(self, domain: Domain) -> frozenset[int]:
        under = like(domain.path + "%")  # SQLAlchemy's startswith(): a LIKE, no escaping
        return frozenset(r.id for r in self.rows_table.live() if under(r.path))

    def child_named(self, parent: Domain, name: str) -> Domain | None:
        return next(
            (self.clone(r) for r in self.rows_table.live() if r.parent_id == parent.id and r.name == name), None
        )

    def all(self) -> list[Domain]:
        return self._copies(sorted(self.rows_table.live(), key=lambda r: (r.path, r.id)))


class MemoryAccounts(MemoryRepo[Account]):
    """Accounts with their user's keys (SQL joins the ``user`` table; here the row has them)."""

    table_name = "account"
    entity = Account

    def add(self, a: Account, user_uuid: str) -> Account:
        a.id = self._add_row(a, removed=None)
        now = self.clock()
        self.store.txn.insert(self.store["user"], lambda id_: User(id_, user_uuid, a.name, a.id, created=now))
        return a

    def by_name(self, name: str, domain_id: int | None = None) -> Account | None:
        return next(
            (
                self.clone(r)
                for r in self.rows_table.live()
                if r.name == name and (domain_id is None or r.domain_id == domain_id)
            ),
            None,
        )

    def by_api_key(self, api_key: str) -> Account | None:
        return next((self.clone(r) for r in self.rows_table.live() if r.api_key == api_key), None)

    def set_keys(self, a: Account, api_key: str, secret_key: str) -> None:
        self._update(a.id, api_key=api_key, secret_key=secret_key)
        a.api_key, a.secret_key = api_key, secret_key

    def set_password_hash(self, a: Account, password_hash: str) -> None:
        self._update(a.id, password_hash=password_hash)
        a.password_hash = password_hash

    def in_domains(self, domain_ids: frozenset[int] | None) -> list[Account]:
        return self._copies(r for r in self.rows_table.live() if domain_ids is None or r.domain_id in domain_ids)


class MemoryOfferings(MemoryRepo[ServiceOffering]):
    table_name = "service_offering"
    entity = ServiceOffering

    def add(self, o: ServiceOffering) -> ServiceOffering:
        o.id = self._add_row(o, removed=None)
        return o

    def by_name(self, name: str) -> ServiceOffering | None:
        return next((self.clone(r) for r in self.rows_table.live() if r.name == name), None)

    def all(self) -> list[ServiceOffering]:
        return self._copies(self.rows_table.live())


class MemoryZones(MemoryRepo[Zone]):
    table_name = "data_center"
    entity = Zone

    def add(self, z: Zone) -> Zone:
        z.id = self._add_row(z)
        return z

    def all(self) -> list[Zone]:
        return self._copies(self.rows_table.live())


class MemoryHosts(MemoryRepo[Host]):
    table_name = "host"
    entity = Host

    def add(self, h: Host) -> Host:
        h.id = self._add_row(h)
        return h

    def in_zone(self, zone_id: int) -> list[Host]:
        return self._copies(r for r in self.rows_table.live() if r.zone_id == zone_id)


class MemoryCapabilities(MemoryRepo[HypervisorCapabilities]):
    table_name = "hypervisor_capabilities"
    entity = HypervisorCapabilities

    def add(self, c: HypervisorCapabilities) -> HypervisorCapabilities:
        c.id = self._add_row(c)
        return c

    def lookup(self, hypervisor_type: str, version: str = "default") -> HypervisorCapabilities | None:
        found = next(
            (
                r
                for r in self.rows_table.live()
                if r.hypervisor_type == hypervisor_type and r.hypervisor_version == version
            ),
            None,
        )
        exact = None if found is None else self.clone(found)
        if exact is not None or version == "default":
            return exact
        return self.lookup(hypervisor_type, "default")

    def all(self) -> list[HypervisorCapabilities]:
        return self._copies(self.rows_table.live())

    def set_vm_snapshot_enabled(self, caps: HypervisorCapabilities, enabled: bool) -> None:
        self._update(caps.id, vm_snapshot_enabled=bool(enabled))
        caps.vm_snapshot_enabled = enabled


class MemoryConfiguration:
    """Configuration values by key name; an absent or NULL value reads as the default."""

    def __init__(self, store: MemoryStore, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.rows_table = store["configuration"]

    def get(self, key: ConfigKey) -> str:
        value = self.rows_table.rows.get(key.name)
        return key.default if value is None else str(value)

    def set(self, key: ConfigKey, value: str) -> None:
        self.store.txn.put(self.rows_table, key.name, value)


class MemoryJobs(MemoryRepo[AsyncJob]):
    table_name = "async_job"
    entity = AsyncJob

    def add(self, job: AsyncJob) -> AsyncJob:
        job.created = job.created or self.clock()
        job.id = self._add_row(
            job, job_status=0, job_result_code=0, job_result=None, last_updated=job.created, completed=None
        )
        return job

    def finish(self, job: AsyncJob, status: int, result_code: int, result: str) -> None:
        now = self.clock()
        self._update(
            job.id, job_status=status, job_result_code=result_code, job_result=result, last_updated=now, completed=now
        )
        job.job_status, job.job_result_code, job.job_result, job.completed = status, result_code, result, now

    def set_running(self, job: AsyncJob) -> None:
        self._update(job.id, process_status=1, last_updated=self.clock())
        job.process_status = 1

    def running(self, queue_key: str) -> list[AsyncJob]:
        live = self.rows_table.live()
        return self._copies(r for r in live if r.queue_key == queue_key and r.job_status == 0 and r.process_status == 1)

    def take_over(self, job: AsyncJob, msid: int) -> bool:
        row = self._row(job.id)
        if row is None or row.job_status != 0 or row.executing_msid != job.executing_msid:
            return False
        self._update(job.id, executing_msid=msid, last_updated=self.clock())
        job.executing_msid = msid
        return True

    def pending(self) -> list[AsyncJob]:
        return self._copies(r for r in self.rows_table.live() if r.job_status == 0)

    def search(self, account_ids: frozenset[int] | None, page: int | None = None, pagesize: int | None = None) -> Page:
        found = [r for r in self.rows_table.live() if account_ids is None or r.account_id in account_ids]
        found.reverse()
        return page_of(found, self.clone, page, pagesize)


_snapshot = cloner(VMSnapshot)


class MemoryVMSnapshotPolicies(MemoryRepo[VMSnapshotPolicy]):
    """Policies (deleted for real) and ``vm_snapshot_policy_ref``: snapshot id -> (policy
    id, VM id)."""

    table_name = "vm_snapshot_policy"
    entity = VMSnapshotPolicy

    def add(self, p: VMSnapshotPolicy) -> VMSnapshotPolicy:
        p.created = p.created or self.clock()
        if self.rows_table.group("vm", p.vm_id):  # the unique vm_id column
            raise InvalidParameterValue("The Instance already has a VM snapshot policy")
        p.id = self._add_row(p)
        return p

    def save(self, p: VMSnapshotPolicy) -> None:
        self._update(
            p.id,
            interval=p.interval,
            schedule=p.schedule,
            timezone=p.timezone,
            max_snaps=p.max_snaps,
            memory=bool(p.memory),
            quiesce=bool(p.quiesce),
            next_run=p.next_run,
            last_run=p.last_run,
        )

    def advance(self, p: VMSnapshotPolicy, next_run: datetime, last_run: datetime | None = None) -> bool:
        row = self.rows_table.rows.get(p.id)
        if row is None or p.next_run is None or row.next_run != p.next_run:  # NULL = NULL is not true in SQL
            return False
        self._update(p.id, next_run=next_run, last_run=last_run if last_run is not None else p.last_run)
        p.next_run = next_run
        if last_run is not None:
            p.last_run = last_run
        return True

    def remove(self, policy_id: int) -> None:
        if policy_id in self.rows_table.rows:
            self.store.txn.put(self.rows_table, policy_id, None)

    def of_vm(self, vm_id: int) -> VMSnapshotPolicy | None:
        for id_ in sorted(self.rows_table.group("vm", vm_id)):
            return self.get(id_)
        return None

    def due(self, now: datetime) -> list[VMSnapshotPolicy]:
        found = [r for r in self.rows_table.live() if r.next_run is not None and r.next_run <= now]
        found.sort(key=lambda r: (r.next_run, r.id))
        return self._copies(found)

    def earliest(self) -> datetime | None:
        return min((r.next_run for r in self.rows_table.rows.values() if r.next_run is not None), default=None)

    def search(
        self, scope: Scope, ids: Iterable[int] | None = None, vm_id: int | None = None
    ) -> list[VMSnapshotPolicy]:
        wanted = None if ids is None else set(ids)
        return self._copies(
            r
            for r in self.rows_table.live()
            if scope.admits(r) and (wanted is None or r.id in wanted) and (vm_id is None or r.vm_id == vm_id)
        )

    # ------------------------------------------------------------------ scheduled snapshots

    def _refs(self) -> Any:
        return self.store["vm_snapshot_policy_ref"]

    def tag(self, snapshot_id: int, policy_id: int, vm_id: int) -> None:
        self.store.txn.put(self._refs(), snapshot_id, (policy_id, vm_id))

    def snapshots(self, policy_id: int, vm_id: int) -> list[VMSnapshot]:
        rows = self.store["vm_snapshots"].rows
        found = [rows[i] for i in self._refs().group("policy_vm", (policy_id, vm_id)) if i in rows]
        live = [s for s in found if s.removed is None]
        live.sort(key=lambda s: (s.created or datetime.min, s.id))
        return [_snapshot(s) for s in live]

    def scheduled_ids(self, vm_id: int) -> set[int]:
        return set(self._refs().group("vm", vm_id))


class MemoryResourceLimits(MemoryRepo[ResourceLimit]):
    table_name = "resource_limit"
    entity = ResourceLimit

    def of_account(self, type_: str, account_id: int) -> ResourceLimit | None:
        return next(
            (self.clone(r) for r in self.rows_table.live() if r.type == type_ and r.account_id == account_id), None
        )

    def of_domain(self, type_: str, domain_id: int) -> ResourceLimit | None:
        return next(
            (
                self.clone(r)
                for r in self.rows_table.live()
                if r.type == type_ and r.domain_id == domain_id and r.account_id is None
            ),
            None,
        )

    def put(self, type_: str, max_: int, account_id: int | None = None, domain_id: int | None = None) -> ResourceLimit:
        found = self.of_account(type_, account_id) if account_id is not None else None
        if account_id is None and domain_id is not None:
            found = self.of_domain(type_, domain_id)
        if found is not None:
            self._update(found.id, max=max_)
            found.max = max_
            return found
        owner_domain = None if account_id is not None else domain_id
        new_id = self._add_row(ResourceLimit(0, type_, max_, account_id, owner_domain))
        return ResourceLimit(new_id, type_, max_, account_id, owner_domain)

    # ------------------------------------------------------------------ usage

    def vm_snapshots_of_account(self, account_id: int) -> int:
        return len(self.store["vm_snapshots"].group("account", account_id))

    def vm_snapshots_in_domains(self, domain_ids: frozenset[int]) -> int:
        snapshots = self.store["vm_snapshots"]
        return sum(len(snapshots.group("domain", d)) for d in domain_ids)


class MemoryManagementServers(MemoryRepo[ManagementServer]):
    table_name = "mshost"
    entity = ManagementServer

    def register(self, server: ManagementServer) -> ManagementServer:
        server.last_update = self.clock()
        server.id = self._add_row(server, state="Up")
        return server

    def _by_msid(self, msid: int) -> list[int]:
        return [r.id for r in self.rows_table.live() if r.msid == msid]

    def heartbeat(self, msid: int) -> None:
        for id_ in self._by_msid(msid):
            self._update(id_, last_update=self.clock())

    def set_state(self, msid: int, state: str) -> None:
        for id_ in self._by_msid(msid):
            self._update(id_, state=state)

    def remove(self, msid: int) -> None:
        for id_ in self._by_msid(msid):
            self.store.txn.put(self.rows_table, id_, None)

    def up(self) -> list[ManagementServer]:
        return self._copies(r for r in self.rows_table.live() if r.state == "Up")
