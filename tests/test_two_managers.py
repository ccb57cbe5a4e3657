"""Two managers (two ``serve`` processes) on one PostgreSQL, and one MariaDB, database,
sharing the emulated host over PSRP, race 1,000 operations on three VMs: never two snapshot
operations in flight on one VM, never over ``vmsnapshot.max``, every refusal a 431 (or the
limit's own error), the tree intact and the DB equal to the host (``tests/two_managers.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import server_url, wipe
from tests.two_managers import run

OPS = 1000


@pytest.mark.parametrize("kind", ["postgres", "mysql"])
def test_two_managers_race_on_one_database(tmp_path: Path, kind: str) -> None:
    url = server_url(kind)
    wipe(url)
    race = run(tmp_path, url, OPS)
    summary = race.summary()
    print(kind, json.dumps(summary))  # the figures, with pytest -s
    assert summary["violations"] == [], json.dumps(summary)
    assert race.ops == OPS
    assert sum(race.accepted.values()) >= 10, json.dumps(summary)  # the managers did real work
    assert sum(race.refused.values()) + sum(race.lost.values()) > 0, summary  # the managers did collide
    assert race.samples > 100, summary
