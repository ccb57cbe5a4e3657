"""The live driver's wire vocabulary: what a plan asks a host to run (structured cmdlet
calls: a name and named, typed parameters; never script text) and what comes back. Pure
data; :mod:`live_driver.session` puts it on the wire with pypsrp."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Int64:
    """A value sent as ``System.Int64`` (a bare Python int goes as Int32)."""

    value: int


@dataclass(frozen=True, slots=True)
class Switch:
    """A switch parameter that is present (``-Force``)."""


SWITCH = Switch()
Value = str | bool | int | Int64 | uuid.UUID | tuple[str, ...] | Switch


@dataclass(frozen=True, slots=True)
class Cmdlet:
    name: str
    params: tuple[tuple[str, Value], ...]


def cmd(name: str, **params: Value) -> Cmdlet:
    """A cmdlet call with ``-ErrorAction Stop`` appended."""
    for key, value in params.items():
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**31) <= value < 2**31:
            raise ValueError(f"{name} -{key}: {value} does not fit Int32; wrap it in Int64")
    return Cmdlet(name, (*params.items(), ("ErrorAction", "Stop")))


@dataclass(frozen=True, slots=True)
class Invocation:
    """One PowerShell pipeline: statements run in order, cmdlets within a statement are
    piped. ``readonly`` invocations may be retried after a transport error."""

    statements: tuple[tuple[Cmdlet, ...], ...]
    readonly: bool = False


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


@dataclass(frozen=True, slots=True)
class PSObj:
    """A returned object: type names, properties (enums as their names, nested objects as
    text), and its ToString."""

    types: tuple[str, ...]
    props: Mapping[str, Any] = field(default_factory=dict)
    text: str = ""

    def is_a(self, short: str) -> bool:
        return bool(self.types) and self.types[0].rsplit(".", 1)[-1] == short

    def __getitem__(self, key: str) -> Any:
        return self.props[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.props.get(key, default)
