"""Batched units of work: several units of work of one thread sharing one transaction.

Inside :func:`batch`, the units of work of one thread on the factory's engine share one
transaction. Each one still behaves as its own: it commits into the shared transaction (a
``SAVEPOINT`` undoes a writing one that leaves without committing once something is
committed before it), and later ones see what it wrote. The shared transaction commits at
:func:`flush`, which the runners call before they send a host command, and when the batch
ends: what a workflow wrote before a command is durable before the host sees the command,
and between two commands it is written at once. A crash therefore leaves one of the states
the unbatched code could have left (the last flush), only fewer of them.

:func:`tally` counts what an engine runs (transactions, commits, statements): the
benchmarks' and tests' measure of what a workflow costs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, event


@dataclass
class Tally:
    """What an engine ran while :func:`tally` watched: transactions begun and committed, and
    statements (savepoints apart; SQLite's own ``BEGIN`` is the transaction, not counted)."""

    transactions: int = 0
    commits: int = 0
    statements: int = 0
    savepoints: int = 0


@contextmanager
def tally(engine: Engine) -> Iterator[Tally]:
    """Count what ``engine`` runs inside the block (benchmarks and tests of the
    transactions a workflow costs)."""
    counts = Tally()

    def on_begin(_conn: Connection) -> None:
        counts.transactions += 1

    def on_commit(_conn: Connection) -> None:
        counts.commits += 1

    def on_statement(_conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        head = statement.lstrip()[:9].upper()
        if head.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK ")):
            counts.savepoints += 1
        elif not head.startswith("BEGIN"):
            counts.statements += 1

    hooks: list[tuple[str, Callable[..., None]]] = [
        ("begin", on_begin),
        ("commit", on_commit),
        ("before_cursor_execute", on_statement),
    ]
    for name, hook in hooks:
        event.listen(engine, name, hook)
    try:
        yield counts
    finally:
        for name, hook in hooks:
            event.remove(engine, name, hook)


class Batch:
    """The transaction the units of work of one :func:`batch` share, opened on first use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conn: Connection | None = None
        self.dirty = False  # a unit of work has committed into the open transaction
        self.savepoints = 0  # issued, for the record (they bypass SQLAlchemy: see savepoint)
        # the repositories bound to the open connection, per clock: they hold nothing but
        # what this transaction read, so every unit of work of the transaction shares one set
        self.repos: dict[int, dict[str, Any]] = {}

    def join(self, readonly: bool) -> tuple[Connection, str | None]:
        """The shared connection, and a savepoint for a writing unit of work that must not
        undo, on failure, what the units before it committed."""
        if self.conn is None:
            self.conn = self.engine.connect()
            self.conn.begin()  # IMMEDIATE on SQLite even when a reader opens it: a writer follows
        if not self.dirty or readonly:
            return self.conn, None
        self.savepoints += 1
        name = f"hvsnap_uow_{self.savepoints}"
        self.savepoint(f"SAVEPOINT {name}")
        return self.conn, name

    def savepoint(self, sql: str) -> None:
        """Run a savepoint statement on the driver's connection itself: SQLAlchemy's nested
        transactions cost more than the statements they send, several times per workflow.
        The statements only mark and undo inside the open transaction, which SQLAlchemy
        still owns and ends."""
        if self.conn is None:
            return
        cursor = self.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql)
        finally:
            cursor.close()

    def discard(self) -> None:
        """Roll the open transaction back (nothing in it was committed by a unit of work)."""
        self.repos.clear()
        if self.conn is not None:
            conn, self.conn = self.conn, None
            try:
                conn.rollback()
            finally:
                conn.close()

    def end(self) -> None:
        """Commit what the units of work committed; start afresh on next use."""
        if self.conn is None:
            return
        conn, self.conn = self.conn, None
        dirty, self.dirty = self.dirty, False
        self.repos.clear()
        try:
            if dirty:
                conn.commit()
            else:
                conn.rollback()
        finally:
            conn.close()


_current: ContextVar[Batch | None] = ContextVar("hvsnap_uow_batch", default=None)


@contextmanager
def batch(factory: Callable[..., Any]) -> Iterator[None]:
    """Share one transaction among the units of work ``factory`` opens in this thread until
    the next :func:`flush` (see the module's doc). Re-entrant: an inner batch is the outer
    one. A factory without an engine (the in-memory store) is not batched."""
    engine = getattr(factory, "engine", None)
    if not isinstance(engine, Engine) or _current.get() is not None:
        yield
        return
    state = Batch(engine)
    token = _current.set(state)
    try:
        yield
    finally:
        _current.reset(token)
        state.end()


@contextmanager
def unbatched() -> Iterator[None]:
    """Run the block outside this thread's batch (what it holds is committed first): for
    work that may wait on something other than a host command."""
    flush()
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


def flush() -> None:
    """Commit this thread's batched transaction now (no-op outside a batch): before a host
    command is sent, and before a wait that must not hold locks."""
    state = _current.get()
    if state is not None:
        state.end()


def current() -> Batch | None:
    """This thread's open batch, if any."""
    return _current.get()
