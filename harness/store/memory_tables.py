"""The in-memory store's tables and transactions, and what its repositories share.

A :class:`MemoryStore` is the whole database: one :class:`MemoryTable` per SQL table, named
as in :mod:`harness.store.tables`. A table maps a key (the auto-incremented ``id``, or the
natural key of a side table) to a row. Rows of entity tables are private instances of the
domain classes; side tables hold plain values. Rows are never changed in place: a write puts
a new row, so a :class:`Transaction` undoes itself by putting the old ones back.

Contracts the memory repositories keep, because the SQL store keeps them:

- what a finder returns is a copy (:func:`cloner`); changing it changes nothing stored;
- ids count up per table from 1; as SQLite's ``INTEGER PRIMARY KEY``, the next id is one
  more than the largest id present, so a rolled-back insert frees its id again;
- text matching follows SQLite: :func:`like` is ``LIKE`` (``%``, ``_``, ASCII-only case
  folding), ``=`` is exact.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, insort
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import MISSING, fields
from datetime import datetime
from operator import attrgetter
from typing import Any, Generic, TypeVar

from harness.domain.model import Page, SnapshotBrief
from harness.store.ports import address_number

T = TypeVar("T")
Key = Callable[[Any], Hashable | None]

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """``text`` with ASCII letters lowered, as SQLite's ``LIKE`` compares."""
    return text.translate(_ASCII_LOWER)


def like(pattern: str, escape: str | None = None) -> Callable[[str | None], bool]:
    """A predicate true where SQLite's ``value LIKE pattern [ESCAPE escape]`` is true."""
    out, chars, i = [], fold(pattern), 0
    while i < len(chars):
        ch = chars[i]
        if escape is not None and ch == escape and i + 1 < len(chars):
            out.append(re.escape(chars[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    regex = re.compile("".join(out), re.DOTALL)
    return lambda value: value is not None and regex.fullmatch(fold(value)) is not None


def cloner(cls: type[T]) -> Callable[[T], T]:
    """A fast copy of a (slots) dataclass instance: a new instance from the field values.
    Fields with a ``default_factory`` (``VMSnapshot.details``) get a fresh default, as a row
    read back from SQL does."""
    names = [f.name for f in fields(cls) if f.init and f.default_factory is MISSING]  # type: ignore[arg-type]
    get = attrgetter(*names)
    make: Callable[..., T] = cls
    if len(names) == 1:
        return lambda row: make(get(row))
    return lambda row: make(*get(row))


def newest_first(row: Any) -> tuple[datetime, int]:
    """Sort key for ``ORDER BY created DESC, id DESC`` (with ``reverse=True``)."""
    return (row.created or datetime.min, row.id)


def page_of(rows: list[Any], clone: Callable[[Any], Any], page: int | None, pagesize: int | None) -> Page:
    """``rows`` (already filtered and ordered) as one page: ``count`` before paging; LIMIT and
    OFFSET as SQLite applies them (a negative limit is no limit, a negative offset is 0)."""
    count = len(rows)
    if pagesize:
        start = max(0, ((page or 1) - 1) * pagesize)
        rows = rows[start:] if pagesize < 0 else rows[start : start + pagesize]
    return Page(count=count, items=[clone(r) for r in rows])


def set_details(store: MemoryStore, table_name: str, owner: Hashable, details: dict[str, str]) -> None:
    """Set each of ``details`` in the ``{name: value}`` row of ``owner`` in a details table,
    replacing one of the same name (SQL deletes and re-inserts it: the name moves to the end)."""
    table = store[table_name]
    merged = dict(table.rows.get(owner) or {})
    for name, value in details.items():
        merged.pop(name, None)
        merged[name] = value
    store.txn.put(table, owner, merged)


class MemoryTable:
    """The rows of one table by key, and the indexes kept in step with them.

    ``groups`` names grouping indexes: ``key(row)`` is the group a row belongs to (``None``:
    none); :meth:`group` lists the keys of a group's rows, :meth:`group_values` the groups.
    ``ordered`` names sorted indexes: :meth:`ordered` lists every row's ``key(row)`` (but
    ``None``) in ascending order. ``derived`` names values made from each row when it is
    put (``None``: none), kept beside it (:meth:`derived`): immutable views read more often
    than written. ``reads`` names the fields an index or a derived value is made from: a
    :meth:`put` told which fields it changes leaves alone those that read none of them.
    Only :meth:`put` changes rows."""

    def __init__(
        self,
        name: str,
        groups: dict[str, Key] | None = None,
        soft_delete: bool = True,
        ordered: dict[str, Callable[[Any], int | None]] | None = None,
        derived: dict[str, Callable[[Any], Any]] | None = None,
        reads: dict[str, frozenset[str]] | None = None,
    ) -> None:
        self.name = name
        self.rows: dict[Any, Any] = {}
        self.last = 0
        self.soft_delete = soft_delete
        self._keys = groups or {}
        self._groups: dict[str, dict[Hashable, set[Any]]] = {g: {} for g in self._keys}
        self._indexes = [(key_of, self._groups[g]) for g, key_of in self._keys.items()]  # what put walks
        self._sorted: dict[str, list[int]] = {o: [] for o in ordered or {}}
        self._sorted_indexes = [(key_of, self._sorted[o]) for o, key_of in (ordered or {}).items()]
        self._derived: dict[str, dict[Hashable, Any]] = {d: {} for d in derived or {}}
        self._makers = [(make, self._derived[d]) for d, make in (derived or {}).items()]
        self._reads = reads or {}
        self._views = {**self._keys, **(ordered or {}), **(derived or {})}
        self._names = (list(self._keys), list(self._sorted), list(self._derived))  # as put walks them
        self._touched: dict[tuple[str, ...], tuple[list[Any], list[Any], list[Any]]] = {}

    def declared_reads(self) -> dict[str, tuple[Callable[[Any], Any], frozenset[str]]]:
        """Each index key or derived value whose ``reads`` are declared: its maker and the
        fields it is said to read (a test holds the makers to them)."""
        return {name: (self._views[name], reads) for name, reads in self._reads.items()}

    def _upkeep(self, changed: tuple[str, ...]) -> tuple[list[Any], list[Any], list[Any]]:
        """The indexes, sorted indexes and derived values a write of fields ``changed`` may
        change (those whose ``reads`` are unknown among them), worked out once per set of
        fields."""
        found = self._touched.get(changed)
        if found is None:

            def touched(name: str) -> bool:
                reads = self._reads.get(name)
                return reads is None or not reads.isdisjoint(changed)

            groups, ordered, derived = self._names
            found = self._touched[changed] = (
                [ix for g, ix in zip(groups, self._indexes, strict=True) if touched(g)],
                [ix for o, ix in zip(ordered, self._sorted_indexes, strict=True) if touched(o)],
                [mk for d, mk in zip(derived, self._makers, strict=True) if touched(d)],
            )
        return found

    def put(self, key: Hashable, row: Any, changed: tuple[str, ...] | None = None) -> Any:
        """Store ``row`` under ``key`` (``None``: delete it); return the row it replaced.
        ``changed``: the only fields in which ``row`` differs from the row it replaces (then
        the indexes that read none of them are left as they are)."""
        rows = self.rows
        old = rows.get(key)
        if row is None:
            rows.pop(key, None)
        else:
            rows[key] = row
        if changed is None or old is None or row is None:
            indexes, sorted_indexes, makers = self._indexes, self._sorted_indexes, self._makers
        else:
            indexes, sorted_indexes, makers = self._upkeep(changed)
        for key_of, index in indexes:
            before = None if old is None else key_of(old)
            after = None if row is None else key_of(row)
            if before == after:
                continue
            if before is not None:
                members = index[before]
                members.discard(key)
                if not members:
                    del index[before]
            if after is not None:
                index.setdefault(after, set()).add(key)
        for make, made in makers:
            value = None if row is None else make(row)
            if value is None:
                made.pop(key, None)
            else:
                made[key] = value
        for sort_key, values in sorted_indexes:
            before = None if old is None else sort_key(old)
            after = None if row is None else sort_key(row)
            if before == after:
                continue
            if before is not None:
                del values[bisect_left(values, before)]
            if after is not None:
                insort(values, after)
        return old

    def group(self, name: str, value: Hashable) -> set[Any]:
        """The keys of the rows in group ``value`` of index ``name`` (do not modify)."""
        return self._groups[name].get(value, _EMPTY)

    def group_values(self, name: str) -> Iterable[Hashable]:
        """The groups of index ``name`` that hold a row."""
        return self._groups[name].keys()

    def derived(self, name: str) -> dict[Hashable, Any]:
        """Row key -> the value ``name`` made from that row (do not modify)."""
        return self._derived[name]

    def ordered(self, name: str) -> list[int]:
        """The values of sorted index ``name``, ascending (do not modify)."""
        return self._sorted[name]

    def live(self) -> Iterator[Any]:
        """Rows not soft-deleted, in key order."""
        rows = self.rows
        for key in sorted(rows):
            row = rows[key]
            if not self.soft_delete or row.removed is None:
                yield row


_EMPTY: set[Any] = set()


_brief_fields = attrgetter("id", "name", "state", "type")
_BRIEF_READS = frozenset({"id", "name", "state", "type", "removed"})


def _brief(snap: Any) -> SnapshotBrief | None:
    """What ``briefs_of_vm`` hands out, for a live snapshot (a NamedTuple: safe to share)."""
    return None if snap.removed is not None else SnapshotBrief._make(_brief_fields(snap))


def _address_number(nic: Any) -> int | None:
    return None if nic.ip4_address is None else address_number(nic.ip4_address)


class MemoryStore:
    """An in-memory database: the tables, and the open transactions. A unit of work holds
    the store from :meth:`begin` to :meth:`end` (one thread at a time, as SQLite has one
    writer); a thread may nest units of work, and writes go to the innermost."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._open: list[Transaction] = []

        def live(key: Callable[[Any], Hashable]) -> Key:
            return lambda row: key(row) if row.removed is None else None

        self.tables: dict[str, MemoryTable] = {
            t.name: t
            for t in (
                MemoryTable("domain", {"uuid": attrgetter("uuid")}),
                MemoryTable("account", {"uuid": attrgetter("uuid")}),
                MemoryTable("service_offering", {"uuid": attrgetter("uuid")}),
                MemoryTable("data_center", {"uuid": attrgetter("uuid")}, soft_delete=False),
                MemoryTable("host", {"uuid": attrgetter("uuid")}, soft_delete=False),
                MemoryTable("mshost", {}, soft_delete=False),
                MemoryTable("hypervisor_capabilities", {"uuid": attrgetter("uuid")}, soft_delete=False),
                MemoryTable("vm_instance", {"uuid": attrgetter("uuid")}),
                MemoryTable("volumes", {"uuid": attrgetter("uuid"), "vm": attrgetter("vm_id")}),
                MemoryTable("snapshots", {"uuid": attrgetter("uuid"), "volume": attrgetter("volume_id")}),
                MemoryTable(
                    "vm_snapshots",
                    {
                        "uuid": attrgetter("uuid"),
                        "vm": live(attrgetter("vm_id")),
                        "current": lambda row: row.vm_id if row.current and row.removed is None else None,
                        "parent": live(attrgetter("parent")),
                        "account": live(attrgetter("account_id")),
                        "domain": live(attrgetter("domain_id")),
                    },
                    derived={"brief": _brief},
                    reads={
                        "uuid": frozenset({"uuid"}),
                        "vm": frozenset({"vm_id", "removed"}),
                        "current": frozenset({"vm_id", "current", "removed"}),
                        "parent": frozenset({"parent", "removed"}),
                        "account": frozenset({"account_id", "removed"}),
                        "domain": frozenset({"domain_id", "removed"}),
                        "brief": _BRIEF_READS,
                    },
                ),
                MemoryTable("vm_snapshot_details", soft_delete=False),  # snapshot id -> {name: value}
                MemoryTable("async_job", {"uuid": attrgetter("uuid")}, soft_delete=False),
                MemoryTable("configuration", soft_delete=False),  # key name -> value
                MemoryTable(
                    "vm_snapshot_policy", {"uuid": attrgetter("uuid"), "vm": attrgetter("vm_id")}, soft_delete=False
                ),
                # snapshot id -> (policy id, vm id)
                MemoryTable(
                    "vm_snapshot_policy_ref",
                    {"vm": lambda ref: ref[1], "policy_vm": lambda ref: ref},
                    soft_delete=False,
                ),
                MemoryTable("resource_limit", soft_delete=False),
                MemoryTable("user", {"uuid": attrgetter("uuid")}),
                MemoryTable(
                    "nics",
                    {"uuid": attrgetter("uuid"), "vm": live(attrgetter("vm_id")), "address": attrgetter("ip4_address")},
                    ordered={"address": _address_number},
                ),
                MemoryTable("resource_tags", {"uuid": attrgetter("uuid")}, soft_delete=False),
                MemoryTable("ssh_keypairs", {"uuid": attrgetter("uuid")}, soft_delete=False),
                MemoryTable("user_vm_details", soft_delete=False),  # VM id -> {name: value}
                MemoryTable("event", {"uuid": attrgetter("uuid")}, soft_delete=False),
            )
        }

    def __getitem__(self, name: str) -> MemoryTable:
        return self.tables[name]

    def begin(self) -> Transaction:
        """Take the store and open a transaction."""
        self.lock.acquire()
        txn = Transaction(self)
        self._open.append(txn)
        return txn

    def end(self, txn: Transaction) -> None:
        """Undo what ``txn`` did not commit, close it and release the store."""
        try:
            txn.rollback()
        finally:
            self._open.remove(txn)
            self.lock.release()

    @property
    def txn(self) -> Transaction:
        """The innermost open transaction: where repositories write."""
        if not self._open:
            raise RuntimeError("a memory store is written only inside a unit of work")
        return self._open[-1]

    def all_rows(self, name: str) -> list[Any]:
        """Copies of every row of entity table ``name`` in key order, soft-deleted ones too (no
        finder returns those: for tests and reports that look at history)."""
        with self.lock:
            rows = self.tables[name].rows
            return [_cloner(type(rows[k]))(rows[k]) for k in sorted(rows)]

    def dump(self) -> dict[str, list[Any]]:
        """Every row of every table (removed ones too) and each table's last id: compare two
        dumps to prove that nothing changed."""
        with self.lock:
            return {
                name: [table.last, *((key, repr(table.rows[key])) for key in sorted(table.rows, key=repr))]
                for name, table in self.tables.items()
            }


class Transaction:
    """The writes of one unit of work, with the undo log that takes them back."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self._undo: list[tuple[MemoryTable, Hashable, Any, int]] = []

    def put(self, table: MemoryTable, key: Hashable, row: Any, changed: tuple[str, ...] | None = None) -> None:
        """Write ``row`` (``None``: delete) under ``key``, remembering what was there;
        ``changed`` as :meth:`MemoryTable.put`."""
        last = table.last
        old = table.put(key, row, changed)
        self._undo.append((table, key, old, last))
        if row is None and isinstance(key, int) and key == table.last:
            table.last = max((k for k in table.rows if isinstance(k, int)), default=0)

    def insert(self, table: MemoryTable, make: Callable[[int], Any]) -> Any:
        """Insert the row ``make(id)`` under the table's next id; return the row."""
        new_id = table.last + 1
        row = make(new_id)
        self._undo.append((table, new_id, table.put(new_id, row), table.last))
        table.last = new_id
        return row

    def commit(self) -> None:
        self._undo.clear()

    def rollback(self) -> None:
        undo = self._undo
        while undo:
            table, key, old, last = undo.pop()
            table.put(key, old)
            table.last = last


class MemoryRepo(Generic[T]):
    """What every memory repository shares: its table, the transaction, the clock, the
    entity class and its copier, and the finders every SQL repository has."""

    table_name: str
    entity: type[T]

    def __init__(self, store: MemoryStore, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock
        self.rows_table = store[self.table_name]
        self.clone: Callable[[T], T] = _cloner(self.entity)

    def _row(self, id_: Hashable) -> T | None:
        """The stored live row (never hand it out: :attr:`clone` it)."""
        row = self.rows_table.rows.get(id_)
        if row is None or (self.rows_table.soft_delete and row.removed is not None):
            return None
        return row

    def _update(self, id_: int, **values: Any) -> None:
        """``UPDATE ... SET values WHERE id = id_`` (removed rows too, as SQL)."""
        row = self.rows_table.rows.get(id_)
        if row is None:
            return
        new = self.clone(row)
        for name, value in values.items():
            setattr(new, name, value)
        self.store.txn.put(self.rows_table, id_, new, tuple(values))

    def _add_row(self, entity: T, **values: Any) -> int:
        """Store a copy of ``entity`` under the next id, with ``values`` overriding fields;
        return the id."""

        def make(new_id: int) -> T:
            row = self.clone(entity)
            row.id = new_id  # type: ignore[attr-defined]
            for name, value in values.items():
                setattr(row, name, value)
            return row

        return int(self.store.txn.insert(self.rows_table, make).id)

    def _copies(self, rows: Iterable[T]) -> list[T]:
        return [self.clone(r) for r in rows]

    def get(self, id_: int) -> T | None:
        row = self._row(id_)
        return None if row is None else self.clone(row)

    def get_by_uuid(self, uuid: str) -> T | None:
        for id_ in self.rows_table.group("uuid", uuid):
            return self.get(id_)
        return None

    def soft_delete(self, id_: int) -> None:
        self._update(id_, removed=self.clock())


_CLONERS: dict[type, Callable[[Any], Any]] = {}


def _cloner(cls: type[T]) -> Callable[[T], T]:
    found = _CLONERS.get(cls)
    if found is None:
        found = _CLONERS[cls] = cloner(cls)
    return found
