"""Repositories for the cloud's catalogue: domains, accounts and their keys, offerings,
zones, hosts, hypervisor capabilities, configuration and async jobs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, delete, select, update

from harness.domain.config import ConfigKey
from harness.domain.model import (
    Account,
    AccountType,
    AsyncJob,
    Domain,
    Host,
    HypervisorCapabilities,
    ManagementServer,
    ServiceOffering,
    Zone,
)
from harness.store import tables as t
from harness.store.repository import Repo, cached


class Domains(Repo[Domain]):
    table = t.domain

    def _entity(self, row: Row[Any]) -> Domain:
        m = row._mapping
        return Domain(m["id"], m["uuid"], m["name"], m["parent"], m["path"], m["removed"])

    def add(self, d: Domain) -> Domain:
        d.id = self._insert(
            {"uuid": d.uuid, "name": d.name, "parent": d.parent_id, "path": d.path, "created": self.clock()}
        )
        return d

    def root(self) -> Domain | None:
        return self._one(self._live().where(self.table.c.parent.is_(None)))

    def subtree_ids(self, domain: Domain) -> frozenset[int]:
        """The domain and every domain below it (CloudStack matches on ``path`` prefix)."""
        c = self.table.c
        rows = self.conn.execute(select(c.id).where(c.path.startswith(domain.path), c.removed.is_(None)))
        return frozenset(rows.scalars())

    def child_named(self, parent: Domain, name: str) -> Domain | None:
        c = self.table.c
        return self._one(self._live().where(c.parent == parent.id, c.name == name))

    def all(self) -> list[Domain]:
        return self._all(self._live().order_by(self.table.c.path))


class Accounts(Repo[Account]):
    table = t.account

    def _select(self):  # type: ignore[no-untyped-def]
        a, u = self.table.c, t.user.c
        return (
            select(self.table, u.api_key, u.secret_key, u.password)
            .outerjoin(t.user, (u.account_id == a.id) & u.removed.is_(None))
            .where(a.removed.is_(None))
        )

    def _entity(self, row: Row[Any]) -> Account:
        m = row._mapping
        return Account(
            m["id"], m["uuid"], m["account_name"], AccountType(m["type"]), m["domain_id"],
            m.get("api_key"), m.get("secret_key"), m["removed"], m.get("password"),
        )

    def add(self, a: Account, user_uuid: str) -> Account:
        a.id = self._insert(
            {"uuid": a.uuid, "account_name": a.name, "type": int(a.type), "domain_id": a.domain_id,
             "created": self.clock()}
        )
        self.conn.execute(
            t.user.insert().values(
                uuid=user_uuid, username=a.name, account_id=a.id, api_key=a.api_key,
                secret_key=a.secret_key, password=a.password_hash, created=self.clock(),
            )
        )
        return a

    def get(self, id_: int) -> Account | None:
        stmt = self._cached("get", lambda: self._select().where(self.table.c.id == bindparam("pk_")))
        return self._one(stmt, {"pk_": id_})

    def get_by_uuid(self, uuid: str) -> Account | None:
        stmt = self._cached("get_by_uuid", lambda: self._select().where(self.table.c.uuid == bindparam("uuid_")))
        return self._one(stmt, {"uuid_": uuid})

    def by_name(self, name: str, domain_id: int | None = None) -> Account | None:
        stmt = self._select().where(self.table.c.account_name == name)
        if domain_id is not None:
            stmt = stmt.where(self.table.c.domain_id == domain_id)
        return self._one(stmt)

    def by_api_key(self, api_key: str) -> Account | None:
        return self._one(self._select().where(t.user.c.api_key == api_key))

    def set_keys(self, a: Account, api_key: str, secret_key: str) -> None:
        self.conn.execute(
            update(t.user).where(t.user.c.account_id == a.id).values(api_key=api_key, secret_key=secret_key)
        )
        a.api_key, a.secret_key = api_key, secret_key

    def set_password_hash(self, a: Account, password_hash: str) -> None:
        self.conn.execute(update(t.user).where(t.user.c.account_id == a.id).values(password=password_hash))
        a.password_hash = password_hash

    def in_domains(self, domain_ids: frozenset[int] | None) -> list[Account]:
        stmt = self._select().order_by(self.table.c.id)
        if domain_ids is not None:
            stmt = stmt.where(self.table.c.domain_id.in_(domain_ids))
        return self._all(stmt)


class Offerings(Repo[ServiceOffering]):
    table = t.service_offering

    def _entity(self, row: Row[Any]) -> ServiceOffering:
        m = row._mapping
        return ServiceOffering(
            m["id"], m["uuid"], m["name"], m["cpu"], m["speed"], m["ram_size"], m["removed"]
        )

    def add(self, o: ServiceOffering) -> ServiceOffering:
        o.id = self._insert(
            {"uuid": o.uuid, "name": o.name, "cpu": o.cpu, "speed": o.speed, "ram_size": o.ram_size,
             "created": self.clock()}
        )
        return o

    def by_name(self, name: str) -> ServiceOffering | None:
        return self._one(self._live().where(self.table.c.name == name))

    def all(self) -> list[ServiceOffering]:
        return self._all(self._cached("all", lambda: self._live().order_by(self.table.c.id)))


class Zones(Repo[Zone]):
    table = t.data_center

    def _entity(self, row: Row[Any]) -> Zone:
        m = row._mapping
        return Zone(m["id"], m["uuid"], m["name"])

    def add(self, z: Zone) -> Zone:
        z.id = self._insert({"uuid": z.uuid, "name": z.name})
        return z

    def all(self) -> list[Zone]:
        return self._all(self._live().order_by(self.table.c.id))


class Hosts(Repo[Host]):
    table = t.host

    def _entity(self, row: Row[Any]) -> Host:
        m = row._mapping
        return Host(m["id"], m["uuid"], m["name"], m["data_center_id"], m["hypervisor_type"],
                    m["hypervisor_version"])

    def add(self, h: Host) -> Host:
        h.id = self._insert(
            {"uuid": h.uuid, "name": h.name, "data_center_id": h.zone_id,
             "hypervisor_type": h.hypervisor_type,
             "hypervisor_version": h.hypervisor_version, "status": "Up"}
        )
        return h

    def in_zone(self, zone_id: int) -> list[Host]:
        return self._all(self._live().where(self.table.c.data_center_id == zone_id).order_by(self.table.c.id))


class Capabilities(Repo[HypervisorCapabilities]):
    table = t.hypervisor_capabilities

    def _live(self):  # type: ignore[no-untyped-def]
        return select(self.table)  # capabilities have no soft delete

    def _entity(self, row: Row[Any]) -> HypervisorCapabilities:
        m = row._mapping
        return HypervisorCapabilities(
            m["id"], m["uuid"], m["hypervisor_type"], m["hypervisor_version"], m["max_guests_limit"],
            m["max_data_volumes_limit"], bool(m["vm_snapshot_enabled"]),
        )

    def add(self, c: HypervisorCapabilities) -> HypervisorCapabilities:
        c.id = self._insert(
            {"uuid": c.uuid, "hypervisor_type": c.hypervisor_type, "hypervisor_version": c.hypervisor_version,
             "max_guests_limit": c.max_guests_limit, "max_data_volumes_limit": c.max_data_volumes_limit,
             "vm_snapshot_enabled": c.vm_snapshot_enabled}
        )
        return c

    def lookup(self, hypervisor_type: str, version: str = "default") -> HypervisorCapabilities | None:
        """The (type, version) row, falling back to (type, ``default``) as CloudStack's DAO does."""
        c = self.table.c
        stmt = self._cached(
            "lookup",
            lambda: self._live().where(
                c.hypervisor_type == bindparam("type_"), c.hypervisor_version == bindparam("version_")
            ),
        )
        exact = self._one(stmt, {"type_": hypervisor_type, "version_": version})
        if exact is not None or version == "default":
            return exact
        return self.lookup(hypervisor_type, "default")

    def all(self) -> list[HypervisorCapabilities]:
        return self._all(self._live().order_by(self.table.c.id))

    def set_vm_snapshot_enabled(self, caps: HypervisorCapabilities, enabled: bool) -> None:
        self.conn.execute(
            update(self.table).where(self.table.c.id == caps.id).values(vm_snapshot_enabled=enabled)
        )
        caps.vm_snapshot_enabled = enabled


class Configuration:
    """The ``configuration`` table: one string value per key, defaulting to the key's default.

    The first read of a transaction reads every row (a few dozen at most: only keys ever
    set), so a workflow that consults several keys reads the table once; the repository
    lives as long as its transaction, and :meth:`set` keeps what it read in step."""

    def __init__(self, conn: Any, clock: Any) -> None:
        self.conn = conn
        self._values: dict[str, Any] | None = None

    def forget(self) -> None:
        """Drop what was read (a savepoint rolled back: a value set since may be undone)."""
        self._values = None

    def get(self, key: ConfigKey) -> str:
        if self._values is None:
            c = t.configuration.c
            stmt = cached(("configuration", "all"), lambda: select(c.name, c.value))
            self._values = {row[0]: row[1] for row in self.conn.execute(stmt)}
        value = self._values.get(key.name)
        return key.default if value is None else str(value)

    def set(self, key: ConfigKey, value: str) -> None:
        if self._values is not None:
            self._values[key.name] = value
        c = t.configuration.c
        stmt = update(t.configuration).where(c.name == key.name).values(value=value)
        changed = self.conn.execute(stmt).rowcount
        if not changed:
            self.conn.execute(
                t.configuration.insert().values(
                    name=key.name, value=value, default_value=key.default, description=key.description
                )
            )


class Jobs(Repo[AsyncJob]):
    table = t.async_job

    def _entity(self, row: Row[Any]) -> AsyncJob:
        m = row._mapping
        return AsyncJob(
            id=m["id"], uuid=m["uuid"], account_id=m["account_id"], cmd=m["job_cmd"],
            cmd_info=m["job_cmd_info"],
            instance_type=m["instance_type"], instance_id=m["instance_id"], job_status=m["job_status"],
            job_result_code=m["job_result_code"], job_result=m["job_result"], created=m["created"],
            last_updated=m["last_updated"], completed=m["completed"], init_msid=m["job_init_msid"],
            executing_msid=m["job_executing_msid"], queue_key=m["job_queue_key"],
            process_status=m["job_process_status"],
        )

    def add(self, job: AsyncJob) -> AsyncJob:
        job.created = job.created or self.clock()
        job.id = self._insert(
            {"uuid": job.uuid, "account_id": job.account_id, "job_cmd": job.cmd, "job_cmd_info": job.cmd_info,
             "instance_type": job.instance_type, "instance_id": job.instance_id, "job_status": 0,
             "job_result_code": 0, "created": job.created, "last_updated": job.created,
             "job_init_msid": job.init_msid, "job_executing_msid": job.executing_msid,
             "job_queue_key": job.queue_key, "job_process_status": job.process_status}
        )
        return job

    def set_running(self, job: AsyncJob) -> None:
        """A manager has started running ``job`` (``job_process_status`` 1)."""
        self._set(job.id, job_process_status=1, last_updated=self.clock())
        job.process_status = 1

    def running(self, queue_key: str) -> list[AsyncJob]:
        """The pending jobs on ``queue_key`` (a VM) that a manager has started."""
        c = self.table.c
        stmt = self._cached(
            "running",
            lambda: self._live().where(
                c.job_queue_key == bindparam("key_"), c.job_status == 0, c.job_process_status == 1
            ),
        )
        return self._all(stmt, {"key_": queue_key})

    def take_over(self, job: AsyncJob, msid: int) -> bool:
        """Make ``msid`` the executor of a pending ``job`` whose executor is still the one
        ``job`` names (a compare-and-swap: two managers never both take one job over)."""
        c = self.table.c
        msid_ = c.job_executing_msid
        owner = msid_.is_(None) if job.executing_msid is None else msid_ == job.executing_msid
        result = self.conn.execute(
            update(self.table).where(c.id == job.id, c.job_status == 0, owner)
            .values(job_executing_msid=msid, last_updated=self.clock())
        )
        if result.rowcount != 1:
            return False
        job.executing_msid = msid
        return True

    def finish(self, job: AsyncJob, status: int, result_code: int, result: str) -> None:
        now = self.clock()
        self._set(job.id, job_status=status, job_result_code=result_code, job_result=result,
                  last_updated=now, completed=now)
        job.job_status, job.job_result_code, job.job_result, job.completed = status, result_code, result, now

    def pending(self) -> list[AsyncJob]:
        return self._all(self._live().where(self.table.c.job_status == 0).order_by(self.table.c.id))

    def search(  # type: ignore[no-untyped-def]
        self, account_ids: frozenset[int] | None, page: int | None = None, pagesize: int | None = None
    ):
        stmt = self._live()
        if account_ids is not None:
            stmt = stmt.where(self.table.c.account_id.in_(account_ids))
        return self._page(stmt, (self.table.c.id.desc(),), page, pagesize)


class ManagementServers(Repo[ManagementServer]):
    """``mshost``: the manager processes sharing this database and their heartbeats."""

    table = t.mshost

    def _entity(self, row: Row[Any]) -> ManagementServer:
        m = row._mapping
        return ManagementServer(
            id=m["id"], msid=m["msid"], name=m["name"], pid=m["pid"], state=m["state"], last_update=m["last_update"]
        )

    def register(self, server: ManagementServer) -> ManagementServer:
        """Add ``server`` (state Up, heartbeat now)."""
        server.last_update = self.clock()
        server.id = self._insert(
            {"msid": server.msid, "name": server.name, "pid": server.pid, "state": "Up",
             "last_update": server.last_update}
        )
        return server

    def heartbeat(self, msid: int) -> None:
        c = self.table.c
        self.conn.execute(update(self.table).where(c.msid == msid).values(last_update=self.clock()))

    def set_state(self, msid: int, state: str) -> None:
        """``Down`` after a clean stop, or when another manager took its jobs over."""
        c = self.table.c
        self.conn.execute(update(self.table).where(c.msid == msid).values(state=state))

    def remove(self, msid: int) -> None:
        """A clean stop: the row goes (a CLI command leaves the table as it found it)."""
        self.conn.execute(delete(self.table).where(self.table.c.msid == msid))

    def up(self) -> list[ManagementServer]:
        """Every server whose row says Up (alive, or dead and not yet taken over)."""
        return self._all(select(self.table).where(self.table.c.state == "Up").order_by(self.table.c.id))
