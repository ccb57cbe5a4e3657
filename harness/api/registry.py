"""The command table: each API command's name, parameters and handler.

A handler receives a :class:`Call` (the manager, the authenticated caller and the parsed
arguments), makes one manager call and returns the inner response object, the value under
``<command>response``. Response modules register their handlers with :func:`command`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.api.params import Param
from harness.domain.model import Account, AsyncJob
from harness.service.manager import Manager

Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Call:
    manager: Manager
    caller: Account
    args: dict[str, Any] = field(default_factory=dict)
    exchange: Any = None  # the request's session side (harness.api.sessions.Exchange)

    def __getitem__(self, name: str) -> Any:
        return self.args[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.args.get(name, default)


Handler = Callable[[Call], Obj]


@dataclass(frozen=True, slots=True)
class ApiCommand:
    name: str
    handler: Handler
    params: tuple[Param, ...]
    isasync: bool
    description: str
    public: bool = False  # answered without a caller (login, logout)

    def describe(self) -> Obj:
        return {
            "name": self.name,
            "description": self.description,
            "isasync": self.isasync,
            "params": [p.describe() for p in self.params],
        }


#: Lower-cased command name -> command.
COMMANDS: dict[str, ApiCommand] = {}


def command(name: str, *params: Param, isasync: bool = False, public: bool = False) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        COMMANDS[name.lower()] = ApiCommand(name, fn, params, isasync, (fn.__doc__ or "").strip(), public)
        return fn

    return register


def listing(key: str, count: int, items: list[Obj]) -> Obj:
    """A list response: ``{"count": N, key: [...]}``; no key for an empty page, ``{}`` for none."""
    out: Obj = {}
    if count:
        out["count"] = count
    if items:
        out[key] = items
    return out


def paged(key: str, items: list[Obj], call: Call) -> Obj:
    """A list response over a short in-memory catalogue, paged as CloudStack pages."""
    page, size = call.get("page"), call.get("pagesize")
    shown = items
    if size is not None and size > 0:
        start = (max(page or 1, 1) - 1) * size
        shown = items[start : start + size]
    return listing(key, len(items), shown)


def job(j: AsyncJob, entity_uuid: str | None = None) -> Obj:
    """An async command's immediate answer: ``{"jobid"}``, or ``{"id", "jobid"}`` for a create."""
    return {"jobid": j.uuid} if entity_uuid is None else {"id": entity_uuid, "jobid": j.uuid}
