"""Scenarios: what a simulation runs, read from YAML.

A scenario names the fleet, the workload, the export strategy, cost overrides, faults and the
duration::

    name: baseline
    duration: 6h               # seconds, or with a unit: s, m, h, d
    seed: 1
    strategy: on-stop          # none | on-stop | on-snapshot
    fleet: {hosts: 1, vms: 1, memory_mib: 4096, cpus: 2, capacity_gib: null, write_bps: 100000}
    workload:
      kind: mix                # mix: random operations; schedule: every N s, keep the newest K
      interval_s: 600          # mix: mean seconds between one VM's operations (exponential)
      mix: {create: 4, revert: 2, delete: 2, stop_start: 1}
      memory: true             # disk+memory snapshots of running VMs
      max_snapshots: 10        # mix: delete the oldest before creating beyond this
      stopped_s: 300           # mix: how long a stop_start keeps the VM stopped
      every_s: 3600            # schedule: one snapshot per VM every every_s
      keep: 24                 # schedule: delete the oldest beyond keep
      jitter_s: 0              # schedule: per-VM random phase in [0, jitter_s)
    costs: {merge_mode: live}  # any simulator.costs.Costs field
    faults: []                 # simulator.faults kinds
    start: 2024-01-01T00:00:00 # the simulated clock's start (UTC)
    policies:                  # recurring VM snapshot policies (simulator.campaigns.policies)
      - {vms: all, intervaltype: HOURLY, schedule: "15", timezone: America/New_York, maxsnaps: 24}
    cluster: {nodes: 3, aware: true, crashes: [{node: 1, at: 6h, for: 2h}]}  # simulator.cluster

``workload.kind: idle`` deploys the VMs and leaves them to the policies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from simulator.costs import Costs

STRATEGIES = ("none", "on-stop", "on-snapshot")
OPERATIONS = ("create", "revert", "delete", "stop_start")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(value: Any) -> float:
    """``90``, ``"90s"``, ``"15m"``, ``"6h"``, ``"7d"`` -> seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    m = re.fullmatch(r"\s*([0-9.]+)\s*([smhd]?)\s*", str(value))
    if m is None:
        raise ValueError(f"not a duration: {value!r}")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


@dataclass
class FleetSpec:
    hosts: int = 1
    vms: int = 1
    memory_mib: int = 4096
    cpus: int = 2
    capacity_gib: float | None = None
    write_bps: float | None = None


@dataclass
class WorkloadSpec:
    kind: str = "mix"
    interval_s: float = 600.0
    mix: dict[str, float] = field(default_factory=lambda: {"create": 4, "revert": 2, "delete": 2, "stop_start": 1})
    memory: bool = True
    quiesce: bool = False
    max_snapshots: int = 10
    stopped_s: float = 300.0
    every_s: float = 3600.0
    keep: int = 24
    jitter_s: float = 0.0


@dataclass
class ClusterSpec:
    """A failover cluster of ``nodes`` hosts on Cluster Shared Volumes (0: standalone
    hosts, the fleet's). ``aware``: the manager reverts through the cluster service;
    ``crashes``: ``{node: 1, at: 6h, for: 2h}`` node crashes (``for`` 0: never back)."""

    nodes: int = 0
    aware: bool = True
    crashes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Scenario:
    name: str = "scenario"
    description: str = ""
    duration_s: float = 3600.0
    seed: int = 1
    strategy: str = "on-stop"
    fleet: FleetSpec = field(default_factory=FleetSpec)
    workload: WorkloadSpec = field(default_factory=WorkloadSpec)
    costs: dict[str, Any] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)
    start: str = "2024-01-01T00:00:00"
    policies: list[dict[str, Any]] = field(default_factory=list)
    cluster: ClusterSpec = field(default_factory=ClusterSpec)

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        data = yaml.safe_load(Path(path).read_text()) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a scenario is a YAML mapping (name, fleet, workload, ...)")
        data.setdefault("name", Path(path).stem)
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        data = dict(data)
        fleet = _build(FleetSpec, data.pop("fleet", {}) or {}, "fleet")
        workload = _build(WorkloadSpec, data.pop("workload", {}) or {}, "workload")
        cluster = _build(ClusterSpec, data.pop("cluster", {}) or {}, "cluster")
        if isinstance(cluster.aware, str):  # from a sweep axis: cluster.aware=true,false
            if cluster.aware.lower() not in ("true", "false"):
                raise ValueError(f"cluster.aware is true or false, not {cluster.aware!r}")
            cluster.aware = cluster.aware.lower() == "true"
        cluster.crashes = [
            {"node": int(c.get("node", 1)), "at": seconds(c.get("at", 0)), "for": seconds(c.get("for", 0))}
            for c in cluster.crashes or []
        ]
        if "duration" in data:
            data["duration_s"] = seconds(data.pop("duration"))
        for key in ("interval_s", "stopped_s", "every_s", "jitter_s"):
            setattr(workload, key, seconds(getattr(workload, key)))
        scenario = _build(cls, data, "scenario")
        scenario.fleet, scenario.workload, scenario.cluster = fleet, workload, cluster
        scenario.costs = dict(scenario.costs or {})
        scenario.faults = list(scenario.faults or [])
        scenario.start = str(scenario.start)
        scenario.policies = [dict(p) for p in scenario.policies or []]
        scenario.check()
        return scenario

    def check(self) -> None:
        Costs().with_overrides(self.costs)  # a bad cost name or value is refused here, not mid-run
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}")
        if self.workload.kind not in ("mix", "schedule", "idle"):
            raise ValueError("workload.kind must be 'mix', 'schedule' or 'idle'")
        unknown = sorted(set(self.workload.mix) - set(OPERATIONS))
        if unknown:
            raise ValueError(f"unknown workload operation(s): {', '.join(unknown)}")
        if self.fleet.hosts < 1 or self.fleet.vms < 0 or self.duration_s <= 0:
            raise ValueError("a fleet needs at least one host, and a run a positive duration")
        if self.cluster.nodes == 1 or self.cluster.nodes < 0:
            raise ValueError("a cluster needs at least two nodes (cluster.nodes 0: no cluster)")
        if any(not 1 <= c["node"] <= self.cluster.nodes for c in self.cluster.crashes):
            raise ValueError(f"cluster.crashes name nodes 1..{self.cluster.nodes}")
        from simulator.campaigns.policies import check_policies, start_of

        start_of(self.start)
        check_policies(self.policies, self.fleet.vms)

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data: ``Scenario.from_dict(s.to_dict())`` is ``s`` again."""
        return _as_dict(self)

    def with_values(self, values: dict[str, Any]) -> Scenario:
        """A copy with dotted keys set (``costs.merge_bps``, ``fleet.vms``, ``strategy``)."""
        data = _as_dict(self)
        for dotted, value in values.items():
            *parents, leaf = dotted.split(".")
            node = data
            for p in parents:
                node = node.setdefault(p, {})
            node[leaf] = value
        return Scenario.from_dict(data)


@dataclass(frozen=True)
class Shard:
    """Part ``index`` of a fleet split ``count`` ways: a block of hosts and the VMs placed on
    them. VM ``i`` lives on host ``i % hosts`` in the whole fleet and in its shard alike, so
    shards share no VM, host or storage; hosts and VMs keep their fleet-wide numbers (names
    and random streams), and each shard has its own management server."""

    index: int
    count: int
    first_host: int
    hosts: int

    @staticmethod
    def split(fleet: FleetSpec, count: int) -> list[Shard]:
        """``count`` shards of as equal blocks of hosts as can be (ValueError past the hosts)."""
        if not 1 <= count <= fleet.hosts:
            raise ValueError(f"a fleet of {fleet.hosts} host(s) splits into 1 to {fleet.hosts} shards, not {count}")
        base, extra = divmod(fleet.hosts, count)
        shards, first = [], 0
        for k in range(count):
            size = base + (1 if k < extra else 0)
            shards.append(Shard(k, count, first, size))
            first += size
        return shards

    def has_host(self, host: int) -> bool:
        return self.first_host <= host < self.first_host + self.hosts

    def host_indexes(self) -> range:
        return range(self.first_host, self.first_host + self.hosts)

    def vm_indexes(self, fleet: FleetSpec) -> list[int]:
        return [i for i in range(fleet.vms) if self.has_host(i % fleet.hosts)]


def _build(cls: Any, data: dict[str, Any], what: str) -> Any:
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"unknown {what} key(s): {', '.join(unknown)}")
    return cls(**data)


def _as_dict(s: Scenario) -> dict[str, Any]:
    out: dict[str, Any] = {f.name: getattr(s, f.name) for f in fields(s)}
    out["fleet"] = {f.name: getattr(s.fleet, f.name) for f in fields(s.fleet)}
    out["workload"] = {f.name: getattr(s.workload, f.name) for f in fields(s.workload)}
    out["costs"], out["faults"] = dict(s.costs), [dict(f) for f in s.faults]
    out["policies"] = [dict(p) for p in s.policies]
    out["cluster"] = {f.name: getattr(s.cluster, f.name) for f in fields(s.cluster)}
    out["cluster"]["crashes"] = [dict(c) for c in s.cluster.crashes]
    return out
