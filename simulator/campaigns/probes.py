"""Probes: small scripted runs that answer the spec's "what happens if" questions.

Each probe deploys one VM on one simulated host, takes a few disk+memory snapshots, stops
the VM under the ``on-stop`` strategy, and interferes with the stop's export at a known
moment: a start request before the export completes, primary storage going down in the
middle of the export or just before it starts, the host crashing mid-export. While the
fault lasts it records what the manager's database says, what the host's inventory
reports (the answer CloudStack's hostVMStateReport is built from) and the VM's operational
status; afterwards, what sync settled and whether any snapshot was lost.

A probe is a function of its parameters and seed: the same call returns the same dict.
They run the manager's own checks and workflows (``vms.check_start``, ``vms.stop``, sync),
as the campaign runs do.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from typing import Any

import simpy

from harness.domain.errors import CloudError
from harness.domain.model import VM
from harness.drivers import GetInventory, HostError, VMRef
from harness.service import vms
from simulator.campaigns.run import Simulation
from simulator.campaigns.scenario import Scenario
from simulator.operations import ask

Proc = Generator[simpy.Event, Any, Any]
#: when the probe stops the VM (simulated seconds), after its snapshots
STOP_AT = 3600.0
SNAPSHOTS = 3
OUTAGE_S = 600.0
POLL_S = 1.0


def _scenario(name: str, gib: float, export_bps: float, faults: list[dict[str, Any]], seed: int) -> Scenario:
    return Scenario.from_dict(
        {
            "name": name,
            "duration": "1d",
            "seed": seed,
            "strategy": "on-stop",
            "fleet": {"hosts": 1, "vms": 0, "memory_mib": int(gib * 1024), "write_bps": 200_000},
            "workload": {"kind": "idle", "memory": True},
            "costs": {"export_bps": export_bps},
            "faults": faults,
        }
    )


class _Probe:
    def __init__(self, scenario: Scenario) -> None:
        self.sim = Simulation(scenario)
        self.seen: list[dict[str, Any]] = []
        self.notes: dict[str, Any] = {}

    @property
    def vm(self) -> VM:
        return self.sim.vms[0]

    def look(self, label: str) -> Proc:
        """Record the database's VM state, the host's reported power state and status."""
        sim, name = self.sim, self.vm.instance_name
        host = sim.fleet.host_of(name)
        try:
            inventory = yield from ask(host, GetInventory(VMRef("*")))
            on_host = inventory.vm(name)
            reported = on_host.power_state.value if on_host is not None else "not registered"
        except HostError as err:
            reported = f"no answer ({err.code})"
        _, snaps = sim._state(self.vm)
        self.seen.append(
            {
                "t": round(sim.env.now - STOP_AT, 3),
                "when": label,
                "database": str(sim._vm_state(self.vm)),
                "host_reports": reported,
                "host_status": host.status(name) if name in host.state.vms else "-",
                "snapshots": {str(s.state): sum(1 for x in snaps if x.state == s.state) for s in snaps},
            }
        )

    def prepare(self) -> Proc:
        sim = self.sim
        yield sim.env.process(sim._deploy(0))
        rng = random.Random(f"{sim.seed}:probe")
        for _ in range(SNAPSHOTS):
            yield sim.env.timeout(600)
            yield from sim._create(self.vm, rng)
        yield sim.env.timeout(max(0.0, STOP_AT - sim.env.now))

    def stop(self) -> simpy.Process:
        vms.check_stop(self.sim.uow, self.sim.admin, self.vm.uuid)
        return self.sim.env.process(self.sim.workflow("stop", vms.stop(self.sim.uow, self.vm.id)))

    def finish(self) -> dict[str, Any]:
        sim = self.sim
        result = sim.result(0.0)
        _, snaps = sim._state(self.vm)
        return {
            "scenario": sim.sc.name,
            "seed": sim.seed,
            "vm_gib": sim.sc.fleet.memory_mib / 1024,
            "export_bps": sim.costs.export_bps,
            "stop_at_s": STOP_AT,
            "seen": self.seen,
            **self.notes,
            "stop": result["operations"]["stop"],
            "export": result["operations"]["export"],
            "start": result["operations"]["start"],
            "failures": result["failures"],
            "sync_runs": result["sync_runs"],
            "snapshots_ready_after": sum(1 for s in snaps if str(s.state) == "Ready"),
            "snapshots_taken": SNAPSHOTS,
            "lost_snapshots": result["data_at_risk"]["lost_snapshots"],
            "invariants_ok": result["invariants"]["ok"],
            "event_log_sha256": result["event_log_sha256"],
        }

    def run(self, body: Proc, until: float) -> dict[str, Any]:
        self.sim.env.process(body)
        self.sim.env.run(until=until)
        return self.finish()


def start_during_export(gib: float = 16, export_bps: float = 200e6, seed: int = 1) -> dict[str, Any]:
    """A start requested one second into the stop's export, then every second until accepted."""
    probe = _Probe(_scenario("probe-start-during-export", gib, export_bps, [], seed))
    sim = probe.sim

    def body() -> Proc:
        yield from probe.prepare()
        stopping = probe.stop()
        yield sim.env.timeout(POLL_S)
        yield from probe.look("start requested during the export")
        refusals = 0
        first: dict[str, Any] | None = None
        while True:
            try:
                vms.check_start(sim.uow, sim.admin, probe.vm.uuid)
                break
            except CloudError as err:
                refusals += 1
                first = first or {"errorcode": err.errorcode, "errortext": err.errortext}
            yield sim.env.timeout(POLL_S)
        accepted = sim.env.now
        yield stopping
        yield from sim.workflow("start", vms.start(sim.uow, probe.vm.id))
        yield from probe.look("after the start")
        probe.notes.update(
            {
                "refused": first,
                "refusals": refusals,
                "start_accepted_after_s": round(accepted - STOP_AT, 3),
                "start_done_after_s": round(sim.env.now - STOP_AT, 3),
            }
        )

    return probe.run(body(), STOP_AT + 4 * 3600)


def _outage(name: str, faults: list[dict[str, Any]], fault_at: float, gib: float, export_bps: float, seed: int) -> Any:
    """Stop the VM while ``faults`` strike ``fault_at`` seconds after the stop (negative:
    before it); look 30 s into the stop, after it fails, and after recovery and sync."""
    probe = _Probe(_scenario(name, gib, export_bps, faults, seed))
    probe.notes.update({"fault_at_s": fault_at, "outage_s": OUTAGE_S})
    sim = probe.sim
    look_at = 30.0

    def body() -> Proc:
        yield from probe.prepare()
        stopping = probe.stop()
        yield sim.env.timeout(look_at)
        yield from probe.look("during the outage")
        yield stopping  # a failed stop is counted by the workflow, not raised
        yield from probe.look("after the failed stop")
        yield sim.env.timeout(max(0.0, STOP_AT + OUTAGE_S + 60 - sim.env.now))
        yield sim.env.timeout(600)  # sync runs on reconnect; give it time to export
        yield from probe.look("after recovery and sync")
        state = sim._vm_state(probe.vm)
        if str(state) == "Running":  # the stop failed and the VM runs again: stop it now
            yield probe.stop()
            yield from probe.look("after a second stop")
        probe.notes["recovered_after_s"] = round(sim.env.now - STOP_AT, 3)

    return probe.run(body(), STOP_AT + 6 * 3600)


def storage_down_mid_export(gib: float = 16, export_bps: float = 200e6, seed: int = 1) -> dict[str, Any]:
    """Primary storage fails 5 s into the stop's export and comes back 10 minutes later."""
    faults = [{"kind": "storage_down_mid_export", "occurrence": 1, "after_s": 5, "duration": OUTAGE_S}]
    return _outage("probe-storage-down-mid-export", faults, 5.0, gib, export_bps, seed)


def storage_down_before_export(gib: float = 16, export_bps: float = 200e6, seed: int = 1) -> dict[str, Any]:
    """Primary storage fails 10 s before the stop (so before its export starts), for 10 minutes."""
    faults = [{"kind": "storage_outage", "at": STOP_AT - 10, "duration": OUTAGE_S}]
    return _outage("probe-storage-down-before-export", faults, -10.0, gib, export_bps, seed)


def host_crash_mid_export(gib: float = 16, export_bps: float = 200e6, seed: int = 1) -> dict[str, Any]:
    """The host loses power 5 s into the stop's export and is back 10 minutes later."""
    faults = [{"kind": "host_crash", "at": STOP_AT + 5, "restart_after": OUTAGE_S}]
    return _outage("probe-host-crash-mid-export", faults, 5.0, gib, export_bps, seed)


PROBES = {
    "start_during_export": start_during_export,
    "storage_down_mid_export": storage_down_mid_export,
    "storage_down_before_export": storage_down_before_export,
    "host_crash_mid_export": host_crash_mid_export,
}


def run_probes(gib: float = 16, export_bps: float = 200e6, seed: int = 1) -> dict[str, dict[str, Any]]:
    return {name: probe(gib, export_bps, seed) for name, probe in PROBES.items()}
