"""Repositories for what the API tells about resources besides their state: users of
accounts, VMs' NICs, resource tags and the event log (migration 0006)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from ipaddress import IPv4Address
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, or_, select, update

from harness.domain.model import Event, Nic, Page, ResourceTag, User
from harness.store import tables as t
from harness.store.ports import Scope, address_number, lowest_free_number
from harness.store.repository import Repo, scoped


class Users(Repo[User]):
    """The ``user`` rows; :class:`~harness.store.catalog.Accounts` adds each account's one
    user and keeps its keys."""

    table = t.user

    def _entity(self, row: Row[Any]) -> User:
        m = row._mapping
        return User(
            m["id"],
            m["uuid"],
            m["username"],
            m["account_id"],
            m["firstname"],
            m["lastname"],
            m["email"],
            m["state"],
            m["created"],
            m["removed"],
        )

    def set_names(self, user_uuid: str, firstname: str | None, lastname: str | None, email: str | None) -> None:
        self.conn.execute(
            update(self.table)
            .where(self.table.c.uuid == user_uuid)
            .values(firstname=firstname, lastname=lastname, email=email)
        )

    def of_accounts(self, account_ids: Iterable[int]) -> list[User]:
        ids = set(account_ids)
        if not ids:
            return []
        return self._all(self._live().where(self.table.c.account_id.in_(ids)).order_by(self.table.c.id))

    def remove_of_account(self, account_id: int) -> None:
        """Soft-delete the account's users and void their keys."""
        self.conn.execute(
            update(self.table)
            .where(self.table.c.account_id == account_id, self.table.c.removed.is_(None))
            .values(removed=self.clock(), api_key=None, secret_key=None)
        )


class Nics(Repo[Nic]):
    table = t.nics

    def _entity(self, row: Row[Any]) -> Nic:
        m = row._mapping
        return Nic(
            m["id"],
            m["uuid"],
            m["instance_id"],
            m["ip4_address"],
            m["netmask"],
            m["gateway"],
            m["mac_address"],
            m["device_id"],
            bool(m["default_nic"]),
            m["created"],
            m["removed"],
        )

    def add(self, n: Nic) -> Nic:
        n.created = n.created or self.clock()
        n.id = self._insert(
            {
                "uuid": n.uuid,
                "instance_id": n.vm_id,
                "ip4_address": n.ip4_address,
                "netmask": n.netmask,
                "gateway": n.gateway,
                "mac_address": n.mac_address,
                "device_id": n.device_id,
                "default_nic": n.default_nic,
                "created": n.created,
            }
        )
        return n

    def of_vms(self, vm_ids: Iterable[int]) -> list[Nic]:
        ids = set(vm_ids)
        if not ids:
            return []
        c = self.table.c
        return self._all(self._live().where(c.instance_id.in_(ids)).order_by(c.instance_id, c.device_id))

    def addresses_in_use(self) -> set[str]:
        c = self.table.c
        return set(self.conn.execute(select(c.ip4_address).where(c.ip4_address.is_not(None))).scalars())

    def lowest_free(
        self, first: IPv4Address, last: IPv4Address, reserved: Collection[IPv4Address] = ()
    ) -> IPv4Address | None:
        # addresses are text in every dialect, so they are ordered as numbers here
        taken = sorted(address_number(a) for a in self.addresses_in_use())
        found = lowest_free_number(taken, int(first), int(last), {int(a) for a in reserved})
        return None if found is None else IPv4Address(found)

    def release(self, vm_id: int) -> None:
        """Give the VM's addresses back and remove its NICs (at expunge)."""
        c = self.table.c
        self.conn.execute(
            update(self.table)
            .where(c.instance_id == vm_id, c.removed.is_(None))
            .values(ip4_address=None, removed=self.clock())
        )


class Tags(Repo[ResourceTag]):
    """``resource_tags``: one value per (resource, key)."""

    table = t.resource_tags

    def _live(self):  # type: ignore[no-untyped-def]
        return select(self.table)  # tags are deleted, not soft-deleted

    def _entity(self, row: Row[Any]) -> ResourceTag:
        m = row._mapping
        return ResourceTag(
            m["id"],
            m["uuid"],
            m["key"],
            m["value"],
            m["resource_type"],
            m["resource_id"],
            m["resource_uuid"],
            m["account_id"],
            m["domain_id"],
            m["customer"],
        )

    def add(self, tag: ResourceTag) -> ResourceTag:
        tag.id = self._insert(
            {
                "uuid": tag.uuid,
                "key": tag.key,
                "value": tag.value,
                "resource_type": tag.resource_type,
                "resource_id": tag.resource_id,
                "resource_uuid": tag.resource_uuid,
                "account_id": tag.account_id,
                "domain_id": tag.domain_id,
                "customer": tag.customer,
            }
        )
        return tag

    def of_resources(self, resource_type: str, resource_ids: Iterable[int]) -> list[ResourceTag]:
        ids = set(resource_ids)
        if not ids:
            return []
        c = self.table.c
        stmt = self._cached(
            "of_resources",
            lambda: self._live()
            .where(c.resource_type == bindparam("type_"), c.resource_id.in_(bindparam("ids_", expanding=True)))
            .order_by(c.id),
        )
        return self._all(stmt, {"type_": resource_type, "ids_": sorted(ids)})

    def remove(self, tag_ids: Iterable[int]) -> None:
        ids = set(tag_ids)
        if ids:
            self.conn.execute(delete(self.table).where(self.table.c.id.in_(ids)))

    def matching(self, resource_type: str, pairs: list[tuple[str, str]]) -> set[int]:
        """The ids of the resources of ``resource_type`` carrying every (key, value) pair."""
        c = self.table.c
        found: set[int] | None = None
        for key, value in pairs:
            rows = self.conn.execute(
                select(c.resource_id).where(c.resource_type == resource_type, c.key == key, c.value == value)
            )
            ids = set(rows.scalars())
            found = ids if found is None else found & ids
        return found or set()

    def search(
        self,
        scope: Scope,
        resource_type: str | None = None,
        resource_uuid: str | None = None,
        key: str | None = None,
        value: str | None = None,
        customer: str | None = None,
        page: int | None = None,
        pagesize: int | None = None,
    ) -> Page:
        c = self.table.c
        stmt = self._equal(
            scoped(self._live(), self.table, scope),
            (c.resource_type, resource_type),
            (c.resource_uuid, resource_uuid),
            (c.key, key),
            (c.value, value),
            (c.customer, customer),
        )
        return self._page(stmt, (c.id,), page, pagesize)


class Events(Repo[Event]):
    table = t.event

    def _live(self):  # type: ignore[no-untyped-def]
        return select(self.table)  # events are kept, never removed

    def _entity(self, row: Row[Any]) -> Event:
        m = row._mapping
        return Event(
            m["id"],
            m["uuid"],
            m["type"],
            m["state"],
            m["level"],
            m["description"],
            m["account_id"],
            m["domain_id"],
            m["user_id"],
            m["resource_type"],
            m["resource_id"],
            m["start_id"] or None,
            m["created"],
            m["resource_uuid"],
        )

    def add(self, e: Event) -> Event:
        e.created = e.created or self.clock()
        e.id = self._insert(
            {
                "uuid": e.uuid,
                "type": e.type,
                "state": e.state,
                "level": e.level,
                "description": e.description,
                "user_id": e.user_id,
                "account_id": e.account_id,
                "domain_id": e.domain_id,
                "resource_type": e.resource_type,
                "resource_id": e.resource_id,
                "resource_uuid": e.resource_uuid,
                "start_id": e.start_id or 0,
                "created": e.created,
            }
        )
        return e

    def search(
        self,
        scope: Scope,
        type_: str | None = None,
        level: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        keyword: str | None = None,
        page: int | None = None,
        pagesize: int | None = None,
    ) -> Page:
        """Newest first, as listEvents orders them."""
        c = self.table.c
        stmt = scoped(self._live(), self.table, scope)
        if type_ is not None:
            stmt = stmt.where(c.type == type_)
        if level is not None:
            stmt = stmt.where(c.level == level)
        if start is not None:
            stmt = stmt.where(c.created >= start)
        if end is not None:
            stmt = stmt.where(c.created <= end)
        if keyword:
            pattern = f"%{keyword}%"
            stmt = stmt.where(or_(c.type.like(pattern), and_(c.description.like(pattern))))
        return self._page(stmt, (c.id.desc(),), page, pagesize)
