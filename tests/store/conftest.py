"""The ``store`` fixture: a unit-of-work factory on each store behind the ports, for the
contract suite (``test_contract*.py``): ``memory`` (:mod:`harness.store.memory`),
``sqlite``, and ``postgres`` and ``mysql`` (MariaDB) when their test servers run (see
``tests/conftest.py``). Both stores read one fixed clock, so stamps compare exactly (whole
seconds: MariaDB's DATETIME keeps no fraction)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from harness.store.memory import memory_uow_factory
from harness.store.ports import UowFactory
from harness.store.uow import uow_factory
from tests.conftest import DATABASES, migrated, server_url, sqlite_url

NOW = datetime(2024, 5, 1, 12, 0, 0)
STORES = [pytest.param("memory", id="memory"), *DATABASES]


def clock() -> datetime:
    return NOW


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(store_kind: str, tmp_path: Path) -> Iterator[UowFactory]:
    """A unit-of-work factory on an empty store of ``store_kind``."""
    if store_kind == "memory":
        yield memory_uow_factory(clock)
        return
    url = sqlite_url(tmp_path / "contract.db") if store_kind == "sqlite" else server_url(store_kind)
    for engine in migrated(url):
        yield uow_factory(engine, clock)
