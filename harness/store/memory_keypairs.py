"""In-memory repositories for SSH key pairs and user VM details
(their ports are in :mod:`harness.store.ports`; the SQL side is :mod:`harness.store.keypairs`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from harness.domain.model import Page, SSHKeyPair
from harness.store.memory_tables import MemoryRepo, MemoryStore, like, page_of, set_details
from harness.store.ports import Scope


class MemorySSHKeyPairs(MemoryRepo[SSHKeyPair]):
    table_name = "ssh_keypairs"
    entity = SSHKeyPair

    def add(self, k: SSHKeyPair) -> SSHKeyPair:
        if self.by_name(k.account_id, k.name) is not None:
            raise ValueError("duplicate key pair name")  # the SQL unique constraint
        k.id = self._add_row(k)
        return k

    def _find(self, account_id: int, **wanted: str) -> SSHKeyPair | None:
        for r in self.rows_table.live():
            if r.account_id == account_id and all(getattr(r, f) == v for f, v in wanted.items()):
                return self.clone(r)
        return None

    def by_name(self, account_id: int, name: str) -> SSHKeyPair | None:
        return self._find(account_id, name=name)

    def by_fingerprint(self, account_id: int, fingerprint: str) -> SSHKeyPair | None:
        return self._find(account_id, fingerprint=fingerprint)

    def remove(self, id_: int) -> None:
        if id_ in self.rows_table.rows:
            self.store.txn.put(self.rows_table, id_, None)

    def remove_of_account(self, account_id: int) -> None:
        for r in list(self.rows_table.live()):
            if r.account_id == account_id:
                self.remove(r.id)

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
        matches = like(f"%{keyword}%") if keyword else None
        wanted = {"uuid": uuid, "name": name, "fingerprint": fingerprint}
        rows = [
            r
            for r in self.rows_table.live()
            if scope.admits(r)
            and all(v is None or getattr(r, k) == v for k, v in wanted.items())
            and (matches is None or matches(r.name))
        ]
        rows.sort(key=lambda r: (r.name, r.id))
        return page_of(rows, self.clone, page, pagesize)


class MemoryVMDetails:
    """VM id -> {name: value}, as the memory store keeps ``vm_snapshot_details``."""

    def __init__(self, store: MemoryStore, clock: Callable[[], datetime]) -> None:
        self.store, self.clock = store, clock

    def of_vm(self, vm_id: int) -> dict[str, str]:
        return dict(self.store["user_vm_details"].rows.get(vm_id) or {})

    def value_of_vms(self, vm_ids: Iterable[int], name: str) -> dict[int, str]:
        rows = self.store["user_vm_details"].rows
        return {i: rows[i][name] for i in set(vm_ids) if name in (rows.get(i) or {})}

    def set(self, vm_id: int, details: dict[str, str]) -> None:
        set_details(self.store, "user_vm_details", vm_id, details)

    def remove(self, vm_id: int, name: str) -> None:
        table = self.store["user_vm_details"]
        kept = {k: v for k, v in (table.rows.get(vm_id) or {}).items() if k != name}
        self.store.txn.put(table, vm_id, kept)
