"""What every SQL repository shares: :class:`Repo`, :func:`scoped` and :func:`transit`.

Each repository maps rows to the plain domain classes with SQLAlchemy Core (the ORM costs
about six times more per transaction here; reference/tooling.md §4). Finders skip
soft-deleted rows. :func:`transit` is the one function that changes a ``state`` column.
The stateful entities' repositories are in :mod:`~harness.store.vmsnapshots`,
:mod:`~harness.store.vms` and :mod:`~harness.store.volumes`.

The statements of the hot paths are built once (:meth:`Repo._cached`, :func:`cached`) with
``bindparam`` placeholders and executed with parameters: building a ``select()`` and
computing its cache key costs more than SQLite takes to run it (``benchmarks/core.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Row, Select, Table, bindparam, func, insert, select, update

from harness.domain.model import Page
from harness.domain.states import StateMachine
from harness.store import tables, transitions
from harness.store.listing_orders import LISTING_ORDERS
from harness.store.ports import Scope

log = logging.getLogger("hvsnap.transitions")

T = TypeVar("T")


def scoped(stmt: Select, table: Table, scope: Scope) -> Select:
    """``stmt`` narrowed to the rows of ``table`` that ``scope`` admits (what
    :meth:`Scope.admits` says of one row, as a ``WHERE``)."""
    if scope.account_id is not None:
        stmt = stmt.where(table.c.account_id == scope.account_id)
    if scope.domain_ids is not None:
        stmt = stmt.where(table.c.domain_id.in_(scope.domain_ids))
    return stmt


_STATEMENTS: dict[tuple[str, ...], Any] = {}


def cached(key: tuple[str, ...], build: Callable[[], Any]) -> Any:
    """The statement stored under ``key``, built by ``build()`` on first use. Statements are
    immutable and dialect-free, so one object serves every engine and thread."""
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = build()
    return stmt


class Repo(Generic[T]):
    """Shared plumbing: a connection, a clock, a table and a row mapper."""

    table: Table

    def __init__(self, conn: Connection, clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock

    def _entity(self, row: Row[Any]) -> T:
        raise NotImplementedError

    def _cached(self, key: str, build: Callable[[], Any]) -> Any:
        """A statement of this repository built once (keyed by class: a subclass may
        override :meth:`_live`)."""
        return cached((type(self).__qualname__, key), build)

    def _one(self, stmt: Select, params: dict[str, Any] | None = None) -> T | None:
        row = self.conn.execute(stmt, params).first()
        return None if row is None else self._entity(row)

    def _all(self, stmt: Select, params: dict[str, Any] | None = None) -> list[T]:
        result = self.conn.execute(stmt, params)
        entity = self._entity_for(tuple(result.keys()))
        return [entity(r) for r in result]

    def _entity_for(self, keys: tuple[str, ...]) -> Callable[[Row[Any]], T]:
        """The row mapper for a result whose columns are ``keys``: :meth:`_entity` unless a
        repository that lists many rows has a faster one."""
        return self._entity

    def _live(self) -> Select:
        return select(self.table).where(self.table.c.removed.is_(None))

    def _insert(self, values: dict[str, Any]) -> int:
        result = self.conn.execute(self._cached("insert", lambda: insert(self.table)), values)
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def _set(self, id_: int, **values: Any) -> None:
        stmt = self._cached("set", lambda: update(self.table).where(self.table.c.id == bindparam("pk_")))
        self.conn.execute(stmt, {**values, "pk_": id_})

    def get(self, id_: int) -> T | None:
        stmt = self._cached("get", lambda: self._live().where(self.table.c.id == bindparam("pk_")))
        return self._one(stmt, {"pk_": id_})

    def get_by_uuid(self, uuid: str) -> T | None:
        stmt = self._cached("get_by_uuid", lambda: self._live().where(self.table.c.uuid == bindparam("uuid_")))
        return self._one(stmt, {"uuid_": uuid})

    def soft_delete(self, id_: int) -> None:
        self._set(id_, removed=self.clock())

    @staticmethod
    def _equal(stmt: Select, *wanted: tuple[Any, Any]) -> Select:
        """``stmt`` narrowed to rows whose column equals its value, for each (column, value)
        pair whose value is given (``None``: not a filter)."""
        for column, value in wanted:
            if value is not None:
                stmt = stmt.where(column == value)
        return stmt

    def _page(self, stmt: Select, order: Any, page: int | None, pagesize: int | None) -> Page:
        """One page of ``stmt`` (a ``select(table)``) and the count before paging."""
        count = self.conn.execute(stmt.with_only_columns(func.count(), maintain_column_froms=True)).scalar_one()
        if not pagesize:
            return Page(count=count, items=self._all(stmt.order_by(*order)))
        # A deferred join: the page's ids come off the index alone, then only those rows
        # are read (an OFFSET deep into a large table otherwise reads every row it skips).
        id_ = self.table.c.id
        ids = list(
            self.conn.execute(
                stmt.with_only_columns(id_).order_by(*order).limit(pagesize).offset(((page or 1) - 1) * pagesize)
            ).scalars()
        )
        if not ids:
            return Page(count=count, items=[])
        rows = {r.id: r for r in self._all(select(self.table).where(id_.in_(ids)))}  # type: ignore[attr-defined]
        return Page(count=count, items=[rows[i] for i in ids])

    def _shaped_page(
        self,
        shape: tuple[str, ...],
        build: Callable[[], Select],
        params: dict[str, Any],
        page: int | None,
        pagesize: int | None,
    ) -> Page:
        """:meth:`_page` of a listing whose statements are built once per ``shape``:
        ``build()`` returns the ordered ``select(table)`` with placeholders that
        ``params`` fill; its count, page of ids and rows by id are derived from it once."""
        owner = type(self).__qualname__
        listing = cached((owner, "listing", *shape), build)
        counting = cached(
            (owner, "count", *shape),
            lambda: listing.order_by(None).with_only_columns(func.count(), maintain_column_froms=True),
        )
        id_ = self.table.c.id
        offset = ((page or 1) - 1) * pagesize if pagesize else 0
        key = (owner, *shape, *sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))
        everything = cached((owner, "all_ids", *shape), lambda: listing.with_only_columns(id_))
        order = LISTING_ORDERS.order(self.conn, key, everything, params) if pagesize else None
        if order is not None:  # a large listing on a SQLite file: no COUNT, no OFFSET scan
            count, ids = len(order), list(order[offset : offset + (pagesize or 0)])
        else:
            count = self.conn.execute(counting, params).scalar_one()
            if pagesize:
                LISTING_ORDERS.counted(self.conn, key, params, count)
            if not pagesize:
                return Page(count=count, items=self._all(listing, params))
            paging = cached(
                (owner, "page_ids", *shape),
                lambda: listing.with_only_columns(id_).limit(bindparam("limit_")).offset(bindparam("offset_")),
            )
            ids = list(self.conn.execute(paging, {**params, "limit_": pagesize, "offset_": offset}).scalars())
        if not ids:
            return Page(count=count, items=[])
        by_ids = self._cached(
            "by_ids", lambda: select(self.table).where(id_.in_(bindparam("page_ids_", expanding=True)))
        )
        rows = {r.id: r for r in self._all(by_ids, {"page_ids_": ids})}  # type: ignore[attr-defined]
        return Page(count=count, items=[rows[i] for i in ids])


def carrying(stmt: Select, id_column: Any, resource_type: str, tagged: Sequence[tuple[str, str]] | None) -> Select:
    """``stmt`` narrowed to the resources of ``resource_type`` carrying every (key, value)
    pair of ``tagged`` (``resource_tags``; ``None`` or empty: not a filter)."""
    rt = tables.resource_tags.c
    for key, value in tagged or ():
        stmt = stmt.where(
            id_column.in_(
                select(rt.resource_id).where(rt.resource_type == resource_type, rt.key == key, rt.value == value)
            )
        )
    return stmt


def transit(
    conn: Connection,
    table: Table,
    fsm: StateMachine[Any, Any],
    entity: Any,
    event: StrEnum,
    now: datetime,
    state_column: str = "state",
    also: dict[str, Any] | None = None,
) -> None:
    """Apply ``event`` to ``entity`` as a compare-and-swap on ``(state, update_count)``.

    Raises ``InvalidTransition`` when the state machine forbids it and
    :class:`ConcurrentOperation` when another writer moved the row first; on success the
    entity's ``state`` and ``update_count`` follow the row. ``also``: more columns set by
    the same statement (the caller makes its entity follow them).
    """
    old = entity.state
    new = transitions.next_state(fsm, entity, event)
    values: dict[str, Any] = {state_column: new.value, "update_count": entity.update_count + 1}
    if "updated" in table.c:
        values["updated"] = now
    if also:
        values.update(also)
    stmt = cached(
        (table.name, "transit", state_column),
        lambda: update(table).where(
            table.c.id == bindparam("pk_"),
            table.c[state_column] == bindparam("old_state_"),
            table.c.update_count == bindparam("old_count_"),
        ),
    )
    result = conn.execute(
        stmt, {**values, "pk_": entity.id, "old_state_": old.value, "old_count_": entity.update_count}
    )
    if result.rowcount != 1:
        raise transitions.conflict(fsm, entity, event)
    transitions.applied(fsm, entity, event, old, new)
