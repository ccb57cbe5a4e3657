"""In-memory repositories for users, NICs, resource tags and events
(their ports are in :mod:`harness.store.ports`; the SQL side is :mod:`harness.store.resources`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from ipaddress import IPv4Address

from harness.domain.model import Event, Nic, Page, ResourceTag, User
from harness.store.memory_tables import MemoryRepo, like, page_of
from harness.store.ports import Scope, lowest_free_number


class MemoryUsers(MemoryRepo[User]):
    table_name = "user"
    entity = User

    def set_names(self, user_uuid: str, firstname: str | None, lastname: str | None, email: str | None) -> None:
        for id_ in self.rows_table.group("uuid", user_uuid):
            self._update(id_, firstname=firstname, lastname=lastname, email=email)

    def of_accounts(self, account_ids: Iterable[int]) -> list[User]:
        ids = set(account_ids)
        return self._copies(r for r in self.rows_table.live() if r.account_id in ids)

    def remove_of_account(self, account_id: int) -> None:
        for r in list(self.rows_table.live()):
            if r.account_id == account_id:
                self._update(r.id, removed=self.clock())


class MemoryNics(MemoryRepo[Nic]):
    table_name = "nics"
    entity = Nic

    def add(self, n: Nic) -> Nic:
        n.created = n.created or self.clock()
        if n.ip4_address is not None and self.rows_table.group("address", n.ip4_address):
            raise ValueError(f"duplicate ip4_address {n.ip4_address}")  # the SQL unique constraint
        n.id = self._add_row(n, removed=None)
        return n

    def of_vms(self, vm_ids: Iterable[int]) -> list[Nic]:
        rows = self.rows_table.rows
        found = [rows[i] for vm_id in set(vm_ids) for i in self.rows_table.group("vm", vm_id)]
        return self._copies(sorted(found, key=lambda r: (r.vm_id, r.device_id, r.id)))

    def addresses_in_use(self) -> set[str]:
        return {str(a) for a in self.rows_table.group_values("address")}

    def lowest_free(
        self, first: IPv4Address, last: IPv4Address, reserved: Collection[IPv4Address] = ()
    ) -> IPv4Address | None:
        taken = self.rows_table.ordered("address")
        found = lowest_free_number(taken, int(first), int(last), {int(a) for a in reserved})
        return None if found is None else IPv4Address(found)

    def release(self, vm_id: int) -> None:
        for id_ in sorted(self.rows_table.group("vm", vm_id)):
            self._update(id_, ip4_address=None, removed=self.clock())


class MemoryTags(MemoryRepo[ResourceTag]):
    table_name = "resource_tags"
    entity = ResourceTag

    def add(self, tag: ResourceTag) -> ResourceTag:
        for r in self.rows_table.live():
            if (r.resource_id, r.resource_type, r.key) == (tag.resource_id, tag.resource_type, tag.key):
                raise ValueError("duplicate resource tag")  # the SQL unique constraint
        tag.id = self._add_row(tag)
        return tag

    def of_resources(self, resource_type: str, resource_ids: Iterable[int]) -> list[ResourceTag]:
        ids = set(resource_ids)
        return self._copies(
            r for r in self.rows_table.live() if r.resource_type == resource_type and r.resource_id in ids
        )

    def remove(self, tag_ids: Iterable[int]) -> None:
        for id_ in set(tag_ids):
            if id_ in self.rows_table.rows:
                self.store.txn.put(self.rows_table, id_, None)

    def matching(self, resource_type: str, pairs: list[tuple[str, str]]) -> set[int]:
        found: set[int] | None = None
        for key, value in pairs:
            ids = {
                r.resource_id
                for r in self.rows_table.live()
                if r.resource_type == resource_type and r.key == key and r.value == value
            }
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
        wanted = {
            "resource_type": resource_type,
            "resource_uuid": resource_uuid,
            "key": key,
            "value": value,
            "customer": customer,
        }
        rows = [
            r
            for r in self.rows_table.live()
            if scope.admits(r) and all(v is None or getattr(r, k) == v for k, v in wanted.items())
        ]
        return page_of(rows, self.clone, page, pagesize)


class MemoryEvents(MemoryRepo[Event]):
    table_name = "event"
    entity = Event

    def add(self, e: Event) -> Event:
        e.created = e.created or self.clock()
        e.id = self._add_row(e)
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
        matches = like(f"%{keyword}%") if keyword else None
        rows = [
            r
            for r in self.rows_table.live()
            if scope.admits(r)
            and (type_ is None or r.type == type_)
            and (level is None or r.level == level)
            and (start is None or (r.created is not None and r.created >= start))
            and (end is None or (r.created is not None and r.created <= end))
            and (matches is None or matches(r.type) or matches(r.description))
        ]
        rows.sort(key=lambda r: r.id, reverse=True)
        return page_of(rows, self.clone, page, pagesize)
