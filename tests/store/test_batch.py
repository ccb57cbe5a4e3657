"""Batched units of work on SQLite, PostgreSQL and MariaDB: inside ``batch`` they share one
transaction and still behave each as its own (a refused one undoes only itself, later ones
see what earlier ones committed); nothing is visible outside before ``flush`` or the batch's
end, and everything committed is there after it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine

from harness.domain import config
from harness.store.batch import batch, flush, tally, unbatched
from harness.store.ports import UowFactory

MAX, DEPTH, WARN = config.VMSNAPSHOT_MAX, config.VMSNAPSHOT_CHAIN_WARN, config.EXPORT_STRATEGY


class Refused(Exception):
    pass


def refused_write(uow_factory: UowFactory, key: config.ConfigKey, value: str) -> None:
    """A unit of work that writes, then is refused: it leaves without commit."""
    with uow_factory() as uow:
        uow.config.set(key, value)
        raise Refused


def stored(uow_factory: UowFactory, key: config.ConfigKey) -> str:
    """The value as another thread's transaction sees it (a thread starts in no batch)."""

    def read() -> str:
        with uow_factory(readonly=True) as uow:
            return uow.config.get(key)

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(read).result(timeout=30)


def test_a_batch_is_one_transaction_and_a_refused_unit_undoes_only_itself(
    uow_factory: UowFactory, engine: Engine
) -> None:
    with tally(engine) as counts, batch(uow_factory):
        with uow_factory() as uow:
            uow.config.set(MAX, "7")
            uow.commit()
        with pytest.raises(Refused):  # its write goes, the one before stays
            refused_write(uow_factory, DEPTH, "99")
        with uow_factory(readonly=True) as uow:
            assert uow.config.get(MAX) == "7"  # what the earlier unit committed
            assert uow.config.get(DEPTH) == DEPTH.default
        with uow_factory() as uow:
            uow.config.set(WARN, "on-stop")
            uow.commit()
        assert stored(uow_factory, MAX) == MAX.default  # nothing is out before the batch ends
    assert counts.transactions == 1 + 1 and counts.commits == 1  # the batch's, and the outside reader's
    assert stored(uow_factory, MAX) == "7"
    assert stored(uow_factory, WARN) == "on-stop"
    assert stored(uow_factory, DEPTH) == DEPTH.default


def test_flush_commits_what_is_batched_and_the_batch_goes_on(uow_factory: UowFactory) -> None:
    with batch(uow_factory):
        with uow_factory() as uow:
            uow.config.set(MAX, "5")
            uow.commit()
        flush()  # as the runner does before a host command
        assert stored(uow_factory, MAX) == "5"
        with pytest.raises(Refused):  # first in the new transaction: nothing before it to keep
            refused_write(uow_factory, MAX, "6")
        with uow_factory() as uow:
            assert uow.config.get(MAX) == "5"
            uow.config.set(DEPTH, "3")
            uow.commit()
    assert stored(uow_factory, MAX) == "5"
    assert stored(uow_factory, DEPTH) == "3"


def test_unbatched_work_commits_what_is_held_and_runs_on_its_own(uow_factory: UowFactory, engine: Engine) -> None:
    with batch(uow_factory):
        with uow_factory() as uow:
            uow.config.set(MAX, "4")
            uow.commit()
        with tally(engine) as counts, unbatched():
            assert stored(uow_factory, MAX) == "4"  # committed on the way in
            with uow_factory() as uow:
                uow.config.set(DEPTH, "2")
                uow.commit()
        assert counts.commits == 1 + 1  # the held transaction's, and its own
        assert stored(uow_factory, DEPTH) == "2"


def test_batches_nest_into_the_outer_one(uow_factory: UowFactory, engine: Engine) -> None:
    with tally(engine) as counts, batch(uow_factory):
        for value in ("1", "2", "3"):
            with batch(uow_factory), uow_factory() as uow:
                uow.config.set(MAX, value)
                uow.commit()
    assert (counts.transactions, counts.commits) == (1, 1)
    assert stored(uow_factory, MAX) == "3"


def test_without_a_batch_every_unit_is_its_own_transaction(uow_factory: UowFactory, engine: Engine) -> None:
    with tally(engine) as counts:
        for value in ("1", "2"):
            with uow_factory() as uow:
                uow.config.set(MAX, value)
                uow.commit()
    assert (counts.transactions, counts.commits) == (2, 2)
