"""Parameter binding as PowerShell does it for a remote caller who names every parameter:
names match case-insensitively and exactly (aliases listed, no prefix abbreviation),
positional arguments and scripts are refused, values are type-checked (a size must fit its
type: a bare int arrives as Int32). Errors are PowerShell error records."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from psrpcore.types import ErrorCategory, ErrorRecord

from simulator.psrp_endpoint import objects as o

COMMON = {"erroraction": "str", "confirm": "switch", "whatif": "switch", "verbose": "switch"}


class CmdletError(Exception):
    """A PowerShell error record; ``terminating`` errors stop the pipeline whatever the
    caller's ErrorAction."""

    def __init__(self, record: ErrorRecord, terminating: bool = False) -> None:
        super().__init__(str(record.FullyQualifiedErrorId))
        self.record = record
        self.terminating = terminating


@dataclass
class Call:
    """One cmdlet of a received pipeline: its name and parameters exactly as received."""

    name: str
    params: list[tuple[str | None, Any]]
    is_script: bool = False


@dataclass
class Cmdlet:
    name: str
    params: dict[str, str]  # canonical lower-case name -> kind
    run: Callable[[Bound], list[Any]]
    aliases: dict[str, str] = field(default_factory=dict)


@dataclass
class Bound:
    """A cmdlet call after binding: canonical parameter names, typed values, piped input."""

    cmdlet: str
    args: dict[str, Any]
    input: list[Any]
    downstream: bool = False  # after the first cmdlet of its statement: runs per input object

    def get(self, name: str, default: Any = None) -> Any:
        return self.args.get(name, default)

    def names(self, name: str) -> list[str]:
        value = self.args.get(name)
        if value is None:
            return []
        return [value] if isinstance(value, str) else list(value)

    def switch(self, name: str) -> bool:
        return name in self.args and self.args[name] is not False


def binding_error(cmdlet: str, fq: str, message: str) -> CmdletError:
    exc = o.ParameterBindingException(Message=message)
    return CmdletError(o.error_record(exc, fq, ErrorCategory.InvalidArgument, fq, cmdlet, cmdlet), True)


def check(cmdlet: str, name: str, kind: str, value: Any) -> Any:
    ok = {
        "str": lambda v: isinstance(v, str),
        "strs": lambda v: isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "i64": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "guid": lambda v: isinstance(v, uuid.UUID),
        "switch": lambda v: v is None or isinstance(v, bool),
        "any": lambda v: True,
    }[kind](value)
    if not ok:
        raise binding_error(
            cmdlet,
            f"ParameterArgumentTransformationError,{cmdlet}",
            f"Cannot process argument transformation on parameter '{name}'. Cannot convert {value!r}.",
        )
    return str(value) if kind == "str" else value


def statements(calls: Sequence[Call], ends: Sequence[bool]) -> list[list[Call]]:
    """Split a received command list into statements at ``end_of_statement`` marks."""
    out: list[list[Call]] = [[]]
    for call, end in zip(calls, ends, strict=True):
        out[-1].append(call)
        if end:
            out.append([])
    return [s for s in out if s]
