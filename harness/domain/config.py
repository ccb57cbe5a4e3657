"""Configuration keys the manager reads, with CloudStack's defaults (cloudstack.md §2.8).

Values live in the ``configuration`` table as strings; :func:`parse` turns one into the
key's type and rejects a malformed value with a 431, so ``config set`` can never store
something the manager would later fail to read.
"""

from __future__ import annotations

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


VMSNAPSHOT_MAX = ConfigKey("vmsnapshot.max", "10", int, "Maximum non-removed VM snapshots per VM")
VMSNAPSHOT_CREATE_WAIT = ConfigKey(
    "vmsnapshot.create.wait", "1800", int, "Seconds the host is given to create a VM snapshot"
)
EXPORT_STRATEGY = ConfigKey(
    "hyperv.vmsnapshot.export.strategy",
    ExportStrategy.on_stop.value,
    str,
    "When a Hyper-V VM is exported so its checkpoints survive a stop: on-stop, on-snapshot or none",
    tuple(s.value for s in ExportStrategy),
)

KEYS: dict[str, ConfigKey] = {k.name: k for k in (VMSNAPSHOT_MAX, VMSNAPSHOT_CREATE_WAIT, EXPORT_STRATEGY)}


def lookup(name: str) -> ConfigKey:
    try:
        return KEYS[name]
    except KeyError:
        raise InvalidParameterValue(f"unknown configuration key: {name}") from None


def parse(key: ConfigKey, value: str) -> int | str:
    """The typed value of ``value`` for ``key``; 431 when it does not fit."""
    if key.kind is int:
        try:
            number = int(value)
        except ValueError:
            raise InvalidParameterValue(f"{key.name} takes a whole number, not {value!r}") from None
        if number < 0:
            raise InvalidParameterValue(f"{key.name} must not be negative")
        return number
    if key.choices and value not in key.choices:
        raise InvalidParameterValue(f"{key.name} must be one of {', '.join(key.choices)}, not {value!r}")
    return value
