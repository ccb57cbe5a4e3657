"""kill -9 of a ``serve`` in SimPy time, restarted on the same home, round after round:
after each restart's sync nothing is in flight, the DB equals the host, every checked
snapshot restores what was written before it, every VM takes a new snapshot
(``tests/crash_campaign.py``; ``benchmarks/recovery.py`` runs hundreds of rounds)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.crash_campaign import Campaign

ROUNDS = 20


def test_kill_9_campaign_leaves_nothing_in_flight(tmp_path: Path) -> None:
    with Campaign(tmp_path, seed=11) as campaign:
        for _ in range(ROUNDS):
            campaign.round()
        campaign.check_every_restore()
        summary = campaign.summary()
    print(json.dumps(summary))  # the tally, with pytest -s
    assert summary["violations"] == [], summary
    assert summary["rounds"] == ROUNDS
    assert sum(summary["settled"].values()) > 0, summary  # the kills did cut operations short
    assert summary["restores_checked"] > 0, summary
