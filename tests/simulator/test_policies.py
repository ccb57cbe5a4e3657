"""Recurring policies in SimPy time: a month of an hourly and a daily
policy with manual snapshots mixed in, across a daylight-saving change; an outage; a
collision; and the ``policies`` scenario key of ``hvsnap simulate``."""

from __future__ import annotations

import itertools
import json
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import simpy
from click.testing import CliRunner

from harness.cli import main
from harness.domain.states import VMSnapshotState
from harness.service import accounts, vmsnapshots
from simulator.campaigns.run import Simulation
from simulator.campaigns.scenario import Scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "simulator" / "scenarios"
NY = ZoneInfo("America/New_York")
HOUR, DAY = 3600, 86400


def _sim(**values: Any) -> Simulation:
    sim = Simulation(Scenario.load(SCENARIOS / "policies.yaml").with_values(values))
    # room for 24 scheduled + 1 being taken + the manual ones, under the per-VM limit
    accounts.set_config(sim.uow, sim.admin, "vmsnapshot.max", "40")
    return sim


def _manual(sim: Simulation, days: list[int]) -> Generator[simpy.Event, Any, None]:
    """A manual snapshot of every VM at hh:45 UTC of each of ``days`` (between two runs)."""
    for day in days:
        yield sim.env.timeout(day * DAY + 45 * 60 - sim.env.now)
        for vm in sim.vms:
            snap = vmsnapshots.allocate(sim.uow, sim.admin, vm.uuid, f"manual-{day}")
            yield from sim.workflow("create", vmsnapshots.create(sim.uow, snap.id))


def _rows(sim: Simulation, vm_index: int, scheduled: bool) -> list[Any]:
    """Every snapshot row of the VM, removed ones too, oldest first (from the simulation's
    in-memory store: no finder returns removed rows)."""
    store = sim.uow.store  # type: ignore[attr-defined]
    tagged = set(store["vm_snapshot_policy_ref"].rows)
    vm_id = sim.vms[vm_index].id
    rows = sorted((r for r in store.all_rows("vm_snapshots") if r.vm_id == vm_id), key=lambda r: (r.created, r.id))
    return [row for row in rows if (row.id in tagged) == scheduled]


def _local(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).astimezone(NY).strftime("%m-%d %H:%M %Z")


def test_a_month_of_hourly_and_daily_policies_across_the_end_of_dst() -> None:
    sim = _sim()  # 2024-10-08 .. 2024-11-07 UTC; New York falls back on 2024-11-03 06:00 UTC
    sim.env.process(_manual(sim, [1, 10, 20, 29]))
    result = sim.run()
    assert result["invariants"]["ok"], result["invariants"]
    assert result["failures"] == {}

    # Hourly, keep 24: one run per real hour, 720 in 30 days; the newest 24 kept.
    hourly = _rows(sim, 0, scheduled=True)
    assert len(hourly) == 720
    assert {(b.created - a.created).total_seconds() for a, b in itertools.pairwise(hourly)} == {HOUR}
    around = [_local(r.created) for r in hourly if r.created.date() == datetime(2024, 11, 3).date()][:4]
    assert around == ["11-02 20:15 EDT", "11-02 21:15 EDT", "11-02 22:15 EDT", "11-02 23:15 EDT"]
    labels = [_local(r.created) for r in hourly]
    assert labels.count("11-03 01:15 EDT") == 1 and labels.count("11-03 01:15 EST") == 1  # the repeated hour
    live = [r for r in hourly if r.removed is None]
    assert live == hourly[-24:] and len(live) == 24
    assert all(r.state == VMSnapshotState.Ready.value for r in live)
    # pruned oldest first: each one went at the run 24 hours after it, in order of age
    gone = hourly[:-24]
    assert [r.removed for r in gone] == sorted(r.removed for r in gone)
    assert all(timedelta(hours=24) <= r.removed - r.created < timedelta(hours=24, minutes=5) for r in gone)

    # Daily at 01:30 New York, keep 7: 30 runs; 01:30 happens twice on Nov 3 and runs once.
    daily = _rows(sim, 1, scheduled=True)
    assert len(daily) == 30
    assert {_local(r.created)[6:] for r in daily} == {"01:30 EDT", "01:30 EST"}
    kept = [r.created for r in daily if r.removed is None]
    assert kept == [datetime(2024, 10, d, 5, 30) for d in (31,)] + [
        datetime(2024, 11, 1, 5, 30),
        datetime(2024, 11, 2, 5, 30),
        datetime(2024, 11, 3, 5, 30),
        datetime(2024, 11, 4, 6, 30),
        datetime(2024, 11, 5, 6, 30),
        datetime(2024, 11, 6, 6, 30),
    ]
    assert [r.removed is not None for r in daily] == [True] * 23 + [False] * 7

    # Manual snapshots: four per VM, never counted, never pruned.
    for index in (0, 1):
        manual = _rows(sim, index, scheduled=False)
        assert [r.display_name for r in manual] == ["manual-1", "manual-10", "manual-20", "manual-29"]
        assert all(r.removed is None and r.state == "Ready" for r in manual)
    assert result["policies"] | {} == {
        "launched": 750,
        "snapshots": 750,
        "pruned": 719,
        "retried": 0,
        "refused": 0,
        "missed_runs": 0,
        "recoveries": 0,
        "removed": 0,
        "policies": 2,
        "stored_scheduled": 31,
        "stored_manual": 8,
    }


def test_spring_forward_hourly_skips_no_real_hour_and_daily_runs_after_the_gap() -> None:
    sim = _sim(
        start="2024-03-09T00:00:00",
        duration_s=3 * DAY,
        **{
            "policies": [
                {
                    "vms": [0],
                    "intervaltype": "HOURLY",
                    "schedule": "15",
                    "timezone": "America/New_York",
                    "maxsnaps": 24,
                },
                {
                    "vms": [1],
                    "intervaltype": "DAILY",
                    "schedule": "30:02",
                    "timezone": "America/New_York",
                    "maxsnaps": 7,
                },
            ]
        },
    )
    sim.run()
    hourly = [_local(r.created) for r in _rows(sim, 0, scheduled=True)]
    assert len(hourly) == 72
    i = hourly.index("03-10 01:15 EST")
    assert hourly[i : i + 2] == ["03-10 01:15 EST", "03-10 03:15 EDT"]  # no 02:15: one real hour apart
    daily = [_local(r.created) for r in _rows(sim, 1, scheduled=True)]
    assert daily == ["03-09 02:30 EST", "03-10 03:30 EDT", "03-11 02:30 EDT"]  # 02:30 did not exist on Mar 10


def test_an_outage_gives_one_logged_run_on_recovery_and_no_burst() -> None:
    sim = _sim(
        duration_s=DAY,
        **{
            "fleet.vms": 1,
            "policies": [{"vms": [0], "intervaltype": "HOURLY", "schedule": "15", "timezone": "UTC", "maxsnaps": 24}],
        },
    )
    sim.log.keep = True
    sim.log.lines = []

    def outage() -> Generator[simpy.Event, Any, None]:
        yield sim.env.timeout(10 * HOUR)
        sim.life.crash()
        yield sim.env.timeout(5 * HOUR)  # slots 10:15 .. 14:15 pass while the manager is down
        sim.life.restart()

    sim.env.process(outage())
    result = sim.run()
    runs = [r.created for r in _rows(sim, 0, scheduled=True)]
    assert len(runs) == 24 - 5 + 1
    assert datetime(2024, 10, 8, 15, 0) in runs  # the one recovery run, at restart
    assert not any(datetime(2024, 10, 8, 10, 15) <= r < datetime(2024, 10, 8, 15) for r in runs)
    assert result["policies"]["recoveries"] == 1 and result["policies"]["missed_runs"] == 4
    assert any("policy-missed" in line and "missed=4" in line for line in sim.log.lines or [])


def test_a_run_colliding_with_a_manual_snapshot_is_retried_a_minute_later() -> None:
    sim = _sim(
        duration_s=3 * HOUR,
        **{
            "fleet.vms": 1,
            "policies": [{"vms": [0], "intervaltype": "HOURLY", "schedule": "15", "timezone": "UTC", "maxsnaps": 5}],
        },
    )

    def manual() -> Generator[simpy.Event, Any, None]:
        yield sim.env.timeout(HOUR + 15 * 60 - 1)  # one second before the 01:15 run
        snap = vmsnapshots.allocate(sim.uow, sim.admin, sim.vms[0].uuid, "manual", None, True)
        yield from sim.workflow("create", vmsnapshots.create(sim.uow, snap.id))

    sim.env.process(manual())
    result = sim.run()
    runs = [r.created for r in _rows(sim, 0, scheduled=True)]
    assert runs == [datetime(2024, 10, 8, 0, 15), datetime(2024, 10, 8, 1, 16), datetime(2024, 10, 8, 2, 15)]
    assert result["policies"]["retried"] >= 1 and result["policies"]["launched"] == 3


def test_hvsnap_simulate_reads_the_policies_key(tmp_path: Path) -> None:
    scenario = tmp_path / "p.yaml"
    scenario.write_text((SCENARIOS / "policies.yaml").read_text().replace("duration: 30d", "duration: 2d"))
    out = CliRunner().invoke(main, ["simulate", str(scenario), "--json"])
    assert out.exit_code == 0, out.output
    r = json.loads(out.output)
    assert r["policies"]["launched"] == 48 + 2 and r["policies"]["stored_scheduled"] == 24 + 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("policies: [{intervaltype: DAILY, schedule: '99', maxsnaps: 2}]\n")
    out = CliRunner().invoke(main, ["simulate", str(bad)])
    assert out.exit_code == 2 and "expected 'MM:HH'" in out.output
