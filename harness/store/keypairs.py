"""Repositories for SSH key pairs (``ssh_keypairs``) and the details of user VMs
(``user_vm_details``, where a VM keeps its key pair), migration 0009."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select

from harness.domain.model import Page, SSHKeyPair
from harness.store import tables as t
from harness.store.ports import Scope
from harness.store.repository import Repo, scoped


class SSHKeyPairs(Repo[SSHKeyPair]):
    """An account's public keys by name; a name is unique in its account. Rows are deleted,
    not soft-deleted (CloudStack's ``ssh_keypairs`` has no ``removed``)."""

    table = t.ssh_keypairs

    def _live(self):  # type: ignore[no-untyped-def]
        return select(self.table)

    def _entity(self, row: Row[Any]) -> SSHKeyPair:
        m = row._mapping
        return SSHKeyPair(
            m["id"], m["uuid"], m["keypair_name"], m["account_id"], m["domain_id"], m["public_key"], m["fingerprint"]
        )

    def add(self, k: SSHKeyPair) -> SSHKeyPair:
        k.id = self._insert(
            {
                "uuid": k.uuid,
                "keypair_name": k.name,
                "account_id": k.account_id,
                "domain_id": k.domain_id,
                "public_key": k.public_key,
                "fingerprint": k.fingerprint,
            }
        )
        return k

    def by_name(self, account_id: int, name: str) -> SSHKeyPair | None:
        c = self.table.c
        return self._one(self._live().where(c.account_id == account_id, c.keypair_name == name))

    def by_fingerprint(self, account_id: int, fingerprint: str) -> SSHKeyPair | None:
        c = self.table.c
        return self._one(self._live().where(c.account_id == account_id, c.fingerprint == fingerprint))

    def remove(self, id_: int) -> None:
        self.conn.execute(delete(self.table).where(self.table.c.id == id_))

    def remove_of_account(self, account_id: int) -> None:
        self.conn.execute(delete(self.table).where(self.table.c.account_id == account_id))

    def search(
        self,
        scope: Scope,
        uuid: str | None = None,
        name: str | None = None,
        fingerprint: str | None = None,
        keyword: str | None = None,
        page: int | None = None,
        pagesize: int | None = None,
    ) -> Page:
        """listSSHKeyPairs: the key pairs in ``scope``, by name; ``keyword`` is part of a name."""
        c = self.table.c
        stmt = self._equal(
            scoped(self._live(), self.table, scope),
            (c.uuid, uuid),
            (c.keypair_name, name),
            (c.fingerprint, fingerprint),
        )
        if keyword:
            stmt = stmt.where(c.keypair_name.like(f"%{keyword}%"))
        return self._page(stmt, (c.keypair_name, c.id), page, pagesize)


class VMDetails:
    """``user_vm_details``: name -> value per VM (``SSH.PublicKey`` and the like)."""

    table = t.user_vm_details

    def __init__(self, conn: Connection, clock: Callable[[], datetime]) -> None:
        self.conn, self.clock = conn, clock

    def of_vm(self, vm_id: int) -> dict[str, str]:
        c = self.table.c
        rows = self.conn.execute(select(c.name, c.value).where(c.vm_id == vm_id).order_by(c.id))
        return {name: value for name, value in rows}  # noqa: C416 (rows are Row objects)

    def value_of_vms(self, vm_ids: Iterable[int], name: str) -> dict[int, str]:
        """VM id -> its detail ``name``, for the VMs that have it (one query for a list)."""
        ids, c = set(vm_ids), self.table.c
        if not ids:
            return {}
        rows = self.conn.execute(select(c.vm_id, c.value).where(c.vm_id.in_(ids), c.name == name))
        return {vm_id: value for vm_id, value in rows}  # noqa: C416 (rows are Row objects)

    def set(self, vm_id: int, details: dict[str, str]) -> None:
        """Set each detail of ``details`` (replacing one of the same name)."""
        c = self.table.c
        for name, value in details.items():
            self.conn.execute(delete(self.table).where(c.vm_id == vm_id, c.name == name))
            self.conn.execute(insert(self.table).values(vm_id=vm_id, name=name, value=value, display=True))

    def remove(self, vm_id: int, name: str) -> None:
        c = self.table.c
        self.conn.execute(delete(self.table).where(c.vm_id == vm_id, c.name == name))
