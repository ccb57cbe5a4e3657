"""Parameter types of the API: what a command declares and how a wire string becomes a
Python value. Conversion is translation only (a string to a bool, an int, a list or a
map); whether a value is allowed is the service's business.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from harness.domain.errors import InvalidParameterValue

#: Java's Integer range: CloudStack's INTEGER parameters overflow to 431 outside it.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
MAX_VALUE_CHARS = 10_000
_MAP_KEY = re.compile(r"^([a-z0-9_]+)\[(\d+)\]\.([a-z0-9_]+)$")


class ParamType(StrEnum):
    UUID = "uuid"
    STRING = "string"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    SHORT = "short"
    LONG = "long"
    LIST = "list"
    MAP = "map"
    DATE = "date"


#: the date forms CloudStack's DATE parameters accept
DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S")
#: ``pagesize=-1``: no paging (CloudStack's PAGESIZE_UNLIMITED)
PAGESIZE_UNLIMITED = -1


#: CloudStack's ``@Parameter(length)`` default: a STRING value may be this long.
DEFAULT_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Param:
    """One ``@Parameter`` of a command, as CloudStack declares it: ``length`` bounds a
    STRING value (431 beyond it), ``since`` is the release that added it, ``related``
    names the commands that produce its values (listApis shows all of them)."""

    name: str
    type: ParamType = ParamType.STRING
    required: bool = False
    description: str = ""
    length: int = DEFAULT_LENGTH
    since: str | None = None
    related: tuple[str, ...] = ()
    entity: str | None = None  # the response object its values name (listApis derives related)
    #: hvsnap's own parameter (CloudStack's command has none by this name): the definitions test skips it
    extension: bool = False

    def describe(self) -> dict[str, Any]:
        """The parameter's entry in listApis (CloudStack's ``ApiParameterResponse``)."""
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "type": self.type.value,
            "length": self.length,
            "required": self.required,
        }
        if self.since:
            out["since"] = self.since
        if self.related:
            out["related"] = ",".join(self.related)
        return out


def P(
    name: str,
    type_: ParamType = ParamType.STRING,
    required: bool = False,
    description: str = "",
    *,
    length: int = DEFAULT_LENGTH,
    since: str | None = None,
    related: tuple[str, ...] | str = (),
    entity: str | None = None,
    extension: bool = False,
) -> Param:
    rel = tuple(r for r in related.split(",") if r) if isinstance(related, str) else related
    return Param(name, type_, required, description, length, since, rel, entity, extension)


def bad(command: str, param: str, why: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Unable to execute API command {command.lower()} due to invalid value: {param} {why}")


def _integer(command: str, p: Param, raw: str, low: int, high: int) -> int:
    text = raw.strip()
    if not re.fullmatch(r"[+-]?\d{1,20}", text):
        raise bad(command, p.name, f"{raw!r} is not a whole number")
    value = int(text)
    if not low <= value <= high:
        raise bad(command, p.name, f"{raw!r} is out of range")
    return value


def convert(command: str, p: Param, raw: str) -> Any:
    if len(raw) > MAX_VALUE_CHARS:
        raise bad(command, p.name, f"is longer than {MAX_VALUE_CHARS} characters")
    if p.type == ParamType.BOOLEAN:
        lowered = raw.strip().lower()
        if lowered not in ("true", "false"):
            raise bad(command, p.name, f"{raw!r} is not true or false")
        return lowered == "true"
    if p.type == ParamType.INTEGER:
        return _integer(command, p, raw, INT_MIN, INT_MAX)
    if p.type == ParamType.SHORT:
        return _integer(command, p, raw, -(2**15), 2**15 - 1)
    if p.type == ParamType.LONG:
        return _integer(command, p, raw, LONG_MIN, LONG_MAX)
    if p.type == ParamType.LIST:
        return [item.strip() for item in raw.split(",") if item.strip()]
    if p.type == ParamType.UUID:
        return raw.strip()
    if p.type == ParamType.DATE:
        for fmt in DATE_FORMATS:
            try:
                return datetime.strptime(raw.strip(), fmt)
            except ValueError:
                continue
        raise bad(command, p.name, f"{raw!r} is not a date like 2024-01-31 or 2024-01-31 12:00:00")
    if len(raw) > p.length:
        raise bad(command, p.name, f"is longer than {p.length} characters")
    return raw


def parse(command: str, declared: tuple[Param, ...], given: Mapping[str, str]) -> dict[str, Any]:
    """The declared parameters' values from ``given`` (names already lower-case). Unknown
    parameters are ignored, as CloudStack ignores them; a missing required one is 431."""
    out: dict[str, Any] = {}
    for p in declared:
        if p.type == ParamType.MAP:
            entries = _map_entries(p.name, given)
            if entries:
                out[p.name] = entries
        elif p.name in given:
            out[p.name] = convert(command, p, given[p.name])
        if p.required and out.get(p.name) in (None, "", [], {}):
            raise InvalidParameterValue(
                f"Unable to execute API command {command.lower()} due to missing parameter {p.name}"
            )
    if out.get("pagesize") == PAGESIZE_UNLIMITED:
        out.pop("pagesize")
        out.pop("page", None)
    for paging in ("page", "pagesize"):
        if paging in out and out[paging] < 1:
            raise bad(command, paging, f"{out[paging]} must be a positive whole number (pagesize -1: everything)")
    if out.get("projectid"):  # hvsnap has no projects: the id names none, as an unknown one in CloudStack
        raise InvalidParameterValue(f"Unable to find project with specified id: {out['projectid']}")
    return out


def _map_entries(name: str, given: Mapping[str, str]) -> list[dict[str, str]]:
    """``tags[0].key=a&tags[0].value=b`` -> ``[{"key": "a", "value": "b"}]``."""
    grouped: dict[int, dict[str, str]] = {}
    for key, value in given.items():
        m = _MAP_KEY.match(key)
        if m and m.group(1) == name and len(m.group(2)) <= 6:
            grouped.setdefault(int(m.group(2)), {})[m.group(3)] = value
    return [grouped[i] for i in sorted(grouped)]
