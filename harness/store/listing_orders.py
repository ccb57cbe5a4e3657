"""The ordered ids of large listings on a SQLite file, kept once per process, so that a page
of a 100,000-row listing costs neither a ``COUNT`` nor an ``OFFSET`` scan.

A listing is kept once a read of it counted at least :attr:`ListingOrders.MIN_ROWS` rows.
Its ids are then read, and checked, on the process's *observer*: one read-only sqlite3
connection per database file, used under a lock, that never writes. An entry holds while the
observer's ``PRAGMA data_version`` is unchanged; that number changes whenever any other
connection commits, in this process or another (a CLI command beside ``hvsnap serve``).
The observer reads the stamp first and the ids after it, so a commit between the two reads
makes the next lookup read them again: an entry can be younger than its stamp, never older.

Entries are one per process and not one per pooled connection: a commit (a manager's
heartbeat every 1.5 s is one) costs one re-read of each large listing, not one per
connection. A page's rows are read by id in the caller's own snapshot, so a row that left
between the two reads is left out of that page (CloudStack, too, counts and pages in separate
statements). Writing units of work, in-memory databases and other dialects never use entries.
"""

from __future__ import annotations

import sqlite3
import threading
from array import array
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Select


@dataclass(slots=True)
class _Observer:
    raw: sqlite3.Connection
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: listing key -> (stamp, ordered ids)
    entries: OrderedDict[Hashable, tuple[int, array[int]]] = field(default_factory=OrderedDict)

    def stamp(self) -> int:
        return int(self.raw.execute("PRAGMA data_version").fetchone()[0])


class ListingOrders:
    #: a listing that counted fewer rows is paged in SQL (COUNT and OFFSET are cheap there)
    MIN_ROWS = 2_000
    #: large listings kept per database (least recently used dropped first)
    ENTRIES = 16
    #: database files observed at once (least recently used closed first)
    DATABASES = 8

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._observers: OrderedDict[str, _Observer] = OrderedDict()

    @staticmethod
    def _file(conn: Connection) -> str | None:
        """The database file behind a read-only SQLite ``conn``, else None."""
        if conn.dialect.name != "sqlite" or conn.get_execution_options().get("sqlite_begin") != "DEFERRED":
            return None
        database = conn.engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return str(Path(database).resolve())

    def keeps(self, conn: Connection) -> bool:
        """Whether large listings read through ``conn`` are kept (a read-only unit of work
        on a SQLite file)."""
        return self._file(conn) is not None

    def _observer(self, path: str, create: bool) -> _Observer | None:
        with self._lock:
            observer = self._observers.get(path)
            if observer is not None:
                self._observers.move_to_end(path)
            elif create:
                raw = sqlite3.connect(path, check_same_thread=False, timeout=30)  # it only reads
                raw.isolation_level = None  # every read is its own snapshot
                observer = self._observers[path] = _Observer(raw)
                while len(self._observers) > self.DATABASES:
                    dropped = self._observers.popitem(last=False)[1]
                    with dropped.lock:
                        dropped.raw.close()
            return observer

    def order(self, conn: Connection, key: Hashable, ids_of: Select, params: dict[str, Any]) -> array[int] | None:
        """The ordered ids of the listing ``key`` (its ids read by ``ids_of`` with
        ``params``) if it is kept, read again on the observer when a commit voided them;
        None for a listing not kept (the caller pages it in SQL and reports the count)."""
        path = self._file(conn)
        observer = self._observer(path, create=False) if path is not None else None
        if path is None or observer is None:
            return None
        with observer.lock:
            held = observer.entries.get(key)
            if held is None:
                return None
            observer.entries.move_to_end(key)
            read: array[int] | None = None
            try:
                stamp = observer.stamp()
                if held[0] == stamp:
                    return held[1]
                expanded = ids_of.compile(dialect=conn.dialect).construct_expanded_state(params)
                rows = observer.raw.execute(expanded.statement, expanded.positional_parameters)
                ids = array("q", (r[0] for r in rows))
            except sqlite3.Error:  # closed (dropped from the observed files), busy past its timeout
                observer.entries.clear()
            else:
                read = ids
                if len(ids) < self.MIN_ROWS:
                    del observer.entries[key]  # small again: paged in SQL from now on
                else:
                    observer.entries[key] = (stamp, ids)
        if read is None:  # the caller pages in SQL; the next large listing opens a fresh observer
            with self._lock:  # (taken after the observer's lock is released: eviction takes them the other way)
                if self._observers.get(path) is observer:
                    del self._observers[path]
        return read

    def counted(self, conn: Connection, key: Hashable, params: dict[str, Any], count: int) -> None:
        """A read of the listing ``key`` through ``conn`` counted ``count`` rows: keep it from
        the next read on when it is large."""
        path = self._file(conn)
        if path is None or count < self.MIN_ROWS or not all(map(_plain, params.values())):
            return
        observer = self._observer(path, create=True)
        if observer is None:
            return
        with observer.lock:
            if key not in observer.entries:
                observer.entries[key] = (-1, array("q"))  # no stamp matches: read at first use
                while len(observer.entries) > self.ENTRIES:
                    observer.entries.popitem(last=False)


def _plain(value: Any) -> bool:
    """Whether sqlite3 takes ``value`` as SQLAlchemy would pass it (no type processing):
    the observer runs the compiled statement on the bare driver."""
    if isinstance(value, list | tuple):
        return all(map(_plain, value))
    return value is None or isinstance(value, int | str)


LISTING_ORDERS = ListingOrders()
