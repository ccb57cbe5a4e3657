"""Configuration keys the manager reads, with CloudStack's defaults (cloudstack.md §2.8).

Values live in the ``configuration`` table as strings; :func:`parse` turns one into the
key's type and rejects a malformed value with a 431, so ``config set`` can never store
something the manager would later fail to read.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from harness.domain.errors import InvalidParameterValue
from harness.domain.model import ExportStrategy


@dataclass(frozen=True, slots=True)
class ConfigKey:
    name: str
    default: str
    kind: type
    description: str
    choices: tuple[str, ...] = ()
    minimum: int = 0  # int keys: the smallest value allowed (-1 where -1 means unlimited)


VMSNAPSHOT_MAX = ConfigKey("vmsnapshot.max", "10", int, "Maximum non-removed VM snapshots per VM")
EXPORT_STRATEGY = ConfigKey(
    "hyperv.vmsnapshot.export.strategy",
    ExportStrategy.on_stop.value,
    str,
    "When a Hyper-V VM is exported so its checkpoints survive a stop: on-stop, on-snapshot or none",
    tuple(s.value for s in ExportStrategy),
)
VMSNAPSHOT_CHAIN_WARN = ConfigKey(
    "vmsnapshot.chain.depth.warn",
    "5",  # assumption: hyperv.md §4.5 "a few checkpoints rarely hurt, long chains noticeably do"
    int,
    "Warn when a new VM snapshot's chain depth (snapshots from the tree's root to it) exceeds this; 0: never",
)

# Recurring policies: a policy's maxsnaps may not exceed the ceiling of its interval
# type, as CloudStack's snapshot.max.hourly/daily/weekly/monthly (default 8) cap volume
# snapshot policies.
VMSNAPSHOT_MAX_HOURLY = ConfigKey("vmsnapshot.max.hourly", "8", int, "Maximum maxsnaps of an HOURLY VM snapshot policy")
VMSNAPSHOT_MAX_DAILY = ConfigKey("vmsnapshot.max.daily", "8", int, "Maximum maxsnaps of a DAILY VM snapshot policy")
VMSNAPSHOT_MAX_WEEKLY = ConfigKey("vmsnapshot.max.weekly", "8", int, "Maximum maxsnaps of a WEEKLY VM snapshot policy")
VMSNAPSHOT_MAX_MONTHLY = ConfigKey(
    "vmsnapshot.max.monthly", "8", int, "Maximum maxsnaps of a MONTHLY VM snapshot policy"
)
# Resource limits: the default vmsnapshot limit of an account or domain that has no
# resource_limit row of its own, as CloudStack's max.account.* / max.domain.* keys.
MAX_ACCOUNT_VMSNAPSHOTS = ConfigKey(
    "max.account.vmsnapshots", "-1", int, "Default VM snapshot limit of an account (-1: unlimited)", minimum=-1
)
MAX_DOMAIN_VMSNAPSHOTS = ConfigKey(
    "max.domain.vmsnapshots", "-1", int, "Default VM snapshot limit of a domain (-1: unlimited)", minimum=-1
)
# NICs: the zone's guest network, from which every VM's default NIC takes
# its address (CloudStack's zone guest CIDR). Loopback by default, so that the simulated
# guests' addresses are reachable on this machine and nowhere else.
GUEST_NETWORK_CIDR = ConfigKey(
    "guest.network.cidr",
    "127.10.0.0/16",
    ipaddress.IPv4Network,
    "The zone's guest network (IPv4 CIDR, /8 to /30): VMs' default NICs take addresses from it",
)
# Recovery: VMSnapshotSync on a schedule while ``serve`` runs, and CloudStack's
# management-server heartbeat (mshost.last_update) that tells a live manager from a dead one.
VMSNAPSHOT_SYNC_INTERVAL = ConfigKey(
    "vmsnapshot.sync.interval",
    "300",
    int,
    "Seconds between VM snapshot syncs while the server runs (0: only at start, on host reconnect and on demand)",
)
CLUSTER_HEARTBEAT_INTERVAL = ConfigKey(
    "cluster.heartbeat.interval", "1500", int, "Milliseconds between a management server's heartbeats", minimum=100
)
CLUSTER_HEARTBEAT_THRESHOLD = ConfigKey(
    "cluster.heartbeat.threshold",
    "15000",
    int,
    "Milliseconds without a heartbeat after which a management server counts as dead and its jobs are taken over",
    minimum=1000,
)
POLICY_CEILINGS = {
    "HOURLY": VMSNAPSHOT_MAX_HOURLY,
    "DAILY": VMSNAPSHOT_MAX_DAILY,
    "WEEKLY": VMSNAPSHOT_MAX_WEEKLY,
    "MONTHLY": VMSNAPSHOT_MAX_MONTHLY,
}

KEYS: dict[str, ConfigKey] = {
    k.name: k
    for k in (
        VMSNAPSHOT_MAX,
        EXPORT_STRATEGY,
        VMSNAPSHOT_CHAIN_WARN,
        *POLICY_CEILINGS.values(),
        MAX_ACCOUNT_VMSNAPSHOTS,
        MAX_DOMAIN_VMSNAPSHOTS,
        GUEST_NETWORK_CIDR,
        VMSNAPSHOT_SYNC_INTERVAL,
        CLUSTER_HEARTBEAT_INTERVAL,
        CLUSTER_HEARTBEAT_THRESHOLD,
    )
}


def lookup(name: str) -> ConfigKey:
    try:
        return KEYS[name]
    except KeyError:
        raise InvalidParameterValue(f"unknown configuration key: {name}") from None


def parse(key: ConfigKey, value: str) -> int | str:
    """The typed value of ``value`` for ``key``; 431 when it does not fit."""
    if key.kind is ipaddress.IPv4Network:
        try:
            network = ipaddress.IPv4Network(value.strip(), strict=True)
        except ValueError:
            raise InvalidParameterValue(f"{key.name} takes an IPv4 network like 10.1.0.0/16, not {value!r}") from None
        if not 8 <= network.prefixlen <= 30:
            raise InvalidParameterValue(f"{key.name} must be a /8 to /30 network, not /{network.prefixlen}")
        return str(network)
    if key.kind is int:
        try:
            number = int(value)
        except ValueError:
            raise InvalidParameterValue(f"{key.name} takes a whole number, not {value!r}") from None
        if number < key.minimum:
            raise InvalidParameterValue(
                f"{key.name} must not be negative" if key.minimum == 0 else f"{key.name} must be at least {key.minimum}"
            )
        return number
    if key.choices and value not in key.choices:
        raise InvalidParameterValue(f"{key.name} must be one of {', '.join(key.choices)}, not {value!r}")
    return value
